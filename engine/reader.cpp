#include "reader.h"

#include <algorithm>

#include "recovery.h"
#include "store.h"

namespace vdb {

namespace {
// A segment that cannot be opened (damaged, missing, not a regular file) is
// a gap to look past, not an error.
bool Unreadable(const Status &st) {
  return st.code() == Code::kCorrupt || st.code() == Code::kNotFound;
}
}  // namespace

Result<std::unique_ptr<Reader>> Reader::Open(Fs *fs, const std::string &store,
                                             const std::string &stream, size_t cache_segments,
                                             uint32_t track) {
  std::unique_ptr<Reader> r(new Reader());
  r->fs_ = fs;
  r->track_ = track;
  r->cache_max_ = cache_segments ? cache_segments : 1;
  VDB_RETURN_IF_ERROR(PrepareStore(fs, store, false));
  VDB_ASSIGN_OR_RETURN(r->dir_, StreamDir(store, stream));
  if (!fs->Exists(r->dir_))
    return Status(Code::kNotFound, "stream '" + stream + "' does not exist in " + store);
  VDB_RETURN_IF_ERROR(CheckDirectory(fs, r->dir_));
  bool has_catalog = fs->Exists(Catalog::Path(r->dir_));
  if (!has_catalog && !HasSegmentFiles(fs, r->dir_))
    return Status(Code::kNotFound, "stream '" + stream + "' does not exist in " + store);
  auto cat = has_catalog ? Catalog::Load(fs, r->dir_)
                         : Result<Catalog>(Status(Code::kCorrupt, "catalog.vdbc is missing"));
  if (cat.ok()) {
    r->catalog_ = std::move(cat).value();
  } else if (cat.status().code() == Code::kCorrupt) {
    // The files are the truth: the same list, built in memory (read only).
    r->problem_ = cat.status().message() + ": segments listed from their files";
    VDB_RETURN_IF_ERROR(r->AddFromFiles(0, SegmentState::kRecovered));
  } else {
    return cat.status();
  }
  // Segments newer than the catalog knows (a truncated catalog lost their
  // records): one probe for the next id, a listing only if it exists.
  // A catalog with no record at all (torn or zeroed after its header) says
  // nothing: list every segment file.
  uint64_t next = r->catalog_.max_id() + 1;
  bool unlisted = r->catalog_.max_id() == 0 ? HasSegmentFiles(fs, r->dir_)
                                            : fs->Exists(FramesPath(r->dir_, next));
  if (r->problem_.empty() && unlisted) {
    size_t before = r->catalog_.segments().size();
    VDB_RETURN_IF_ERROR(r->AddFromFiles(r->catalog_.max_id() ? next : 0, SegmentState::kOpen));
    // One new segment, not sealed: a writer may be creating it (files
    // first, then its catalog record): listing it early is harmless. A
    // frame file still without its header lists nothing.
    const auto &segs = r->catalog_.segments();
    if (segs.size() > before + 1 || (segs.size() > before && segs.back().sealed()))
      r->problem_ = "segments from " + std::to_string(next) + " on are not in the catalog";
  }
  return r;
}

Status Reader::AddFromFiles(uint64_t min_id, SegmentState unknown) {
  VDB_ASSIGN_OR_RETURN(auto infos, ScanSegments(fs_, dir_, min_id, unknown));
  catalog_.ApplyAll(AsCatalogRecords(infos));
  from_files_ = true;
  return Status::Ok();
}

Status Reader::Refresh(bool *changed) {
  size_t before = catalog_.segments().size();
  uint64_t size_before = catalog_.valid_size();
  bool reloaded = false;
  if (from_files_ && catalog_.valid_size() == 0) {
    // Listed from the files: a writer may since have rebuilt the catalog.
    auto c = Catalog::Load(fs_, dir_);
    *changed = c.ok() && c->valid_size() > 0;
    if (*changed) {
      catalog_ = std::move(c).value();
      from_files_ = false;
      problem_.clear();
    }
    return Status::Ok();
  }
  VDB_RETURN_IF_ERROR(catalog_.Refresh(fs_, dir_, &reloaded));
  *changed =
      reloaded || before != catalog_.segments().size() || size_before != catalog_.valid_size();
  // Cached segments that were deleted stay readable until evicted: a
  // PlayCursor may be in the middle of one.
  return Status::Ok();
}

Result<SegmentReader *> Reader::Segment(size_t i) {
  const auto &segs = catalog_.segments();
  if (i >= segs.size()) return Status(Code::kInvalidArgument, "no segment at that position");
  return SegmentById(segs[i].id);
}

Result<SegmentReader *> Reader::SegmentById(uint64_t id) {
  long i = catalog_.FindById(id);
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->first != id) continue;
    if (it != cache_.begin()) cache_.splice(cache_.begin(), cache_, it);
    SegmentReader *seg = cache_.front().second.get();
    // Opened while being written: pick up what was appended since, also the
    // last records written before the segment was sealed.
    if (!seg->info().sealed()) {
      VDB_RETURN_IF_ERROR(seg->Refresh());
      if (i >= 0 && catalog_.segments()[size_t(i)].sealed()) {
        // Sealed now: complete, so read past any damage (Refresh's sealed
        // mode) up to the records written just before sealing.
        seg->set_info(catalog_.segments()[size_t(i)]);
        VDB_RETURN_IF_ERROR(seg->Refresh());
      }
    }
    return seg;
  }
  if (i < 0) return Status(Code::kNotFound, "segment " + std::to_string(id) + " was deleted");
  VDB_ASSIGN_OR_RETURN(auto seg,
                       SegmentReader::Open(fs_, dir_, catalog_.segments()[size_t(i)], track_));
  cache_.emplace_front(id, std::move(seg));
  while (cache_.size() > cache_max_) cache_.pop_back();
  return cache_.front().second.get();
}

Result<Position> Reader::KeyAfter(uint64_t pts) {
  const auto &segs = catalog_.segments();
  long s = catalog_.FindByTime(pts);
  if (s < 0) return Status(Code::kNotFound, "stream is empty");
  for (size_t i = size_t(s); i < segs.size(); i++) {
    auto segr = Segment(i);
    if (!segr.ok() && Unreadable(segr.status())) continue;  // a gap: played past
    VDB_ASSIGN_OR_RETURN(SegmentReader * seg, segr);
    long k = seg->KeyAtOrAfter(pts);
    if (k >= 0) return Position{i, size_t(k)};
  }
  return Status(Code::kNotFound, "no keyframe after that time");
}

Result<Position> Reader::FindKeyframe(uint64_t pts, Snap snap) {
  const auto &segs = catalog_.segments();
  long s = catalog_.FindByTime(pts);
  if (s < 0) return Status(Code::kNotFound, "stream is empty");
  if (snap == Snap::kAfter) return KeyAfter(pts);
  Position before{size_t(s), 0};
  bool found = false;
  for (long i = s; i >= 0 && !found; i--) {
    auto segr = Segment(size_t(i));
    if (!segr.ok() && Unreadable(segr.status())) continue;
    VDB_ASSIGN_OR_RETURN(SegmentReader * seg, segr);
    long k = seg->KeyAtOrBefore(pts);
    if (k >= 0) {
      before = Position{size_t(i), size_t(k)};
      found = true;
    }
  }
  if (!found) {  // earlier than everything: the first keyframe
    for (size_t i = 0; i < segs.size() && !found; i++) {
      auto segr = Segment(i);
      if (!segr.ok() && Unreadable(segr.status())) continue;
      VDB_ASSIGN_OR_RETURN(SegmentReader * seg, segr);
      if (seg->keyframe_count()) {
        before = Position{i, seg->keyframe(0)};
        found = true;
      }
    }
    if (!found) return Status(Code::kNotFound, "stream holds no keyframe");
    return before;
  }
  VDB_ASSIGN_OR_RETURN(SegmentReader * bs, Segment(before.segment));
  // Not the lead track: frames stored in the next segments, as they came,
  // may still be at or before pts.
  // Only when the frame found is the segment's last of the track: a later
  // one in the same segment is after pts, and so is everything after it.
  bool lead = bs->lead_track() == track_;
  bool last = before.frame + 1 == bs->size();
  for (size_t i = before.segment + 1; !lead && last && i < segs.size(); i++) {
    auto segr = Segment(i);
    if (!segr.ok() && Unreadable(segr.status())) break;
    VDB_ASSIGN_OR_RETURN(SegmentReader * seg, segr);
    long k = seg->KeyAtOrBefore(pts);
    if (k < 0) break;
    before = Position{i, size_t(k)};
    last = size_t(k) + 1 == seg->size();
  }
  if (snap == Snap::kBefore) return before;
  VDB_ASSIGN_OR_RETURN(bs, Segment(before.segment));
  uint64_t bpts = bs->entry(before.frame).pts;
  auto after = KeyAfter(pts);
  if (!after.ok()) return before;
  VDB_ASSIGN_OR_RETURN(SegmentReader * as, Segment(after->segment));
  uint64_t apts = as->entry(after->frame).pts;
  return (apts - pts < pts - bpts) ? after.value() : before;
}

Result<Position> Reader::Next(Position p) {
  VDB_ASSIGN_OR_RETURN(SegmentReader * seg, Segment(p.segment));
  if (p.frame + 1 < seg->size()) return Position{p.segment, p.frame + 1};
  for (size_t i = p.segment + 1; i < catalog_.segments().size(); i++) {
    auto segr = Segment(i);
    if (!segr.ok() && Unreadable(segr.status())) continue;
    VDB_ASSIGN_OR_RETURN(SegmentReader * next, segr);
    if (next->size()) return Position{i, 0};
  }
  return Status(Code::kEnd, "end of stream");
}

Result<std::vector<TrackMeta>> Reader::Tracks() {
  std::vector<TrackMeta> out;
  const auto &segs = catalog_.segments();
  if (segs.empty()) return out;
  // Which tracks: the catalog's bits over every segment (in memory), each
  // read from the first segment that has it; the first and last segments'
  // own lists add tracks above 31 and those a segment being written added
  // since its catalog record.
  std::vector<size_t> look = {0, segs.size() - 1};
  uint32_t seen = 0;
  for (size_t i = 0; i < segs.size(); i++) {
    uint32_t bits = segs[i].tracks ? segs[i].tracks : 1u;  // 0: version 1, track 0
    if (bits & ~seen) look.push_back(i);
    seen |= bits;
  }
  std::sort(look.begin(), look.end());
  look.erase(std::unique(look.begin(), look.end()), look.end());
  for (size_t i : look) {
    // A sealed segment's metadata lists its tracks (one small read); an
    // open one's may lack a track added since: its caps records say.
    std::vector<TrackMeta> tracks;
    auto meta = segs[i].sealed() ? ReadSegmentMeta(fs_, dir_, segs[i].id)
                                 : Result<SegmentMeta>(Status(Code::kNotFound, "open"));
    if (meta.ok()) {
      tracks = meta->tracks;
    } else {
      auto segr = Segment(i);
      if (!segr.ok() && Unreadable(segr.status())) continue;
      VDB_ASSIGN_OR_RETURN(SegmentReader * seg, segr);
      tracks = seg->tracks();
    }
    for (const TrackMeta &t : tracks) {
      bool have = false;
      for (const TrackMeta &o : out) have |= o.track == t.track;
      if (!have) out.push_back(t);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TrackMeta &a, const TrackMeta &b) { return a.track < b.track; });
  return out;
}

uint64_t Reader::start_pts() const {
  const auto &s = catalog_.segments();
  return s.empty() ? kNoTime : s.front().first_pts;
}

uint64_t Reader::end_pts() const {
  const auto &s = catalog_.segments();
  return s.empty() ? kNoTime : s.back().end_pts;
}

uint64_t Reader::StoredEndPts() {
  const auto &segs = catalog_.segments();
  if (segs.empty()) return kNoTime;
  const SegmentInfo last = segs.back();
  if (last.sealed()) return last.end_pts;
  auto seg = SegmentById(last.id);
  if (!seg.ok() || (*seg)->size() == 0) return last.first_pts;
  uint64_t end = last.first_pts;
  for (size_t i = (*seg)->size() > 8 ? (*seg)->size() - 8 : 0; i < (*seg)->size(); i++) {
    const IndexEntry &e = (*seg)->entry(i);
    if (e.pts != kNoTime && (end == kNoTime || e.pts > end)) end = e.pts;
  }
  return end;
}

}  // namespace vdb
