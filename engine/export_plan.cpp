#include "export_plan.h"

#include <map>

#include "timeline.h"

namespace vdb {

namespace {

bool EndsWith(const std::string &s, const char *ext) {
  std::string e(ext);
  return s.size() > e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

Status Invalid(const std::string &msg) {
  return Status(Code::kInvalidArgument, msg);
}

}  // namespace

namespace {

const char *Name(const std::string &codec) {
  return codec == "h264"    ? "H.264"
         : codec == "h265"  ? "H.265"
         : codec == "av1"   ? "AV1"
         : codec == "vp9"   ? "VP9"
         : codec == "aac"   ? "AAC"
         : codec == "opus"  ? "Opus"
         : codec == "alaw"  ? "G.711 A-law"
         : codec == "mulaw" ? "G.711 mu-law"
                            : codec.c_str();
}

bool Holds(Container c, const std::string &codec) {
  if (c == Container::kMatroska) return true;
  if (c == Container::kMp4)  // GStreamer 1.22's mp4mux fails on VP9
    return codec == "h264" || codec == "h265" || codec == "aac" || codec == "opus";
  return codec == "vp9" || codec == "av1" || codec == "opus";
}

const char *Extension(Container c) {
  return c == Container::kMp4 ? ".mp4" : c == Container::kWebm ? ".webm" : ".mkv";
}

// The plan, or why its container cannot hold one of its tracks (the video
// first), naming the containers that hold them all.
Result<ExportPlan> CheckContainer(const ExportPlan &p) {
  const char *kKnown[] = {"h264", "h265", "av1", "vp9", "aac", "opus", "alaw", "mulaw"};
  std::string holders;
  for (Container c : {Container::kMp4, Container::kWebm, Container::kMatroska}) {
    bool all = true;
    for (const TrackMeta &t : p.tracks) all &= Holds(c, t.codec);
    if (all) holders += std::string(holders.empty() ? "" : " or ") + Extension(c);
  }
  for (const TrackMeta &t : p.tracks) {
    bool known = false;
    for (const char *k : kKnown) known |= t.codec == k;
    if (!known) return Invalid("cannot export " + t.codec + " (" + TrackPadName(t.track) + ")");
    if (Holds(p.container, t.codec)) continue;
    std::string what = Name(t.codec);
    if (IsAudioCodec(t.codec)) what += " audio (" + TrackPadName(t.track) + ")";
    return Invalid(std::string(p.container == Container::kMp4 ? "MP4" : "WebM") + " cannot hold " +
                   what + ": name the output " + holders);
  }
  return p;
}

}  // namespace

Result<ExportPlan> PlanExport(Reader *reader, const std::vector<TrackMeta> &tracks,
                              const std::string &out_name, uint64_t from_utc, uint64_t to_utc) {
  ExportPlan p;
  p.tracks = tracks;
  if (EndsWith(out_name, ".mp4") || EndsWith(out_name, ".m4v") || EndsWith(out_name, ".mov"))
    p.container = Container::kMp4;
  else if (EndsWith(out_name, ".mkv"))
    p.container = Container::kMatroska;
  else if (EndsWith(out_name, ".webm"))
    p.container = Container::kWebm;
  else
    return Invalid("cannot tell the container from '" + out_name +
                   "': name the output .mp4 (H.264, H.265), .mkv (any codec) or .webm (VP9, "
                   "AV1)");
  if (from_utc && to_utc && to_utc <= from_utc)
    return Invalid("the range is empty or reversed: its end must be after its start");
  const auto &segs = reader->segments();
  Timeline t = Timeline::Build(segs, kNoTime, false);
  if (t.empty()) return Invalid("the stream holds no recording");
  const Run &first = t.runs().front(), &last = t.runs().back();
  if (from_utc && last.utc_end && from_utc >= last.utc_end)
    return Invalid("the range starts after the end of the recording (" +
                   std::to_string(last.utc_end) + " ns UTC)");
  if (to_utc && first.utc_start && to_utc <= first.utc_start)
    return Invalid("the range ends before the start of the recording (" +
                   std::to_string(first.utc_start) + " ns UTC)");
  uint64_t from_pts = from_utc ? t.UtcToPts(from_utc) : t.start_pts();
  p.stop_pts = to_utc ? t.UtcToPts(to_utc) : kNoTime;
  if (p.stop_pts != kNoTime && p.stop_pts <= from_pts)
    return Invalid("nothing was recorded between the range's start and end");
  auto key = reader->FindKeyframe(from_pts, Snap::kBefore);
  if (!key.ok()) return key.status();
  VDB_ASSIGN_OR_RETURN(SegmentReader * seg, reader->Segment(key->segment));
  p.start_pts = seg->entry(key->frame).pts;
  p.start_utc = t.PtsToUtc(p.start_pts);
  p.stop_utc = p.stop_pts != kNoTime ? to_utc : 0;
  p.codec = CodecOfCaps(seg->caps());
  // Every segment of the range must hold the same codec, and each track
  // the same caps: a muxer cannot change them mid-file.
  long last_seg =
      p.stop_pts != kNoTime ? reader->catalog().FindByTime(p.stop_pts) : long(segs.size()) - 1;
  std::map<uint32_t, std::string> caps;  // the first caps of each track in the range
  for (long i = long(key->segment); i <= last_seg; i++) {
    auto s = reader->Segment(size_t(i));
    if (!s.ok()) continue;  // damaged: playback skips it with a warning
    if (CodecOfCaps((*s)->caps()) != p.codec)
      return Invalid("the codec changes inside the range (" + p.codec + " then " +
                     CodecOfCaps((*s)->caps()) + "): export each part on its own");
    for (const TrackMeta &tm : (*s)->tracks()) {
      auto it = caps.emplace(tm.track, tm.caps).first;
      if (it->second != tm.caps)
        return Invalid("the caps of " + TrackPadName(tm.track) +
                       " change inside the range (from segment " + std::to_string(segs[i].id) +
                       " on, e.g. another rate or size): export the parts before and after on "
                       "their own");
    }
  }
  return CheckContainer(p);
}

}  // namespace vdb
