#include "format.h"

#include <cstring>

#include "crc32c.h"

namespace vdb {
namespace {

const char kFramesMagic[8] = {'V', 'D', 'B', 'F', 'R', 'A', 'M', 'E'};
const char kIndexMagic[8] = {'V', 'D', 'B', 'I', 'N', 'D', 'E', 'X'};
const char kCatalogMagic[8] = {'V', 'D', 'B', 'C', 'A', 'T', 'L', 'G'};

const char *MagicFor(FileKind kind) {
  switch (kind) {
    case FileKind::kFrames:
      return kFramesMagic;
    case FileKind::kIndex:
      return kIndexMagic;
    case FileKind::kCatalog:
      return kCatalogMagic;
  }
  return kFramesMagic;
}

}  // namespace

void EncodeFileHeader(const FileHeader &h, uint8_t out[kFileHeaderSize]) {
  std::memset(out, 0, kFileHeaderSize);
  std::memcpy(out, MagicFor(h.kind), 8);
  Store32(out + 8, h.version);
  Store32(out + 12, kFileHeaderSize);
  Store64(out + 16, h.segment_id);
  Store32(out + 28, crc32c(out, 28));
}

Status DecodeFileHeader(const uint8_t in[kFileHeaderSize], FileKind kind, FileHeader *h) {
  if (std::memcmp(in, MagicFor(kind), 8) != 0) return Status(Code::kCorrupt, "bad file magic");
  if (Load32(in + 28) != crc32c(in, 28)) return Status(Code::kCorrupt, "file header checksum");
  h->kind = kind;
  h->version = Load32(in + 8);
  h->segment_id = Load64(in + 16);
  if (h->version > kFormatVersion)
    return Status(Code::kUnsupported, "written by format version " + std::to_string(h->version) +
                                          ", this build reads up to " +
                                          std::to_string(kFormatVersion));
  return Status::Ok();
}

void EncodeRecordHeader(RecordHeader *h, const void *payload, uint8_t out[kRecordHeaderSize]) {
  Store32(out, kRecordMagic);
  Store32(out + 4, h->payload_size);
  Store64(out + 8, h->pts);
  Store64(out + 16, h->dts);
  Store64(out + 24, h->duration);
  Store32(out + 32, h->flags);
  h->crc = crc32c(payload, h->payload_size, crc32c(out, 36));
  Store32(out + 36, h->crc);
}

bool DecodeRecordHeader(const uint8_t in[kRecordHeaderSize], RecordHeader *h) {
  if (Load32(in) != kRecordMagic) return false;
  h->payload_size = Load32(in + 4);
  h->pts = Load64(in + 8);
  h->dts = Load64(in + 16);
  h->duration = Load64(in + 24);
  h->flags = Load32(in + 32);
  h->crc = Load32(in + 36);
  if ((h->flags & kFlagConfig) && h->payload_size > kMaxCapsSize) return false;
  return h->payload_size <= kMaxPayload && (h->flags & ~kKnownFlags) == 0;
}

bool RecordCrcMatches(const uint8_t header[kRecordHeaderSize], const RecordHeader &h,
                      const void *payload) {
  return crc32c(payload, h.payload_size, crc32c(header, 36)) == h.crc;
}

void EncodeIndexEntry(const IndexEntry &e, uint8_t out[kIndexEntrySize]) {
  Store64(out, (e.offset & ((1ull << 48) - 1)) | (uint64_t(e.flags & 0xffff) << 48));
  Store64(out + 8, e.pts);
  Store64(out + 16, e.dts);
  Store32(out + 24, e.size);
  Store32(out + 28, crc32c(out, 28));
}

bool DecodeIndexEntry(const uint8_t in[kIndexEntrySize], IndexEntry *e) {
  if (Load32(in + 28) != crc32c(in, 28)) return false;
  uint64_t w = Load64(in);
  e->offset = w & ((1ull << 48) - 1);
  e->flags = uint32_t(w >> 48);
  e->pts = Load64(in + 8);
  e->dts = Load64(in + 16);
  e->size = Load32(in + 24);
  // What a record could not be is not believed either.
  if ((e->flags & ~kKnownFlags) || e->size > kMaxPayload ||
      ((e->flags & kFlagConfig) && e->size > kMaxCapsSize))
    return false;
  return true;
}

}  // namespace vdb
