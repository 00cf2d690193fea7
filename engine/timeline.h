// Timeline: a stream's recorded footage as playback sees it, built from the
// catalog's segment list (no GStreamer, no I/O).
//
// Runs are stretches of continuous recording; a gap is found only at a
// segment boundary, where the next segment's first PTS starts more than
// `gap_tolerance` after the previous one ends (frames inside a segment are
// in decode order, so comparing their PTS would see false gaps with
// B-frames). Three time axes:
//   - recorded PTS: what vdbsink stored, as the encoder stamped it;
//   - output PTS: what buffers carry. Equal to the recorded PTS, or with
//     `collapse`, minus the holes before it, so runs play back to back;
//   - stream time: output PTS minus the output PTS of the origin (the first
//     frame played, or `origin` when set), so position runs 0 … duration.
// UTC comes from each segment's utc_start.
//
// Value type: build, copy and query freely; not thread-safe for mutation.
// Rebuild it when the catalog changes (O(segments)).
#pragma once

#include <cstdint>
#include <vector>

#include "segment_info.h"

namespace vdb {

constexpr uint64_t kDefaultGapTolerance = 500000000;  // 0.5 s

struct Run {
  uint64_t first_id = 0, last_id = 0;  // segment ids it spans
  uint64_t first_pts = kNoTime;        // recorded PTS
  uint64_t end_pts = kNoTime;
  uint64_t utc_start = 0, utc_end = 0;  // 0: unknown
  uint64_t shift = 0;                   // collapse: hole time before this run
  size_t segments = 0;                  // how many segments it spans
};

class Timeline {
 public:
  // `segments` in id (= time) order. `live_end`: end PTS of the last segment
  // while it is being written (kNoTime: as the catalog says).
  static Timeline Build(const std::vector<SegmentInfo> &segments, uint64_t live_end, bool collapse,
                        uint64_t gap_tolerance = kDefaultGapTolerance);

  bool empty() const { return runs_.empty(); }
  const std::vector<Run> &runs() const { return runs_; }
  bool collapse() const { return collapse_; }

  // Recorded PTS of the first and past the last frame (kNoTime if empty).
  uint64_t start_pts() const { return runs_.empty() ? kNoTime : runs_.front().first_pts; }
  uint64_t end_pts() const { return runs_.empty() ? kNoTime : runs_.back().end_pts; }

  // True when `next` starts a new run after `prev`.
  static bool IsGap(const SegmentInfo &prev, const SegmentInfo &next, uint64_t gap_tolerance);

  // Collapse shift of the run holding segment `id` (0 without collapse).
  uint64_t ShiftOf(uint64_t segment_id) const;
  // Recorded PTS -> output PTS, and back (a time in a hole maps to the start
  // of the run after it).
  uint64_t ToOutput(uint64_t pts) const;
  uint64_t ToRecorded(uint64_t out) const;

  // Stream time origin, in recorded PTS (default: start_pts()).
  void set_origin(uint64_t pts) { origin_ = pts; }
  uint64_t origin() const { return origin_ != kNoTime ? origin_ : start_pts(); }
  // Output PTS <-> stream time. Times before the origin clamp to 0.
  uint64_t StreamTime(uint64_t out) const;
  uint64_t OutputAt(uint64_t stream_time) const;
  // Stream time of the end: the length of what plays.
  uint64_t duration() const;

  // UTC ns of a recorded PTS (0 if unknown) and the recorded PTS of a UTC
  // (clamped into the recording; a UTC in a hole maps to the next run).
  uint64_t PtsToUtc(uint64_t pts) const;
  uint64_t UtcToPts(uint64_t utc) const;

 private:
  struct Seg {
    uint64_t id, first_pts, end_pts, utc_start;
  };
  size_t RunOfPts(uint64_t pts) const;  // last run with first_pts <= pts (0 if earlier)

  std::vector<Run> runs_;
  std::vector<Seg> segs_;  // for UTC: each segment has its own wall-clock start
  bool collapse_ = false;
  uint64_t origin_ = kNoTime;
};

}  // namespace vdb
