// Hostile-store benchmark (issue 12's figures): catalog load in id order,
// descending and shuffled against reading the same bytes with read(2);
// segment open with a 50 GB sparse index; a resynchronising scan over 500
// fake record headers claiming 250 MiB each; a 100 MB metadata file; verify
// throughput against reading the same files. Prints figures; asserts nothing
// about time.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "catalog.h"
#include "reader.h"
#include "record_scan.h"
#include "store.h"
#include "verify.h"
#include "writer.h"

using namespace vdb;
using Clock = std::chrono::steady_clock;

namespace {

const uint64_t kSec = 1000000000ull;

std::string TempDir() {
  std::string t = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/vdbbench-XXXXXX";
  if (!mkdtemp(t.data())) std::abort();
  return t;
}

void Rm(const std::string &p) {
  (void)std::system(("rm -rf '" + p + "'").c_str());
}

long MaxRssKb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double Seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

void Check(const Status &st) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    std::abort();
  }
}

// Reads a file with read(2) in 1 MiB chunks: the baseline.
double ReadFileSeconds(const std::string &path) {
  auto t0 = Clock::now();
  int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<char> buf(1 << 20);
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
  return Seconds(t0);
}

void CatalogOrders(const std::string &dir, const std::vector<size_t> &sizes) {
  std::string sdir = dir + "/cat";
  Check(DefaultFs()->MakeDirs(sdir));
  for (size_t n : sizes) {
    std::vector<SegmentInfo> infos(n);
    for (size_t i = 0; i < n; i++) {
      infos[i].id = i + 1;
      infos[i].state = SegmentState::kSealed;
      infos[i].first_pts = i * 60 * kSec;
      infos[i].end_pts = (i + 1) * 60 * kSec;
    }
    for (const char *order : {"id order", "descending", "shuffled"}) {
      std::vector<SegmentInfo> v = infos;
      if (std::string(order) == "descending") std::reverse(v.begin(), v.end());
      if (std::string(order) == "shuffled") std::shuffle(v.begin(), v.end(), std::mt19937(1));
      std::string data(kFileHeaderSize, '\0');
      EncodeFileHeader(FileHeader{FileKind::kCatalog, kFormatVersion, 1},
                       reinterpret_cast<uint8_t *>(data.data()));
      uint8_t rec[kCatalogRecordSize];
      for (const auto &s : v) {
        Catalog::EncodeRecord(CatalogOp::kSealed, s, rec);
        data.append(reinterpret_cast<char *>(rec), sizeof rec);
      }
      Check(WriteFileAtomic(DefaultFs(), Catalog::Path(sdir), data, Durability::kNone));
      double best = 1e9, base = 1e9;
      for (int i = 0; i < 3; i++) {
        auto t0 = Clock::now();
        auto c = Catalog::Load(DefaultFs(), sdir);
        double s = Seconds(t0);
        if (!c.ok() || c->segments().size() != n) std::abort();
        best = std::min(best, s);
        base = std::min(base, ReadFileSeconds(Catalog::Path(sdir)));
      }
      std::printf(
          "catalog load, %6zu segments, %-10s: %7.1f ms (read(2) of its %.1f MB: %.1f ms)\n", n,
          order, best * 1e3, data.size() / 1e6, base * 1e3);
    }
  }
}

// A stream of `n` frames of `size` bytes in 60 s segments.
void Record(const std::string &store, size_t n, size_t size) {
  WriterOptions o;
  o.sync_mode = SyncMode::kNone;
  o.max_segment_duration = 60 * kSec;
  auto w = Writer::Open(DefaultFs(), store, "cam", o, nullptr);
  if (!w.ok()) std::abort();
  Check((*w)->SetCaps("h264", "video/x-h264, stream-format=byte-stream"));
  std::string d(size, 'v');
  for (size_t i = 0; i < n; i++) {
    Frame f;
    f.data = d.data();
    f.size = d.size();
    f.pts = f.dts = i * kSec / 30;
    f.duration = kSec / 30;
    f.flags = i % 30 == 0 ? kFlagKey : 0;
    Check((*w)->Append(f));
  }
  Check((*w)->Close());
}

void SparseIndex(const std::string &dir) {
  std::string store = dir + "/sparse";
  Record(store, 1800, 2000);
  std::string index = IndexPath(store + "/cam", 1);
  if (::truncate(index.c_str(), off_t(50ull << 30)) != 0) std::abort();
  long rss0 = MaxRssKb();
  auto t0 = Clock::now();
  auto r = Reader::Open(DefaultFs(), store, "cam");
  auto seg = (*r)->Segment(0);
  double s = Seconds(t0);
  if (!seg.ok() || (*seg)->size() != 1800) std::abort();
  std::printf("segment open with a 50 GB sparse index: %.1f ms, peak RSS growth %.1f MB\n", s * 1e3,
              (MaxRssKb() - rss0) / 1e3);
}

void FakeHeaders(const std::string &dir) {
  std::string store = dir + "/fake";
  Record(store, 300, 2000);
  std::string f = FramesPath(store + "/cam", 1);
  off_t size = ::lseek(::open(f.c_str(), O_RDONLY), 0, SEEK_END);
  if (::truncate(f.c_str(), off_t(300) << 20) != 0) std::abort();
  int fd = ::open(f.c_str(), O_WRONLY);
  for (int i = 0; i < 500; i++) {
    uint8_t h[kRecordHeaderSize] = {};
    Store32(h, kRecordMagic);
    Store32(h + 4, 250u << 20);
    if (::pwrite(fd, h, sizeof h, size + off_t(4096) * (i + 1)) != ssize_t(sizeof h)) std::abort();
  }
  ::close(fd);
  auto t0 = Clock::now();
  auto file = DefaultFs()->Open(f, OpenMode::kRead);
  auto scan = ScanRecords(file->get(), kFileHeaderSize, ScanMode::kResync);
  if (!scan.ok() || scan->entries.size() != 301) std::abort();
  std::printf("resync scan past 500 fake headers claiming 250 MiB (300 MB sparse file): %.1f ms\n",
              Seconds(t0) * 1e3);
}

void HugeMetadata(const std::string &dir) {
  std::string store = dir + "/meta";
  Record(store, 300, 2000);
  std::string m = MetaPath(store + "/cam", 1);
  std::string junk(100 << 20, ' ');
  junk[0] = '{';
  FILE *fp = std::fopen(m.c_str(), "w");
  std::fwrite(junk.data(), 1, junk.size(), fp);
  std::fclose(fp);
  auto t0 = Clock::now();
  auto meta = ReadSegmentMeta(DefaultFs(), store + "/cam", 1);
  if (meta.ok()) std::abort();
  std::printf("100 MB metadata file: refused in %.3f ms (%s)\n", Seconds(t0) * 1e3,
              meta.status().message().substr(0, 60).c_str());
}

void VerifySpeed(const std::string &dir, bool quick) {
  std::string store = dir + "/verify";
  size_t n = quick ? 9000 : 54000;  // 5 or 30 min at 30 fps, 20 KB frames
  Record(store, n, 20000);
  double base = 0;
  for (uint64_t id = 1; DefaultFs()->Exists(FramesPath(store + "/cam", id)); id++)
    base += ReadFileSeconds(FramesPath(store + "/cam", id)) +
            ReadFileSeconds(IndexPath(store + "/cam", id));
  auto t0 = Clock::now();
  auto check = VerifyStream(DefaultFs(), store, "cam");
  double s = Seconds(t0);
  if (!check.ok() || !check->problems.empty()) std::abort();
  double mb = n * 20040 / 1e6;
  std::printf(
      "verify %.0f MB (%zu frames): %.0f MB/s; read(2) of the same files: %.0f MB/s "
      "(ratio %.2f)\n",
      mb, n, mb / s, mb / base, s / base);
}

}  // namespace

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  std::string dir = TempDir();
  std::printf("vdb hostile-store benchmark (%s)\n", quick ? "quick" : "full");
  CatalogOrders(dir,
                quick ? std::vector<size_t>{50000} : std::vector<size_t>{50000, 100000, 200000});
  SparseIndex(dir);
  FakeHeaders(dir);
  HugeMetadata(dir);
  VerifySpeed(dir, quick);
  Rm(dir);
  return 0;
}
