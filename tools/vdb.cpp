// vdb: inspect, verify, repair, export and prune a vdb store.
//
//   vdb info STORE [--json]       streams, segments, recorded ranges and gaps, sizes, codecs
//   vdb verify STORE [--json]     check every record's checksum; exit 1 on damage
//   vdb repair STORE              recover what a crash or damage left: open segments, damaged
//                                 records (cut, keeping every good record), a lost catalog
//   vdb export STORE --stream S [--from T] [--to T] OUT.mp4   remux a range to MP4
//   vdb rm STORE --stream S [--before T] [--json]             delete segments that end before T
//   vdb prune STORE --older-than AGE [--json]                 delete footage older than AGE
//   vdb upload STORE --to s3://BUCKET/PREFIX [--stream S]     sealed segments to a bucket
//   (info, verify and export also read s3://BUCKET/PREFIX: store_location.h)
// Times T: ISO 8601 UTC or ns since 1970. AGE: a number with s, m, h or d.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#ifdef VDB_HAVE_GST
#include "export.h"
#endif
#ifdef VDB_HAVE_SERVE
#include "serve/serve.h"
#endif
#include "export_plan.h"
#include "hls_playlist.h"
#include "reader.h"
#include "store.h"
#include "store_location.h"
#include "stream_info.h"
#include "time_parse.h"
#include "timeline.h"
#include "upload.h"
#include "verify.h"
#include "writer.h"

using namespace vdb;
using nlohmann::json;

namespace {

const uint64_t kSec = 1000000000ull;

std::string Utc(uint64_t ns) {
  return ns ? FormatUtc(ns) : "-";
}

std::string Dur(uint64_t ns) {
  uint64_t ms = (ns + 500000) / 1000000;  // rounded once: never "0:02:60.000"
  char buf[64];
  std::snprintf(buf, sizeof buf, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64, ms / 3600000,
                ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  return buf;
}

// Paths and caps come from the file system: bytes that are not UTF-8 are
// replaced (nlohmann's dump would throw).
std::string Dump(const json &j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

int Fail(const Status &st) {
  std::fprintf(stderr, "vdb: %s\n", st.ToString().c_str());
  return 2;
}

int Info(Fs *fs, const std::string &store, bool as_json) {
  Status st = PrepareStore(fs, store, false);
  if (!st.ok()) return Fail(st);
  auto names = ListStreams(fs, store);
  if (!names.ok()) return Fail(names.status());
  json out = json::array();
  for (const auto &n : names.value()) {
    Status err;
    json s = vdbtool::StreamInfo(fs, store, n, &err);
    if (!err.ok()) return Fail(err);
    out.push_back(s);
  }
  if (as_json) {
    std::printf("%s\n", Dump(out, 2).c_str());
    return 0;
  }
  std::printf("store %s: %zu stream(s)\n", store.c_str(), out.size());
  for (const auto &s : out) {
    std::printf(
        "\nstream '%s': %zu segment(s), %" PRIu64 " frames, %.1f MB%s\n",
        s["stream"].get<std::string>().c_str(), s["segments"].get<size_t>(),
        s["frames"].get<uint64_t>(), s["bytes"].get<uint64_t>() / 1e6,
        s["open"].get<bool>() ? " (last segment open: being written or not recovered)" : "");
    if (s["in_bucket"].get<uint64_t>())
      std::printf("  in the bucket: %" PRIu64 " segment(s), %" PRIu64 " of them only there\n",
                  s["in_bucket"].get<uint64_t>(), s["bucket_only"].get<uint64_t>());
    for (const auto &tr : s["tracks"])
      std::printf("  track %s: %s  %s\n", tr["pad"].get<std::string>().c_str(),
                  tr["codec"].get<std::string>().c_str(), tr["caps"].get<std::string>().c_str());
    if (s.contains("problem"))
      std::printf("  PROBLEM: %s (vdb verify; vdb repair)\n",
                  s["problem"].get<std::string>().c_str());
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

int Verify(Fs *fs, const std::string &store, bool as_json) {
  Status st = PrepareStore(fs, store, false);
  if (!st.ok()) return Fail(st);
  auto names = ListStreams(fs, store);
  if (!names.ok()) return Fail(names.status());
  json problems = json::array();
  uint64_t records = 0, segments = 0;
  for (const auto &n : names.value()) {
    auto progress = [&](const StreamCheck &c) {
      if (!as_json)
        std::fprintf(stderr, "\rverified %" PRIu64 " segments, %" PRIu64 " records",
                     segments + c.segments, records + c.records);
    };
    auto check = VerifyStream(fs, store, n, progress);
    if (!check.ok()) {
      problems.push_back({{"stream", n}, {"error", check.status().ToString()}});
      continue;
    }
    segments += check->segments;
    records += check->records;
    for (const auto &p : check->problems) {
      json j = {{"stream", n}, {"error", p.error}};
      if (p.segment) j["segment"] = p.segment;
      problems.push_back(j);
    }
  }
  if (as_json) {
    std::printf("%s\n",
                Dump(json{{"segments", segments}, {"records", records}, {"problems", problems}}, 2)
                    .c_str());
  } else {
    std::fprintf(stderr, "\n");
    for (const auto &p : problems) std::printf("PROBLEM: %s\n", Dump(p).c_str());
    std::printf("%" PRIu64 " segments, %" PRIu64 " records checked: %s\n", segments, records,
                problems.empty() ? "OK" : "DAMAGED (vdb repair fixes what can be fixed)");
  }
  return problems.empty() ? 0 : 1;
}

// A stream being recorded is locked: say so and go on with the others.
void Busy(const std::string &cmd, const std::string &stream, json *busy, bool as_json) {
  busy->push_back(stream);
  if (!as_json)
    std::fprintf(stderr,
                 "vdb %s: stream '%s' is being recorded: skipped (its recorder applies "
                 "its own retention and recovery)\n",
                 cmd.c_str(), stream.c_str());
}

int Repair(const std::string &store) {
  Status st = PrepareStore(DefaultFs(), store, false);
  if (!st.ok()) return Fail(st);
  auto names = ListStreams(DefaultFs(), store);
  if (!names.ok()) return Fail(names.status());
  json busy = json::array();
  for (const auto &n : names.value()) {
    RecoveryReport rep;
    auto w = Writer::Open(DefaultFs(), store, n, {}, &rep);
    if (!w.ok() && w.status().code() == Code::kLocked) {
      Busy("repair", n, &busy, false);
      continue;
    }
    if (!w.ok()) return Fail(w.status());
    // Recovery did the cheap part; now every sealed segment, record by record.
    st = (*w)->Repair(&rep);
    if (!st.ok()) return Fail(st);
    std::printf("stream '%s': %s\n", n.c_str(),
                rep.empty() ? "nothing to repair" : rep.ToString().c_str());
  }
  return busy.empty() ? 0 : 1;
}

// Parses "7d", "12h", "30m", "45s" (or plain ns).
bool ParseAge(const std::string &s, uint64_t *ns) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return false;
  std::string unit(end);
  double mul = unit.empty()  ? 1
               : unit == "s" ? 1e9
               : unit == "m" ? 60e9
               : unit == "h" ? 3600e9
               : unit == "d" ? 86400e9
                             : -1;
  if (mul < 0) return false;
  *ns = uint64_t(v * mul);
  return true;
}

// Deletes segments through the stream's writer lock (refused while recording).
// A segment in the store's bucket loses only its local copy: it stays
// listed and plays from the bucket (the bucket has its own retention).
// `room`: what Writer::Open may delete first if the disk is too full to
// recover (the same footage the command is deleting anyway).
int Delete(const std::string &store, const std::vector<std::string> &streams,
           const std::function<bool(const SegmentInfo &)> &doomed, const RetentionPolicy &room,
           bool as_json) {
  json deleted = json::array(), evicted = json::array(), busy = json::array();
  WriterOptions options;
  options.retention = room;
  for (const auto &name : streams) {
    auto w = Writer::Open(DefaultFs(), store, name, options, nullptr);
    if (!w.ok() && w.status().code() == Code::kLocked && streams.size() > 1) {
      Busy("prune", name, &busy, as_json);
      continue;
    }
    if (!w.ok()) return Fail(w.status());
    for (const auto &s : (*w)->segments()) {
      if (!s.sealed() || !s.local() || !doomed(s)) continue;
      auto freed = (*w)->FreeLocal(s.id);
      if (!freed.ok()) return Fail(freed.status());
      (*freed ? evicted : deleted)
          .push_back({{"stream", name}, {"segment", s.id}, {"bytes", s.bytes}});
      if (!as_json)
        std::printf("%s %s segment %" PRIu64 "\n", *freed ? "removed the local copy of" : "deleted",
                    name.c_str(), s.id);
    }
  }
  if (as_json)
    std::printf("%s\n",
                Dump(json{{"deleted", deleted}, {"evicted", evicted}, {"busy", busy}}, 2).c_str());
  else
    std::printf("%zu segment(s) deleted, %zu kept only in the bucket%s\n", deleted.size(),
                evicted.size(), busy.empty() ? "" : ", busy streams skipped");
  return busy.empty() ? 0 : 1;
}

uint64_t NowUtc() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * kSec + uint64_t(ts.tv_nsec);
}

void Usage() {
  std::fprintf(
      stderr,
      "usage: vdb info STORE [--json]\n"
      "       vdb verify STORE [--json]\n"
      "       vdb repair STORE\n"
      "       vdb export STORE --stream S [--from T] [--to T] OUT.mp4\n"
      "       vdb rm STORE --stream S [--before T] [--json]\n"
      "       vdb prune STORE --older-than AGE [--json]\n"
      "       vdb upload STORE --to s3://BUCKET/PREFIX [--stream S] [--json]\n"
      "                 sealed segments to S3-compatible storage (resumable)\n"
      "       vdb serve STORE [--listen HOST:PORT] [--max-range AGE] [--max-file-mb N]\n"
      "                 [--cache-mb N] [--workers N] [--web DIR]\n"
      "                 HTTP: list, MP4, HLS, thumbnails, a web page (README: vdb serve)\n"
      "STORE for info, verify and export may be s3://BUCKET/PREFIX (a bucket `vdb upload` fills);\n"
      "  with s3://: --endpoint URL (or AWS_ENDPOINT_URL), --region R; credentials from\n"
      "  AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials\n"
      "T: ISO 8601 UTC (2026-11-23T10:00:00Z) or ns since 1970; AGE: 30m, 12h, 7d\n");
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    }
    if (a == "--json" || a == "--quiet")
      opt[a] = "1";
    else if (a.rfind("--", 0) == 0 && i + 1 < argc)
      opt[a] = argv[++i];
    else
      pos.push_back(a);
  }
  if (pos.size() < 2) {
    Usage();
    return 2;
  }
  const std::string &cmd = pos[0], &store = pos[1];
  bool as_json = opt.count("--json");
  vdb::remote::RemoteArgs remote{opt["--endpoint"], opt["--region"]};
  if (cmd == "info" || cmd == "verify") {
    auto loc = vdb::remote::StoreLocation::Open(store, remote);
    if (!loc.ok()) return Fail(loc.status());
    if (!(*loc)->problem().empty())
      std::fprintf(stderr, "vdb: warning: %s: %s\n", store.c_str(), (*loc)->problem().c_str());
    return cmd == "info" ? Info((*loc)->fs(), (*loc)->path(), as_json)
                         : Verify((*loc)->fs(), (*loc)->path(), as_json);
  }
  if (cmd == "upload") {
    if (!opt.count("--to")) {
      Usage();
      return 2;
    }
    return vdbtool::Upload(store, opt["--to"], remote, opt["--stream"], as_json);
  }
  if (cmd == "repair") return Repair(store);
  if (cmd == "export") {
#ifdef VDB_HAVE_GST
    if (pos.size() != 3 || !opt.count("--stream")) {
      Usage();
      return 2;
    }
    return vdbtool::Export(store, opt["--stream"], opt["--from"], opt["--to"], pos[2],
                           opt.count("--quiet"), remote);
#else
    std::fprintf(stderr, "vdb export: this build has no GStreamer\n");
    return 2;
#endif
  }
  if (vdb::remote::IsS3Url(store)) {
    std::fprintf(stderr,
                 "vdb %s: a store in a bucket is read by info, verify and export; %s works on a "
                 "local store\n",
                 cmd.c_str(), cmd.c_str());
    return 2;
  }
  if (cmd == "serve") {
#ifdef VDB_HAVE_SERVE
    vdbserve::ServeOptions so;
    so.store = store;
    if (opt.count("--listen")) so.listen = opt["--listen"];
    if (opt.count("--web")) so.web_dir = opt["--web"];
    if (opt.count("--max-file-mb"))
      so.max_file_bytes = std::strtoull(opt["--max-file-mb"].c_str(), nullptr, 10) << 20;
    if (opt.count("--cache-mb"))
      so.cache_bytes = std::strtoull(opt["--cache-mb"].c_str(), nullptr, 10) << 20;
    if (opt.count("--workers"))
      so.workers = unsigned(std::max(1, std::atoi(opt["--workers"].c_str())));
    if (opt.count("--max-range") && !ParseAge(opt["--max-range"], &so.max_range)) {
      std::fprintf(stderr, "vdb serve: bad --max-range '%s': use e.g. 30m, 6h\n",
                   opt["--max-range"].c_str());
      return 2;
    }
    return vdbserve::Serve(so);
#else
    std::fprintf(stderr, "vdb serve: this build has no GStreamer or libsoup-3\n");
    return 2;
#endif
  }
  if (cmd == "rm") {
    if (!opt.count("--stream")) {
      Usage();
      return 2;
    }
    uint64_t before = UINT64_MAX;
    if (opt.count("--before") && !ParseUtc(opt["--before"], &before)) {
      std::fprintf(stderr, "vdb rm: bad time '%s'\n", opt["--before"].c_str());
      return 2;
    }
    return Delete(
        store, {opt["--stream"]},
        [before](const SegmentInfo &s) { return s.UtcAt(s.end_pts) <= before; }, {}, as_json);
  }
  if (cmd == "prune") {
    uint64_t age;
    if (!opt.count("--older-than") || !ParseAge(opt["--older-than"], &age)) {
      Usage();
      return 2;
    }
    auto names = ListStreams(DefaultFs(), store);
    if (!names.ok()) return Fail(names.status());
    uint64_t now = NowUtc();
    return Delete(
        store, names.value(),
        [now, age](const SegmentInfo &s) {
          uint64_t end = s.UtcAt(s.end_pts);
          return end && now > end && now - end > age;
        },
        RetentionPolicy{0, age, 0}, as_json);
  }
  Usage();
  return 2;
}
