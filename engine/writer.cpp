#include "writer.h"

#include <chrono>
#include <map>
#include <set>

#include "store.h"
#include "verify.h"

namespace vdb {

// The catalog is rewritten once it holds this many records more than live
// segments (superseded OPENs, DELETEDs): its size stays proportional to what
// the stream holds, however long it records.
constexpr uint64_t kCompactSlack = 256;

Result<std::unique_ptr<Writer>> Writer::Open(Fs *fs, const std::string &store,
                                             const std::string &stream,
                                             const WriterOptions &options, RecoveryReport *report) {
  RecoveryReport local;
  if (!report) report = &local;
  std::unique_ptr<Writer> w(new Writer());
  w->fs_ = fs;
  w->stream_ = stream;
  w->options_ = options;
  VDB_ASSIGN_OR_RETURN(w->dir_, StreamDir(store, stream));
  VDB_RETURN_IF_ERROR(PrepareStore(fs, store, true));
  if (!fs->Exists(w->dir_)) VDB_RETURN_IF_ERROR(fs->MakeDirs(w->dir_));
  VDB_RETURN_IF_ERROR(CheckDirectory(fs, w->dir_));  // a symlinked stream is not followed
  auto lock = fs->TryLock(JoinPath(w->dir_, "LOCK"), LockMode::kExclusive);
  if (!lock.ok()) {
    if (lock.status().code() == Code::kLocked)
      return Status(Code::kLocked, "stream '" + stream + "' in " + store +
                                       " is already being recorded by another writer");
    return lock.status();
  }
  w->lock_ = std::move(lock).value();
  Status st = w->Recover(report);
  if (st.code() == Code::kNoSpace && options.retention.active()) {
    // A crash on a full disk: recovery needs a little space (an index, a
    // metadata file). Retention first, as the recording would have done.
    RecoveryReport before;
    VDB_RETURN_IF_ERROR(w->MakeRoomToRecover(st, &before));
    *report = before;
    st = w->Recover(report);
  }
  VDB_RETURN_IF_ERROR(st);
  // The codec each track holds: a track keeps one codec for the stream's life.
  const auto &segs = w->catalog_.segments();
  for (auto it = segs.rbegin(); it != segs.rend() && w->stream_codecs_.empty(); ++it) {
    auto meta = ReadSegmentMeta(fs, w->dir_, it->id);
    if (meta.ok())
      for (const TrackMeta &t : meta->tracks) w->stream_codecs_[t.track] = t.codec;
  }
  return w;
}

Status Writer::MakeRoomToRecover(const Status &why, RecoveryReport *report) {
  VDB_RETURN_IF_ERROR(ListDamaged());
  auto loaded = Catalog::Load(fs_, dir_);
  std::vector<SegmentInfo> segs;
  if (loaded.ok()) {
    segs = loaded->segments();
  } else {
    VDB_ASSIGN_OR_RETURN(segs, ScanSegments(fs_, dir_, 0, SegmentState::kOpen));
  }
  auto free_bytes = fs_->FreeSpace(dir_);
  uint64_t now = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  auto doomed =
      SelectForDeletion(segs, options_.retention, now, free_bytes.ok() ? free_bytes.value() : 0);
  if (doomed.empty())
    return Status(why.code(),
                  why.message() + " (recovering after a crash; retention allows deleting nothing)");
  // Files first: that needs no space. The catalog still lists them; the
  // recovery that follows drops segments whose files are gone.
  for (uint64_t id : doomed) {
    RemoveSegment(id);
    made_room_.insert(id);
  }
  VDB_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  report->notes.push_back("disk full: deleted " + std::to_string(doomed.size()) +
                          " oldest segment(s) as retention allows, to recover");
  return Status::Ok();
}

void Writer::RemoveSegment(uint64_t id) {
  for (const auto &p : {FramesPath(dir_, id), IndexPath(dir_, id), MetaPath(dir_, id)})
    (void)fs_->Remove(p);
  auto it = damaged_.find(id);
  if (it == damaged_.end()) return;
  for (const auto &f : it->second) (void)fs_->Remove(JoinPath(dir_, f.first));
  damaged_.erase(it);
}

Status Writer::ListDamaged(const std::vector<std::string> *listed) {
  damaged_.clear();
  std::vector<std::string> names;
  if (!listed) {
    VDB_ASSIGN_OR_RETURN(names, fs_->List(dir_));
    listed = &names;
  }
  for (const auto &n : *listed) {
    uint64_t id;
    std::string ext;
    if (!ParseSegmentFileName(n, &id, &ext) || ext.rfind("vdbf.damaged-", 0) != 0) continue;
    auto f = fs_->Open(JoinPath(dir_, n), OpenMode::kRead);
    auto size = f.ok() ? (*f)->Size() : Result<uint64_t>(f.status());
    damaged_[id].emplace_back(n, size.ok() ? size.value() : 0);
  }
  return Status::Ok();
}

Status Writer::Recover(RecoveryReport *report) {
  VDB_ASSIGN_OR_RETURN(auto names, fs_->List(dir_));
  std::set<uint64_t> frame_ids, ids;  // ids with a frame file; with any segment file
  bool has_catalog = false;
  for (const auto &n : names) {
    if (n == "catalog.vdbc") has_catalog = true;
    if (IsTempName(n)) {
      // A temporary an interrupted write left (<id>.json.tmp, catalog.vdbc.tmp, ...).
      if (fs_->Remove(JoinPath(dir_, n)).ok()) report->notes.push_back("removed leftover " + n);
      continue;
    }
    uint64_t id;
    std::string ext;
    if (!ParseSegmentFileName(n, &id, &ext)) continue;
    ids.insert(id);
    if (ext == "vdbf") frame_ids.insert(id);
  }

  // The catalog: rebuilt from the files when it is lost or damaged.
  bool rewrite = false;
  auto loaded = has_catalog ? Catalog::Load(fs_, dir_) : Result<Catalog>(Catalog());
  if (loaded.ok() && (has_catalog || frame_ids.empty())) {
    catalog_ = std::move(loaded).value();
  } else if (!has_catalog || loaded.status().code() == Code::kCorrupt) {
    report->catalog_rebuilt = true;
    report->catalog_problem = has_catalog ? loaded.status().message() : "catalog.vdbc is missing";
    std::vector<uint64_t> unreadable;
    VDB_ASSIGN_OR_RETURN(auto infos, ScanSegments(fs_, dir_, 0, SegmentState::kOpen, &unreadable));
    for (uint64_t id : unreadable) {  // kept aside, never deleted
      VDB_RETURN_IF_ERROR(Quarantine(fs_, dir_, id));
      report->notes.push_back("segment " + std::to_string(id) + ": unreadable, kept as " +
                              SegmentBaseName(id) + ".*.unusable");
      frame_ids.erase(id);
      ids.erase(id);
    }
    catalog_ = Catalog();
    catalog_.ApplyAll(AsCatalogRecords(infos));
    rewrite = true;
  } else {
    return loaded.status();
  }

  // Listed segments whose frame file is gone: their time is a gap.
  std::vector<std::pair<CatalogOp, SegmentInfo>> updates;
  std::vector<SegmentInfo> missing;
  for (const auto &s : catalog_.segments()) {
    if (s.local() && !frame_ids.count(s.id)) missing.push_back(s);
    if (!s.local() && ids.count(s.id)) {  // evicted, its files not yet removed: finish
      for (const auto &p : {FramesPath(dir_, s.id), IndexPath(dir_, s.id), MetaPath(dir_, s.id)})
        (void)fs_->Remove(p);
      report->notes.push_back("segment " + std::to_string(s.id) +
                              ": local copy removed (it is in the bucket)");
    }
  }
  for (const auto &s : missing) {
    if (!made_room_.count(s.id))
      report->notes.push_back("segment " + std::to_string(s.id) +
                              ": frame file missing, dropped from the catalog");
    catalog_.Apply(CatalogOp::kDeleted, s);
    updates.push_back({CatalogOp::kDeleted, s});
  }

  // Files the catalog does not list: newer ids are segments whose OPEN record
  // never became durable, or that a truncated catalog lost; older ids were
  // being deleted.
  uint64_t max_listed = catalog_.max_id();
  for (uint64_t id : ids) {
    if (catalog_.FindById(id) >= 0) continue;
    if (id > max_listed && frame_ids.count(id)) {
      auto m = ReadSegmentMeta(fs_, dir_, id);
      SegmentInfo info;
      info.id = id;
      // Sealed, with metadata that matches its frame file: listed as it is.
      auto f = m.ok() && m->info.sealed() ? fs_->Open(FramesPath(dir_, id), OpenMode::kRead)
                                          : Result<std::unique_ptr<File>>(Status(Code::kEnd, ""));
      auto size = f.ok() ? (*f)->Size() : Result<uint64_t>(f.status());
      bool intact = size.ok() && size.value() == m->info.bytes;
      catalog_.Apply(intact ? CatalogOp::kSealed : CatalogOp::kOpen, intact ? m->info : info);
      rewrite = true;
    } else {
      bool removed = false;
      for (const auto &p : {FramesPath(dir_, id), IndexPath(dir_, id), MetaPath(dir_, id)})
        removed |= fs_->Remove(p).ok();
      if (removed) report->orphans_removed.push_back(id);
    }
  }
  VDB_RETURN_IF_ERROR(ListDamaged(&names));                  // the listing above: no second readdir
  for (auto it = damaged_.begin(); it != damaged_.end();) {  // of segments that are gone
    if (catalog_.FindById(it->first) >= 0) {
      ++it;
      continue;
    }
    for (const auto &f : it->second)
      if (fs_->Remove(JoinPath(dir_, f.first)).ok())
        report->notes.push_back("removed " + f.first + " of a deleted segment");
    it = damaged_.erase(it);
  }
  if (!report->empty()) VDB_RETURN_IF_ERROR(fs_->SyncDir(dir_));

  // Segments left open by a crash.
  std::vector<SegmentInfo> open;
  for (const auto &s : catalog_.segments())
    if (!s.sealed()) open.push_back(s);
  for (const auto &s : open) {
    RecoveryItem item;
    auto m = RebuildSegment(fs_, dir_, s.id, stream_, &item);
    if (m.ok()) {
      // The open-state JSON is synced only when sealed: after a power loss
      // the UTC may be known only from the catalog's OPEN record.
      if (!m->info.utc_start && s.utc_start) {
        m->info.utc_start = s.utc_start;
        VDB_RETURN_IF_ERROR(
            WriteFileAtomic(fs_, MetaPath(dir_, s.id), SegmentMetaToJson(m.value())));
      }
      updates.push_back({CatalogOp::kSealed, m->info});
    } else if (m.status().code() == Code::kNotFound || m.status().code() == Code::kCorrupt) {
      // Nothing usable (removed), or unusable (kept aside as .unusable):
      // the id stays used, the segment is gone from the catalog.
      updates.push_back({CatalogOp::kDeleted, s});
    } else {
      return m.status();
    }
    report->segments.push_back(item);
    catalog_.Apply(updates.back().first, updates.back().second);
  }
  bool saved_damage = false;  // a rebuild kept damaged bytes beside its segment
  for (const auto &it : report->segments) saved_damage |= it.damage_offset != kNoTime;
  if (saved_damage) VDB_RETURN_IF_ERROR(ListDamaged());
  if (rewrite || catalog_.dead_records() > catalog_.segments().size() + kCompactSlack) {
    VDB_RETURN_IF_ERROR(CatalogFile::Rewrite(fs_, dir_, catalog_.segments(), catalog_.max_id()));
    VDB_ASSIGN_OR_RETURN(catalog_, Catalog::Load(fs_, dir_));
    updates.clear();
  }
  VDB_ASSIGN_OR_RETURN(catalog_file_, CatalogFile::Open(fs_, dir_, catalog_));
  for (const auto &u : updates) VDB_RETURN_IF_ERROR(catalog_file_->Append(u.first, u.second, true));
  return Status::Ok();
}

Status Writer::Repair(RecoveryReport *report) {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  std::vector<SegmentInfo> sealed;
  for (const auto &s : catalog_.segments())  // a segment only in the bucket has nothing here
    if (s.sealed() && s.local() && (!seg_ || s.id != seg_->meta().info.id)) sealed.push_back(s);
  for (const auto &s : sealed) {
    SegmentCheck check = CheckSegment(fs_, dir_, s);
    if (check.problems.empty()) continue;
    // Open again in the catalog first: if this process dies while the
    // segment is being rebuilt, the next Open rebuilds it again.
    SegmentInfo redo = s;
    redo.state = SegmentState::kOpen;
    VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kOpen, redo, true));
    catalog_.Apply(CatalogOp::kOpen, redo);
    RecoveryItem item;
    auto m = RebuildSegment(fs_, dir_, s.id, stream_, &item);
    std::string what = check.Summary();
    item.message = item.message.empty() ? what : what + "; " + item.message;
    if (m.ok()) {
      if (!m->info.utc_start) m->info.utc_start = s.utc_start;
      VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kSealed, m->info, true));
      catalog_.Apply(CatalogOp::kSealed, m->info);
    } else if (m.status().code() == Code::kNotFound || m.status().code() == Code::kCorrupt) {
      item.removed = true;
      VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kDeleted, s, true));
      catalog_.Apply(CatalogOp::kDeleted, s);
    } else {  // not rebuilt (an I/O error, a newer format's file): as it was
      (void)catalog_file_->Append(CatalogOp::kSealed, s, true);
      catalog_.Apply(CatalogOp::kSealed, s);
      return m.status();
    }
    report->segments.push_back(item);
  }
  return report->segments.empty() ? Status::Ok() : ListDamaged();
}

Writer::~Writer() {
  (void)Close();
}

Writer::EventDispatch::~EventDispatch() {
  std::vector<std::pair<SegmentEvent, SegmentMeta>> events;
  std::function<void(SegmentEvent, const SegmentMeta &)> cb;
  {
    std::lock_guard<std::mutex> l(w_->mu_);
    events.swap(w_->pending_);
    cb = w_->on_event_;
  }
  if (cb)
    for (const auto &e : events) cb(e.first, e.second);
}

Status Writer::SetCaps(const std::string &codec, const std::string &caps) {
  return SetTrackCaps(0, codec, caps);
}

Status Writer::SetTrackCaps(uint32_t track, const std::string &codec, const std::string &caps) {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  if (track > kMaxTrack)
    return Status(Code::kInvalidArgument, "track " + std::to_string(track) + " out of range");
  auto cur = tracks_.find(track);
  if (cur != tracks_.end() && cur->second.caps == caps) return Status::Ok();
  if (caps.size() > kMaxCapsSize)
    return Status(Code::kInvalidArgument,
                  "caps of " + std::to_string(caps.size()) + " bytes exceed the 1 MiB limit");
  auto held = stream_codecs_.find(track);
  if (held != stream_codecs_.end() && codec != held->second)
    return Status(Code::kInvalidArgument, "stream '" + stream_ + "' holds " + held->second +
                                              (track ? " on " + TrackPadName(track) : "") +
                                              ", not " + codec);
  stream_codecs_[track] = codec;
  tracks_[track] = TrackMeta{track, codec, caps};
  headers_[track] = CodecHeaders(InbandHeadersOfCaps(caps));
  if (track == lead_) return SealLocked();
  if (seg_ && seg_->HasTrack(track)) {  // new caps: from the next segment on
    stale_.insert(track);
    split_ = true;
  }
  return Status::Ok();
}

void Writer::SetLeadTrack(uint32_t track) {
  std::lock_guard<std::mutex> l(mu_);
  lead_ = track;
}

void Writer::Split() {
  std::lock_guard<std::mutex> l(mu_);
  split_ = true;
}

bool Writer::DueLocked(const Frame *next) const {
  if (!seg_) return false;
  if (split_) return true;
  const SegmentInfo &info = seg_->meta().info;
  if (options_.max_segment_bytes && info.bytes >= options_.max_segment_bytes) return true;
  uint64_t pts = next ? next->pts : info.end_pts;
  return options_.max_segment_duration && pts != kNoTime && info.first_pts != kNoTime &&
         pts >= info.first_pts && pts - info.first_pts >= options_.max_segment_duration;
}

uint64_t Writer::headerless_segments() const {
  std::lock_guard<std::mutex> l(mu_);
  return headerless_segments_;
}

bool Writer::RotationDue() const {
  std::lock_guard<std::mutex> l(mu_);
  return DueLocked(nullptr);
}

Status Writer::Append(const Frame &f) {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  if (f.pts == kNoTime && f.dts == kNoTime)
    return Status(Code::kInvalidArgument, "frame has no timestamp");
  auto last = last_dts_.find(f.track);
  if (f.dts != kNoTime && last != last_dts_.end() && f.dts < last->second)
    return Status(Code::kInvalidArgument, "decode timestamps go backwards");
  bool lead = f.track == lead_;
  if (!lead) {
    if (!seg_)
      return Status(
          Code::kInvalidArgument,
          "no segment open: a segment starts at a keyframe of track " + std::to_string(lead_));
    if (stale_.count(f.track))
      return Status(Code::kInvalidArgument, "track " + std::to_string(f.track) +
                                                " has new caps: its frames resume with the "
                                                "next segment");
    if (!seg_->HasTrack(f.track)) {
      auto t = tracks_.find(f.track);
      if (t == tracks_.end())
        return Status(Code::kInvalidArgument, "no caps set for track " + std::to_string(f.track));
      VDB_RETURN_IF_ERROR(seg_->AddTrack(t->second));
    }
  }
  bool key = f.flags & kFlagKey;
  if (seg_ && lead && key && DueLocked(&f)) VDB_RETURN_IF_ERROR(SealLocked());
  Frame g = f;  // what is stored: with the in-band headers a segment starts with
  std::vector<uint8_t> with_headers;
  auto h = headers_.find(f.track);
  if (key && h != headers_.end() && h->second.kind() != InbandHeaders::kNone) {
    const auto *data = static_cast<const uint8_t *>(f.data);
    bool has = h->second.Scan(data, f.size);
    g.flags = has ? g.flags | kFlagHeader : g.flags & ~kFlagHeader;
    if (!has && !seg_ && lead) {
      if (h->second.headers().empty()) {
        headerless_segments_++;
      } else {
        with_headers = h->second.With(data, f.size);
        g.data = with_headers.data();
        g.size = with_headers.size();
        g.flags |= kFlagHeader;
      }
    }
  }
  return AppendLocked(g);
}

Status Writer::AppendLocked(const Frame &f) {
  uint64_t t = f.pts != kNoTime ? f.pts : f.dts;
  // Interval mode: make what came before durable first, so that a failed
  // sync fails this frame and stores nothing of it.
  if (seg_ && options_.sync_mode == SyncMode::kInterval && frames_since_sync_ &&
      ((t >= last_sync_pts_ && t - last_sync_pts_ >= options_.sync_interval) ||
       (options_.sync_frames && frames_since_sync_ >= options_.sync_frames))) {
    VDB_RETURN_IF_ERROR(SyncLocked());
    last_sync_pts_ = t;
  }
  if (!seg_) VDB_RETURN_IF_ERROR(StartSegment(f));
  VDB_RETURN_IF_ERROR(seg_->Append(f));
  if (options_.sync_mode == SyncMode::kEveryFrame) {
    Status st = seg_->SyncFrames();
    // The catalog too (a new segment's OPEN, the last one's SEALED): every
    // sync point of every mode syncs it.
    if (st.ok() && catalog_dirty_) st = catalog_file_->Sync();
    if (!st.ok()) {
      (void)seg_->DropLast();
      return st;
    }
    catalog_dirty_ = false;
    frames_synced_++;
  } else {
    frames_since_sync_++;
  }
  if (f.dts != kNoTime) last_dts_[f.track] = f.dts;
  if (last_sync_pts_ == kNoTime) last_sync_pts_ = t;
  return Status::Ok();
}

Status Writer::StartSegment(const Frame &f) {
  auto lead = tracks_.find(lead_);
  if (lead == tracks_.end())
    return Status(Code::kInvalidArgument, "no caps set before the first frame");
  if (!(f.flags & kFlagKey))
    return Status(Code::kInvalidArgument, "a segment must start with a keyframe");
  if (f.pts == kNoTime) return Status(Code::kInvalidArgument, "keyframe has no pts");
  const auto &segs = catalog_.segments();
  if (!segs.empty() && segs.back().first_pts != kNoTime && f.pts < segs.back().first_pts)
    return Status(Code::kInvalidArgument,
                  "timestamps go backwards: frame pts is before the last segment's start");
  SegmentMeta m;
  m.info.id = catalog_.max_id() + 1;
  m.info.first_pts = f.pts;
  m.info.utc_start = f.utc;
  m.stream = stream_;
  m.codec = lead->second.codec;
  m.caps = lead->second.caps;
  m.tracks.push_back(lead->second);  // the lead track's caps record comes first
  for (const auto &t : tracks_)
    if (t.first != lead_) m.tracks.push_back(t.second);
  m.info.tracks = TrackBits(m.tracks);
  // Files first, with their headers and caps, then the catalog record: a
  // reader that sees the record finds a readable segment. Not synced: if the
  // record is lost, recovery finds the files (a newer id than the catalog's).
  auto w = SegmentWriter::Create(fs_, dir_, m, options_.flush_interval);
  Status st = w.ok() ? catalog_file_->Append(CatalogOp::kOpen, m.info, false) : w.status();
  if (!st.ok()) {  // no trace left: the next keyframe tries again with the same id
    w = Status(st);
    for (const auto &p :
         {FramesPath(dir_, m.info.id), IndexPath(dir_, m.info.id), MetaPath(dir_, m.info.id)})
      (void)fs_->Remove(p);
    return st;
  }
  catalog_dirty_ = true;
  catalog_.Apply(CatalogOp::kOpen, m.info);
  seg_ = std::move(w).value();
  split_ = false;
  stale_.clear();
  last_sync_pts_ = kNoTime;
  pending_.emplace_back(SegmentEvent::kOpened, seg_->meta());
  return Status::Ok();
}

Status Writer::SealLocked() {
  if (!seg_) return Status::Ok();
  VDB_RETURN_IF_ERROR(seg_->Seal());
  frames_synced_ += frames_since_sync_;
  frames_since_sync_ = 0;
  const SegmentMeta &m = seg_->meta();
  // Synced with the next sync point: if lost, recovery rescans the segment.
  VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kSealed, m.info, false));
  catalog_dirty_ = true;
  catalog_.Apply(CatalogOp::kSealed, m.info);
  sealed_at_[m.info.id] = MonotonicNow();
  pending_.emplace_back(SegmentEvent::kClosed, m);
  seg_.reset();
  return Status::Ok();
}

Status Writer::SyncLocked() {
  if (seg_) VDB_RETURN_IF_ERROR(seg_->Sync());
  frames_synced_ += frames_since_sync_;
  frames_since_sync_ = 0;
  if (catalog_dirty_) {
    VDB_RETURN_IF_ERROR(catalog_file_->Sync());
    catalog_dirty_ = false;
  }
  return Status::Ok();
}

Status Writer::Sync() {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  return SyncLocked();
}

Status Writer::Flush() {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  return seg_ ? seg_->FlushFrames() : Status::Ok();
}

Status Writer::Close() {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  VDB_RETURN_IF_ERROR(SealLocked());
  return SyncLocked();
}

Status Writer::DeleteLocked(uint64_t id) {
  long i = catalog_.FindById(id);
  if (i < 0) return Status(Code::kNotFound, "no segment " + std::to_string(id));
  SegmentInfo info = catalog_.segments()[size_t(i)];
  VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kDeleted, info, true));
  catalog_.Apply(CatalogOp::kDeleted, info);
  sealed_at_.erase(id);
  for (const auto &p : {FramesPath(dir_, id), IndexPath(dir_, id), MetaPath(dir_, id)}) {
    Status st = fs_->Remove(p);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
  }
  RemoveSegment(id);  // and the damaged bytes kept beside it
  VDB_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return catalog_.dead_records() > catalog_.segments().size() + kCompactSlack ? CompactLocked()
                                                                              : Status::Ok();
}

Status Writer::MarkInBucket(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  long i = catalog_.FindById(id);
  if (i < 0) return Status(Code::kNotFound, "no segment " + std::to_string(id));
  SegmentInfo info = catalog_.segments()[size_t(i)];
  if (!info.sealed())
    return Status(Code::kInvalidArgument, "segment " + std::to_string(id) + " is being written");
  if (info.in_bucket()) return Status::Ok();
  info.placement |= kInBucket;
  VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kSealed, info, true));
  catalog_.Apply(CatalogOp::kSealed, info);
  return Status::Ok();
}

Status Writer::EvictLocal(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  return EvictLocked(id);
}

Status Writer::EvictLocked(uint64_t id) {
  long i = catalog_.FindById(id);
  if (i < 0) return Status(Code::kNotFound, "no segment " + std::to_string(id));
  SegmentInfo info = catalog_.segments()[size_t(i)];
  if (!info.in_bucket())
    return Status(Code::kInvalidArgument,
                  "segment " + std::to_string(id) + " is not in the bucket: its local copy stays");
  if (!info.local()) return Status::Ok();
  // The catalog first: a crash before the files go leaves files that the
  // next open removes, never a listed segment without its bytes.
  info.placement |= kLocalGone;
  VDB_RETURN_IF_ERROR(catalog_file_->Append(CatalogOp::kSealed, info, true));
  catalog_.Apply(CatalogOp::kSealed, info);
  sealed_at_.erase(id);
  RemoveSegment(id);
  VDB_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return catalog_.dead_records() > catalog_.segments().size() + kCompactSlack ? CompactLocked()
                                                                              : Status::Ok();
}

Status Writer::CompactLocked() {
  VDB_RETURN_IF_ERROR(CatalogFile::Rewrite(fs_, dir_, catalog_.segments(), catalog_.max_id()));
  VDB_ASSIGN_OR_RETURN(catalog_, Catalog::Load(fs_, dir_));
  VDB_ASSIGN_OR_RETURN(catalog_file_, CatalogFile::Open(fs_, dir_, catalog_));
  catalog_dirty_ = false;
  return Status::Ok();
}

Status Writer::DeleteSegment(uint64_t id) {
  EventDispatch dispatch(this);  // after the lock is released
  std::lock_guard<std::mutex> l(mu_);
  if (seg_ && seg_->meta().info.id == id)
    return Status(Code::kInvalidArgument, "segment " + std::to_string(id) + " is being written");
  long i = catalog_.FindById(id);
  SegmentMeta m;
  if (i >= 0) m.info = catalog_.segments()[size_t(i)];
  m.stream = stream_;
  VDB_RETURN_IF_ERROR(DeleteLocked(id));
  pending_.emplace_back(SegmentEvent::kDeleted, m);
  return Status::Ok();
}

Result<bool> Writer::FreeLocal(uint64_t id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    long i = catalog_.FindById(id);
    if (i >= 0 && catalog_.segments()[size_t(i)].in_bucket()) {
      VDB_RETURN_IF_ERROR(EvictLocked(id));
      return true;
    }
  }
  VDB_RETURN_IF_ERROR(DeleteSegment(id));
  return false;
}

uint64_t Writer::MonotonicNow() const {
  if (options_.monotonic_clock) return options_.monotonic_clock();
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

Result<size_t> Writer::ApplyRetention(const RetentionPolicy &asked, uint64_t now_utc) {
  if (!asked.active()) return size_t{0};
  RetentionPolicy policy = asked;
  std::vector<SegmentInfo> segs = segments();  // with the open segment's live size
  {
    std::lock_guard<std::mutex> l(mu_);
    // The quota holds the catalog too.
    auto size = catalog_file_->Size();
    uint64_t cat = size.ok() ? size.value() : catalog_.valid_size();
    if (policy.max_total_bytes)
      policy.max_total_bytes = policy.max_total_bytes > cat ? policy.max_total_bytes - cat : 1;
    // Segments sealed in this run: their age by the monotonic clock, given to
    // the policy as the UTC end that age means now.
    uint64_t mono = MonotonicNow();
    for (auto &s : segs) {
      auto d = damaged_.find(s.id);  // damaged bytes kept beside a segment count as its own
      if (d != damaged_.end())
        for (const auto &f : d->second) s.bytes += f.second;
      auto it = sealed_at_.find(s.id);
      if (it == sealed_at_.end() || s.end_pts == kNoTime || s.first_pts == kNoTime) continue;
      uint64_t age = mono > it->second ? mono - it->second : 0;
      uint64_t span = s.end_pts - s.first_pts;
      if (now_utc > age + span) s.utc_start = now_utc - age - span;
    }
  }
  uint64_t free_bytes = UINT64_MAX;
  if (policy.min_free_bytes) {
    VDB_ASSIGN_OR_RETURN(free_bytes, fs_->FreeSpace(dir_));
  }
  size_t n = 0;
  for (uint64_t id : SelectForDeletion(segs, policy, now_utc, free_bytes)) {
    VDB_RETURN_IF_ERROR(FreeLocal(id).status());
    n++;
  }
  return n;
}

uint64_t Writer::end_pts() const {
  std::lock_guard<std::mutex> l(mu_);
  if (seg_) return seg_->meta().info.end_pts;
  const auto &s = catalog_.segments();
  return s.empty() ? kNoTime : s.back().end_pts;
}

uint64_t Writer::end_utc() const {
  std::lock_guard<std::mutex> l(mu_);
  const SegmentInfo *info = seg_ ? &seg_->meta().info : nullptr;
  if (!info && !catalog_.segments().empty()) info = &catalog_.segments().back();
  return info ? info->UtcAt(info->end_pts) : 0;
}

std::vector<SegmentInfo> Writer::segments() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<SegmentInfo> out = catalog_.segments();
  if (seg_ && !out.empty() && out.back().id == seg_->meta().info.id) out.back() = seg_->meta().info;
  return out;
}

uint64_t Writer::frames_synced() const {
  std::lock_guard<std::mutex> l(mu_);
  return frames_synced_;
}

void Writer::SetEventCallback(std::function<void(SegmentEvent, const SegmentMeta &)> cb) {
  std::lock_guard<std::mutex> l(mu_);
  on_event_ = std::move(cb);
}

void Writer::SetOptions(const WriterOptions &options) {
  std::lock_guard<std::mutex> l(mu_);
  options_ = options;
}

bool Writer::recording() const {
  std::lock_guard<std::mutex> l(mu_);
  return seg_ != nullptr;
}

}  // namespace vdb
