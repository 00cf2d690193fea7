// Engine benchmarks: append throughput against plain write() of the same
// bytes in the same run, catalog open time for 60 000 segments, random
// keyframe lookups. Prints figures; asserts nothing about time.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "reader.h"
#include "store.h"
#include "writer.h"

using namespace vdb;
using Clock = std::chrono::steady_clock;

namespace {

const uint64_t kSec = 1000000000ull;

double Seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

std::string TempDir() {
  std::string t = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/vdbbench-XXXXXX";
  return mkdtemp(t.data());
}

void Rm(const std::string &p) {
  (void)std::system(("rm -rf '" + p + "'").c_str());
}

// Frame i of a 30 fps stream with a keyframe every second.
Frame FrameAt(size_t i, const std::string &d) {
  Frame f;
  f.data = d.data();
  f.size = d.size();
  f.pts = f.dts = i * kSec / 30;
  f.duration = kSec / 30;
  f.flags = i % 30 == 0 ? kFlagKey : 0;
  return f;
}

struct Run {
  double secs;
  uint64_t bytes;
};

// Plain write() of each frame's payload, one call per frame (what a raw
// filesink does), fdatasync every `sync_every` frames (0: never).
Run PlainWrite(const std::string &dir, const std::vector<std::string> &frames, size_t n,
               size_t sync_every) {
  std::string path = dir + "/plain.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  auto t0 = Clock::now();
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    const std::string &f = frames[i % frames.size()];
    if (::write(fd, f.data(), f.size()) != ssize_t(f.size())) std::abort();
    bytes += f.size();
    if (sync_every && (i + 1) % sync_every == 0) ::fdatasync(fd);
  }
  ::fdatasync(fd);
  ::close(fd);
  Run r{Seconds(t0), bytes};
  ::unlink(path.c_str());
  return r;
}

// rotate: 1-minute segments of stream time (at 30 fps, one per 1800 frames);
// otherwise everything goes into one segment (the per-frame path alone).
Run EngineWrite(const std::string &dir, const std::vector<std::string> &frames, size_t n,
                SyncMode mode, bool rotate) {
  WriterOptions o;
  o.sync_mode = mode;
  o.max_segment_duration = rotate ? 60 * kSec : 0;
  auto t0 = Clock::now();
  uint64_t bytes = 0;
  {
    auto w = Writer::Open(DefaultFs(), dir + "/store", "bench", o, nullptr);
    if (!w.ok() || !(*w)->SetCaps("h264", "video/x-h264").ok()) std::abort();
    for (size_t i = 0; i < n; i++) {
      const std::string &d = frames[i % frames.size()];
      if (!(*w)->Append(FrameAt(i, d)).ok()) std::abort();
      bytes += d.size();
    }
    if (!(*w)->Close().ok()) std::abort();
  }
  Run r{Seconds(t0), bytes};
  Rm(dir + "/store");
  return r;
}

template <typename F>
Run Best(int reps, F f) {
  Run best{1e9, 0};
  for (int i = 0; i < reps; i++) {
    Run r = f();
    if (r.secs < best.secs) best = r;
  }
  return best;
}

void AppendThroughput(const std::string &dir, size_t frame_size, size_t n) {
  std::vector<std::string> frames(64);
  std::mt19937 rng(1);
  for (auto &f : frames) {
    f.resize(frame_size);
    for (auto &c : f) c = char(rng());
  }
  Run plain = Best(3, [&] { return PlainWrite(dir, frames, n, 0); });
  Run eng = Best(3, [&] { return EngineWrite(dir, frames, n, SyncMode::kNone, false); });
  Run eng_r = Best(3, [&] { return EngineWrite(dir, frames, n, SyncMode::kNone, true); });
  Run plain_s = Best(3, [&] { return PlainWrite(dir, frames, n, 30); });
  Run eng_s = Best(3, [&] { return EngineWrite(dir, frames, n, SyncMode::kInterval, true); });
  auto line = [&](const char *what, Run r, Run base) {
    std::printf("  %-38s %9.0f frames/s %8.1f MB/s  ratio %.2f\n", what, n / r.secs,
                r.bytes / r.secs / 1e6, base.secs / r.secs);
  };
  std::printf("append %zu frames of %zu bytes:\n", n, frame_size);
  line("plain write()", plain, plain);
  line("vdb engine (sync none, one segment)", eng, plain);
  line("vdb engine (sync none, 1-min segments)", eng_r, plain);
  line("plain write() + fdatasync/30 frames", plain_s, plain_s);
  line("vdb engine (sync-interval 1 s @30fps)", eng_s, plain_s);
}

long MaxRssKb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

void CatalogOpen(const std::string &dir, size_t segments) {
  std::string sdir = dir + "/cat/s";
  if (!PrepareStore(DefaultFs(), dir + "/cat", true).ok()) std::abort();
  if (!DefaultFs()->MakeDirs(sdir).ok()) std::abort();
  std::vector<SegmentInfo> infos(segments);
  for (size_t i = 0; i < segments; i++) {
    infos[i].id = i + 1;
    infos[i].state = SegmentState::kSealed;
    infos[i].first_pts = i * 60 * kSec;
    infos[i].end_pts = (i + 1) * 60 * kSec;
    infos[i].utc_start = 1700000000 * kSec + infos[i].first_pts;
    infos[i].frames = 1800;
    infos[i].bytes = 1800 * 5000;
  }
  if (!CatalogFile::Rewrite(DefaultFs(), sdir, infos).ok()) std::abort();
  infos.clear();
  infos.shrink_to_fit();
  double best = 1e9;
  size_t mem = 0;
  for (int i = 0; i < 5; i++) {
    auto t0 = Clock::now();
    auto r = Reader::Open(DefaultFs(), dir + "/cat", "s");
    double s = Seconds(t0);
    if (!r.ok() || (*r)->segments().size() != segments) std::abort();
    best = std::min(best, s);
    mem = (*r)->segments().capacity() * sizeof(SegmentInfo);
  }
  std::printf("catalog open, %zu segments (%.0f hours of 1-min segments): %.1f ms, %.1f MB\n",
              segments, segments / 60.0, best * 1e3, mem / 1e6);
  Rm(dir + "/cat");
}

void KeyframeLookups(const std::string &dir) {
  WriterOptions o;
  o.sync_mode = SyncMode::kNone;
  o.max_segment_duration = 60 * kSec;
  const size_t n = 30 * 3600;  // one hour at 30 fps: 60 segments of 1800 frames
  {
    auto w = Writer::Open(DefaultFs(), dir + "/kf", "s", o, nullptr);
    if (!w.ok() || !(*w)->SetCaps("h264", "video/x-h264").ok()) std::abort();
    std::string d(200, 'x');
    for (size_t i = 0; i < n; i++)
      if (!(*w)->Append(FrameAt(i, d)).ok()) std::abort();
  }
  auto r = Reader::Open(DefaultFs(), dir + "/kf", "s");
  std::mt19937_64 rng(5);
  const int lookups = 20000;
  auto t0 = Clock::now();
  for (int i = 0; i < lookups; i++) {
    if (!(*r)->FindKeyframe(rng() % (3600 * kSec), Snap::kBefore).ok()) std::abort();
  }
  double s = Seconds(t0);
  std::printf("random keyframe lookups over 1 h (60 segments, 4 cached): %.0f lookups/s\n",
              lookups / s);
  // Within cached segments only: the pure search cost.
  t0 = Clock::now();
  for (int i = 0; i < lookups * 10; i++) {
    if (!(*r)->FindKeyframe(rng() % (120 * kSec), Snap::kBefore).ok()) std::abort();
  }
  std::printf("keyframe lookups within cached segments: %.0f lookups/s\n",
              lookups * 10 / Seconds(t0));
  Rm(dir + "/kf");
}

}  // namespace

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  std::string dir = TempDir();
  std::printf("vdb engine benchmark (%s)\n", quick ? "quick" : "full");
  AppendThroughput(dir, 1000, quick ? 20000 : 200000);
  AppendThroughput(dir, 100000, quick ? 500 : 5000);
  long rss0 = MaxRssKb();
  CatalogOpen(dir, 60000);
  std::printf("  peak RSS growth during catalog open: %.1f MB\n", (MaxRssKb() - rss0) / 1e3);
  KeyframeLookups(dir);
  Rm(dir);
  return 0;
}
