#include "segment_reader.h"

#include <algorithm>
#include <cstring>

#include "record_scan.h"

namespace vdb {

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(Fs *fs, const std::string &dir,
                                                           const SegmentInfo &info) {
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  r->fs_ = fs;
  r->dir_ = dir;
  r->info_ = info;
  std::string fpath = FramesPath(dir, info.id);
  VDB_ASSIGN_OR_RETURN(r->frames_, fs->Open(fpath, OpenMode::kRead));
  VDB_RETURN_IF_ERROR(CheckFileHeader(r->frames_.get(), FileKind::kFrames, info.id));
  VDB_ASSIGN_OR_RETURN(uint64_t fsize, r->frames_->Size());

  // Index: take the prefix of entries that are intact and inside the file.
  std::vector<IndexEntry> entries;
  r->end_ = kFileHeaderSize;
  auto index = fs->Open(IndexPath(dir, info.id), OpenMode::kRead);
  if (index.ok() && CheckFileHeader(index->get(), FileKind::kIndex, info.id).ok()) {
    VDB_ASSIGN_OR_RETURN(uint64_t isize, (*index)->Size());
    std::vector<uint8_t> raw(isize > kFileHeaderSize ? isize - kFileHeaderSize : 0);
    VDB_ASSIGN_OR_RETURN(size_t got, (*index)->ReadAt(kFileHeaderSize, raw.data(), raw.size()));
    entries.reserve(got / kIndexEntrySize);
    for (size_t off = 0; off + kIndexEntrySize <= got; off += kIndexEntrySize) {
      IndexEntry e;
      if (!DecodeIndexEntry(raw.data() + off, &e) || e.offset != r->end_ ||
          e.offset + kRecordHeaderSize + e.size > fsize)
        break;
      entries.push_back(e);
      r->end_ = e.offset + kRecordHeaderSize + e.size;
    }
  }
  if (entries.empty() || !(entries[0].flags & kFlagConfig)) {
    entries.clear();
    r->end_ = kFileHeaderSize;
  }
  // The config record (caps) is entry 0.
  if (!entries.empty()) {
    r->caps_.resize(entries[0].size);
    VDB_ASSIGN_OR_RETURN(size_t got, r->frames_->ReadAt(entries[0].offset + kRecordHeaderSize,
                                                        r->caps_.data(), r->caps_.size()));
    if (got != entries[0].size) return Status(Code::kCorrupt, fpath + ": caps record truncated");
    entries.erase(entries.begin());
  }
  r->AddEntries(entries);
  if (r->end_ < fsize) {
    r->index_rebuilt_ = true;  // index shorter than the data: rebuild the rest
    VDB_RETURN_IF_ERROR(r->Refresh());
    // A sealed segment's records run to the end of the file. If the index led
    // somewhere that is not a record boundary, it does not belong to these
    // frames: rebuild the whole index from the frame file.
    if (info.sealed() && r->end_ < fsize && r->end_ > kFileHeaderSize) {
      VDB_ASSIGN_OR_RETURN(ScanResult full, ScanRecords(r->frames_.get(), kFileHeaderSize, false));
      if (full.end > r->end_) {
        r->entries_.clear();
        r->keys_.clear();
        r->caps_ = full.config;
        r->AddEntries(full.entries);
        r->end_ = full.end;
      }
    }
  }
  if (r->caps_.empty() && r->end_ == kFileHeaderSize)
    return Status(Code::kCorrupt, fpath + ": no caps record at the start of the segment");
  return r;
}

void SegmentReader::AddEntries(const std::vector<IndexEntry> &es) {
  for (const auto &e : es) {
    if (e.flags & kFlagConfig) continue;
    if (e.flags & kFlagKey) keys_.push_back(uint32_t(entries_.size()));
    entries_.push_back(e);
  }
}

Status SegmentReader::Refresh() {
  VDB_ASSIGN_OR_RETURN(ScanResult s, ScanRecords(frames_.get(), end_, false));
  if (end_ == kFileHeaderSize && !s.config.empty()) caps_ = s.config;
  AddEntries(s.entries);
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
  if (got != buf->size())
    return Status(Code::kCorrupt,
                  frames_->path() + ": truncated at offset " + std::to_string(start + got));
  out->reserve(count);
  for (size_t i = first; i < first + count; i++) {
    const IndexEntry &e = entries_[i];
    const uint8_t *p = buf->data() + (e.offset - start);
    FrameView v;
    if (!DecodeRecordHeader(p, &v.header) || v.header.payload_size != e.size ||
        !RecordCrcMatches(p, v.header, p + kRecordHeaderSize))
      return Status(Code::kCorrupt,
                    frames_->path() + ": damaged record at offset " + std::to_string(e.offset));
    v.data_offset = size_t(e.offset - start) + kRecordHeaderSize;
    out->push_back(v);
  }
  return Status::Ok();
}

}  // namespace vdb
