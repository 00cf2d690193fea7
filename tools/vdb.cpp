// vdb: inspect, verify and repair a vdb store from the command line.
//
//   vdb info STORE [--json]      streams, segments, recorded ranges and gaps, sizes, codecs
//   vdb verify STORE [--json]    check every record's checksum; exit 1 on damage
//   vdb repair STORE             recover segments a crash left open
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reader.h"
#include "record_scan.h"
#include "store.h"
#include "writer.h"

using namespace vdb;
using nlohmann::json;

namespace {

const uint64_t kSec = 1000000000ull;
// Segments closer than this are one continuous range.
const uint64_t kGapTolerance = kSec / 2;

std::string Utc(uint64_t ns) {
  if (!ns) return "-";
  time_t s = time_t(ns / kSec);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                unsigned(ns % kSec / 1000000));
  return buf;
}

std::string Dur(uint64_t ns) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%" PRIu64 ":%02" PRIu64 ":%06.3f", ns / kSec / 3600,
                ns / kSec / 60 % 60, double(ns % (60 * kSec)) / kSec);
  return buf;
}

int Fail(const Status &st) {
  std::fprintf(stderr, "vdb: %s\n", st.ToString().c_str());
  return 2;
}

json StreamInfo(const std::string &store, const std::string &name, Status *err) {
  auto r = Reader::Open(DefaultFs(), store, name);
  if (!r.ok()) {
    *err = r.status();
    return json();
  }
  const auto &segs = (*r)->segments();
  json ranges = json::array();
  uint64_t frames = 0, bytes = 0;
  for (size_t i = 0; i < segs.size(); i++) {
    const SegmentInfo &s = segs[i];
    frames += s.frames;
    bytes += s.bytes;
    uint64_t end = s.end_pts == kNoTime ? s.first_pts : s.end_pts;
    if (!ranges.empty() &&
        s.first_pts <= ranges.back()["end_pts"].get<uint64_t>() + kGapTolerance) {
      ranges.back()["end_pts"] = end;
      ranges.back()["utc_end"] = s.UtcAt(end);
      ranges.back()["segments"] = ranges.back()["segments"].get<int>() + 1;
    } else {
      ranges.push_back({{"start_pts", s.first_pts},
                        {"end_pts", end},
                        {"utc_start", s.utc_start},
                        {"utc_end", s.UtcAt(end)},
                        {"segments", 1}});
    }
  }
  std::vector<std::string> codecs;
  for (size_t i : {size_t(0), segs.size() - 1}) {
    if (segs.empty()) break;
    auto meta = ReadWholeFile(DefaultFs(), MetaPath((*r)->dir(), segs[i].id));
    auto m = meta.ok() ? SegmentMetaFromJson(meta.value()) : Result<SegmentMeta>(meta.status());
    if (m.ok() && (codecs.empty() || codecs.back() != m->caps)) codecs.push_back(m->caps);
  }
  return {{"stream", name},
          {"segments", segs.size()},
          {"frames", frames},
          {"bytes", bytes},
          {"open", !segs.empty() && !segs.back().sealed()},
          {"ranges", ranges},
          {"caps", codecs}};
}

int Info(const std::string &store, bool as_json) {
  Status st = PrepareStore(DefaultFs(), store, false);
  if (!st.ok()) return Fail(st);
  auto names = ListStreams(DefaultFs(), store);
  if (!names.ok()) return Fail(names.status());
  json out = json::array();
  for (const auto &n : names.value()) {
    Status err;
    json s = StreamInfo(store, n, &err);
    if (!err.ok()) return Fail(err);
    out.push_back(s);
  }
  if (as_json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("store %s: %zu stream(s)\n", store.c_str(), out.size());
  for (const auto &s : out) {
    std::printf(
        "\nstream '%s': %zu segment(s), %" PRIu64 " frames, %.1f MB%s\n",
        s["stream"].get<std::string>().c_str(), s["segments"].get<size_t>(),
        s["frames"].get<uint64_t>(), s["bytes"].get<uint64_t>() / 1e6,
        s["open"].get<bool>() ? " (last segment open: being written or not recovered)" : "");
    for (const auto &c : s["caps"]) std::printf("  caps: %s\n", c.get<std::string>().c_str());
    uint64_t prev_end = kNoTime;
    for (const auto &rg : s["ranges"]) {
      uint64_t a = rg["start_pts"], b = rg["end_pts"];
      if (prev_end != kNoTime) std::printf("  gap   %s\n", Dur(a - prev_end).c_str());
      std::printf("  range %s .. %s  (%s, %s .. %s, %d segment(s))\n", Dur(a).c_str(),
                  Dur(b).c_str(), Dur(b - a).c_str(), Utc(rg["utc_start"]).c_str(),
                  Utc(rg["utc_end"]).c_str(), rg["segments"].get<int>());
      prev_end = b;
    }
  }
  return 0;
}

int Verify(const std::string &store, bool as_json) {
  Status st = PrepareStore(DefaultFs(), store, false);
  if (!st.ok()) return Fail(st);
  auto names = ListStreams(DefaultFs(), store);
  if (!names.ok()) return Fail(names.status());
  json problems = json::array();
  uint64_t records = 0, segments = 0;
  for (const auto &n : names.value()) {
    auto r = Reader::Open(DefaultFs(), store, n);
    if (!r.ok()) {
      problems.push_back({{"stream", n}, {"error", r.status().ToString()}});
      continue;
    }
    for (const auto &s : (*r)->segments()) {
      segments++;
      auto f = DefaultFs()->Open(FramesPath((*r)->dir(), s.id), OpenMode::kRead);
      Status hs = f.ok() ? CheckFileHeader(f->get(), FileKind::kFrames, s.id) : f.status();
      if (!hs.ok()) {
        problems.push_back({{"stream", n}, {"segment", s.id}, {"error", hs.ToString()}});
        continue;
      }
      auto scan = ScanRecords(f->get(), kFileHeaderSize, true);
      if (!scan.ok()) {
        problems.push_back({{"stream", n}, {"segment", s.id}, {"error", scan.status().ToString()}});
        continue;
      }
      records += scan->entries.size();
      if (scan->trailing && (s.sealed() || scan->damaged()))
        problems.push_back({{"stream", n},
                            {"segment", s.id},
                            {"offset", scan->end},
                            {"error", scan->damaged() ? "damaged record" : "truncated record"}});
      if (!as_json)
        std::fprintf(stderr, "\rverified %" PRIu64 " segments, %" PRIu64 " records", segments,
                     records);
    }
  }
  if (as_json) {
    std::printf(
        "%s\n",
        json{{"segments", segments}, {"records", records}, {"problems", problems}}.dump(2).c_str());
  } else {
    std::fprintf(stderr, "\n");
    for (const auto &p : problems) std::printf("PROBLEM: %s\n", p.dump().c_str());
    std::printf("%" PRIu64 " segments, %" PRIu64 " records checked: %s\n", segments, records,
                problems.empty() ? "OK" : "DAMAGED");
  }
  return problems.empty() ? 0 : 1;
}

int Repair(const std::string &store) {
  Status st = PrepareStore(DefaultFs(), store, false);
  if (!st.ok()) return Fail(st);
  auto names = ListStreams(DefaultFs(), store);
  if (!names.ok()) return Fail(names.status());
  for (const auto &n : names.value()) {
    RecoveryReport rep;
    auto w = Writer::Open(DefaultFs(), store, n, {}, &rep);
    if (!w.ok()) return Fail(w.status());
    std::printf("stream '%s': %s\n", n.c_str(),
                rep.empty() ? "nothing to repair" : rep.ToString().c_str());
  }
  return 0;
}

void Usage() {
  std::fprintf(stderr,
               "usage: vdb info STORE [--json]\n"
               "       vdb verify STORE [--json]\n"
               "       vdb repair STORE\n");
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    Usage();
    return 2;
  }
  std::string cmd = argv[1], store = argv[2];
  bool as_json = argc > 3 && std::strcmp(argv[3], "--json") == 0;
  if (cmd == "info") return Info(store, as_json);
  if (cmd == "verify") return Verify(store, as_json);
  if (cmd == "repair") return Repair(store);
  Usage();
  return 2;
}
