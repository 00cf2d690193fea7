// Many cameras into one store: N streams recorded at once in real time
// (30 fps, 4 KB frames, default 1 s sync), each an appsrc into its own
// vdbsink, against the same N streams into N splitmuxsinks (mp4mux) and into
// N fakesinks (the cost of feeding them), in one run. Prints CPU per stream
// (% of one core) and peak memory; asserts nothing. (fsyncs: count them with
// `strace -f -c -e trace=fsync,fdatasync streams_bench --quick`.)
//   streams_bench [--quick]   (quick: 1 and 8 streams for 2 s; default 1, 8, 32 for 10 s)
#include <sys/resource.h>

#include "bench_util.h"

using namespace bench;

namespace {

// CPU seconds per second of video, per stream.
double Record(const Stream &s, int n, double seconds, const std::string &sink_fmt,
              const std::string &dir) {
  std::vector<GstElement *> pipes, srcs;
  for (int i = 0; i < n; i++) {
    std::string sink = sink_fmt;
    for (size_t pos; (pos = sink.find("%D")) != std::string::npos;)
      sink.replace(pos, 2, dir + "/" + std::to_string(i));
    g_mkdir_with_parents((dir + "/" + std::to_string(i)).c_str(), 0755);
    std::string desc = "appsrc name=src format=time is-live=true ! " + sink;
    GstElement *p = gst_parse_launch(desc.c_str(), NULL);
    GstElement *src = gst_bin_get_by_name(GST_BIN(p), "src");
    gst_app_src_set_caps(GST_APP_SRC(src), s.caps);
    gst_element_set_state(p, GST_STATE_PLAYING);
    pipes.push_back(p);
    srcs.push_back(src);
  }
  double c0 = CpuSeconds(), w0 = WallSeconds();
  guint64 frames = guint64(seconds * 30);
  for (guint64 f = 0; f < frames; f++) {
    double due = w0 + double(f) / 30.0;
    while (WallSeconds() < due) g_usleep(500);
    for (GstElement *src : srcs) gst_app_src_push_buffer(GST_APP_SRC(src), FrameAt(s, f));
  }
  for (GstElement *src : srcs) gst_app_src_end_of_stream(GST_APP_SRC(src));
  for (GstElement *p : pipes) {
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (m) gst_message_unref(m);
    gst_object_unref(bus);
  }
  double cpu = CpuSeconds() - c0, wall = WallSeconds() - w0;
  for (size_t i = 0; i < pipes.size(); i++) {
    gst_element_set_state(pipes[i], GST_STATE_NULL);
    gst_object_unref(srcs[i]);
    gst_object_unref(pipes[i]);
  }
  return cpu / wall / n;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  std::vector<int> counts = quick ? std::vector<int>{1, 8} : std::vector<int>{1, 8, 32};
  double seconds = quick ? 2 : 10;
  Stream s;
  MakeStream(4000, &s, 30);
  std::printf("streams_bench: N streams at 30 fps, 4 KB frames, %.0f s real time each, 2 cores\n",
              seconds);
  for (int n : counts) {
    std::string dir = TempDir();
    double base = Record(s, n, seconds, "fakesink sync=false", dir);
    double vdb = Record(s, n, seconds, "vdbsink location=%D stream=cam", dir);
    double mux = Record(s, n, seconds,
                        "splitmuxsink location=%D/part%05d.mp4 max-size-time=60000000000", dir);
    std::printf(
        "  %2d streams: CPU per stream: vdbsink %.2f%% of a core, splitmuxsink %.2f%% "
        "(feeding them alone: %.2f%%); vdbsink/splitmuxsink %.2f\n",
        n, vdb * 100, mux * 100, base * 100, vdb / mux);
    Rm(dir);
  }
  std::printf("  peak memory of the whole run: %.1f MB\n", PeakRssMb());
  return 0;
}
