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
                                                           const SegmentInfo &info,
                                                           uint32_t track) {
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  r->fs_ = fs;
  r->dir_ = dir;
  r->info_ = info;
  r->track_ = track;
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
  // The first record is a caps record: an index that says otherwise is not believed.
  if (entries.empty() || !(entries[0].flags & kFlagConfig)) {
    entries.clear();
    r->end_ = kFileHeaderSize;
  }
  r->AddEntries(entries);
  if (r->end_ < fsize) {
    // The index is shorter than the data: the rest, as far as it is whole.
    r->index_rebuilt_ = true;
    VDB_ASSIGN_OR_RETURN(ScanResult tail,
                         ScanRecords(r->frames_.get(), r->end_, ScanMode::kStopAtDamage));
    r->AddEntries(tail.entries);
    r->end_ = tail.end;
    // A sealed segment's records run to the end of the file. If they do not
    // from here, there is damage, or the index does not belong to these
    // frames: the whole file is scanned, past damage, and is the truth.
    if (info.sealed() && r->end_ < fsize) {
      VDB_ASSIGN_OR_RETURN(ScanResult full,
                           ScanRecords(r->frames_.get(), kFileHeaderSize, ScanMode::kResync));
      r->Reset();
      r->AddEntries(full.entries, full.damage);
      r->end_ = full.end;
    }
  }
  VDB_RETURN_IF_ERROR(r->LoadCaps());
  return r;
}

void SegmentReader::Reset() {
  entries_.clear();
  keys_.clear();
  damage_.clear();
  configs_.clear();
  tracks_.clear();
  caps_.clear();
  lead_known_ = false;
}

Status SegmentReader::LoadCaps() {
  Result<SegmentMeta> meta = Status(Code::kNotFound, "");
  bool meta_read = false;
  auto from_meta = [&](uint32_t track) -> const TrackMeta * {
    if (!meta_read) meta = ReadSegmentMeta(fs_, dir_, info_.id);
    meta_read = true;
    if (meta.ok())
      for (const TrackMeta &t : meta->tracks)
        if (t.track == track && !t.caps.empty()) return &t;
    return nullptr;
  };
  for (const IndexEntry &e : configs_) {
    uint32_t track = TrackOf(e.flags);
    bool known = false;
    for (const TrackMeta &t : tracks_) known |= t.track == track;
    if (known) continue;  // a track's first caps record is the one that counts
    auto caps = ReadCaps(frames_.get(), e);
    if (caps.ok()) {
      tracks_.push_back(TrackMeta{track, CodecOfCaps(caps.value()), caps.value()});
    } else if (const TrackMeta *t = from_meta(track)) {
      // The metadata holds the same caps: a damaged caps record costs nothing.
      tracks_.push_back(*t);
    } else if (track == track_) {
      return Status(Code::kCorrupt, caps.status().message() + ", and so is its metadata");
    }
  }
  configs_.clear();
  for (const TrackMeta &t : tracks_)
    if (t.track == track_) caps_ = t.caps;
  if (caps_.empty() && (!entries_.empty() || !lead_known_)) {
    // No intact caps record for this track: the metadata's caps, if any.
    const TrackMeta *t = from_meta(track_);
    if (!t)
      return Status(Code::kCorrupt, frames_->path() + ": no intact caps record for track " +
                                        std::to_string(track_) + " and no metadata");
    caps_ = t->caps;
    tracks_.push_back(*t);
  }
  if (!lead_known_ && meta_read && meta.ok()) lead_ = meta->tracks.front().track;
  return Status::Ok();
}

void SegmentReader::AddEntries(const std::vector<IndexEntry> &es,
                               const std::vector<DamageSpan> &damage) {
  size_t d = 0;
  uint64_t pending = 0;  // damaged bytes before the next media frame of the track
  for (size_t i = 0; i < es.size(); i++) {
    for (; d < damage.size() && damage[d].before == i; d++) pending += damage[d].size;
    const IndexEntry &e = es[i];
    if (e.flags & kFlagConfig) {
      if (!lead_known_ && e.offset == kFileHeaderSize) {
        lead_ = TrackOf(e.flags);
        lead_known_ = true;
      }
      configs_.push_back(e);
      continue;
    }
    if (TrackOf(e.flags) != track_) continue;
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
  AddEntries(s.entries, s.damage);
  end_ = s.end;
  return LoadCaps();
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
  // One read per run of adjacent records (all of them, with one track): the
  // records of other tracks between them are not read.
  size_t total = 0;
  for (size_t i = first; i < first + count; i++) total += kRecordHeaderSize + entries_[i].size;
  buf->resize(total);
  out->reserve(count);
  size_t at = 0;
  for (size_t i = first; i < first + count;) {
    size_t j = i + 1, len = kRecordHeaderSize + entries_[i].size;
    while (j < first + count && entries_[j].offset == entries_[j - 1].offset + kRecordHeaderSize +
                                                          entries_[j - 1].size) {
      len += kRecordHeaderSize + entries_[j].size;
      j++;
    }
    VDB_ASSIGN_OR_RETURN(size_t got, frames_->ReadAt(entries_[i].offset, buf->data() + at, len));
    size_t run_at = at;
    for (; i < j; i++) {
      const IndexEntry &e = entries_[i];
      FrameView v;
      const uint8_t *p = buf->data() + at;
      bool whole = at - run_at + kRecordHeaderSize + e.size <= got;
      if (!whole || !DecodeRecordHeader(p, &v.header) || v.header.payload_size != e.size ||
          TrackOf(v.header.flags) != track_ ||
          !RecordCrcMatches(p, v.header, p + kRecordHeaderSize)) {
        MarkDamage(i, kRecordHeaderSize + e.size);
        return Status(Code::kCorrupt, frames_->path() + (whole ? ": damaged" : ": truncated") +
                                          " record at offset " + std::to_string(e.offset));
      }
      v.data_offset = at + kRecordHeaderSize;
      out->push_back(v);
      at += kRecordHeaderSize + e.size;
    }
  }
  return Status::Ok();
}

CodecHeaders SegmentReader::InbandHeaders() {
  CodecHeaders h(InbandHeadersOfCaps(caps()));
  if (h.kind() == InbandHeaders::kNone || keyframe_count() == 0) return h;
  std::vector<uint8_t> bytes;
  std::vector<FrameView> views;
  if (!Read(keyframe(0), 1, &bytes, &views).ok() || views.empty()) return h;
  h.Scan(bytes.data() + views[0].data_offset, views[0].header.payload_size);
  return h;
}

}  // namespace vdb
