// Playback latency as a player sees it, vdbsrc against the same footage in
// one MP4 file and in splitmuxsink parts, in one run: time from PLAYING to
// the first frame at a clock-synced sink (what gst-play-1.0 shows first),
// and flushing key-unit seeks to the first new frame (PAUSED, ASYNC_DONE),
// through decodebin. Real H.264 from x264enc, 1-minute segments/parts.
// Prints figures and ratios; asserts nothing.
//   play_bench [--quick]   (quick: 2 minutes of footage, 5 seeks; default 10 minutes, 40 seeks)
#include <algorithm>
#include <random>

#include "bench_util.h"

using namespace bench;

namespace {

bool Run(const std::string &desc) {
  GError *err = NULL;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  if (!p) return false;
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  bool ok = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (!ok) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    std::fprintf(stderr, "%s: %s\n", desc.c_str(), e->message);
    g_error_free(e);
  }
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return ok;
}

GstMessage *Wait(GstElement *p, GstMessageType t) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m =
      gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, GstMessageType(t | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  return m;
}

struct Result {
  double first_frame_ms = 0, seek_median_ms = 0, seek_p95_ms = 0;
};

Result Measure(const std::string &src, guint64 duration, int seeks) {
  Result r;
  std::string desc = src + " ! decodebin ! fakesink name=sink sync=true";
  GstElement *p = gst_parse_launch(desc.c_str(), NULL);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
  g_object_set(sink, "signal-handoffs", TRUE, NULL);
  double t0 = WallSeconds(), first = 0;
  g_signal_connect(sink, "handoff",
                   G_CALLBACK(+[](GstElement *, GstBuffer *, GstPad *, gpointer d) {
                     double *f = static_cast<double *>(d);
                     if (*f == 0) *f = WallSeconds();
                   }),
                   &first);
  gst_element_set_state(p, GST_STATE_PLAYING);
  while (first == 0 && WallSeconds() - t0 < 30) g_usleep(200);
  r.first_frame_ms = (first - t0) * 1e3;
  gst_element_set_state(p, GST_STATE_PAUSED);
  gst_element_get_state(p, NULL, NULL, GST_CLOCK_TIME_NONE);
  std::mt19937_64 rng(7);
  std::vector<double> lat;
  for (int i = 0; i < seeks; i++) {
    guint64 target = rng() % (duration - GST_SECOND);
    double s0 = WallSeconds();
    gst_element_seek_simple(p, GST_FORMAT_TIME,
                            GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                            gint64(target));
    GstMessage *m = Wait(p, GST_MESSAGE_ASYNC_DONE);
    lat.push_back((WallSeconds() - s0) * 1e3);
    if (m) gst_message_unref(m);
  }
  std::sort(lat.begin(), lat.end());
  r.seek_median_ms = lat[lat.size() / 2];
  r.seek_p95_ms = lat[std::min(lat.size() - 1, lat.size() * 95 / 100)];
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int minutes = quick ? 2 : 10, seeks = quick ? 5 : 40;
  const guint64 frames = guint64(minutes) * 60 * 30;
  std::string dir = TempDir();
  // One encode, three containers: tee into vdbsink, mp4mux and splitmuxsink.
  std::string enc = "videotestsrc num-buffers=" + std::to_string(frames) +
                    " pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! "
                    "x264enc speed-preset=ultrafast key-int-max=30 bframes=2 ! h264parse ! "
                    "video/x-h264,stream-format=avc,alignment=au ! tee name=t "
                    "t. ! queue ! vdbsink location=" +
                    dir +
                    "/vdb stream=cam max-segment-time=60000000000 "
                    "t. ! queue ! mp4mux ! filesink location=" +
                    dir +
                    "/one.mp4 "
                    "t. ! queue ! splitmuxsink location=" +
                    dir + "/part%05d.mp4 max-size-time=60000000000";
  double w0 = WallSeconds();
  if (!Run(enc)) return 1;
  std::printf("play_bench: %d min of 320x240 H.264 (B-frames) recorded three ways in %.1f s\n",
              minutes, WallSeconds() - w0);
  guint64 duration = guint64(minutes) * 60 * GST_SECOND;
  struct {
    const char *name;
    std::string src;
  } cases[] = {
      {"vdbsrc", "vdbsrc location=" + dir + "/vdb stream=cam"},
      {"one MP4 (filesrc)", "filesrc location=" + dir + "/one.mp4"},
      {"splitmuxsrc", "splitmuxsrc location=\"" + dir + "/part*.mp4\""},
  };
  Result res[3];
  Measure(cases[0].src, duration, 1);  // loads the plugins (decoder, parsers) once for all
  for (int i = 0; i < 3; i++) {
    res[i] = Measure(cases[i].src, duration, seeks);
    std::printf(
        "%-18s first frame %7.1f ms   key-unit seek to frame: median %6.1f ms, p95 %6.1f ms\n",
        cases[i].name, res[i].first_frame_ms, res[i].seek_median_ms, res[i].seek_p95_ms);
  }
  for (int i = 1; i < 3; i++)
    std::printf("vdbsrc vs %-18s first frame %.2fx faster, seek median %.2fx faster\n",
                cases[i].name, res[i].first_frame_ms / res[0].first_frame_ms,
                res[i].seek_median_ms / res[0].seek_median_ms);
  Rm(dir);
  return 0;
}
