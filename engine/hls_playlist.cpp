#include "hls_playlist.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "timeline.h"

namespace vdb {

std::string FormatUtc(uint64_t ns) {
  time_t s = time_t(ns / 1000000000ull);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                unsigned(ns % 1000000000ull / 1000000));
  return buf;
}

uint64_t SegmentPlayEnd(const std::vector<SegmentInfo> &segments, size_t i,
                        uint64_t gap_tolerance) {
  const SegmentInfo &s = segments[i];
  if (i + 1 == segments.size()) return s.end_pts;
  const SegmentInfo &next = segments[i + 1];
  if (next.first_pts == kNoTime || next.first_pts <= s.first_pts ||
      Timeline::IsGap(s, next, gap_tolerance))
    return s.end_pts;
  return std::min(s.end_pts, next.first_pts);
}

Result<std::string> BuildHlsPlaylist(const std::vector<SegmentInfo> &segments,
                                     const HlsOptions &o) {
  if (!o.live && o.from_utc >= o.to_utc)
    return Status(Code::kInvalidArgument, "the range's start is not before its end");
  auto usable = [](const SegmentInfo &s) {
    return s.sealed() && s.first_pts != kNoTime && s.end_pts != kNoTime && s.end_pts > s.first_pts;
  };
  std::vector<const SegmentInfo *> listed;
  if (o.live) {
    for (auto it = segments.rbegin(); it != segments.rend() && listed.size() < o.live_window; ++it)
      if (usable(*it)) listed.insert(listed.begin(), &*it);
  } else {
    for (const SegmentInfo &s : segments) {
      if (!usable(s) || !s.utc_start) continue;
      uint64_t end = s.UtcAt(s.end_pts);
      if (end <= o.from_utc || s.utc_start >= o.to_utc) continue;
      if (listed.size() == o.max_segments)
        return Status(Code::kInvalidArgument, "the range holds more than " +
                                                  std::to_string(o.max_segments) +
                                                  " segments: ask for a shorter one");
      listed.push_back(&s);
    }
  }
  if (listed.empty()) return Status(Code::kNotFound, "no complete segment recorded in that range");
  // A segment plays until the next one starts: its end_pts may lie later
  // (audio stored ahead of the video, as encoders deliver it).
  std::vector<double> durations;
  for (const SegmentInfo *s : listed)
    durations.push_back(
        (SegmentPlayEnd(segments, size_t(s - segments.data()), o.gap_tolerance) - s->first_pts) /
        1e9);
  double target = 1;
  for (double d : durations) target = std::max(target, d);
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n";
  char line[160];
  std::snprintf(line, sizeof line,
                "#EXT-X-TARGETDURATION:%" PRIu64 "\n#EXT-X-MEDIA-SEQUENCE:%" PRIu64 "\n",
                uint64_t(std::ceil(target)), listed.front()->id);
  out += line;
  if (!o.live) out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  const SegmentInfo *prev = nullptr;
  for (size_t i = 0; i < listed.size(); i++) {
    const SegmentInfo *s = listed[i];
    if (prev && Timeline::IsGap(*prev, *s, o.gap_tolerance)) out += "#EXT-X-DISCONTINUITY\n";
    if (s->utc_start) out += "#EXT-X-PROGRAM-DATE-TIME:" + FormatUtc(s->utc_start) + "\n";
    std::snprintf(line, sizeof line, "#EXTINF:%.3f,\n%s%" PRIu64 "%s\n", durations[i],
                  o.uri_prefix.c_str(), s->id, o.uri_suffix.c_str());
    out += line;
    prev = s;
  }
  if (!o.live) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace vdb
