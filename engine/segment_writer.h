// SegmentWriter: appends frames to one segment's frame file and index file.
//
// Records are gathered in a 64 KiB buffer and written when it fills, when
// the oldest buffered frame is `flush_interval` of stream time old, and at
// every Sync; a record larger than the buffer is written at once. So a
// reader following the segment, or a kill -9, sees all but at most
// `flush_interval` of footage. Index entries are written in 4 KiB batches
// and on Sync, never ahead of the frames they point to (the index can always
// be rebuilt from the frame file). Sync makes everything appended durable.
//
// Append is all or nothing: on error the frame file is cut back to its last
// whole record, so the segment stays valid and the call may be retried (e.g.
// after ENOSPC). An index write that fails is retried later (the entries stay
// buffered); only Sync() reports it.
//
// Thread rules: one thread at a time (the Writer serialises calls).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "file.h"
#include "segment_info.h"

namespace vdb {

struct Frame {
  const void *data = nullptr;
  size_t size = 0;
  uint64_t pts = kNoTime;
  uint64_t dts = kNoTime;
  uint64_t duration = kNoTime;
  uint32_t flags = 0;  // kFlag* (the track bits are taken from `track`)
  uint64_t utc = 0;    // wall clock of pts (UTC ns); 0: unknown
  uint32_t track = 0;  // 0: video (or the only track); audio_N: N + 1
};

class SegmentWriter {
 public:
  // Creates <id>.vdbf/.vdbi/.json in `dir`; the first records are the caps
  // of meta.tracks, the lead track first (meta.caps as track 0 if none).
  static Result<std::unique_ptr<SegmentWriter>> Create(Fs *fs, const std::string &dir,
                                                       const SegmentMeta &meta,
                                                       uint64_t flush_interval);
  Status Append(const Frame &f);
  // Appends the caps record of a track that was not in the segment yet, for
  // its frames that follow. kInvalidArgument if the segment has the track.
  Status AddTrack(const TrackMeta &track);
  bool HasTrack(uint32_t track) const;
  // Writes buffered records to the frame file (not durable yet).
  Status FlushFrames();
  // Makes the frame file durable (not the index).
  Status SyncFrames();
  // Takes back the last Append (used when making it durable failed).
  Status DropLast();
  // Makes every frame durable and writes out buffered index entries (the
  // index itself is synced by Seal: recovery rebuilds it from the frames).
  Status Sync();
  // Writes the index tail (not synced: recovery rebuilds it from the
  // frames), writes the sealed metadata (temp + fsync + rename) and syncs
  // the frames and the directory. The object is done after this.
  Status Seal();

  const SegmentMeta &meta() const { return meta_; }
  uint64_t synced_frames() const { return synced_frames_; }

 private:
  SegmentWriter() = default;
  Status FlushIndex();
  Status AppendRecord(uint32_t flags, uint64_t pts, uint64_t dts, uint64_t dur, const void *data,
                      size_t size);

  Fs *fs_ = nullptr;
  std::string dir_;
  SegmentMeta meta_;
  std::unique_ptr<File> frames_, index_;
  uint64_t frames_size_ = 0;  // logical end: on file + buffered
  uint64_t written_ = 0;      // bytes of the frame file on file
  uint64_t index_size_ = 0;
  std::vector<uint8_t> wbuf_;      // records not yet written
  uint64_t wbuf_first_ = kNoTime;  // stream time of the oldest buffered frame
  uint64_t flush_interval_ = 0;
  uint64_t last_offset_ = 0;  // of the last record
  struct Undo {
    SegmentInfo info;
    uint64_t first_dts, keyframes;
  } undo_;  // what the last Append changed in meta_

  std::vector<uint8_t> index_buf_;
  uint64_t synced_frames_ = 0;
  bool dir_synced_ = false;  // the files' names are durable
};

}  // namespace vdb
