#include "stream_info.h"

#include <string>
#include <vector>

#include "timeline.h"

namespace vdbtool {

using namespace vdb;
using nlohmann::json;

json StreamInfo(Reader *r, const std::string &name) {
  const auto &segs = r->segments();
  uint64_t frames = 0, bytes = 0, live_end = kNoTime, in_bucket = 0, bucket_only = 0;
  for (const SegmentInfo &s : segs) {
    in_bucket += s.in_bucket();
    bucket_only += !s.local();
    if (s.sealed()) {
      frames += s.frames;
      bytes += s.bytes;
      continue;
    }
    // Being written (or left open by a crash): the catalog does not know yet;
    // its index does (one read of the index file).
    auto seg = r->SegmentById(s.id);
    if (!seg.ok()) continue;
    frames += (*seg)->size();
    auto f = r->fs()->Open(FramesPath(r->dir(), s.id), OpenMode::kRead);
    auto size = f.ok() ? (*f)->Size() : Result<uint64_t>(f.status());
    if (size.ok()) bytes += size.value();
    for (size_t i = 0; i < (*seg)->size(); i++) {
      uint64_t pts = (*seg)->entry(i).pts;
      if (pts != kNoTime && (live_end == kNoTime || pts > live_end)) live_end = pts;
    }
  }
  // The same timeline vdbsrc plays: runs of continuous recording and gaps.
  Timeline t = Timeline::Build(segs, live_end, false);
  json ranges = json::array();
  for (const Run &run : t.runs())
    ranges.push_back({{"start_pts", run.first_pts},
                      {"end_pts", run.end_pts},
                      {"utc_start", run.utc_start},
                      {"utc_end", run.utc_end},
                      {"segments", run.segments}});
  std::vector<std::string> codecs;
  for (size_t i : {size_t(0), segs.size() - 1}) {
    if (segs.empty()) break;
    auto m = ReadSegmentMeta(r->fs(), r->dir(), segs[i].id);
    if (m.ok() && (codecs.empty() || codecs.back() != m->caps)) codecs.push_back(m->caps);
  }
  json tracks = json::array();
  auto listed = r->Tracks();
  if (listed.ok())
    for (const TrackMeta &tm : listed.value())
      tracks.push_back({{"track", tm.track},
                        {"pad", TrackPadName(tm.track)},
                        {"codec", tm.codec},
                        {"caps", tm.caps}});
  json out = {{"stream", name},
              {"segments", segs.size()},
              {"tracks", tracks},
              {"frames", frames},
              {"bytes", bytes},
              {"open", !segs.empty() && !segs.back().sealed()},
              {"in_bucket", in_bucket},
              {"bucket_only", bucket_only},
              {"duration", t.duration()},
              {"ranges", ranges},
              {"caps", codecs}};
  // Only when there is one: a healthy store's output stays as it was.
  if (!r->problem().empty()) out["problem"] = r->problem();
  return out;
}

json StreamInfo(Fs *fs, const std::string &store, const std::string &name, Status *err) {
  auto r = Reader::Open(fs, store, name);
  if (!r.ok()) {
    *err = r.status();
    return json();
  }
  return StreamInfo(r->get(), name);
}

}  // namespace vdbtool
