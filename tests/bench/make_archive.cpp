// make_archive: a long archive of real encoded footage, written through the
// engine's Writer (the real write path: frame and index files, metadata,
// catalog), without GStreamer and without encoding anything.
//
//   make_archive SRC_STORE SRC_STREAM DST_STORE DST_STREAM --days D
//                [--segment-seconds 60] [--end-utc T] [--force]
//
// It reads every frame of the source stream's video track (a short real
// recording, e.g. 60 s of x264enc through vdbsink) with the engine Reader and
// loops it: each pass shifts pts/dts by the source's length, so the result is
// one continuous recording of D days (D may be a fraction) with a new segment
// every --segment-seconds, cut at a keyframe by the Writer as vdbsink's
// max-segment-time does. UTC runs with the stream time and the recording ends
// at --end-utc (2026-11-25T12:00:00Z or ns since 1970; default: now, rounded down to
// a whole minute). The source must start with a keyframe and, for segments
// of exactly --segment-seconds, have keyframes at multiples of it.
//
// Sync mode is none (vdbsink's sync-mode=none): sealing a segment still
// syncs it and the catalog, as the Writer always does. Prints what it wrote
// and how long it took. DST_STREAM must not exist yet (--force removes it).
#include <sys/stat.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "reader.h"
#include "segment_info.h"
#include "store.h"
#include "writer.h"

namespace {

struct SrcFrame {
  std::vector<uint8_t> data;
  uint64_t pts, dts, duration;
  uint32_t flags;
};

[[noreturn]] void Die(const std::string &what) {
  std::fprintf(stderr, "make_archive: %s\n", what.c_str());
  std::exit(1);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string IsoUtc(uint64_t ns) {
  time_t s = time_t(ns / 1000000000ull);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2026-11-25T12:00:00Z" or ns since 1970.
bool ParseUtc(const std::string &text, uint64_t *ns) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    *ns = std::strtoull(text.c_str(), nullptr, 10);
    return true;
  }
  struct tm tm {};
  const char *end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) return false;
  *ns = uint64_t(timegm(&tm)) * 1000000000ull;
  return true;
}

void Usage() {
  std::fprintf(stderr,
               "usage: make_archive SRC_STORE SRC_STREAM DST_STORE DST_STREAM --days D "
               "[--segment-seconds 60] [--end-utc T] [--force]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> pos;
  double days = -1;
  uint64_t seg_seconds = 60;
  uint64_t end_utc = 0;
  bool force = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--days")
      days = std::atof(value().c_str());
    else if (a == "--segment-seconds")
      seg_seconds = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--end-utc") {
      if (!ParseUtc(value(), &end_utc)) Die("bad --end-utc");
    } else if (a == "--force")
      force = true;
    else if (a.rfind("--", 0) == 0)
      Usage();
    else
      pos.push_back(a);
  }
  if (pos.size() != 4 || !(days > 0) || seg_seconds == 0) Usage();
  const std::string src_store = pos[0], src_stream = pos[1], dst_store = pos[2],
                    dst_stream = pos[3];
  vdb::Fs *fs = vdb::DefaultFs();

  // The source: every video frame, in order.
  auto reader = vdb::Reader::Open(fs, src_store, src_stream);
  if (!reader.ok()) Die("source: " + reader.status().ToString());
  std::vector<SrcFrame> src;
  std::string caps;
  std::vector<uint8_t> buf;
  std::vector<vdb::FrameView> views;
  for (size_t i = 0; i < (*reader)->segments().size(); i++) {
    auto seg = (*reader)->Segment(i);
    if (!seg.ok()) Die("source segment: " + seg.status().ToString());
    if ((*seg)->size() == 0) continue;
    if (caps.empty()) caps = (*seg)->caps();
    if ((*seg)->caps() != caps) Die("the source changes caps: loop a source with one caps");
    vdb::Status st = (*seg)->Read(0, (*seg)->size(), &buf, &views);
    if (!st.ok()) Die("source frames: " + st.ToString());
    for (const auto &v : views) {
      SrcFrame f;
      f.data.assign(buf.begin() + long(v.data_offset),
                    buf.begin() + long(v.data_offset + v.header.payload_size));
      f.pts = v.header.pts;
      f.dts = v.header.dts;
      f.duration = v.header.duration;
      f.flags = v.header.flags & 0xffu & ~vdb::kFlagDiscont;
      if (f.pts == vdb::kNoTime) Die("a source frame has no pts");
      src.push_back(std::move(f));
    }
  }
  if (src.empty()) Die("the source has no frames");
  if (!(src[0].flags & vdb::kFlagKey)) Die("the source does not start with a keyframe");
  const uint64_t base = src[0].pts;
  uint64_t period = 0;  // the source's length: max(pts + duration) - first pts
  uint64_t src_bytes = 0;
  for (const auto &f : src) {
    uint64_t d = f.duration != vdb::kNoTime ? f.duration : 0;
    if (f.pts + d - base > period) period = f.pts + d - base;
    src_bytes += f.data.size();
  }
  if (period == 0) Die("the source has no duration");
  const std::string codec = vdb::CodecOfCaps(caps);

  const uint64_t total = uint64_t(std::llround(days * 86400.0)) * 1000000000ull;
  if (end_utc == 0) {
    uint64_t now = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
    end_utc = now / 60000000000ull * 60000000000ull;
  }
  if (end_utc < total) Die("--end-utc is before 1970 + the archive's length");
  const uint64_t start_utc = end_utc - total;

  auto dir = vdb::StreamDir(dst_store, dst_stream);
  if (!dir.ok()) Die(dir.status().ToString());
  struct stat sb;
  if (stat(dir->c_str(), &sb) == 0) {
    if (!force) Die(*dir + " exists (--force removes it)");
    if (std::system(("rm -rf '" + *dir + "'").c_str()) != 0) Die("could not remove " + *dir);
  }

  std::printf("make_archive: source %zu frames, %.3f s, %" PRIu64
              " payload bytes, codec %s; writing %.3f days (%s .. %s) in %" PRIu64
              " s segments\n",
              src.size(), double(period) / 1e9, src_bytes, codec.c_str(), days,
              IsoUtc(start_utc).c_str(), IsoUtc(end_utc).c_str(), seg_seconds);
  std::fflush(stdout);

  vdb::WriterOptions opt;
  opt.max_segment_duration = seg_seconds * 1000000000ull;
  opt.sync_mode = vdb::SyncMode::kNone;
  vdb::RecoveryReport report;
  auto writer = vdb::Writer::Open(fs, dst_store, dst_stream, opt, &report);
  if (!writer.ok()) Die("writer: " + writer.status().ToString());
  vdb::Status st = (*writer)->SetCaps(codec, caps);
  if (!st.ok()) Die("caps: " + st.ToString());

  double t0 = Now(), last_report = t0;
  uint64_t frames = 0, bytes = 0;
  for (uint64_t pass = 0;; pass++) {
    const uint64_t shift = pass * period;
    if (shift >= total) break;
    bool done = false;
    for (const auto &s : src) {
      uint64_t rel = s.pts - base + shift;  // stream time since the archive's start
      if (rel >= total) {
        done = true;
        break;
      }
      vdb::Frame f;
      f.data = s.data.data();
      f.size = s.data.size();
      f.pts = s.pts + shift;
      f.dts = s.dts != vdb::kNoTime ? s.dts + shift : vdb::kNoTime;
      f.duration = s.duration;
      f.flags = s.flags;
      f.utc = start_utc + rel;
      st = (*writer)->Append(f);
      if (!st.ok()) Die("append: " + st.ToString());
      frames++;
      bytes += f.size;
    }
    if (done) break;
    double now = Now();
    if (now - last_report > 10) {
      last_report = now;
      std::printf("  %.1f%% (%.0f s)\n", 100.0 * double(shift) / double(total), now - t0);
      std::fflush(stdout);
    }
  }
  st = (*writer)->Close();
  if (!st.ok()) Die("close: " + st.ToString());
  size_t segments = (*writer)->segments().size();
  writer->reset();
  double secs = Now() - t0;

  uint64_t disk = 0;
  if (FILE *f = popen(("du -sb '" + *dir + "' | cut -f1").c_str(), "r")) {
    unsigned long long v = 0;
    if (fscanf(f, "%llu", &v) == 1) disk = v;
    pclose(f);
  }
  std::printf("make_archive: wrote %" PRIu64 " frames (%" PRIu64
              " payload bytes) in %zu segments, %.1f s (%.0f frames/s, %.1f MB/s of payload); "
              "stream directory %.1f MB on disk\n",
              frames, bytes, segments, secs, double(frames) / secs, double(bytes) / secs / 1e6,
              double(disk) / 1e6);
  std::printf("start_utc=%" PRIu64 " end_utc=%" PRIu64 " segments=%zu frames=%" PRIu64
              " disk_bytes=%" PRIu64 " seconds=%.1f\n",
              start_utc, end_utc, segments, frames, disk, secs);
  return 0;
}
