// PlayCursor: where playback of one stream is, and what it reads next —
// forward or reverse, every frame or keyframes only — over a Reader whose
// catalog may change under it (a live writer adds segments, retention
// deletes the oldest).
//
// A position is (segment id, frame number in that segment). Segments are
// append-only and ids never reused, so a position survives Refresh(), new
// segments and retention. A segment the cursor is reading stays readable
// after it is deleted (the Reader keeps it open; POSIX unlink). When the
// segment to move to is gone, the cursor continues at the oldest footage
// that remains, marking the batch DISCONT with a warning.
//
// Forward: batches of consecutive frames of one segment, in decode order;
// a hole in the recording before a batch (a gap between runs, Timeline) is
// reported with it. Reverse: one GOP per batch (keyframe first, decode
// order), GOPs from the end back to the start.
//
// Damage costs at most its GOP: frames before a damaged record play; after
// it playback continues at the next keyframe, DISCONT, with a warning that
// says what was skipped. A segment that cannot be opened (damaged header,
// missing files, not a regular file) is a gap: playback goes on with the
// next segment. With skip_corrupt false, damage is returned as kCorrupt.
//
// Thread rules: one thread at a time, the same as the Reader it wraps (not
// owned; must outlive the cursor). Next() never waits: at the end of what is
// stored it returns kEnd, and live() tells if a writer may still add frames;
// the caller waits as it likes (without holding its locks), then Refresh()es.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reader.h"
#include "timeline.h"

namespace vdb {

enum class PlayDirection { kForward, kReverse };

struct PlayBatch {
  uint64_t segment_id = 0;
  std::string caps;            // caps of the segment the frames are from
  std::vector<uint8_t> bytes;  // one read; FrameView::data_offset points in here
  std::vector<FrameView> frames;
  bool discont = false;  // not contiguous with the previous batch (seek, jump, damage, reverse)
  uint64_t gap_start = kNoTime, gap_end = kNoTime;  // recorded hole before the batch
  std::string warning;                              // something skipped: tell the user
};

struct PlayOptions {
  PlayDirection direction = PlayDirection::kForward;
  bool keys_only = false;
  bool skip_corrupt = true;
  uint64_t gap_tolerance = kDefaultGapTolerance;
  // Forward: end at the first keyframe at or after stop (kNoTime: no end).
  // Reverse: end after the GOP holding start.
  uint64_t start = kNoTime, stop = kNoTime;
  size_t batch_frames = 64;           // forward, every frame: at most this many
  uint64_t batch_bytes = 4ull << 20;  // and about this many bytes per batch
};

class PlayCursor {
 public:
  explicit PlayCursor(Reader *reader) : reader_(reader) {}

  // Positions for playing from recorded PTS `pts` with `options`: forward at
  // the keyframe `snap` chooses, reverse at the keyframe at or before pts.
  // kNotFound when the stream holds no keyframe (then Next() says kEnd).
  Status Seek(uint64_t pts, Snap snap, const PlayOptions &options);
  // Recorded PTS of the keyframe Seek() chose (kNoTime if none).
  uint64_t seek_key_pts() const { return seek_key_pts_; }

  // Fills *out with the next frames. kEnd: nothing more is stored now.
  Status Next(PlayBatch *out);
  // True once Next() reached the end asked for (forward: the stop; reverse:
  // the start or the oldest frame): waiting for a writer brings nothing more.
  // After kEnd with finished() false, a writer may still append: a follower
  // waits, Refresh()es and calls Next() again.
  bool finished() const { return finished_; }

  // Picks up what a writer added and retention removed; the position stays.
  Status Refresh(bool *changed);

  uint64_t segment_id() const { return seg_id_; }
  const PlayOptions &options() const { return opt_; }

 private:
  Status NextForward(PlayBatch *out);
  Status NextReverse(PlayBatch *out);
  // Moves to the start of segment `id`, noting which segment follows it now.
  void Enter(uint64_t id);
  // The first segment after `id` in the catalog (nullptr if none).
  const SegmentInfo *After(uint64_t id) const;
  // Moves past segment seg_id_, which could not be read (st).
  Status SkipDamaged(const Status &st, std::string *warning);
  // Segment seg_id_ could not be opened: deleted (go on at the oldest that
  // remains), or unreadable (a gap: go on with the next one).
  Status Unreadable(Status st);
  size_t PastDamage(SegmentReader *seg, size_t first_lost, size_t search_from,
                    const std::string &what);
  bool PreviousKey(uint64_t id, size_t frame, uint64_t *out_id, size_t *out_frame);

  Reader *reader_;
  PlayOptions opt_;
  uint64_t seg_id_ = 0;
  size_t frame_ = 0;
  uint64_t next_hint_ = 0;  // the segment after seg_id_ when we entered it (0: none yet)
  bool positioned_ = false;
  bool finished_ = false;
  bool discont_ = true;  // the next batch follows a jump
  uint64_t gap_start_ = kNoTime, gap_end_ = kNoTime;
  std::string warning_;  // for the next batch
  uint64_t seek_key_pts_ = kNoTime;
  // Reverse: the GOP being read ends before (gop_id_, gop_frame_).
  uint64_t gop_id_ = 0;
  size_t gop_frame_ = 0;
  bool have_gop_end_ = false;
};

}  // namespace vdb
