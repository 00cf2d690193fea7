#include "verify.h"

#include <set>

#include "catalog.h"
#include "record_scan.h"
#include "recovery.h"
#include "store.h"

namespace vdb {
namespace {

std::string Span(uint64_t a, uint64_t b) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

// Problems of the index file against the records the frame file holds.
std::string CheckIndex(Fs *fs, const std::string &dir, uint64_t id,
                       const std::vector<IndexEntry> &records) {
  auto f = fs->Open(IndexPath(dir, id), OpenMode::kRead);
  if (!f.ok()) return "index: " + f.status().message();
  Status hs = CheckFileHeader(f->get(), FileKind::kIndex, id);
  if (!hs.ok()) return "index: " + hs.message();
  auto size = (*f)->Size();
  if (!size.ok()) return "index: " + size.status().message();
  uint64_t want = kFileHeaderSize + records.size() * kIndexEntrySize;
  if (size.value() != want)
    return "index holds " + std::to_string((size.value() - kFileHeaderSize) / kIndexEntrySize) +
           " entries for " + std::to_string(records.size()) + " records";
  std::vector<uint8_t> raw(records.size() * kIndexEntrySize);
  auto got = (*f)->ReadAt(kFileHeaderSize, raw.data(), raw.size());
  if (!got.ok() || got.value() != raw.size()) return "index: short read";
  for (size_t i = 0; i < records.size(); i++) {
    IndexEntry e;
    const IndexEntry &r = records[i];
    if (!DecodeIndexEntry(raw.data() + i * kIndexEntrySize, &e) || e.offset != r.offset ||
        e.size != r.size || e.flags != r.flags || e.pts != r.pts || e.dts != r.dts)
      return "index entry " + std::to_string(i) + " is damaged or disagrees with the frames";
  }
  return "";
}

}  // namespace

std::string SegmentCheck::Summary() const {
  std::string s;
  for (const auto &p : problems) s += (s.empty() ? "" : "; ") + p;
  return s;
}

SegmentCheck CheckSegment(Fs *fs, const std::string &dir, const SegmentInfo &info) {
  SegmentCheck c;
  auto f = fs->Open(FramesPath(dir, info.id), OpenMode::kRead);
  if (!f.ok()) {
    c.problems.push_back(f.status().message());
    return c;
  }
  bool header_damaged = false;
  Status hs = CheckFileHeader(f->get(), FileKind::kFrames, info.id, &header_damaged);
  if (!hs.ok()) {
    c.problems.push_back(hs.message());
    if (!header_damaged) return c;
  }
  auto scan = ScanRecords(f->get(), kFileHeaderSize, ScanMode::kResync);
  if (!scan.ok()) {
    c.problems.push_back(scan.status().message());
    return c;
  }
  c.records = scan->entries.size();
  for (const DamageSpan &d : scan->damage)
    c.problems.push_back("damaged bytes " + Span(d.offset, d.offset + d.size));
  if (scan->trailing)
    c.problems.push_back(std::to_string(scan->trailing) + " bytes at offset " +
                         std::to_string(scan->end) + " are not a whole record (truncated or torn)");
  if (scan->entries.empty() || !(scan->entries[0].flags & kFlagConfig))
    c.problems.push_back("the caps record is damaged");
  uint64_t media = 0;
  for (const auto &e : scan->entries) media += !(e.flags & kFlagConfig);
  if (info.sealed()) {
    if (media != info.frames)
      c.problems.push_back("the catalog says " + std::to_string(info.frames) +
                           " frames, the file holds " + std::to_string(media));
    if (scan->end != info.bytes && !scan->damaged() && !scan->trailing)
      c.problems.push_back("the catalog says " + std::to_string(info.bytes) +
                           " bytes, the records end at " + std::to_string(scan->end));
    std::string idx = CheckIndex(fs, dir, info.id, scan->entries);
    if (!idx.empty()) c.problems.push_back(idx);
    auto meta = ReadSegmentMeta(fs, dir, info.id);
    if (!meta.ok()) c.problems.push_back("metadata: " + meta.status().message());
  }
  return c;
}

Result<StreamCheck> VerifyStream(Fs *fs, const std::string &store, const std::string &stream,
                                 const std::function<void(const StreamCheck &)> &progress) {
  VDB_ASSIGN_OR_RETURN(std::string dir, StreamDir(store, stream));
  VDB_RETURN_IF_ERROR(CheckDirectory(fs, dir));
  StreamCheck out;
  // The catalog first, then the files: a writer creates files before their
  // catalog record, so nothing it adds meanwhile looks lost.
  std::vector<SegmentInfo> segs;
  uint64_t max_id = 0;
  auto cat = fs->Exists(Catalog::Path(dir)) ? Catalog::Load(fs, dir)
                                            : Result<Catalog>(Status(Code::kNotFound, "missing"));
  VDB_ASSIGN_OR_RETURN(auto names, fs->List(dir));
  std::set<uint64_t> frame_ids;
  for (const auto &n : names) {
    uint64_t id;
    std::string ext;
    if (ParseSegmentFileName(n, &id, &ext) && ext == "vdbf") frame_ids.insert(id);
  }
  // Retention may delete a segment while it is checked: a problem counts
  // only if the catalog still lists the segment afterwards.
  auto still_listed = [&](uint64_t id) {
    auto now = Catalog::Load(fs, dir);
    return !now.ok() || now->FindById(id) >= 0;
  };
  if (cat.ok()) {
    segs = cat->segments();
    max_id = cat->max_id();

  } else {
    out.problems.push_back({0, cat.status().code() == Code::kNotFound
                                   ? "catalog.vdbc is missing (vdb repair rebuilds it)"
                                   : cat.status().message() + " (vdb repair rebuilds it)"});
    VDB_ASSIGN_OR_RETURN(segs, ScanSegments(fs, dir, 0, SegmentState::kRecovered));
    max_id = UINT64_MAX;
  }
  std::set<uint64_t> listed;
  for (const auto &s : segs) {
    listed.insert(s.id);
    out.segments++;
    // A segment only in the bucket is checked through `fs` (TieredFs reads
    // it from there); a local one must have its frame file here.
    if (s.local() && !frame_ids.count(s.id)) {
      if (!cat.ok() || still_listed(s.id))
        out.problems.push_back({s.id, "listed in the catalog but its frame file is missing"});
    } else if (!s.sealed() && s.id != segs.back().id) {
      out.problems.push_back({s.id, "left open by a crash (vdb repair recovers it)"});
    } else if (!s.sealed()) {
      // The newest may be being written (no lock is taken to find out: a
      // reader never stands in a writer's way): its records so far.
      SegmentCheck c = CheckSegment(fs, dir, s);
      out.records += c.records;
    } else {
      SegmentCheck c = CheckSegment(fs, dir, s);
      out.records += c.records;
      bool gone = !c.problems.empty() && cat.ok() && !still_listed(s.id);
      for (const auto &p : c.problems)
        if (!gone) out.problems.push_back({s.id, p});
    }
    if (progress) progress(out);
  }
  for (uint64_t id : frame_ids) {
    if (listed.count(id)) continue;
    // The next id, not sealed: a writer may be creating it (files first,
    // then its catalog record).
    if (id == max_id + 1 && !frame_ids.count(id + 1)) {
      auto m = ReadSegmentMeta(fs, dir, id);
      if (!m.ok() || !m->info.sealed()) continue;
    }
    out.problems.push_back(
        {id, "has a frame file but is not in the catalog (a truncated or lost catalog)"});
  }
  return out;
}

}  // namespace vdb
