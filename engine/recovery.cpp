#include "recovery.h"

#include <algorithm>
#include <set>

#include "record_scan.h"

namespace vdb {
namespace {

void RemoveSegmentFiles(Fs *fs, const std::string &dir, uint64_t id) {
  (void)fs->Remove(FramesPath(dir, id));
  (void)fs->Remove(IndexPath(dir, id));
  (void)fs->Remove(MetaPath(dir, id));
  (void)fs->SyncDir(dir);
}

}  // namespace

Status Quarantine(Fs *fs, const std::string &dir, uint64_t id) {
  for (const auto &p : {FramesPath(dir, id), IndexPath(dir, id), MetaPath(dir, id)})
    if (fs->Exists(p)) VDB_RETURN_IF_ERROR(fs->Rename(p, p + ".unusable"));
  return fs->SyncDir(dir);
}

namespace {

Status WriteIndex(Fs *fs, const std::string &dir, uint64_t id,
                  const std::vector<IndexEntry> &entries) {
  std::string data(kFileHeaderSize + entries.size() * kIndexEntrySize, '\0');
  auto *p = reinterpret_cast<uint8_t *>(data.data());
  EncodeFileHeader(FileHeader{FileKind::kIndex, kFormatVersion, id}, p);
  for (size_t i = 0; i < entries.size(); i++)
    EncodeIndexEntry(entries[i], p + kFileHeaderSize + i * kIndexEntrySize);
  return WriteFileAtomic(fs, IndexPath(dir, id), data);
}

// Keeps the damaged spans beside the segment, in one file, as recovery
// always did: copied in 1 MiB chunks, holes skipped, at most 64 MiB (what
// damage claims beyond that is not kept).
constexpr uint64_t kMaxDamageKept = 64ull << 20;

Status SaveDamage(Fs *fs, File *frames, const std::vector<DamageSpan> &spans) {
  if (spans.empty()) return Status::Ok();
  std::string path = frames->path() + ".damaged-" + std::to_string(spans[0].offset);
  VDB_ASSIGN_OR_RETURN(TempFile t, CreateTemp(fs, path));
  auto copy = [&]() -> Status {
    std::vector<uint8_t> buf(1 << 20);
    uint64_t kept = 0;
    for (const DamageSpan &d : spans) {
      for (uint64_t pos = d.offset, end = d.offset + d.size; pos < end && kept < kMaxDamageKept;) {
        VDB_ASSIGN_OR_RETURN(uint64_t data, frames->NextData(pos));
        if (data >= end) break;  // only a hole is left of this span
        pos = data;
        size_t n = size_t(std::min<uint64_t>({buf.size(), end - pos, kMaxDamageKept - kept}));
        VDB_ASSIGN_OR_RETURN(size_t got, frames->ReadAt(pos, buf.data(), n));
        if (got == 0) break;
        VDB_RETURN_IF_ERROR(t.file->Append(buf.data(), got));
        pos += got;
        kept += got;
      }
    }
    return t.file->Sync();
  };
  Status st = copy();
  t.file.reset();
  if (st.ok()) st = fs->Rename(t.path, path);
  if (!st.ok()) (void)fs->Remove(t.path);
  return st;
}

// Writes a new frame file holding the caps record and every media record of
// `entries` (read from `old`), the first after each cut marked DISCONT;
// renames it over the old one. Returns the new entries (config first).
// The lead track's caps record comes first (from `lead`), then the other records.
Result<std::vector<IndexEntry>> RewriteFrames(Fs *fs, const std::string &dir, uint64_t id,
                                              File *old, const TrackMeta &lead,
                                              const std::vector<IndexEntry> &entries,
                                              const std::vector<bool> &cut_before) {
  const std::string &caps = lead.caps;
  std::string path = FramesPath(dir, id);
  VDB_ASSIGN_OR_RETURN(TempFile t, CreateTemp(fs, path));
  std::string tmp = t.path;
  std::unique_ptr<File> out = std::move(t.file);
  std::vector<IndexEntry> result;
  auto write = [&]() -> Status {
    uint8_t hdr[kFileHeaderSize];
    EncodeFileHeader(FileHeader{FileKind::kFrames, kFormatVersion, id}, hdr);
    VDB_RETURN_IF_ERROR(out->Append(hdr, sizeof hdr));
    uint64_t off = kFileHeaderSize;
    auto put = [&](RecordHeader h, const void *payload) -> Status {
      uint8_t rh[kRecordHeaderSize];
      EncodeRecordHeader(&h, payload, rh);
      Slice parts[2] = {{rh, sizeof rh}, {payload, h.payload_size}};
      VDB_RETURN_IF_ERROR(out->Append(parts, 2));
      result.push_back(IndexEntry{off, h.flags, h.pts, h.dts, h.payload_size});
      off += kRecordHeaderSize + h.payload_size;
      return Status::Ok();
    };
    RecordHeader ch;
    ch.payload_size = uint32_t(caps.size());
    ch.flags = WithTrack(kFlagConfig, lead.track);
    VDB_RETURN_IF_ERROR(put(ch, caps.data()));
    std::vector<uint8_t> buf;
    for (size_t i = 0; i < entries.size(); i++) {
      const IndexEntry &e = entries[i];
      if ((e.flags & kFlagConfig) && TrackOf(e.flags) == lead.track) continue;  // written above
      buf.resize(kRecordHeaderSize + e.size);
      VDB_ASSIGN_OR_RETURN(size_t got, old->ReadAt(e.offset, buf.data(), buf.size()));
      RecordHeader h;
      if (got != buf.size() || !DecodeRecordHeader(buf.data(), &h))
        return Status(Code::kIo, old->path() + ": record changed while repairing");
      if (cut_before[i]) h.flags |= kFlagDiscont;
      VDB_RETURN_IF_ERROR(put(h, buf.data() + kRecordHeaderSize));
    }
    return out->Sync();
  };
  Status st = write();
  out.reset();
  if (st.ok()) st = fs->Rename(tmp, path);
  if (!st.ok()) {
    (void)fs->Remove(tmp);
    return st;
  }
  VDB_RETURN_IF_ERROR(fs->SyncDir(dir));
  return result;
}

}  // namespace

std::string RecoveryReport::ToString() const {
  std::string s;
  if (catalog_rebuilt) s += "catalog rebuilt from segment files (" + catalog_problem + "); ";
  for (const auto &it : segments) {
    s += "segment " + std::to_string(it.segment_id) + ": ";
    s += it.removed ? "removed (" + it.message + ")"
                    : "recovered " + std::to_string(it.frames_kept) + " frames, cut " +
                          std::to_string(it.bytes_cut) + " bytes";
    if (it.damage_offset != kNoTime) s += ", damage at offset " + std::to_string(it.damage_offset);
    s += "; ";
  }
  if (!orphans_removed.empty())
    s += std::to_string(orphans_removed.size()) + " deleted segments' files cleaned up; ";
  for (const auto &n : notes) s += n + "; ";
  return s;
}

Result<SegmentMeta> RebuildSegment(Fs *fs, const std::string &dir, uint64_t id,
                                   const std::string &stream, RecoveryItem *item) {
  item->segment_id = id;
  std::string fpath = FramesPath(dir, id);
  if (!fs->Exists(fpath)) {
    item->removed = true;
    item->message = "frame file missing";
    RemoveSegmentFiles(fs, dir, id);
    return Status(Code::kNotFound, "segment " + std::to_string(id) + " has no frame file");
  }
  // What cannot be used is kept aside (renamed), never deleted or followed.
  auto unusable = [&](const std::string &why) -> Status {
    item->removed = true;
    item->message = why + ": kept as " + SegmentBaseName(id) + ".*.unusable";
    VDB_RETURN_IF_ERROR(Quarantine(fs, dir, id));
    return Status(Code::kCorrupt, "segment " + std::to_string(id) + ": " + why);
  };
  auto opened = fs->Open(fpath, OpenMode::kAppend);
  if (!opened.ok()) {
    if (opened.status().code() != Code::kCorrupt) return opened.status();
    return unusable(opened.status().message());  // not a regular file
  }
  std::unique_ptr<File> frames = std::move(opened).value();
  VDB_ASSIGN_OR_RETURN(uint64_t size, frames->Size());
  bool header_damaged = false;
  Status hdr = CheckFileHeader(frames.get(), FileKind::kFrames, id, &header_damaged);
  if (!hdr.ok() && !header_damaged) {
    if (hdr.code() == Code::kUnsupported) return hdr;  // a newer vdb's file: not ours to change
    frames.reset();
    return unusable(hdr.message());  // another segment's file under this name
  }
  // A damaged header is rewritten below: the records may be intact.
  VDB_ASSIGN_OR_RETURN(ScanResult scan,
                       ScanRecords(frames.get(), kFileHeaderSize, ScanMode::kResync));
  auto old_meta = ReadSegmentMeta(fs, dir, id);
  // The caps: the segment's own record, else (damaged) its metadata's.
  bool caps_record = !scan.entries.empty() && (scan.entries[0].flags & kFlagConfig);
  // The lead track: the first record's, else (damaged) the metadata's.
  TrackMeta lead;
  if (caps_record)
    lead = scan.tracks.front();
  else if (old_meta.ok())
    lead = old_meta->tracks.front();
  std::string caps = lead.caps;
  size_t media = 0;
  for (const auto &e : scan.entries) media += !(e.flags & kFlagConfig);
  if (media == 0) {
    item->removed = true;
    item->bytes_cut = size;
    item->message = "no frames";
    frames.reset();
    RemoveSegmentFiles(fs, dir, id);
    return Status(Code::kNotFound, "segment " + std::to_string(id) + " held no frames");
  }
  if (caps.empty()) {
    frames.reset();
    return unusable("frames whose caps record and metadata are both damaged");
  }
  std::vector<IndexEntry> entries = scan.entries;
  uint64_t end = scan.end;
  item->bytes_cut = scan.trailing;
  if (scan.damaged() || !caps_record || header_damaged) {
    item->damage_offset = header_damaged        ? 0
                          : scan.damage.empty() ? kFileHeaderSize
                                                : scan.damage[0].offset;
    item->message = std::to_string(scan.damage.size()) + " damaged span(s), first at offset " +
                    std::to_string(item->damage_offset);
    std::vector<bool> cut_before(entries.size(), false);
    for (const DamageSpan &d : scan.damage) {
      item->bytes_cut += d.size;
      if (d.before < cut_before.size()) cut_before[d.before] = true;
    }
    VDB_RETURN_IF_ERROR(SaveDamage(fs, frames.get(), scan.damage));
    VDB_ASSIGN_OR_RETURN(entries,
                         RewriteFrames(fs, dir, id, frames.get(), lead, entries, cut_before));
    end = entries.back().offset + kRecordHeaderSize + entries.back().size;
  } else if (scan.trailing) {
    VDB_RETURN_IF_ERROR(frames->Truncate(scan.end));
    VDB_RETURN_IF_ERROR(frames->Sync());
  }
  frames.reset();
  VDB_RETURN_IF_ERROR(WriteIndex(fs, dir, id, entries));

  SegmentMeta m;
  if (old_meta.ok()) m = old_meta.value();
  m.info.id = id;
  m.stream = stream;
  m.caps = caps;
  m.codec = CodecOfCaps(m.caps);
  // Every track with a caps record left, the lead first; the metadata's
  // caps for one whose record was damaged.
  m.tracks = {lead};
  for (const IndexEntry &e : entries) {
    uint32_t track = TrackOf(e.flags);
    bool have = false;
    for (const TrackMeta &t : m.tracks) have |= t.track == track;
    if (have) continue;
    for (const auto *from : {&scan.tracks, old_meta.ok() ? &old_meta->tracks : nullptr})
      if (from && !have)
        for (const TrackMeta &t : *from)
          if (t.track == track && !have) {
            m.tracks.push_back(t);
            have = true;
          }
  }
  m.info.state = SegmentState::kRecovered;
  m.info.bytes = end;
  m.info.frames = 0;
  m.keyframes = 0;
  m.info.end_pts = scan.end_pts;
  m.corrupt_offset = item->damage_offset;
  for (const auto &e : entries) {
    if (e.flags & kFlagConfig) continue;
    if (m.info.frames++ == 0) {
      m.info.first_pts = e.pts;
      m.first_dts = e.dts;
    }
    if (e.flags & kFlagKey) m.keyframes++;
  }
  m.info.tracks = TrackBits(m.tracks);
  item->frames_kept = m.info.frames;
  VDB_RETURN_IF_ERROR(WriteFileAtomic(fs, MetaPath(dir, id), SegmentMetaToJson(m)));
  return m;
}

Result<std::vector<SegmentInfo>> ScanSegments(Fs *fs, const std::string &dir, uint64_t min_id,
                                              SegmentState unknown,
                                              std::vector<uint64_t> *unreadable) {
  VDB_ASSIGN_OR_RETURN(auto names, fs->List(dir));
  std::set<uint64_t> ids;
  for (const auto &n : names) {
    uint64_t id;
    std::string ext;
    if (ParseSegmentFileName(n, &id, &ext) && ext == "vdbf" && id >= min_id) ids.insert(id);
  }
  std::vector<SegmentInfo> out;
  for (uint64_t id : ids) {
    auto m = ReadSegmentMeta(fs, dir, id);
    if (m.ok() && m->info.first_pts != kNoTime) {
      out.push_back(m->info);
      continue;
    }
    // No usable metadata: what the frame file holds. Damage makes it
    // unreadable; any other error (EIO, EMFILE) is returned, so that a
    // transient failure never drops a segment from a rebuilt catalog.
    auto f = fs->Open(FramesPath(dir, id), OpenMode::kRead);
    bool damaged = false;
    Status st = f.ok() ? CheckFileHeader(f->get(), FileKind::kFrames, id, &damaged) : f.status();
    if (!st.ok() && !damaged) {
      if (st.code() != Code::kCorrupt && st.code() != Code::kNotFound) return st;
      if (unreadable) unreadable->push_back(id);
      continue;
    }
    VDB_ASSIGN_OR_RETURN(ScanResult scan,
                         ScanRecords(f->get(), kFileHeaderSize, ScanMode::kResync));
    SegmentInfo info;
    info.id = id;
    info.state = unknown;
    info.bytes = scan.end;
    info.end_pts = scan.end_pts;
    info.tracks = TrackBits(scan.tracks);
    if (m.ok()) info.utc_start = m->info.utc_start;
    for (const auto &e : scan.entries) {
      if (e.flags & kFlagConfig) continue;
      if (info.frames++ == 0) info.first_pts = e.pts;
    }
    if (info.frames == 0 && unknown != SegmentState::kOpen) continue;
    out.push_back(info);
  }
  return out;
}

std::vector<std::pair<CatalogOp, SegmentInfo>> AsCatalogRecords(
    const std::vector<SegmentInfo> &segments) {
  std::vector<std::pair<CatalogOp, SegmentInfo>> ops;
  ops.reserve(segments.size());
  for (const auto &s : segments)
    ops.emplace_back(s.sealed() ? CatalogOp::kSealed : CatalogOp::kOpen, s);
  return ops;
}

}  // namespace vdb
