#include "catalog.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "crc32c.h"

namespace vdb {
namespace {

constexpr uint32_t kCatalogMagic = 0x43424456;  // "VDBC"

bool DecodeRecord(const uint8_t *in, CatalogOp *op, SegmentInfo *info) {
  if (Load32(in) != kCatalogMagic || Load32(in + 60) != crc32c(in, 60)) return false;
  if (in[4] < 1 || in[4] > 3 || in[5] < 1 || in[5] > 3) return false;
  *op = static_cast<CatalogOp>(in[4]);
  info->state = static_cast<SegmentState>(in[5]);
  info->id = Load64(in + 8);
  info->first_pts = Load64(in + 16);
  info->end_pts = Load64(in + 24);
  info->utc_start = Load64(in + 32);
  info->bytes = Load64(in + 40);
  info->frames = Load64(in + 48);
  info->tracks = Load32(in + 56);
  info->placement = Load16(in + 6);  // 0 before version 3 (reserved)
  return true;
}

uint64_t NewEpoch() {
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ rd() ^
         uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

void Catalog::EncodeRecord(CatalogOp op, const SegmentInfo &info, uint8_t *out) {
  std::fill(out, out + kCatalogRecordSize, 0);
  Store32(out, kCatalogMagic);
  out[4] = static_cast<uint8_t>(op);
  out[5] = static_cast<uint8_t>(info.state);
  Store16(out + 6, info.placement);
  Store64(out + 8, info.id);
  Store64(out + 16, info.first_pts);
  Store64(out + 24, info.end_pts);
  Store64(out + 32, info.utc_start);
  Store64(out + 40, info.bytes);
  Store64(out + 48, info.frames);
  Store32(out + 56, info.tracks);
  Store32(out + 60, crc32c(out, 60));
}

void Catalog::Apply(CatalogOp op, const SegmentInfo &info) {
  max_id_ = std::max(max_id_, info.id);
  // Records arrive in id order almost always: look at the back first.
  long i = !segments_.empty() && segments_.back().id == info.id ? long(segments_.size()) - 1
                                                                : FindById(info.id);
  if (op == CatalogOp::kDeleted) {
    if (i >= 0) segments_.erase(segments_.begin() + i);
    dead_records_ += i >= 0 ? 2 : 1;  // the DELETED record and what it deleted
    return;
  }
  if (i >= 0) {
    segments_[size_t(i)] = info;
    dead_records_++;
    return;
  }
  auto pos = std::lower_bound(segments_.begin(), segments_.end(), info.id,
                              [](const SegmentInfo &s, uint64_t id) { return s.id < id; });
  segments_.insert(pos, info);
}

namespace {

struct Rec {
  CatalogOp op;
  SegmentInfo info;
};

constexpr size_t kReadChunk = 16384 * kCatalogRecordSize;  // 1 MiB
// A power loss can leave the unsynced tail of the file as zeros or garbage
// (ext4 extends the size before the data lands): bad records with no valid
// one after them, within this much, are a torn tail, not damage.
constexpr uint64_t kTornLookahead = 1024 * kCatalogRecordSize;

// Reads the records in [from, size) of `f` in bounded chunks into *out.
// *valid_end: just past the last record before the first bad one. Returns
// kCorrupt if a bad record is followed by a valid one, or by more than
// kTornLookahead bytes (a 50 GB sparse catalog is damage, and is not read).
Status ReadRecords(File *f, uint64_t from, uint64_t size, std::vector<Rec> *out,
                   uint64_t *valid_end) {
  std::vector<uint8_t> buf;
  uint64_t off = from;
  bool bad = false;
  while (off + kCatalogRecordSize <= size && !bad) {
    size_t want = size_t(
        std::min<uint64_t>(kReadChunk, (size - off) / kCatalogRecordSize * kCatalogRecordSize));
    buf.resize(want);
    VDB_ASSIGN_OR_RETURN(size_t got, f->ReadAt(off, buf.data(), want));
    if (got < kCatalogRecordSize) break;
    for (size_t i = 0; i + kCatalogRecordSize <= got; i += kCatalogRecordSize) {
      Rec r;
      if (!DecodeRecord(buf.data() + i, &r.op, &r.info)) {
        bad = true;
        break;
      }
      out->push_back(r);
      off += kCatalogRecordSize;
    }
    if (got < want) break;
  }
  *valid_end = off;
  if (!bad || off + kCatalogRecordSize > size) return Status::Ok();
  if (size - off > kTornLookahead)
    return Status(Code::kCorrupt, "catalog record at offset " + std::to_string(off) +
                                      " is damaged and " + std::to_string(size - off) +
                                      " bytes follow it");
  buf.resize(size_t(size - off));
  VDB_ASSIGN_OR_RETURN(size_t got, f->ReadAt(off, buf.data(), buf.size()));
  for (size_t i = kCatalogRecordSize; i + kCatalogRecordSize <= got; i += kCatalogRecordSize) {
    CatalogOp op;
    SegmentInfo info;
    if (DecodeRecord(buf.data() + i, &op, &info))
      return Status(Code::kCorrupt,
                    "catalog record at offset " + std::to_string(off) + " is damaged");
  }
  return Status::Ok();  // garbage up to the end: a torn tail
}

}  // namespace

void Catalog::ApplyAll(const std::vector<std::pair<CatalogOp, SegmentInfo>> &recs) {
  bool in_order = true;
  uint64_t last = segments_.empty() ? 0 : segments_.back().id;
  for (const auto &r : recs) {
    if (r.second.id < last) in_order = false;
    last = std::max(last, r.second.id);
  }
  if (in_order) {  // the usual case: each record at the back, O(log n) each
    for (const auto &r : recs) Apply(r.first, r.second);
    return;
  }
  // Any order (a catalog rebuilt or written by another tool): O(n log n).
  std::map<uint64_t, SegmentInfo> byid;
  for (auto &s : segments_) byid.emplace(s.id, s);
  for (const auto &r : recs) {
    const SegmentInfo &info = r.second;
    max_id_ = std::max(max_id_, info.id);
    auto it = byid.find(info.id);
    if (r.first == CatalogOp::kDeleted) {
      dead_records_ += it != byid.end() ? 2 : 1;
      if (it != byid.end()) byid.erase(it);
    } else if (it != byid.end()) {
      it->second = info;
      dead_records_++;
    } else {
      byid.emplace(info.id, info);
    }
  }
  segments_.clear();
  segments_.reserve(byid.size());
  for (auto &kv : byid) segments_.push_back(kv.second);
}

Status Catalog::ReadFrom(File *f, uint64_t from, uint64_t size) {
  std::vector<Rec> recs;
  uint64_t end = from;
  Status st = ReadRecords(f, from, size, &recs, &end);
  if (!st.ok()) return st;
  std::vector<std::pair<CatalogOp, SegmentInfo>> ops;
  ops.reserve(recs.size());
  for (const auto &r : recs) ops.emplace_back(r.op, r.info);
  ApplyAll(ops);
  valid_size_ = end;
  torn_bytes_ = size - end;
  return Status::Ok();
}

Result<Catalog> Catalog::Load(Fs *fs, const std::string &dir) {
  Catalog c;
  auto opened = fs->Open(Path(dir), OpenMode::kRead);
  if (!opened.ok()) {
    if (opened.status().code() == Code::kNotFound) return c;
    return opened.status();
  }
  File *f = opened->get();
  VDB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  if (size < kFileHeaderSize) {
    c.torn_bytes_ = size;  // crashed while creating it: nothing recorded
    return c;
  }
  uint8_t hdr[kFileHeaderSize];
  VDB_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, hdr, sizeof hdr));
  if (n < sizeof hdr) return Status(Code::kCorrupt, Path(dir) + ": header is truncated");
  FileHeader h;
  Status st = DecodeFileHeader(hdr, FileKind::kCatalog, &h);
  if (!st.ok()) return Status(st.code(), Path(dir) + ": " + st.message());
  c.epoch_ = h.segment_id;
  st = c.ReadFrom(f, kFileHeaderSize, size);
  if (!st.ok()) return Status(st.code(), Path(dir) + ": " + st.message());
  return c;
}

Status Catalog::Refresh(Fs *fs, const std::string &dir, bool *reloaded) {
  *reloaded = false;
  VDB_ASSIGN_OR_RETURN(auto f, fs->Open(Path(dir), OpenMode::kRead));
  uint8_t hdr[kFileHeaderSize];
  VDB_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, hdr, sizeof hdr));
  FileHeader h;
  bool same = n == sizeof hdr && DecodeFileHeader(hdr, FileKind::kCatalog, &h).ok() &&
              h.segment_id == epoch_;
  VDB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  if (!same || size < valid_size_) {
    VDB_ASSIGN_OR_RETURN(*this, Load(fs, dir));
    *reloaded = true;
    return Status::Ok();
  }
  if (size - valid_size_ < kCatalogRecordSize) return Status::Ok();
  Status st = ReadFrom(f.get(), valid_size_, size);
  if (!st.ok()) return Status(st.code(), Path(dir) + ": " + st.message());
  return Status::Ok();
}

long Catalog::FindByTime(uint64_t pts) const {
  if (segments_.empty()) return -1;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), pts,
                             [](uint64_t t, const SegmentInfo &s) { return t < s.first_pts; });
  return it == segments_.begin() ? 0 : long(it - segments_.begin()) - 1;
}

long Catalog::FindById(uint64_t id) const {
  auto it = std::lower_bound(segments_.begin(), segments_.end(), id,
                             [](const SegmentInfo &s, uint64_t v) { return s.id < v; });
  return it != segments_.end() && it->id == id ? long(it - segments_.begin()) : -1;
}

Result<std::unique_ptr<CatalogFile>> CatalogFile::Open(Fs *fs, const std::string &dir,
                                                       const Catalog &loaded) {
  std::string path = Catalog::Path(dir);
  if (loaded.valid_size() == 0) {  // missing or torn header: start a fresh file
    VDB_RETURN_IF_ERROR(Rewrite(fs, dir, loaded.segments(), loaded.max_id()));
  }
  VDB_ASSIGN_OR_RETURN(auto f, fs->Open(path, OpenMode::kAppend));
  if (loaded.valid_size() != 0 && loaded.torn_bytes() != 0) {
    VDB_RETURN_IF_ERROR(f->Truncate(loaded.valid_size()));
    VDB_RETURN_IF_ERROR(f->Sync());
  }
  auto cf = std::unique_ptr<CatalogFile>(new CatalogFile());
  cf->file_ = std::move(f);
  return cf;
}

Status CatalogFile::Rewrite(Fs *fs, const std::string &dir,
                            const std::vector<SegmentInfo> &segments, uint64_t max_id) {
  return WriteFileAtomic(fs, Catalog::Path(dir), Encode(segments, max_id));
}

std::string CatalogFile::Encode(const std::vector<SegmentInfo> &segments, uint64_t max_id) {
  bool tombstone = max_id > (segments.empty() ? 0 : segments.back().id);
  std::string data(kFileHeaderSize + (segments.size() + tombstone) * kCatalogRecordSize, '\0');
  auto *p = reinterpret_cast<uint8_t *>(data.data());
  FileHeader h{FileKind::kCatalog, kFormatVersion, NewEpoch()};
  EncodeFileHeader(h, p);
  p += kFileHeaderSize;
  for (const auto &s : segments) {
    Catalog::EncodeRecord(s.sealed() ? CatalogOp::kSealed : CatalogOp::kOpen, s, p);
    p += kCatalogRecordSize;
  }
  if (tombstone) {  // the highest id given out, deleted since: keeps ids unique
    SegmentInfo gone;
    gone.id = max_id;
    Catalog::EncodeRecord(CatalogOp::kDeleted, gone, p);
  }
  return data;
}

Status CatalogFile::Append(CatalogOp op, const SegmentInfo &info, bool sync) {
  uint8_t rec[kCatalogRecordSize];
  Catalog::EncodeRecord(op, info, rec);
  VDB_ASSIGN_OR_RETURN(uint64_t size, file_->Size());
  Status st = file_->Append(rec, sizeof rec);
  if (!st.ok()) {
    (void)file_->Truncate(size);  // leave no torn record behind
    return st;
  }
  return sync ? file_->Sync() : Status::Ok();
}

}  // namespace vdb
