// vdbsrc against splitmuxsrc over the same footage, in one run: a synthetic
// recording at 10 fps in one-minute segments, written by vdbsink and by
// splitmuxsink (mp4mux). Measures open-to-PAUSED time, peak memory, random
// key-unit seeks to the first buffer (median, p95) and full read throughput.
// Each measurement runs in a fresh process (this binary, re-executed) so
// memory figures are not mixed. Prints figures and ratios; asserts nothing.
#include <unistd.h>

#include <algorithm>
#include <map>

#include "bench_util.h"
#include "catalog.h"
#include "store.h"

using namespace bench;

namespace {

std::string Pipeline(const std::string &kind, const std::string &path) {
  if (kind == "vdb")
    return "vdbsrc location=" + path + " stream=cam ! fakesink name=sink sync=false";
  return "splitmuxsrc location=\"" + path + "/part*.mp4\" ! fakesink name=sink sync=false";
}

bool WaitAsyncDone(GstElement *p) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 600 * GST_SECOND, GstMessageType(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  bool ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ASYNC_DONE;
  if (m) gst_message_unref(m);
  return ok;
}

// Child process: one measurement, printed as "key=value" pairs.
int Measure(const std::string &kind, const std::string &path, const std::string &what) {
  double rss0 = RssMb();  // the process with GStreamer loaded, before the pipeline
  GError *err = NULL;
  GstElement *p = gst_parse_launch(Pipeline(kind, path).c_str(), &err);
  if (!p) return 1;
  guint64 frames = 0;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *, GstPadProbeInfo *, gpointer d) {
        ++*static_cast<guint64 *>(d);
        return GST_PAD_PROBE_OK;
      },
      &frames, NULL);
  gst_object_unref(pad);
  gst_object_unref(sink);
  double t0 = WallSeconds();
  gst_element_set_state(p, GST_STATE_PAUSED);
  if (!WaitAsyncDone(p)) return 1;
  double open_s = WallSeconds() - t0;
  gint64 dur = 0;
  gst_element_query_duration(p, GST_FORMAT_TIME, &dur);
  if (what == "open") {
    std::printf("open_ms=%.2f rss_mb=%.1f peak_mb=%.1f duration_h=%.2f\n", open_s * 1e3,
                RssMb() - rss0, PeakRssMb() - rss0, double(dur) / 3600e9);
  } else if (what == "seek") {
    std::mt19937_64 rng(9);
    std::vector<double> lat;
    for (int i = 0; i < 50; i++) {
      gint64 target = gint64(rng() % guint64(dur));
      double s0 = WallSeconds();
      if (!gst_element_seek_simple(p, GST_FORMAT_TIME,
                                   GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                                   target) ||
          !WaitAsyncDone(p))
        return 1;
      lat.push_back((WallSeconds() - s0) * 1e3);
    }
    std::sort(lat.begin(), lat.end());
    std::printf("seek_median_ms=%.2f seek_p95_ms=%.2f peak_mb=%.1f\n", lat[lat.size() / 2],
                lat[lat.size() * 95 / 100], PeakRssMb() - rss0);
  } else if (what == "trick") {  // every keyframe of the recording, as fast as possible
    double c0 = CpuSeconds(), r0 = WallSeconds();
    if (!gst_element_seek(p, 1.0, GST_FORMAT_TIME,
                          GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_TRICKMODE |
                                       GST_SEEK_FLAG_TRICKMODE_KEY_UNITS),
                          GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1) ||
        !WaitAsyncDone(p))
      return 1;
    frames = 0;
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    gst_message_unref(m);
    gst_object_unref(bus);
    std::printf("trick_s=%.3f trick_cpu_s=%.3f keyframes=%" G_GUINT64_FORMAT "\n",
                WallSeconds() - r0, CpuSeconds() - c0, frames);
  } else if (what == "read") {
    double c0 = CpuSeconds(), r0 = WallSeconds();
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    double secs = WallSeconds() - r0;
    gst_message_unref(m);
    gst_object_unref(bus);
    std::printf("read_fps=%.0f read_cpu_us=%.2f frames=%" G_GUINT64_FORMAT " peak_mb=%.1f\n",
                double(frames) / secs, (CpuSeconds() - c0) / double(frames) * 1e6, frames,
                PeakRssMb() - rss0);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return 0;
}

std::map<std::string, double> Run(const std::string &self, const std::string &kind,
                                  const std::string &path, const std::string &what) {
  std::string cmd = "'" + self + "' measure " + kind + " '" + path + "' " + what;
  std::map<std::string, double> out;
  FILE *f = popen(cmd.c_str(), "r");
  char buf[512];
  while (f && fgets(buf, sizeof buf, f)) {
    std::string line = buf;
    size_t pos = 0;
    while (pos < line.size()) {
      size_t eq = line.find('=', pos), sp = line.find_first_of(" \n", eq);
      if (eq == std::string::npos) break;
      out[line.substr(pos, eq - pos)] = std::atof(line.substr(eq + 1, sp - eq - 1).c_str());
      pos = sp == std::string::npos ? line.size() : sp + 1;
    }
  }
  if (!f || pclose(f) != 0) {
    std::fprintf(stderr, "measurement failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return out;
}

// A catalog of `segments` one-minute segments whose first one is real:
// opening and prerolling must cost the same as for one segment.
void HugeCatalog(const std::string &store, guint64 segments) {
  std::string dir = store + "/cam";
  auto cat = vdb::Catalog::Load(vdb::DefaultFs(), dir);
  std::vector<vdb::SegmentInfo> infos = cat->segments();
  vdb::SegmentInfo s = infos.back();
  while (infos.size() < segments) {
    s.id++;
    s.first_pts += 60 * GST_SECOND;
    s.end_pts += 60 * GST_SECOND;
    s.utc_start += 60 * GST_SECOND;
    infos.push_back(s);
  }
  if (!vdb::CatalogFile::Rewrite(vdb::DefaultFs(), dir, infos).ok()) std::exit(1);
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc == 5 && std::string(argv[1]) == "measure") return Measure(argv[2], argv[3], argv[4]);
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const guint64 hours = quick ? 1 : 24, fps = 10, n = hours * 3600 * fps;
  std::string self = "/proc/" + std::to_string(getpid()) + "/exe";
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) self.assign(exe, size_t(len));

  std::string dir = TempDir();
  Stream s;
  MakeStream(1000, &s, 30);
  std::printf("vdbsrc benchmark (%s): %" G_GUINT64_FORMAT
              " h at 10 fps, 1 KB frames, "
              "one-minute segments (%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
              " segments)\n",
              quick ? "quick" : "full", hours, n, hours * 60);
  PushThrough(s, n, "vdbsink location=" + dir + "/vdb stream=cam sync-mode=none", int(fps), 0,
              [](guint64) {});
  g_mkdir_with_parents((dir + "/mp4").c_str(), 0755);
  PushThrough(s, n, "splitmuxsink location=" + dir + "/mp4/part%05d.mp4 max-size-time=60000000000",
              int(fps), 0, [](guint64) {});

  struct Result {
    std::map<std::string, double> open, seek, read, trick;
  } r[2];
  const char *kinds[2] = {"vdb", "mp4"};
  const std::string paths[2] = {dir + "/vdb", dir + "/mp4"};
  for (int k = 0; k < 2; k++) {
    r[k].open = Run(self, kinds[k], paths[k], "open");
    r[k].seek = Run(self, kinds[k], paths[k], "seek");
    r[k].read = Run(self, kinds[k], paths[k], "read");
    r[k].trick = Run(self, kinds[k], paths[k], "trick");
  }
  const char *names[2] = {"vdbsrc", "splitmuxsrc"};
  for (int k = 0; k < 2; k++) {
    std::printf(
        "  %-12s open to PAUSED %8.1f ms (+%.1f MB, peak +%.1f MB) | key-unit seek median "
        "%.2f ms, p95 %.2f ms | full read %9.0f frames/s, %.2f us CPU/frame, peak +%.1f MB\n",
        names[k], r[k].open["open_ms"], r[k].open["rss_mb"], r[k].open["peak_mb"],
        r[k].seek["seek_median_ms"], r[k].seek["seek_p95_ms"], r[k].read["read_fps"],
        r[k].read["read_cpu_us"], r[k].read["peak_mb"]);
  }
  std::printf(
      "  ratios splitmuxsrc/vdbsrc: open %.1fx faster (goal >= 20), peak memory in read "
      "%.2f of splitmuxsrc's (goal <= 0.2), full read %.1fx faster (goal >= 5), seek "
      "median %.2fx, p95 %.2fx (goal >= 1: no slower)\n",
      r[1].open["open_ms"] / r[0].open["open_ms"], r[0].read["peak_mb"] / r[1].read["peak_mb"],
      r[0].read["read_fps"] / r[1].read["read_fps"],
      r[1].seek["seek_median_ms"] / r[0].seek["seek_median_ms"],
      r[1].seek["seek_p95_ms"] / r[0].seek["seek_p95_ms"]);
  std::printf(
      "  key-unit trick-mode scan of all %.0f keyframes as fast as possible: vdbsrc %.3f s "
      "(%.3f s CPU), splitmuxsrc %.3f s (%.3f s CPU, %.0f keyframes): %.1fx faster "
      "(goal >= 5)\n",
      r[0].trick["keyframes"], r[0].trick["trick_s"], r[0].trick["trick_cpu_s"],
      r[1].trick["trick_s"], r[1].trick["trick_cpu_s"], r[1].trick["keyframes"],
      r[1].trick["trick_s"] / r[0].trick["trick_s"]);
  if (r[0].read["frames"] != double(n) || r[1].read["frames"] != double(n))
    std::printf("  WARNING: frames read vdbsrc %.0f, splitmuxsrc %.0f, expected %" G_GUINT64_FORMAT
                "\n",
                r[0].read["frames"], r[1].read["frames"], n);

  std::printf(
      "  (memory: growth of the process's resident set over its size with GStreamer loaded "
      "and no pipeline)\n");
  // Open time for 1000 hours (60 000 segments): only the catalog grows.
  HugeCatalog(paths[0], 60000);
  auto big = Run(self, "vdb", paths[0], "open");
  std::printf(
      "  vdbsrc over 1000 h (60 000 segments): open to PAUSED %.1f ms, +%.1f MB "
      "(recording reports %.0f h)\n",
      big["open_ms"], big["rss_mb"], big["duration_h"]);
  Rm(dir);
  return 0;
}
