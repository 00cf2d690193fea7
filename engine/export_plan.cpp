#include "export_plan.h"

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

std::string TrackPadName(uint32_t track) {
  return track == 0 ? "video" : "audio_" + std::to_string(track - 1);
}

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

// Why `c` cannot hold an audio codec, naming a container that can ("" if it can).
std::string AudioRefused(Container c, const std::string &codec, const std::string &video) {
  bool known = IsAudioCodec(codec);
  if (!known) return "cannot export " + codec + " audio";
  if (c == Container::kMp4 && (codec == "aac" || codec == "opus")) return "";
  if (c == Container::kWebm && codec == "opus") return "";
  if (c == Container::kMatroska) return "";
  bool webm_video = video == "vp9" || video == "av1";
  return std::string(c == Container::kMp4 ? "MP4" : "WebM") + " cannot hold " + Name(codec) +
         " audio: name the output .mkv" +
         (c == Container::kWebm && !webm_video ? "" : " (Matroska holds every track)");
}

// The plan, or why its container cannot hold one of its audio tracks.
Result<ExportPlan> CheckAudio(const ExportPlan &p) {
  for (const TrackMeta &t : p.tracks) {
    if (!IsAudioCodec(t.codec) && t.track != 0) return Invalid("cannot export " + t.codec);
    if (t.track == 0 && !IsAudioCodec(t.codec)) continue;
    std::string why = AudioRefused(p.container, t.codec, p.codec);
    if (!why.empty()) return Invalid(why + " (track " + TrackPadName(t.track) + ")");
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
    return Invalid("the range is empty or reversed: --to must be after --from");
  const auto &segs = reader->segments();
  Timeline t = Timeline::Build(segs, kNoTime, false);
  if (t.empty()) return Invalid("the stream holds no recording");
  const Run &first = t.runs().front(), &last = t.runs().back();
  if (from_utc && last.utc_end && from_utc >= last.utc_end)
    return Invalid("--from is after the end of the recording (" + std::to_string(last.utc_end) +
                   " ns UTC)");
  if (to_utc && first.utc_start && to_utc <= first.utc_start)
    return Invalid("--to is before the start of the recording (" + std::to_string(first.utc_start) +
                   " ns UTC)");
  uint64_t from_pts = from_utc ? t.UtcToPts(from_utc) : t.start_pts();
  p.stop_pts = to_utc ? t.UtcToPts(to_utc) : kNoTime;
  if (p.stop_pts != kNoTime && p.stop_pts <= from_pts)
    return Invalid("nothing was recorded between --from and --to");
  auto key = reader->FindKeyframe(from_pts, Snap::kBefore);
  if (!key.ok()) return key.status();
  VDB_ASSIGN_OR_RETURN(SegmentReader * seg, reader->Segment(key->segment));
  p.start_pts = seg->entry(key->frame).pts;
  p.start_utc = t.PtsToUtc(p.start_pts);
  p.stop_utc = p.stop_pts != kNoTime ? to_utc : 0;
  p.codec = CodecOfCaps(seg->caps());
  // Every segment of the range must hold the same codec.
  long last_seg =
      p.stop_pts != kNoTime ? reader->catalog().FindByTime(p.stop_pts) : long(segs.size()) - 1;
  for (long i = long(key->segment); i <= last_seg; i++) {
    auto s = reader->Segment(size_t(i));
    if (!s.ok()) continue;  // damaged: playback skips it with a warning
    if (CodecOfCaps((*s)->caps()) != p.codec)
      return Invalid("the codec changes inside the range (" + p.codec + " then " +
                     CodecOfCaps((*s)->caps()) + "): export each part on its own");
  }
  if (IsAudioCodec(p.codec)) return CheckAudio(p);  // audio only
  bool mp4_codec = p.codec == "h264" || p.codec == "h265";
  bool webm_codec = p.codec == "vp9" || p.codec == "av1";
  if (!mp4_codec && !webm_codec) return Invalid("cannot export " + p.codec);
  if (p.container == Container::kMp4 && !mp4_codec)
    return Invalid(p.codec == "vp9" ? "VP9 cannot be exported to MP4 here (GStreamer 1.22's mp4mux "
                                      "fails on VP9): name the output .webm or .mkv"
                                    : "AV1 is exported to WebM or Matroska: name the output .webm "
                                      "or .mkv");
  if (p.container == Container::kWebm && !webm_codec)
    return Invalid("WebM cannot hold " + std::string(p.codec == "h264" ? "H.264" : "H.265") +
                   ": name the output .mp4 or .mkv");
  return CheckAudio(p);
}

}  // namespace vdb
