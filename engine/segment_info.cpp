#include "segment_info.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "crc32c.h"

namespace vdb {

const char *StateName(SegmentState s) {
  switch (s) {
    case SegmentState::kOpen:
      return "open";
    case SegmentState::kSealed:
      return "sealed";
    case SegmentState::kRecovered:
      return "recovered";
  }
  return "?";
}

namespace {

// kNoTime is written as null so tools see "unknown", not 2^64-1.
nlohmann::json TimeJson(uint64_t t) {
  return t == kNoTime ? nlohmann::json() : nlohmann::json(t);
}
// A non-negative integer field. nlohmann converts floats and negatives
// silently (1e300 to an integer is undefined behaviour): refuse them.
uint64_t Uint(const nlohmann::json &j) {
  if (!j.is_number_unsigned())
    throw nlohmann::json::type_error::create(302, "not an unsigned integer", &j);
  return j.get<uint64_t>();
}
uint64_t TimeFrom(const nlohmann::json &j) {
  return j.is_null() ? kNoTime : Uint(j);
}

}  // namespace

std::string CodecOfCaps(const std::string &caps) {
  if (caps.rfind("video/x-h264", 0) == 0) return "h264";
  if (caps.rfind("video/x-h265", 0) == 0) return "h265";
  if (caps.rfind("video/x-av1", 0) == 0) return "av1";
  if (caps.rfind("video/x-vp9", 0) == 0) return "vp9";
  if (caps.rfind("audio/mpeg", 0) == 0) return "aac";
  if (caps.rfind("audio/x-opus", 0) == 0) return "opus";
  if (caps.rfind("audio/x-alaw", 0) == 0) return "alaw";
  if (caps.rfind("audio/x-mulaw", 0) == 0) return "mulaw";
  return caps.substr(0, caps.find_first_of(",; "));
}

uint32_t TrackBits(const std::vector<TrackMeta> &tracks) {
  uint32_t bits = 0;
  for (const TrackMeta &t : tracks)
    if (t.track < 32) bits |= 1u << t.track;
  return bits;
}

std::string TrackPadName(uint32_t track) {
  return track == 0 ? "video" : "audio_" + std::to_string(track - 1);
}

bool IsAudioCodec(const std::string &codec) {
  return codec == "aac" || codec == "opus" || codec == "alaw" || codec == "mulaw";
}

std::string SegmentMetaToJson(const SegmentMeta &m) {
  nlohmann::json j = {
      {"format_version", m.format_version},
      {"id", m.info.id},
      {"stream", m.stream},
      {"state", StateName(m.info.state)},
      {"codec", m.codec},
      {"caps", m.caps},
      // The metadata has no checksum of its own: this one lets a reader
      // trust its caps when the segment's caps record is damaged.
      {"caps_crc32c", crc32c(m.caps.data(), m.caps.size())},
      {"first_pts", TimeJson(m.info.first_pts)},
      {"end_pts", TimeJson(m.info.end_pts)},
      {"first_dts", TimeJson(m.first_dts)},
      {"utc_start", m.info.utc_start},
      {"frames", m.info.frames},
      {"keyframes", m.keyframes},
      {"bytes", m.info.bytes},
  };
  if (m.corrupt_offset != kNoTime) j["corrupt_offset"] = m.corrupt_offset;
  if (!m.tracks.empty()) {
    nlohmann::json tracks = nlohmann::json::array();
    for (const TrackMeta &t : m.tracks)
      tracks.push_back({{"track", t.track},
                        {"codec", t.codec},
                        {"caps", t.caps},
                        {"caps_crc32c", crc32c(t.caps.data(), t.caps.size())}});
    j["tracks"] = tracks;
  }
  // Caps come from files: bytes that are not UTF-8 are replaced, never thrown.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<SegmentMeta> SegmentMetaFromJson(const std::string &json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status(Code::kCorrupt, "metadata is not JSON");
  try {
    SegmentMeta m;
    uint64_t version = Uint(j.at("format_version"));
    m.format_version = version > UINT32_MAX ? UINT32_MAX : uint32_t(version);
    if (m.format_version > kFormatVersion)
      return Status(Code::kUnsupported,
                    "metadata format version " + std::to_string(m.format_version));
    m.info.id = Uint(j.at("id"));
    m.stream = j.at("stream").get<std::string>();
    std::string state = j.at("state").get<std::string>();
    if (state == "open")
      m.info.state = SegmentState::kOpen;
    else if (state == "sealed")
      m.info.state = SegmentState::kSealed;
    else if (state == "recovered")
      m.info.state = SegmentState::kRecovered;
    else
      return Status(Code::kCorrupt, "metadata state '" + state + "'");
    m.codec = j.at("codec").get<std::string>();
    m.caps = j.at("caps").get<std::string>();
    // Written since format 1's first release; older metadata has none.
    if (j.contains("caps_crc32c") && Uint(j["caps_crc32c"]) != crc32c(m.caps.data(), m.caps.size()))
      return Status(Code::kCorrupt, "metadata caps do not match their checksum");
    m.info.first_pts = TimeFrom(j.at("first_pts"));
    m.info.end_pts = TimeFrom(j.at("end_pts"));
    m.first_dts = TimeFrom(j.at("first_dts"));
    m.info.utc_start = Uint(j.at("utc_start"));
    m.info.frames = Uint(j.at("frames"));
    m.keyframes = Uint(j.at("keyframes"));
    m.info.bytes = Uint(j.at("bytes"));
    if (j.contains("corrupt_offset")) m.corrupt_offset = Uint(j["corrupt_offset"]);
    if (j.contains("tracks")) {
      const auto &tracks = j["tracks"];
      if (!tracks.is_array() || tracks.size() > kMaxTrack + 1)
        return Status(Code::kCorrupt, "metadata tracks are not a list of tracks");
      for (const auto &t : tracks) {
        TrackMeta tm;
        uint64_t n = Uint(t.at("track"));
        if (n > kMaxTrack) return Status(Code::kCorrupt, "metadata track number out of range");
        tm.track = uint32_t(n);
        tm.codec = t.at("codec").get<std::string>();
        tm.caps = t.at("caps").get<std::string>();
        if (tm.caps.size() > kMaxCapsSize ||
            Uint(t.at("caps_crc32c")) != crc32c(tm.caps.data(), tm.caps.size()))
          return Status(Code::kCorrupt, "metadata track caps do not match their checksum");
        m.tracks.push_back(std::move(tm));
      }
    }
    if (m.tracks.empty()) m.tracks.push_back(TrackMeta{0, m.codec, m.caps});
    m.info.tracks = TrackBits(m.tracks);
    return m;
  } catch (const nlohmann::json::exception &e) {
    return Status(Code::kCorrupt, std::string("metadata field: ") + e.what());
  }
}

Result<SegmentMeta> ReadSegmentMeta(Fs *fs, const std::string &dir, uint64_t id) {
  std::string path = MetaPath(dir, id);
  VDB_ASSIGN_OR_RETURN(std::string json, ReadWholeFile(fs, path, kMaxMetaFileSize));
  auto m = SegmentMetaFromJson(json);
  if (!m.ok()) return Status(m.status().code(), path + ": " + m.status().message());
  if (m->info.id != id)
    return Status(Code::kCorrupt, path + ": belongs to segment " + std::to_string(m->info.id));
  if (m->caps.size() > kMaxCapsSize) return Status(Code::kCorrupt, path + ": caps too long");
  return m;
}

std::string SegmentBaseName(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012" PRIu64, id);
  return buf;
}
std::string FramesPath(const std::string &dir, uint64_t id) {
  return JoinPath(dir, SegmentBaseName(id) + ".vdbf");
}
std::string IndexPath(const std::string &dir, uint64_t id) {
  return JoinPath(dir, SegmentBaseName(id) + ".vdbi");
}
std::string MetaPath(const std::string &dir, uint64_t id) {
  return JoinPath(dir, SegmentBaseName(id) + ".json");
}

bool ParseSegmentFileName(const std::string &name, uint64_t *id, std::string *ext) {
  auto dot = name.find('.');
  if (dot != 12) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < dot; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + uint64_t(name[i] - '0');
  }
  *id = v;
  *ext = name.substr(dot + 1);
  return true;
}

}  // namespace vdb
