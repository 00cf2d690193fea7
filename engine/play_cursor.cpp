#include "play_cursor.h"

#include <algorithm>

namespace vdb {

namespace {
uint64_t TimeOf(const IndexEntry &e) {
  return e.pts != kNoTime ? e.pts : e.dts;
}
}  // namespace

Status PlayCursor::Seek(uint64_t pts, Snap snap, const PlayOptions &options) {
  opt_ = options;
  finished_ = false;
  discont_ = true;
  have_gop_end_ = false;
  gap_start_ = gap_end_ = kNoTime;
  warning_.clear();
  seek_key_pts_ = kNoTime;
  positioned_ = false;
  if (opt_.direction == PlayDirection::kReverse) snap = Snap::kBefore;
  auto p = reader_->FindKeyframe(pts, snap);
  if (!p.ok()) {
    if (p.status().code() != Code::kNotFound) return p.status();
    // Nothing at or after pts (kAfter past the end), or an empty stream: the
    // cursor waits at the end of what is stored.
    const auto &segs = reader_->segments();
    if (!segs.empty()) {
      seg_id_ = segs.back().id;
      VDB_ASSIGN_OR_RETURN(SegmentReader * seg, reader_->SegmentById(seg_id_));
      frame_ = seg->size();
      positioned_ = true;
    }
    if (opt_.direction == PlayDirection::kReverse) finished_ = true;
    return p.status();
  }
  Enter(reader_->segments()[p->segment].id);
  frame_ = p->frame;
  positioned_ = true;
  VDB_ASSIGN_OR_RETURN(SegmentReader * seg, reader_->SegmentById(seg_id_));
  seek_key_pts_ = seg->entry(frame_).pts;
  return Status::Ok();
}

Status PlayCursor::Refresh(bool *changed) {
  return reader_->Refresh(changed);
}

void PlayCursor::Enter(uint64_t id) {
  seg_id_ = id;
  frame_ = 0;
  const SegmentInfo *next = After(id);
  next_hint_ = next ? next->id : 0;
}

const SegmentInfo *PlayCursor::After(uint64_t id) const {
  const auto &segs = reader_->segments();
  auto it = std::upper_bound(segs.begin(), segs.end(), id,
                             [](uint64_t v, const SegmentInfo &s) { return v < s.id; });
  return it == segs.end() ? nullptr : &*it;
}

Status PlayCursor::SkipDamaged(const Status &st, std::string *warning) {
  if (st.code() != Code::kCorrupt || !opt_.skip_corrupt) return st;
  *warning = "skipped damaged segment " + std::to_string(seg_id_) + ": " + st.ToString();
  discont_ = true;
  return Status::Ok();
}

Status PlayCursor::Next(PlayBatch *out) {
  out->frames.clear();
  out->bytes.clear();
  out->warning.clear();
  out->gap_start = out->gap_end = kNoTime;
  out->discont = false;
  if (!positioned_) {  // the stream was empty at Seek(): start at its oldest footage
    const auto &segs = reader_->segments();
    if (segs.empty() || opt_.direction == PlayDirection::kReverse)
      return Status(Code::kEnd, "empty");
    Enter(segs.front().id);
    positioned_ = true;
  }
  if (finished_) return Status(Code::kEnd, "end of the range");
  Status st = opt_.direction == PlayDirection::kForward ? NextForward(out) : NextReverse(out);
  if (!warning_.empty() && st.ok()) {
    out->warning = warning_;
    warning_.clear();
  }
  return st;
}

Status PlayCursor::Unreadable(Status st) {
  if (st.code() == Code::kNotFound) {
    // Deleted before we opened it (our catalog may be older than the
    // deletion), or listed but missing.
    bool changed;
    VDB_RETURN_IF_ERROR(reader_->Refresh(&changed));
    if (reader_->catalog().FindById(seg_id_) < 0) {
      // Retention removes the oldest first: continue at the oldest footage
      // newer than this that remains.
      const SegmentInfo *next = After(seg_id_);
      if (!next) return Status(Code::kEnd, "end of stream");
      warning_ =
          "footage was deleted while playing: continued at segment " + std::to_string(next->id);
      Enter(next->id);
      discont_ = true;
      return Status::Ok();
    }
    st = Status(Code::kCorrupt, "segment " + std::to_string(seg_id_) +
                                    " is in the catalog but its files are missing (" +
                                    st.message() + ")");
  }
  // Damaged, missing or not a regular file: its time is a gap.
  VDB_RETURN_IF_ERROR(SkipDamaged(st, &warning_));
  long i = reader_->catalog().FindById(seg_id_);
  const SegmentInfo *next = After(seg_id_);
  if (!next) return Status(Code::kEnd, "end of stream");
  if (i >= 0 && !opt_.keys_only) {
    gap_start_ = reader_->segments()[size_t(i)].first_pts;
    gap_end_ = next->first_pts;
  }
  Enter(next->id);
  return Status::Ok();
}

// Past damage at `first_lost`: on to the first keyframe at or after
// `search_from` (the frames between may reference what was lost).
size_t PlayCursor::PastDamage(SegmentReader *seg, size_t first_lost, size_t search_from,
                              const std::string &what) {
  long k = seg->KeyFrameAtOrAfter(search_from);
  size_t to = k < 0 ? seg->size() : size_t(k);
  warning_ = "segment " + std::to_string(seg_id_) + ": " + what + ": skipped " +
             std::to_string(to - first_lost) + " frame(s), on to the next keyframe";
  discont_ = true;
  return to;
}

Status PlayCursor::NextForward(PlayBatch *out) {
  for (;;) {
    auto segr = reader_->SegmentById(seg_id_);
    if (!segr.ok()) {
      VDB_RETURN_IF_ERROR(Unreadable(segr.status()));
      continue;
    }
    SegmentReader *seg = segr.value();
    size_t frame = frame_;
    // Damaged bytes between the previous frame and this one. A seek lands
    // on a keyframe: nothing before it plays, so nothing is said then.
    if (frame < seg->size() && seg->DamageBefore(frame) && !opt_.keys_only) {
      std::string what = std::to_string(seg->DamageBytesBefore(frame)) +
                         " damaged bytes before offset " + std::to_string(seg->entry(frame).offset);
      if (!(seg->entry(frame).flags & kFlagKey)) {
        frame = PastDamage(seg, frame, frame, what);
      } else if (!discont_) {
        warning_ = "segment " + std::to_string(seg_id_) + ": skipped " + what;
        discont_ = true;
      }
    }
    if (opt_.keys_only) {
      long k = seg->KeyFrameAtOrAfter(frame);
      frame = k < 0 ? seg->size() : size_t(k);
    }
    if (frame >= seg->size()) {
      frame_ = frame;
      // Still being written, unless retention already deleted it (then it
      // was sealed long ago), or a newer segment exists (a writer creates
      // the next one only after sealing this: it was left open by a crash,
      // or a damaged catalog lost its SEALED record): go on.
      const SegmentInfo *next = After(seg_id_);
      if (!seg->info().sealed() && reader_->catalog().FindById(seg_id_) >= 0 && !next)
        return Status(Code::kEnd, "at the live edge");
      if (!next) return Status(Code::kEnd, "end of stream");
      if (next_hint_ && next->id != next_hint_ && reader_->catalog().FindById(next_hint_) < 0) {
        warning_ = "footage after segment " + std::to_string(seg_id_) +
                   " was deleted while playing: continued at segment " + std::to_string(next->id);
        discont_ = true;
      }
      if (Timeline::IsGap(seg->info(), *next, opt_.gap_tolerance) && !opt_.keys_only) {
        gap_start_ = seg->info().end_pts != kNoTime ? seg->info().end_pts : seg->info().first_pts;
        gap_end_ = next->first_pts;
        discont_ = true;
      }
      Enter(next->id);
      continue;
    }
    const IndexEntry &e = seg->entry(frame);
    uint64_t t = TimeOf(e);
    if (opt_.stop != kNoTime && t != kNoTime && t >= opt_.stop && (e.flags & kFlagKey)) {
      finished_ = true;
      return Status(Code::kEnd, "end of the range");
    }
    size_t count = 1;
    if (!opt_.keys_only) {
      uint64_t bytes = e.size;
      while (frame + count < seg->size() && count < opt_.batch_frames && bytes < opt_.batch_bytes &&
             !seg->DamageBefore(frame + count)) {
        bytes += seg->entry(frame + count).size;
        count++;
      }
    }
    Status st = seg->Read(frame, count, &out->bytes, &out->frames);
    if (!st.ok()) {
      if (st.code() != Code::kCorrupt || !opt_.skip_corrupt) return st;
      size_t good = out->frames.size();
      bool discont = discont_;
      size_t to = PastDamage(seg, frame + good, frame + good + 1, st.message());
      frame_ = to;
      if (good == 0) continue;
      // The good frames before the damage play; the skip follows them.
      out->segment_id = seg_id_;
      out->caps = seg->caps();
      out->discont = discont || opt_.keys_only;
      out->gap_start = gap_start_;
      out->gap_end = gap_end_;
      gap_start_ = gap_end_ = kNoTime;
      return Status::Ok();
    }
    out->segment_id = seg_id_;
    out->caps = seg->caps();
    out->discont = discont_ || opt_.keys_only;
    out->gap_start = gap_start_;
    out->gap_end = gap_end_;
    discont_ = false;
    gap_start_ = gap_end_ = kNoTime;
    frame_ = frame + count;
    return Status::Ok();
  }
}

bool PlayCursor::PreviousKey(uint64_t id, size_t frame, uint64_t *out_id, size_t *out_frame) {
  const auto &segs = reader_->segments();
  long i = reader_->catalog().FindById(id);
  if (i < 0) {  // the segment was deleted: everything before it is gone too
    auto seg = reader_->SegmentById(id);
    if (!seg.ok()) return false;
    long k = (*seg)->KeyFrameBefore(frame);
    if (k < 0) return false;
    *out_id = id;
    *out_frame = size_t(k);
    return true;
  }
  for (; i >= 0; i--) {
    uint64_t sid = segs[size_t(i)].id;
    auto segr = reader_->SegmentById(sid);
    if (!segr.ok()) continue;  // damaged: skipped going backwards too
    SegmentReader *seg = segr.value();
    long k = seg->KeyFrameBefore(sid == id ? frame : seg->size());
    if (k >= 0) {
      *out_id = sid;
      *out_frame = size_t(k);
      return true;
    }
  }
  return false;
}

Status PlayCursor::NextReverse(PlayBatch *out) {
  for (;;) {
    auto segr = reader_->SegmentById(seg_id_);
    if (!segr.ok()) {
      VDB_RETURN_IF_ERROR(SkipDamaged(segr.status(), &warning_));
      uint64_t id;
      size_t f;
      if (!PreviousKey(seg_id_, 0, &id, &f)) {
        finished_ = true;
        return Status(Code::kEnd, "start of stream");
      }
      seg_id_ = id;
      frame_ = f;
      continue;
    }
    SegmentReader *seg = segr.value();
    if (frame_ >= seg->size()) {
      finished_ = true;
      return Status(Code::kEnd, "no keyframe");
    }
    size_t end = seg->size();
    if (have_gop_end_ && gop_id_ == seg_id_) end = std::min(end, gop_frame_);
    long next_key = seg->KeyFrameAtOrAfter(frame_ + 1);
    if (next_key >= 0) end = std::min(end, size_t(next_key));
    long damage = seg->NextDamageAfter(frame_);  // frames past it may need what was lost
    if (damage >= 0) end = std::min(end, size_t(damage));
    size_t count = opt_.keys_only ? 1 : std::max<size_t>(1, end - frame_);
    // One read per GOP, within the record size limit (a GOP larger than
    // that plays its first 256 MiB).
    uint64_t bytes = seg->entry(frame_).size;
    for (size_t n = 1; n < count; n++) {
      bytes += kRecordHeaderSize + seg->entry(frame_ + n).size;
      if (bytes > kMaxPayload) count = n;
    }
    uint64_t t = TimeOf(seg->entry(frame_));
    Status st = seg->Read(frame_, count, &out->bytes, &out->frames);
    if (!st.ok()) {
      if (st.code() != Code::kCorrupt || !opt_.skip_corrupt) return st;
      warning_ = "segment " + std::to_string(seg_id_) + ": " + st.message() +
                 ": the rest of its GOP skipped";
    }
    if (!out->frames.empty()) {  // the GOP, or its good part before damage
      out->segment_id = seg_id_;
      out->caps = seg->caps();
      out->discont = true;
    }
    gop_id_ = seg_id_;
    gop_frame_ = frame_;
    have_gop_end_ = true;
    uint64_t id;
    size_t f;
    if ((opt_.start != kNoTime && t != kNoTime && t <= opt_.start) ||
        !PreviousKey(seg_id_, frame_, &id, &f)) {
      finished_ = true;
    } else {
      seg_id_ = id;
      frame_ = f;
    }
    if (!out->frames.empty()) return Status::Ok();
    if (finished_) return Status(Code::kEnd, "start of stream");
  }
}

}  // namespace vdb
