// SegmentReader: random access to the frames of one segment.
//
// Open loads the index file (1 MiB reads, up to its first bad entry: memory
// is what the valid entries take, never the file's apparent size) and checks
// each entry's CRC; if the index is short, damaged or missing, the missing part is
// rebuilt in memory by scanning the frame file — for a sealed segment past
// damage too (ScanMode::kResync), so damage costs only the damaged records.
// The caps record is checked like every record; if it is damaged the caps
// come from the segment's metadata, and if both are damaged Open fails.
// No lock is taken: retention may delete the
// segment while it is read, and the open file stays readable (POSIX unlink).
//
// Damage points: a frame "has damage before it" when damaged bytes lie
// between it and the previous frame (found by the scan), or when Read()
// found the record itself damaged. A frame after a damage point may
// reference what was lost: players continue from the next keyframe.
//
// A segment still being written (live) grows: Refresh() picks up records
// appended since, reading the frame file past the last known record, so it
// sees frames the writer has written but not yet indexed or synced.
//
// Read() returns frames only after checking their CRC: damage is kCorrupt
// with the offset, never data.
//
// Tracks (format 2): a SegmentReader shows one track of the segment, the
// `track` given to Open: frame indices, keyframes and damage points are
// that track's. Its caps come from that track's caps record (anywhere
// before its first frame). A segment without frames of the track has
// size() 0 and no caps. tracks() lists the caps of every track the segment
// holds; lead_track() is the track of its first record, whose keyframes
// start segments.
//
// Thread rules: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "codec_headers.h"
#include "file.h"
#include "record_scan.h"
#include "segment_info.h"

namespace vdb {

struct FrameView {
  RecordHeader header;
  size_t data_offset = 0;  // payload position in the caller's buffer
};

class SegmentReader {
 public:
  static Result<std::unique_ptr<SegmentReader>> Open(Fs *fs, const std::string &dir,
                                                     const SegmentInfo &info, uint32_t track = 0);
  // Picks up records appended since Open/last Refresh (live segments).
  Status Refresh();

  // As the catalog said when the segment was opened (or last updated).
  const SegmentInfo &info() const { return info_; }
  void set_info(const SegmentInfo &info) { info_ = info; }
  const std::string &caps() const { return caps_; }  // of track(); "" if it has no frames here
  uint32_t track() const { return track_; }
  uint32_t lead_track() const { return lead_; }
  const std::vector<TrackMeta> &tracks() const { return tracks_; }
  size_t size() const { return entries_.size(); }  // media frames
  const IndexEntry &entry(size_t i) const { return entries_[i]; }
  bool index_rebuilt() const { return index_rebuilt_; }

  // Keyframe positions (frame indices) by pts; -1 if none.
  long KeyAtOrBefore(uint64_t pts) const;
  long KeyAtOrAfter(uint64_t pts) const;
  size_t keyframe_count() const { return keys_.size(); }
  size_t keyframe(size_t k) const { return keys_[k]; }
  // Keyframe positions (frame indices) by position: the first at or after
  // `frame`, the last before `frame`; -1 if none. O(log keyframes).
  long KeyFrameAtOrAfter(size_t frame) const;
  long KeyFrameBefore(size_t frame) const;

  // The first damage point after `frame` (a frame index > frame), or -1.
  long NextDamageAfter(size_t frame) const;
  bool DamageBefore(size_t frame) const;
  // Damaged bytes skipped between frame-1 and frame (0 if none known).
  uint64_t DamageBytesBefore(size_t frame) const;

  // Reads frames [first, first+count) with one read into *buf (resized) and
  // fills *out. kCorrupt (with file and offset) if a record is damaged or
  // missing: *out then holds the good frames before it (first .. first +
  // out->size() - 1), and the damaged frame becomes a damage point.
  Status Read(size_t first, size_t count, std::vector<uint8_t> *buf, std::vector<FrameView> *out);
  // The in-band codec headers of its first keyframe (SPS/PPS, VPS/SPS/PPS,
  // the AV1 sequence header: the writer makes a segment start with them),
  // for a player to re-send after a jump. Of kind kNone when the caps carry
  // none; empty when the keyframe cannot be read. One read.
  CodecHeaders InbandHeaders();

 private:
  SegmentReader() = default;
  // Appends media entries; damage spans (indices into es) become damage points.
  // Config records are noted (LoadCaps reads them); other tracks' frames skipped.
  void AddEntries(const std::vector<IndexEntry> &es, const std::vector<DamageSpan> &damage = {});
  // Reads the caps records noted since the last call (the metadata's caps
  // stand in for a damaged one). kCorrupt if this track's are unreadable.
  Status LoadCaps();
  void Reset();
  void MarkDamage(size_t frame, uint64_t bytes);

  Fs *fs_ = nullptr;
  std::string dir_;
  SegmentInfo info_;
  std::unique_ptr<File> frames_;
  std::string caps_;
  uint32_t track_ = 0, lead_ = 0;
  bool lead_known_ = false;
  std::vector<TrackMeta> tracks_;                    // caps read so far, in file order
  std::vector<IndexEntry> configs_;                  // caps records not read yet
  std::vector<IndexEntry> entries_;                  // media frames of track_ only
  std::vector<uint32_t> keys_;                       // indices into entries_ of keyframes
  std::vector<std::pair<size_t, uint64_t>> damage_;  // (frame, bytes) damage points, sorted
  uint64_t end_ = 0;                                 // frame file offset past the last known record
  bool index_rebuilt_ = false;
};

}  // namespace vdb
