// On-disk format v3: file headers, frame records and index entries.
// The normative description is engine/FORMAT.md; keep both in step and bump
// kFormatVersion on any change. All integers are little-endian.
//
// Pure functions and plain structs; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "status.h"

namespace vdb {

constexpr uint32_t kFormatVersion = 3;
// Versions this build reads: 1 (video only), 2 (tracks) and 3 (segments in
// a bucket: the catalog's placement).
constexpr uint32_t kOldestFormatVersion = 1;
constexpr uint64_t kNoTime = UINT64_MAX;  // same value as GST_CLOCK_TIME_NONE

constexpr size_t kFileHeaderSize = 32;
constexpr size_t kRecordHeaderSize = 40;
constexpr size_t kIndexEntrySize = 32;
constexpr uint32_t kRecordMagic = 0x52424456;  // "VDBR"
constexpr uint32_t kMaxPayload = 256u << 20;   // larger lengths are corrupt
// Caps (config record payload, caps in metadata) are at most this long:
// codec_data is a few hundred bytes, so a larger one is damage.
constexpr uint32_t kMaxCapsSize = 1u << 20;
// Whole-file reads of small files are refused above these sizes.
constexpr uint64_t kMaxMetaFileSize = 2 * uint64_t(kMaxCapsSize) + 64 * 1024;  // <id>.json
constexpr uint64_t kMaxMarkerFileSize = 4096;                                  // vdb-store.json

// Record flags (16 bits in the index).
constexpr uint32_t kFlagKey = 1u << 0;      // decodable on its own (IDR / VP9 keyframe)
constexpr uint32_t kFlagConfig = 1u << 1;   // payload is the segment's caps string, not a frame
constexpr uint32_t kFlagDiscont = 1u << 2;  // discontinuity before this frame
constexpr uint32_t kFlagHeader = 1u << 3;   // frame carries codec headers (SPS/PPS) inline
constexpr uint32_t kFlagDroppable = 1u << 4;
// Format 2: bits 8..15 hold the record's track (0: video, or the only
// track; audio_N is track N + 1). Version 1 files have 0 there.
constexpr uint32_t kTrackShift = 8;
constexpr uint32_t kTrackMask = 0xffu << kTrackShift;
constexpr uint32_t kMaxTrack = 255;
constexpr uint32_t kKnownFlags = 0x1f | kTrackMask;

inline uint32_t TrackOf(uint32_t flags) {
  return (flags & kTrackMask) >> kTrackShift;
}
inline uint32_t WithTrack(uint32_t flags, uint32_t track) {
  return (flags & ~kTrackMask) | ((track << kTrackShift) & kTrackMask);
}

enum class FileKind { kFrames, kIndex, kCatalog };

struct FileHeader {
  FileKind kind;
  uint32_t version = kFormatVersion;
  uint64_t segment_id = 0;  // the catalog stores its epoch here
};

struct RecordHeader {
  uint32_t payload_size = 0;
  uint64_t pts = kNoTime;
  uint64_t dts = kNoTime;
  uint64_t duration = kNoTime;
  uint32_t flags = 0;
  uint32_t crc = 0;  // over header bytes 0..35 and the payload
};

struct IndexEntry {
  uint64_t offset = 0;  // of the record header in the frame file (< 2^48)
  uint32_t flags = 0;
  uint64_t pts = kNoTime;
  uint64_t dts = kNoTime;
  uint32_t size = 0;  // payload bytes
};

void EncodeFileHeader(const FileHeader &h, uint8_t out[kFileHeaderSize]);
// kCorrupt on bad magic/CRC, kUnsupported on a newer version.
Status DecodeFileHeader(const uint8_t in[kFileHeaderSize], FileKind kind, FileHeader *h);

// Encodes the header and computes the CRC over header + payload.
void EncodeRecordHeader(RecordHeader *h, const void *payload, uint8_t out[kRecordHeaderSize]);
// Checks magic, flags and length only (the CRC needs the payload).
bool DecodeRecordHeader(const uint8_t in[kRecordHeaderSize], RecordHeader *h);
bool RecordCrcMatches(const uint8_t header[kRecordHeaderSize], const RecordHeader &h,
                      const void *payload);

void EncodeIndexEntry(const IndexEntry &e, uint8_t out[kIndexEntrySize]);
// False when the entry's CRC does not match, or it claims what no record
// can be (unknown flags, a size over the record limits).
bool DecodeIndexEntry(const uint8_t in[kIndexEntrySize], IndexEntry *e);

inline uint64_t Load64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
inline uint32_t Load32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline void Store64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = uint8_t(v >> (8 * i));
}
inline void Store32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t Load16(const uint8_t *p) {
  return uint16_t(p[0] | p[1] << 8);
}
inline void Store16(uint8_t *p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}

}  // namespace vdb
