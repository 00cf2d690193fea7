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

Status SaveDamagedTail(Fs *fs, File *frames, uint64_t from, uint64_t size) {
  std::string tail(size_t(size - from), '\0');
  VDB_ASSIGN_OR_RETURN(size_t got, frames->ReadAt(from, tail.data(), tail.size()));
  tail.resize(got);
  return WriteFileAtomic(fs, frames->path() + ".damaged-" + std::to_string(from), tail);
}

Status WriteIndex(Fs *fs, const std::string &dir, uint64_t id,
                  const std::vector<IndexEntry> &entries) {
  std::string data(kFileHeaderSize + entries.size() * kIndexEntrySize, '\0');
  auto *p = reinterpret_cast<uint8_t *>(data.data());
  EncodeFileHeader(FileHeader{FileKind::kIndex, kFormatVersion, id}, p);
  for (size_t i = 0; i < entries.size(); i++)
    EncodeIndexEntry(entries[i], p + kFileHeaderSize + i * kIndexEntrySize);
  return WriteFileAtomic(fs, IndexPath(dir, id), data);
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
  return s;
}

Result<SegmentMeta> RecoverSegment(Fs *fs, const std::string &dir, uint64_t id,
                                   const std::string &stream, RecoveryItem *item) {
  item->segment_id = id;
  auto opened = fs->Open(FramesPath(dir, id), OpenMode::kAppend);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<File> frames = std::move(opened).value();
  VDB_ASSIGN_OR_RETURN(uint64_t size, frames->Size());
  Status hdr = CheckFileHeader(frames.get(), FileKind::kFrames, id);
  ScanResult scan;
  if (hdr.ok()) {
    VDB_ASSIGN_OR_RETURN(scan, ScanRecords(frames.get(), kFileHeaderSize, true));
  }
  if (!hdr.ok() || scan.entries.empty() || !(scan.entries[0].flags & kFlagConfig)) {
    item->removed = true;
    item->bytes_cut = size;
    item->message = hdr.ok() ? "no caps record" : hdr.message();
    frames.reset();
    RemoveSegmentFiles(fs, dir, id);
    return Status(Code::kNotFound, "segment " + std::to_string(id) + " held no frames");
  }
  if (scan.damaged()) {
    item->damage_offset = scan.end;
    item->message = "damaged record in the middle at offset " + std::to_string(scan.end);
    VDB_RETURN_IF_ERROR(SaveDamagedTail(fs, frames.get(), scan.end, size));
  }
  item->bytes_cut = scan.trailing;
  if (scan.trailing) {
    VDB_RETURN_IF_ERROR(frames->Truncate(scan.end));
    VDB_RETURN_IF_ERROR(frames->Sync());
  }
  VDB_RETURN_IF_ERROR(WriteIndex(fs, dir, id, scan.entries));

  SegmentMeta m;
  auto old = ReadWholeFile(fs, MetaPath(dir, id));
  if (old.ok()) {
    auto parsed = SegmentMetaFromJson(old.value());
    if (parsed.ok()) m = parsed.value();
  }
  m.info.id = id;
  m.stream = stream;
  m.caps = scan.config;
  if (m.codec.empty()) m.codec = CodecOfCaps(m.caps);
  m.info.state = SegmentState::kRecovered;
  m.info.bytes = scan.end;
  m.info.frames = 0;
  m.keyframes = 0;
  m.info.end_pts = scan.end_pts;
  m.corrupt_offset = scan.damaged() ? scan.end : kNoTime;
  for (const auto &e : scan.entries) {
    if (e.flags & kFlagConfig) continue;
    if (m.info.frames++ == 0) {
      m.info.first_pts = e.pts;
      m.first_dts = e.dts;
    }
    if (e.flags & kFlagKey) m.keyframes++;
  }
  item->frames_kept = m.info.frames;
  if (m.info.frames == 0) {
    item->removed = true;
    item->message = "no frames";
    frames.reset();
    RemoveSegmentFiles(fs, dir, id);
    return Status(Code::kNotFound, "segment " + std::to_string(id) + " held no frames");
  }
  VDB_RETURN_IF_ERROR(WriteFileAtomic(fs, MetaPath(dir, id), SegmentMetaToJson(m)));
  return m;
}

Result<std::vector<SegmentInfo>> ScanSegments(Fs *fs, const std::string &dir) {
  VDB_ASSIGN_OR_RETURN(auto names, fs->List(dir));
  std::set<uint64_t> ids;
  for (const auto &n : names) {
    uint64_t id;
    std::string ext;
    if (ParseSegmentFileName(n, &id, &ext) && ext == "vdbf") ids.insert(id);
  }
  std::vector<SegmentInfo> out;
  for (uint64_t id : ids) {
    SegmentInfo info;
    info.id = id;
    info.state = SegmentState::kOpen;  // unknown: recovery will check it
    auto json = ReadWholeFile(fs, MetaPath(dir, id));
    if (json.ok()) {
      auto m = SegmentMetaFromJson(json.value());
      if (m.ok() && m->info.id == id) info = m->info;
    }
    out.push_back(info);
  }
  return out;
}

}  // namespace vdb
