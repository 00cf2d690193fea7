#include "record_scan.h"

#include <algorithm>
#include <cstring>

#include "crc32c.h"

namespace vdb {
namespace {

constexpr size_t kChunk = 1 << 20;

// Sequential reader with a window of at most 1 MiB.
class Window {
 public:
  Window(File *f, uint64_t size) : f_(f), size_(size) {}
  uint64_t size() const { return size_; }
  // Returns a pointer to [off, off+n) (n <= kChunk), or nullptr past the end.
  Result<const uint8_t *> Get(uint64_t off, size_t n) {
    if (n > kChunk || off > size_ || n > size_ - off) return static_cast<const uint8_t *>(nullptr);
    if (off < start_ || off + n > start_ + buf_.size()) {
      buf_.resize(kChunk);
      size_t want = size_t(std::min<uint64_t>(kChunk, size_ - off));
      VDB_ASSIGN_OR_RETURN(size_t got, f_->ReadAt(off, buf_.data(), want));
      buf_.resize(got);
      start_ = off;
      if (got < n) return static_cast<const uint8_t *>(nullptr);
    }
    return buf_.data() + (off - start_);
  }
  // Offset of the first record magic at or after `off`, or kNoTime.
  Result<uint64_t> FindMagic(uint64_t off) {
    uint8_t magic[4];
    Store32(magic, kRecordMagic);
    while (off + 4 <= size_) {
      VDB_ASSIGN_OR_RETURN(uint64_t data, f_->NextData(off));  // no magic in a hole
      if (data > off) off = data;
      if (off + 4 > size_) break;
      size_t n = size_t(std::min<uint64_t>(kChunk, size_ - off));
      VDB_ASSIGN_OR_RETURN(const uint8_t *p, Get(off, n));
      if (!p) return kNoTime;
      const void *hit = memmem(p, n, magic, 4);
      if (hit) return off + uint64_t(static_cast<const uint8_t *>(hit) - p);
      if (n < 4 || off + n >= size_) return kNoTime;
      off += n - 3;
    }
    return kNoTime;
  }

 private:
  File *f_;
  uint64_t size_;
  uint64_t start_ = 0;
  std::vector<uint8_t> buf_;
};

// While resynchronising, a candidate longer than this must be followed by a
// record magic or the end of the file before its CRC is computed: a fake
// header claiming 250 MiB costs 4 bytes, not 250 MiB.
constexpr uint32_t kChainAbove = 64 * 1024;

// A valid record at `off`? Fills h. `budget` (resynchronising only): CRC
// bytes still allowed; a candidate that would exceed it is not checked and
// *exhausted is set.
Result<bool> ValidAt(Window &w, File *f, uint64_t off, RecordHeader *h, uint64_t *budget,
                     bool *exhausted) {
  VDB_ASSIGN_OR_RETURN(const uint8_t *p, w.Get(off, kRecordHeaderSize));
  if (!p || !DecodeRecordHeader(p, h)) return false;
  uint64_t end = off + kRecordHeaderSize + h->payload_size;
  if (end > w.size()) return false;
  uint8_t hdr[kRecordHeaderSize];
  std::memcpy(hdr, p, sizeof hdr);
  if (budget) {
    if (h->payload_size > kChainAbove && end != w.size()) {
      uint8_t next[4];  // read directly: the window stays where the search is
      VDB_ASSIGN_OR_RETURN(size_t got, f->ReadAt(end, next, sizeof next));
      if (got != sizeof next || Load32(next) != kRecordMagic) return false;
    }
    if (h->payload_size > *budget) {
      *exhausted = true;
      return false;
    }
    *budget -= h->payload_size;
  }
  uint32_t crc = crc32c(hdr, 36);
  for (uint64_t pos = off + kRecordHeaderSize; pos < end;) {
    size_t n = size_t(std::min<uint64_t>(kChunk, end - pos));
    VDB_ASSIGN_OR_RETURN(const uint8_t *q, w.Get(pos, n));
    if (!q) return false;
    crc = crc32c(q, n, crc);
    pos += n;
  }
  return crc == h->crc;
}

}  // namespace

Result<ScanResult> ScanRecords(File *f, uint64_t from, ScanMode mode) {
  VDB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  Window w(f, size);
  ScanResult r;
  uint64_t off = from;
  RecordHeader h;
  // CRC work allowed on resync candidates: a few times what the file holds,
  // so crafted headers cannot make a scan quadratic.
  uint64_t budget = 4 * size + (64ull << 20);
  bool exhausted = false;
  while (true) {
    VDB_ASSIGN_OR_RETURN(bool ok, ValidAt(w, f, off, &h, nullptr, nullptr));
    if (!ok) {
      if (mode == ScanMode::kStopAtDamage || off >= size) break;
      // Resynchronise: the next offset holding a record that checks.
      uint64_t p = off;
      bool found = false;
      while (!found && !exhausted) {
        VDB_ASSIGN_OR_RETURN(p, w.FindMagic(p + 1));
        if (p == kNoTime) break;
        VDB_ASSIGN_OR_RETURN(found, ValidAt(w, f, p, &h, &budget, &exhausted));
      }
      if (!found) break;
      r.damage.push_back(DamageSpan{off, p - off, r.entries.size()});
      off = p;
    }
    if (h.flags & kFlagConfig) {
      uint32_t track = TrackOf(h.flags);
      bool seen = false;
      for (const TrackMeta &t : r.tracks) seen |= t.track == track;
      VDB_ASSIGN_OR_RETURN(const uint8_t *p, w.Get(off + kRecordHeaderSize, h.payload_size));
      if (p && !seen) {
        std::string caps(reinterpret_cast<const char *>(p), h.payload_size);
        if (r.config.empty()) r.config = caps;
        r.tracks.push_back(TrackMeta{track, CodecOfCaps(caps), caps});
      }
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
  return r;
}

Status CheckFileHeader(File *f, FileKind kind, uint64_t segment_id, bool *damaged) {
  if (damaged) *damaged = false;
  uint8_t hdr[kFileHeaderSize];
  VDB_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, hdr, sizeof hdr));
  if (n < sizeof hdr) return Status(Code::kCorrupt, f->path() + ": file header is truncated");
  FileHeader h;
  Status st = DecodeFileHeader(hdr, kind, &h);
  if (!st.ok()) {
    // A header whose CRC checks but says another kind or a newer version is
    // not damage: the file is not ours to read.
    FileHeader any;
    bool readable = false;
    for (FileKind k : {FileKind::kFrames, FileKind::kIndex, FileKind::kCatalog})
      readable |= DecodeFileHeader(hdr, k, &any).code() != Code::kCorrupt;
    if (damaged) *damaged = !readable;
    return Status(st.code(), f->path() + ": " + st.message());
  }
  if (h.segment_id != segment_id)
    return Status(Code::kCorrupt,
                  f->path() + ": belongs to segment " + std::to_string(h.segment_id));
  return Status::Ok();
}

}  // namespace vdb
