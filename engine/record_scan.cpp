#include "record_scan.h"

#include <algorithm>
#include <cstring>

namespace vdb {
namespace {

constexpr size_t kChunk = 1 << 20;

// Sequential reader with a 1 MiB window.
class Window {
 public:
  Window(File *f, uint64_t size) : f_(f), size_(size) {}
  // Returns a pointer to [off, off+n) or nullptr past the end of file.
  Result<const uint8_t *> Get(uint64_t off, size_t n) {
    if (off + n > size_) return static_cast<const uint8_t *>(nullptr);
    if (off < start_ || off + n > start_ + buf_.size()) {
      buf_.resize(std::max<size_t>(kChunk, n));
      size_t want = size_t(std::min<uint64_t>(buf_.size(), size_ - off));
      VDB_ASSIGN_OR_RETURN(size_t got, f_->ReadAt(off, buf_.data(), want));
      buf_.resize(got);
      start_ = off;
      if (got < n) return static_cast<const uint8_t *>(nullptr);
    }
    return buf_.data() + (off - start_);
  }

 private:
  File *f_;
  uint64_t size_;
  uint64_t start_ = 0;
  std::vector<uint8_t> buf_;
};

// A valid record at `off`? Fills h.
Result<bool> ValidAt(Window &w, uint64_t off, RecordHeader *h) {
  VDB_ASSIGN_OR_RETURN(const uint8_t *p, w.Get(off, kRecordHeaderSize));
  if (!p || !DecodeRecordHeader(p, h)) return false;
  uint8_t hdr[kRecordHeaderSize];
  std::memcpy(hdr, p, sizeof hdr);
  VDB_ASSIGN_OR_RETURN(const uint8_t *payload, w.Get(off + kRecordHeaderSize, h->payload_size));
  return payload && RecordCrcMatches(hdr, *h, payload);
}

}  // namespace

Result<ScanResult> ScanRecords(File *f, uint64_t from, bool look_past_damage) {
  VDB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  Window w(f, size);
  ScanResult r;
  uint64_t off = from;
  RecordHeader h;
  while (true) {
    VDB_ASSIGN_OR_RETURN(bool ok, ValidAt(w, off, &h));
    if (!ok) break;
    if ((h.flags & kFlagConfig) && r.config.empty()) {
      VDB_ASSIGN_OR_RETURN(const uint8_t *p, w.Get(off + kRecordHeaderSize, h.payload_size));
      r.config.assign(reinterpret_cast<const char *>(p), h.payload_size);
    }
    uint64_t end = h.pts == kNoTime ? h.dts : h.pts;
    if (end != kNoTime && h.duration != kNoTime) end += h.duration;
    if (!(h.flags & kFlagConfig) && end != kNoTime && (r.end_pts == kNoTime || end > r.end_pts))
      r.end_pts = end;
    r.entries.push_back(IndexEntry{off, h.flags, h.pts, h.dts, h.payload_size});
    off += kRecordHeaderSize + h.payload_size;
  }
  r.end = off;
  r.trailing = size > off ? size - off : 0;
  if (look_past_damage && r.trailing) {
    // Look for the record magic at every byte after the damage.
    uint8_t magic[4];
    Store32(magic, kRecordMagic);
    for (uint64_t p = off + 1; p + kRecordHeaderSize <= size; p++) {
      VDB_ASSIGN_OR_RETURN(const uint8_t *b, w.Get(p, 4));
      if (!b || std::memcmp(b, magic, 4) != 0) continue;
      VDB_ASSIGN_OR_RETURN(bool ok, ValidAt(w, p, &h));
      if (ok) {
        r.resync_offset = p;
        break;
      }
    }
  }
  return r;
}

Status CheckFileHeader(File *f, FileKind kind, uint64_t segment_id) {
  uint8_t hdr[kFileHeaderSize];
  VDB_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, hdr, sizeof hdr));
  if (n < sizeof hdr) return Status(Code::kCorrupt, f->path() + ": file header is truncated");
  FileHeader h;
  Status st = DecodeFileHeader(hdr, kind, &h);
  if (!st.ok()) return Status(st.code(), f->path() + ": " + st.message());
  if (h.segment_id != segment_id)
    return Status(Code::kCorrupt,
                  f->path() + ": belongs to segment " + std::to_string(h.segment_id));
  return Status::Ok();
}

}  // namespace vdb
