#include "segment_reader.h"

#include <algorithm>
#include <cstring>

namespace vdb {

namespace {

// The caps record at `e`, checked by its CRC.
Result<std::string> ReadCaps(File *f, const IndexEntry &e) {
  if (e.size > kMaxCapsSize) return Status(Code::kCorrupt, f->path() + ": caps record too long");
  std::vector<uint8_t> rec(kRecordHeaderSize + e.size);
  VDB_ASSIGN_OR_RETURN(size_t got, f->ReadAt(e.offset, rec.data(), rec.size()));
  RecordHeader h;
  if (got != rec.size() || !DecodeRecordHeader(rec.data(), &h) || h.payload_size != e.size ||
      !(h.flags & kFlagConfig) || !RecordCrcMatches(rec.data(), h, rec.data() + kRecordHeaderSize))
    return Status(Code::kCorrupt, f->path() + ": caps record at offset " +
                                      std::to_string(e.offset) + " is damaged");
  return std::string(reinterpret_cast<const char *>(rec.data()) + kRecordHeaderSize, e.size);
}

}  // namespace

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(Fs *fs, const std::string &dir,
                                                           const SegmentInfo &info) {
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  r->fs_ = fs;
  r->dir_ = dir;
  r->info_ = info;
  std::string fpath = FramesPath(dir, info.id);
  VDB_ASSIGN_OR_RETURN(r->frames_, fs->Open(fpath, OpenMode::kRead));
  // A damaged header (bad CRC) costs nothing: the records are self-describing.
  bool header_damaged = false;
  Status hs = CheckFileHeader(r->frames_.get(), FileKind::kFrames, info.id, &header_damaged);
  if (!hs.ok() && !header_damaged) return hs;
  VDB_ASSIGN_OR_RETURN(uint64_t fsize, r->frames_->Size());

  // Index: take the prefix of entries that are intact and inside the file,
  // read in 1 MiB chunks: memory holds the valid entries, never the file's
  // apparent size (a 50 GB sparse index is zeros after its first chunk).
  std::vector<IndexEntry> entries;
  r->end_ = kFileHeaderSize;
  auto index = fs->Open(IndexPath(dir, info.id), OpenMode::kRead);
  if (index.ok() && CheckFileHeader(index->get(), FileKind::kIndex, info.id).ok()) {
    VDB_ASSIGN_OR_RETURN(uint64_t isize, (*index)->Size());
    // At most 1 MiB at a time, and no more than the file holds (a
    // segment's index is usually much smaller: no 1 MiB buffer per open).
    uint64_t body = isize > kFileHeaderSize ? isize - kFileHeaderSize : 0;
    std::vector<uint8_t> raw(
        static_cast<size_t>(std::min<uint64_t>(body, 32768 * kIndexEntrySize)));
    bool intact = true;
    for (uint64_t pos = kFileHeaderSize; intact && pos + kIndexEntrySize <= isize;
         pos += raw.size()) {
      VDB_ASSIGN_OR_RETURN(size_t got, (*index)->ReadAt(pos, raw.data(), raw.size()));
      if (got < kIndexEntrySize) break;
      for (size_t off = 0; off + kIndexEntrySize <= got; off += kIndexEntrySize) {
        IndexEntry e;
        if (!DecodeIndexEntry(raw.data() + off, &e) || e.offset != r->end_ ||
            e.offset + kRecordHeaderSize + e.size > fsize) {
          intact = false;
          break;
        }
        entries.push_back(e);
        r->end_ = e.offset + kRecordHeaderSize + e.size;
      }
    }
  }
  if (entries.empty() || !(entries[0].flags & kFlagConfig)) {
    entries.clear();
    r->end_ = kFileHeaderSize;
  }
  // The config record (caps) is entry 0.
  if (!entries.empty()) {
    auto caps = ReadCaps(r->frames_.get(), entries[0]);
    if (caps.ok()) {
      r->caps_ = caps.value();
    } else {
      // The metadata holds the same caps: a damaged caps record costs nothing.
      auto meta = ReadSegmentMeta(fs, dir, info.id);
      if (!meta.ok() || meta->caps.empty())
        return Status(Code::kCorrupt, caps.status().message() + ", and so is its metadata");
      r->caps_ = meta->caps;
    }
    entries.erase(entries.begin());
  }
  r->AddEntries(entries);
  if (r->end_ < fsize) {
    // The index is shorter than the data: the rest, as far as it is whole.
    r->index_rebuilt_ = true;
    VDB_ASSIGN_OR_RETURN(ScanResult tail,
                         ScanRecords(r->frames_.get(), r->end_, ScanMode::kStopAtDamage));
    if (r->end_ == kFileHeaderSize && !tail.config.empty()) r->caps_ = tail.config;
    r->AddEntries(tail.entries);
    r->end_ = tail.end;
    // A sealed segment's records run to the end of the file. If they do not
    // from here, there is damage, or the index does not belong to these
    // frames: the whole file is scanned, past damage, and is the truth.
    if (info.sealed() && r->end_ < fsize) {
      VDB_ASSIGN_OR_RETURN(ScanResult full,
                           ScanRecords(r->frames_.get(), kFileHeaderSize, ScanMode::kResync));
      r->entries_.clear();
      r->keys_.clear();
      r->damage_.clear();
      if (!full.config.empty()) r->caps_ = full.config;
      r->AddEntries(full.entries, full.damage);
      r->end_ = full.end;
    }
  }
  if (r->caps_.empty()) {
    // No intact caps record at the start: the metadata's caps, if any.
    auto meta = ReadSegmentMeta(fs, dir, info.id);
    if (!meta.ok() || meta->caps.empty())
      return Status(Code::kCorrupt, fpath + ": no intact caps record and no metadata");
    r->caps_ = meta->caps;
  }
  return r;
}

void SegmentReader::AddEntries(const std::vector<IndexEntry> &es,
                               const std::vector<DamageSpan> &damage) {
  size_t d = 0;
  uint64_t pending = 0;  // damaged bytes before the next media frame
  for (size_t i = 0; i < es.size(); i++) {
    for (; d < damage.size() && damage[d].before == i; d++) pending += damage[d].size;
    const IndexEntry &e = es[i];
    if (e.flags & kFlagConfig) continue;
    if (pending) {
      MarkDamage(entries_.size(), pending);
      pending = 0;
    }
    if (e.flags & kFlagKey) keys_.push_back(uint32_t(entries_.size()));
    entries_.push_back(e);
  }
}

void SegmentReader::MarkDamage(size_t frame, uint64_t bytes) {
  auto it = std::lower_bound(damage_.begin(), damage_.end(), std::make_pair(frame, uint64_t(0)));
  if (it != damage_.end() && it->first == frame) return;
  damage_.insert(it, {frame, bytes});
}

long SegmentReader::NextDamageAfter(size_t frame) const {
  auto it = std::upper_bound(damage_.begin(), damage_.end(), std::make_pair(frame, UINT64_MAX));
  return it == damage_.end() ? -1 : long(it->first);
}

bool SegmentReader::DamageBefore(size_t frame) const {
  return DamageBytesBefore(frame) > 0;
}

uint64_t SegmentReader::DamageBytesBefore(size_t frame) const {
  auto it = std::lower_bound(damage_.begin(), damage_.end(), std::make_pair(frame, uint64_t(0)));
  return it != damage_.end() && it->first == frame ? it->second : 0;
}

Status SegmentReader::Refresh() {
  // A live segment's tail may be a record the writer is still writing: stop
  // there. A sealed one is complete: skip damage and go on.
  ScanMode mode = info_.sealed() ? ScanMode::kResync : ScanMode::kStopAtDamage;
  VDB_ASSIGN_OR_RETURN(ScanResult s, ScanRecords(frames_.get(), end_, mode));
  if (end_ == kFileHeaderSize && !s.config.empty()) caps_ = s.config;
  AddEntries(s.entries, s.damage);
  end_ = s.end;
  return Status::Ok();
}

long SegmentReader::KeyAtOrBefore(uint64_t pts) const {
  auto it = std::upper_bound(keys_.begin(), keys_.end(), pts,
                             [this](uint64_t t, uint32_t k) { return t < entries_[k].pts; });
  return it == keys_.begin() ? -1 : long(*(it - 1));
}

long SegmentReader::KeyFrameAtOrAfter(size_t frame) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), frame);
  return it == keys_.end() ? -1 : long(*it);
}

long SegmentReader::KeyFrameBefore(size_t frame) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), frame);
  return it == keys_.begin() ? -1 : long(*(it - 1));
}

long SegmentReader::KeyAtOrAfter(uint64_t pts) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), pts,
                             [this](uint32_t k, uint64_t t) { return entries_[k].pts < t; });
  return it == keys_.end() ? -1 : long(*it);
}

Status SegmentReader::Read(size_t first, size_t count, std::vector<uint8_t> *buf,
                           std::vector<FrameView> *out) {
  out->clear();
  if (count == 0) return Status::Ok();
  if (first + count > entries_.size())
    return Status(Code::kInvalidArgument, "frame range past the end of the segment");
  const IndexEntry &a = entries_[first], &b = entries_[first + count - 1];
  uint64_t start = a.offset, stop = b.offset + kRecordHeaderSize + b.size;
  buf->resize(size_t(stop - start));
  VDB_ASSIGN_OR_RETURN(size_t got, frames_->ReadAt(start, buf->data(), buf->size()));
  out->reserve(count);
  for (size_t i = first; i < first + count; i++) {
    const IndexEntry &e = entries_[i];
    size_t at = size_t(e.offset - start);
    FrameView v;
    const uint8_t *p = buf->data() + at;
    if (at + kRecordHeaderSize + e.size > got || !DecodeRecordHeader(p, &v.header) ||
        v.header.payload_size != e.size || !RecordCrcMatches(p, v.header, p + kRecordHeaderSize)) {
      MarkDamage(i, kRecordHeaderSize + e.size);
      return Status(Code::kCorrupt,
                    frames_->path() +
                        (at + kRecordHeaderSize + e.size > got ? ": truncated" : ": damaged") +
                        " record at offset " + std::to_string(e.offset));
    }
    v.data_offset = at + kRecordHeaderSize;
    out->push_back(v);
  }
  return Status::Ok();
}

}  // namespace vdb
