// vdbsink against GStreamer's own sinks, in one run: CPU time per frame for
// the same parsed H.264 stream into vdbsink, filesink and splitmuxsink
// (mp4mux), at 1 KB and 100 KB frames; then memory over a synthetic 24-hour
// recording. Prints figures and ratios; asserts nothing about time.
#include "bench_util.h"

using namespace bench;

namespace {

struct Row {
  const char *name;
  std::string desc;
};

void Compare(size_t frame_size, guint64 n) {
  Stream s;
  MakeStream(frame_size, &s);
  std::string dir = TempDir();
  std::vector<Row> rows = {
      {"fakesink (baseline: appsrc alone)", "fakesink sync=false"},
      {"filesink", "filesink location=" + dir + "/raw.h264"},
      {"vdbsink sync-mode=none", "vdbsink location=" + dir + "/vdb-none sync-mode=none"},
      {"  same, one segment (no rotation)", "vdbsink location=" + dir +
                                                "/vdb-one sync-mode=none max-segment-time=0 "
                                                "max-segment-bytes=0"},
      {"vdbsink (default: sync every 1 s)", "vdbsink location=" + dir + "/vdb"},
      {"splitmuxsink (mp4mux, 60 s parts)",
       "splitmuxsink location=" + dir + "/part%05d.mp4 max-size-time=60000000000"},
  };
  std::printf("\n%" G_GUINT64_FORMAT " frames of ~%zu bytes (%.0f min of 30 fps video):\n", n,
              frame_size, double(n) / 30 / 60);
  std::vector<double> per_frame;
  for (const Row &r : rows) {
    RunStats best;
    best.cpu = 1e9;
    for (int rep = 0; rep < 2; rep++) {  // best of two: less noise
      RunStats st = PushThrough(s, n, r.desc, 30, 0, [](guint64) {});
      if (st.cpu < best.cpu) best = st;
      Rm(dir);
      g_mkdir_with_parents(dir.c_str(), 0755);
    }
    per_frame.push_back(best.cpu / double(n) * 1e6);
    std::printf("  %-36s %7.2f us CPU/frame  (%5.2f s wall)\n", r.name, per_frame.back(),
                best.wall);
  }
  double base = per_frame[0];
  auto net = [&](size_t i) { return per_frame[i] - base; };
  std::printf(
      "  net of the appsrc baseline: filesink %.2f us, vdbsink %.2f us (one segment %.2f us, "
      "default sync %.2f us), splitmuxsink %.2f us\n",
      net(1), net(2), net(3), net(4), net(5));
  std::printf(
      "  ratios (total CPU/frame): vdbsink/filesink = %.2f (goal <= 1.2), "
      "vdbsink/splitmuxsink = %.2f (goal <= 0.5); one segment: %.2f, %.2f; "
      "default sync: %.2f, %.2f\n",
      per_frame[2] / per_frame[1], per_frame[2] / per_frame[5], per_frame[3] / per_frame[1],
      per_frame[3] / per_frame[5], per_frame[4] / per_frame[1], per_frame[4] / per_frame[5]);
  Rm(dir);
}

// 24 hours at 10 fps of 1 KB frames (864 000 frames, 1440 one-minute
// segments) with a quota, sampling resident memory every 2 hours of footage.
void Day(guint64 hours) {
  Stream s;
  MakeStream(1000, &s, 10);
  std::string dir = TempDir();
  const guint64 fps = 10, n = hours * 3600 * fps;
  std::vector<double> rss;
  double start_rss = RssMb();
  // sync-mode=none: this run measures memory, not the disk's fsync rate.
  RunStats st =
      PushThrough(s, n, "vdbsink location=" + dir + " sync-mode=none max-total-bytes=200000000",
                  int(fps), 2 * 3600 * fps, [&](guint64) { rss.push_back(RssMb()); });
  std::printf("\n%" G_GUINT64_FORMAT " h synthetic recording at 10 fps (%" G_GUINT64_FORMAT
              " frames, %" G_GUINT64_FORMAT " one-minute segments), 200 MB quota:\n",
              hours, n, hours * 60);
  std::printf("  resident memory every 2 h of footage (MB):");
  for (double r : rss) std::printf(" %.1f", r);
  double lo = 1e9, hi = 0;
  for (size_t i = 1; i < rss.size(); i++) lo = std::min(lo, rss[i]), hi = std::max(hi, rss[i]);
  std::printf(
      "\n  process RSS before %.1f MB; spread after the first 2 h: %.1f MB; %.2f us CPU/frame; "
      "%.1f s wall; on disk at the end: %.0f MB\n",
      start_rss, rss.size() > 1 ? hi - lo : 0.0, st.cpu / double(n) * 1e6, st.wall,
      double(DiskBytes(dir)) / 1e6);
  Rm(dir);
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  std::printf("vdbsink benchmark (%s)\n", quick ? "quick" : "full");
  Compare(1000, quick ? 3000 : 100000);
  Compare(100000, quick ? 300 : 3000);
  Day(quick ? 2 : 24);
  return 0;
}
