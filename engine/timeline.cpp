#include "timeline.h"

#include <algorithm>

namespace vdb {

namespace {
uint64_t EndOf(const SegmentInfo &s) {
  return s.end_pts != kNoTime ? s.end_pts : s.first_pts;
}
}  // namespace

bool Timeline::IsGap(const SegmentInfo &prev, const SegmentInfo &next, uint64_t gap_tolerance) {
  return next.first_pts > EndOf(prev) + gap_tolerance;
}

Timeline Timeline::Build(const std::vector<SegmentInfo> &segments, uint64_t live_end, bool collapse,
                         uint64_t gap_tolerance) {
  Timeline t;
  t.collapse_ = collapse;
  t.segs_.reserve(segments.size());
  const SegmentInfo *prev = nullptr;
  for (size_t i = 0; i < segments.size(); i++) {
    SegmentInfo s = segments[i];
    if (s.first_pts == kNoTime) continue;  // holds no frame
    if (i + 1 == segments.size() && !s.sealed() && live_end != kNoTime && live_end > s.first_pts)
      s.end_pts = live_end;
    uint64_t end = EndOf(s);
    t.segs_.push_back({s.id, s.first_pts, end, s.utc_start});
    if (!prev || IsGap(*prev, s, gap_tolerance)) {
      Run r;
      r.first_id = s.id;
      r.first_pts = s.first_pts;
      r.utc_start = s.utc_start;
      if (prev && collapse) r.shift = t.runs_.back().shift + (s.first_pts - t.runs_.back().end_pts);
      r.end_pts = end;
      t.runs_.push_back(r);
    }
    Run &r = t.runs_.back();
    r.last_id = s.id;
    r.segments++;
    r.end_pts = std::max(r.end_pts, end);
    r.utc_end = s.UtcAt(end);
    t.segs_.back().end_pts = end;
    prev = &segments[i];
  }
  return t;
}

size_t Timeline::RunOfPts(uint64_t pts) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), pts,
                             [](uint64_t v, const Run &r) { return v < r.first_pts; });
  return it == runs_.begin() ? 0 : size_t(it - runs_.begin()) - 1;
}

uint64_t Timeline::ShiftOf(uint64_t segment_id) const {
  if (!collapse_ || runs_.empty()) return 0;
  auto it = std::upper_bound(runs_.begin(), runs_.end(), segment_id,
                             [](uint64_t v, const Run &r) { return v < r.first_id; });
  return it == runs_.begin() ? 0 : (it - 1)->shift;
}

uint64_t Timeline::ToOutput(uint64_t pts) const {
  if (!collapse_ || runs_.empty() || pts == kNoTime) return pts;
  uint64_t shift = runs_[RunOfPts(pts)].shift;
  return pts >= shift ? pts - shift : 0;
}

uint64_t Timeline::ToRecorded(uint64_t out) const {
  if (runs_.empty() || out == kNoTime) return out;
  if (!collapse_) {
    size_t r = RunOfPts(out);
    if (out >= runs_[r].end_pts && r + 1 < runs_.size()) return runs_[r + 1].first_pts;
    return out;
  }
  auto it = std::upper_bound(runs_.begin(), runs_.end(), out,
                             [](uint64_t v, const Run &r) { return v < r.first_pts - r.shift; });
  const Run &r = it == runs_.begin() ? runs_.front() : *(it - 1);
  return out + r.shift;
}

uint64_t Timeline::StreamTime(uint64_t out) const {
  if (runs_.empty() || out == kNoTime) return out;
  uint64_t o = ToOutput(origin());
  return out > o ? out - o : 0;
}

uint64_t Timeline::OutputAt(uint64_t stream_time) const {
  if (runs_.empty()) return kNoTime;
  return ToOutput(origin()) + stream_time;
}

uint64_t Timeline::duration() const {
  if (runs_.empty()) return 0;
  return StreamTime(ToOutput(end_pts()));
}

uint64_t Timeline::PtsToUtc(uint64_t pts) const {
  if (segs_.empty() || pts == kNoTime) return 0;
  auto it = std::upper_bound(segs_.begin(), segs_.end(), pts,
                             [](uint64_t v, const Seg &s) { return v < s.first_pts; });
  const Seg &s = it == segs_.begin() ? segs_.front() : *(it - 1);
  if (!s.utc_start) return 0;
  return s.utc_start + (pts > s.first_pts ? pts - s.first_pts : 0);
}

uint64_t Timeline::UtcToPts(uint64_t utc) const {
  uint64_t last = kNoTime;
  for (const Seg &s : segs_) {  // in time order; wall clocks may jump, so no bisection
    if (!s.utc_start) continue;
    if (utc < s.utc_start) return s.first_pts;  // before it, or in the hole before it
    if (utc - s.utc_start < s.end_pts - s.first_pts) return s.first_pts + (utc - s.utc_start);
    last = s.end_pts;
  }
  return last;  // after the end: the end
}

}  // namespace vdb
