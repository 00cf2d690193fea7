// Writer: records one stream of a store, segment after segment.
//
// Open takes the stream's exclusive lock (a second writer, in this or another
// process, gets kLocked), loads the catalog and recovers whatever a crash
// or damage left (RecoveryReport): it removes leftover temporaries, rebuilds
// a lost or damaged catalog from the segment files, drops listed segments
// whose frame file is gone, lists newer segments a truncated catalog lost,
// and rebuilds segments left open (RebuildSegment). Nothing in the stream
// directory is followed through a symlink (file.h). Frames are appended as they come; a new segment
// starts at a keyframe once the current one reached max_segment_bytes or
// max_segment_duration, after SetCaps() with different caps, or after
// Split(). Durability follows the SyncPolicy; Close() seals everything.
//
// Invariants kept on disk at every moment: the catalog lists every segment
// with frames; each segment starts with its caps record and a keyframe;
// segments' first_pts increase with their id.
//
// Thread rules: all public methods are thread-safe (one internal mutex), so
// retention may run on another thread while frames are appended. Event
// callbacks run on the thread whose call caused them, after that call has
// released the mutex: they may call back into the Writer (split, sync, set
// options) and post messages freely.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catalog.h"
#include "codec_headers.h"
#include "recovery.h"
#include "retention.h"
#include "segment_writer.h"

namespace vdb {

enum class SyncMode { kNone, kInterval, kEveryFrame };

struct WriterOptions {
  uint64_t max_segment_bytes = 256ull << 20;
  uint64_t max_segment_duration = 60ull * 1000000000;  // ns
  SyncMode sync_mode = SyncMode::kInterval;
  uint64_t sync_interval = 1000000000;  // ns of stream time between syncs
  uint64_t sync_frames = 0;             // also sync after this many frames (0: off)
  // Frames reach the OS (and so readers, and survive a kill -9) at the
  // latest this much stream time after they were appended.
  uint64_t flush_interval = 250000000;
  // Open applies it before recovery when the disk is too full to recover
  // (a crash on a full disk): the oldest footage it allows goes first.
  RetentionPolicy retention;
  // A monotonic clock (ns), for the age of segments this Writer sealed
  // (empty: std::chrono::steady_clock). Tests inject one.
  std::function<uint64_t()> monotonic_clock;
};

enum class SegmentEvent { kOpened, kClosed, kDeleted };

class Writer {
 public:
  static Result<std::unique_ptr<Writer>> Open(Fs *fs, const std::string &store,
                                              const std::string &stream,
                                              const WriterOptions &options, RecoveryReport *report);
  ~Writer();  // Close()s; errors are lost: call Close() to see them.

  // Caps of the frames that follow on track 0 (SetTrackCaps(0, ...)).
  Status SetCaps(const std::string &codec, const std::string &caps);
  // Caps of the frames that follow on `track` (0..kMaxTrack). On the lead
  // track, different caps close the current segment and the next starts at
  // the next keyframe with these caps. On another track they take effect
  // at the next segment: its frames until then are refused
  // (kInvalidArgument), the segment is due to rotate (RotationDue). A track
  // holds one codec for the stream's life: another codec is
  // kInvalidArgument (record it into another stream), so every reader can
  // play the stream through. Tracks whose codec carries headers in-band
  // (InbandHeadersOfCaps: H.264/H.265 byte-stream parameter sets, the AV1
  // sequence header) have them remembered from their keyframes (forgotten
  // on new caps): a segment whose first keyframe lacks them gets the last
  // ones inserted, so that every segment decodes alone. A keyframe's
  // kFlagHeader says whether it carries them (the bytes decide, not the
  // caller's flag).
  Status SetTrackCaps(uint32_t track, const std::string &codec, const std::string &caps);
  // The track whose keyframes start segments (default 0, the video track;
  // an audio-only recording leads with its audio track, every frame of
  // which is a keyframe). Call before the first frame.
  void SetLeadTrack(uint32_t track);
  // Appends a frame of track frame.track. kInvalidArgument if it cannot
  // start a segment (not a keyframe of the lead track, no caps yet), if its
  // track has no caps or new caps waiting for the next segment, or if its
  // decode timestamps go backwards on its track; nothing is written then.
  // Frames of the other tracks go into the open segment as they come (the
  // caps record of a track comes before its first frame in each segment). I/O errors leave the
  // store valid and the call may be retried.
  Status Append(const Frame &frame);
  // The next keyframe starts a new segment.
  void Split();
  // Segments started by a keyframe without in-band headers when none were
  // known yet (they cannot be decoded alone): a caller warns.
  uint64_t headerless_segments() const;
  // True when the open segment is due to rotate and waits for a keyframe.
  bool RotationDue() const;
  // Makes every appended frame durable now.
  Status Sync();
  // Hands buffered frames to the OS (visible to readers, safe from a kill -9)
  // without making them durable. For a timer when input may stall.
  Status Flush();
  // Checks every sealed segment record by record (CheckSegment) and
  // rebuilds those that are damaged, truncated or disagree with the catalog
  // (RebuildSegment); what it did is added to *report. For `vdb repair`.
  Status Repair(RecoveryReport *report);
  // Seals the open segment and syncs the catalog. The Writer can go on
  // appending after Close.
  Status Close();

  // Deletes sealed segments as the policy asks, oldest first (the byte
  // quota counts the catalog file too); a segment whole in the store's
  // bucket loses only its local copy (EvictLocal) and stays listed, and with
  // policy.bucket_first no segment goes before it is in the bucket.
  // Returns how many were deleted or evicted. Age (max_age_ns): a segment
  // this Writer sealed is as old as the monotonic clock says since it was sealed, so a wall-clock
  // jump neither deletes footage just recorded (forward) nor stops
  // retention (backward); segments from earlier runs are aged by their UTC
  // end against `now_utc`, the only clock that survives a restart.
  Result<size_t> ApplyRetention(const RetentionPolicy &policy, uint64_t now_utc);
  Status DeleteSegment(uint64_t id);
  // Notes in the catalog (durably) that sealed segment `id` is whole in the
  // store's bucket (an uploader confirmed every object of it).
  Status MarkInBucket(uint64_t id);
  // Removes the local files of a segment in the bucket, after noting it in
  // the catalog (durably): readers then play it from the bucket. kInvalidArgument
  // if it is not marked in the bucket. Invalidates nothing a Reader holds
  // (an open file stays readable).
  Status EvictLocal(uint64_t id);
  // Frees the local space of a sealed segment, as retention and `vdb rm`
  // do: one in the bucket loses only its local copy (EvictLocal, true), any
  // other is deleted (DeleteSegment, false).
  Result<bool> FreeLocal(uint64_t id);

  // Stream time just past the last frame recorded (kNoTime if none), and the
  // UTC at that point (0 if unknown).
  uint64_t end_pts() const;
  uint64_t end_utc() const;
  std::vector<SegmentInfo> segments() const;
  uint64_t frames_synced() const;  // frames made durable by this Writer
  const std::string &dir() const { return dir_; }

  void SetEventCallback(std::function<void(SegmentEvent, const SegmentMeta &)> cb);
  // Takes effect from the next frame.
  void SetOptions(const WriterOptions &options);
  // True while a segment is open (frames since the last Close/seal).
  bool recording() const;

 private:
  Writer() = default;
  Status Recover(RecoveryReport *report);
  Status MakeRoomToRecover(const Status &why, RecoveryReport *report);
  // Removes a segment's files and the damaged bytes kept beside it.
  void RemoveSegment(uint64_t id);
  // Lists <id>.vdbf.damaged-* files into damaged_, from `listed` (names of
  // the stream directory) or a fresh listing.
  Status ListDamaged(const std::vector<std::string> *listed = nullptr);
  Status StartSegment(const Frame &first);
  // Append once the frame is what is stored (headers inserted); with mu_.
  Status AppendLocked(const Frame &f);
  Status SealLocked();
  Status SyncLocked();
  Status DeleteLocked(uint64_t id);
  Status EvictLocked(uint64_t id);
  // Rewrites the catalog with the live segments only (readers reload it).
  Status CompactLocked();
  bool DueLocked(const Frame *next) const;

  mutable std::mutex mu_;
  Fs *fs_ = nullptr;
  std::string dir_, stream_;
  WriterOptions options_;
  std::unique_ptr<Lock> lock_;
  Catalog catalog_;
  std::unique_ptr<CatalogFile> catalog_file_;
  std::unique_ptr<SegmentWriter> seg_;
  std::map<uint32_t, TrackMeta> tracks_;      // caps of the frames that follow, per track
  std::map<uint32_t, CodecHeaders> headers_;  // in-band headers last seen, per track
  uint64_t headerless_segments_ = 0;
  std::map<uint32_t, std::string> stream_codecs_;  // the codec each track holds (its segments)
  std::set<uint32_t> stale_;                       // tracks whose caps wait for the next segment
  uint32_t lead_ = 0;
  bool split_ = false;
  std::map<uint32_t, uint64_t> last_dts_;  // per track
  uint64_t last_sync_pts_ = kNoTime;
  uint64_t frames_since_sync_ = 0;
  uint64_t frames_synced_ = 0;
  bool catalog_dirty_ = false;  // records appended since the last catalog sync
  std::function<void(SegmentEvent, const SegmentMeta &)> on_event_;
  std::vector<std::pair<SegmentEvent, SegmentMeta>> pending_;  // events not yet delivered
  std::map<uint64_t, uint64_t> sealed_at_;  // id -> monotonic ns when this Writer sealed it
  // id -> (name, bytes) of <id>.vdbf.damaged-* files: deleted with the segment, counted in quota.
  std::map<uint64_t, std::vector<std::pair<std::string, uint64_t>>> damaged_;
  std::set<uint64_t> made_room_;  // deleted by MakeRoomToRecover (files first)
  uint64_t MonotonicNow() const;

  // Delivers pending_ when it goes out of scope: declared before the lock
  // in each public method, so that callbacks run with the mutex released.
  struct EventDispatch {
    explicit EventDispatch(Writer *w) : w_(w) {}
    ~EventDispatch();
    Writer *w_;
  };
};

}  // namespace vdb
