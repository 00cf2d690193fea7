// SegmentInfo: what the catalog knows of one segment, and SegmentMeta: the
// per-segment metadata JSON (<id>.json) that adds caps and provenance.
//
// Plain values; thread-safe to copy. Times are GStreamer nanoseconds;
// kNoTime means unknown. A segment covers [first_pts, end_pts) of the stream
// timeline; utc_start is the wall-clock time (UTC ns since 1970) of first_pts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "file.h"
#include "format.h"
#include "status.h"

namespace vdb {

enum class SegmentState : uint8_t { kOpen = 1, kSealed = 2, kRecovered = 3 };

const char *StateName(SegmentState s);

// SegmentInfo::placement bits (the catalog's bytes 6-7, FORMAT.md).
constexpr uint16_t kInBucket = 1;   // whole in the store's bucket (confirmed)
constexpr uint16_t kLocalGone = 2;  // local files removed: it plays from the bucket

struct SegmentInfo {
  uint64_t id = 0;
  SegmentState state = SegmentState::kOpen;
  uint64_t first_pts = kNoTime;
  uint64_t end_pts = kNoTime;
  uint64_t utc_start = 0;
  uint64_t bytes = 0;   // frame file size
  uint64_t frames = 0;  // media frames of every track (caps records are not counted)
  // Bit n: the segment has track n (0-31; higher tracks are not noted).
  // 0: not known (version 1 catalogs and metadata: track 0 only).
  uint32_t tracks = 0;
  // Where the segment's files are (format 3; 0: on local disk only).
  uint16_t placement = 0;

  bool sealed() const { return state != SegmentState::kOpen; }
  bool in_bucket() const { return placement & kInBucket; }
  bool local() const { return !(placement & kLocalGone); }
  // UTC of a stream time inside this segment (0 when unknown).
  uint64_t UtcAt(uint64_t pts) const {
    return utc_start && pts != kNoTime && first_pts != kNoTime ? utc_start + (pts - first_pts) : 0;
  }
};

// One track of a segment: its number (record flags bits 8..15) and caps.
struct TrackMeta {
  uint32_t track = 0;
  std::string codec;  // CodecOfCaps(caps)
  std::string caps;
  bool operator==(const TrackMeta &o) const {
    return track == o.track && codec == o.codec && caps == o.caps;
  }
};

struct SegmentMeta {
  SegmentInfo info;
  std::string stream;
  // The lead track: the segment's first record, whose keyframes cut segments.
  std::string codec;  // "h264", "h265", "av1", "vp9", "aac", "opus", "alaw", "mulaw"
  std::string caps;   // full GStreamer caps string incl. codec_data
  // Every track, the lead first (format 2; for version 1 metadata: the lead
  // track only, number 0). Tracks whose caps came after the segment opened
  // are listed when it is sealed.
  std::vector<TrackMeta> tracks;
  uint64_t first_dts = kNoTime;
  uint64_t keyframes = 0;
  uint64_t corrupt_offset = kNoTime;  // recovery found damage here (kNoTime: none)
  uint32_t format_version = kFormatVersion;
};

std::string SegmentMetaToJson(const SegmentMeta &m);
// True for the audio codecs vdb stores.
bool IsAudioCodec(const std::string &codec);
// The SegmentInfo::tracks bits of a list of tracks.
uint32_t TrackBits(const std::vector<TrackMeta> &tracks);
// The name of the pad of vdbsink and vdbsrc for a track: "video", "audio_N".
std::string TrackPadName(uint32_t track);

// The codec name stored in metadata ("h264", "h265", "av1", "vp9", "aac",
// "opus", "alaw", "mulaw") for a caps string; the media type itself for one
// vdb does not name.
std::string CodecOfCaps(const std::string &caps);
Result<SegmentMeta> SegmentMetaFromJson(const std::string &json);
// Reads and parses <dir>/<id>.json (at most kMaxMetaFileSize bytes); kCorrupt
// if it is damaged or belongs to another segment.
Result<SegmentMeta> ReadSegmentMeta(Fs *fs, const std::string &dir, uint64_t id);

// File names inside a stream directory.
std::string SegmentBaseName(uint64_t id);  // "000000000042"
std::string FramesPath(const std::string &dir, uint64_t id);
std::string IndexPath(const std::string &dir, uint64_t id);
std::string MetaPath(const std::string &dir, uint64_t id);
// Parses "<id>.<ext>" names; false for anything else. Besides vdbf, vdbi
// and json, a segment may have "vdbf.damaged-<offset>" files (bytes cut by
// recovery or repair: they go with the segment and count in its size) and
// "<ext>.tmp" leftovers of an interrupted write (removed by recovery).
bool ParseSegmentFileName(const std::string &name, uint64_t *id, std::string *ext);

}  // namespace vdb
