// RecordingClock: where a recorder's input frames go on the stored timeline
// (no GStreamer; vdbsink's rules, unit-tested here).
//
// Stored time = input time + shift, one shift for every track. The lead
// track (the video, else the first audio track) decides:
//   - its first frame starts a run;
//   - a keyframe after its input went backwards (more than 1 s, or a DTS
//     before the last stored one: a pipeline restarted at 0) starts a new
//     run: it continues after what the store holds, leaving a gap as long
//     as the wall-clock time that passed since the store's end, so stored
//     time never goes back (x264enc's 1000 h, a restart at 0, any order);
//   - a keyframe after a discontinuity or a jump forward of more than 2 s
//     starts a new segment in the same run (the jump stays a gap);
//   - a delta frame after the input went backwards is dropped, and so is
//     every frame up to the next keyframe (the caller's rule).
// The UTC of a stored time is the wall clock when its run started plus the
// stored time since.
//
// Value type; one thread at a time (vdbsink: under its stream lock).
#pragma once

#include <cstdint>

#include "segment_info.h"

namespace vdb {

class RecordingClock {
 public:
  enum class Step {
    kStore,         // into the segment being written
    kNewRun,        // a run starts with this frame: StartRun(), then a new segment
    kNewSegment,    // a new segment, same run, starts with this frame
    kDropUntilKey,  // input went backwards on a delta frame: drop to a keyframe
  };
  struct Decision {
    Step step = Step::kStore;
    const char *why = "";  // for a log line
  };

  // A new recording: the next lead frame starts a run.
  void Reset() { *this = RecordingClock(); }

  // Decides for a frame of the lead track: input time `in` (its PTS, else
  // its DTS; never kNoTime), its DTS (kNoTime if none). Changes nothing: on
  // kNewRun the caller calls StartRun() before storing the frame. Cheap
  // (per frame): what the store holds is asked only for a new run.
  Decision Lead(uint64_t in, uint64_t dts, bool key, bool discont) const;
  // Starts a run at input time `in`: `store_end`, `store_end_utc` are end
  // PTS and UTC of what the store holds (kNoTime, 0 if nothing), `now_utc`
  // the wall clock (UTC ns). Sets shift() and the UTC base.
  void StartRun(uint64_t in, uint64_t store_end, uint64_t store_end_utc, uint64_t now_utc);
  // The lead's frame was stored: what its next frame is compared with.
  void LeadStored(uint64_t in, uint64_t stored_dts) {
    last_in_ = in;
    if (stored_dts != kNoTime) last_dts_ = stored_dts;
  }

  bool started() const { return started_; }
  uint64_t shift() const { return shift_; }
  // Stored time of an input time (kNoTime stays kNoTime).
  uint64_t Stored(uint64_t input) const { return input == kNoTime ? kNoTime : input + shift_; }
  // UTC (ns) of a stored time of the current run.
  uint64_t Utc(uint64_t stored) const {
    return stored >= utc_base_pts_ ? utc_base_ + (stored - utc_base_pts_) : utc_base_;
  }

 private:
  bool started_ = false;
  uint64_t shift_ = 0;
  uint64_t utc_base_ = 0, utc_base_pts_ = 0;
  uint64_t last_in_ = kNoTime, last_dts_ = kNoTime;
};

}  // namespace vdb
