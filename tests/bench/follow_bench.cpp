// Follow latency: how long after vdbsink received a frame a `follow=true`
// vdbsrc in another pipeline hands it downstream. A writer pushes frames at
// real-time pace (30 fps) into vdbsink; a follower reads them back. Prints
// median, p95 and max over the frames; asserts nothing.
//   follow_bench [--quick]   (quick: 3 s of video; default 20 s)
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "bench_util.h"

using namespace bench;

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const guint64 frames = quick ? 90 : 600;
  Stream s;
  MakeStream(4000, &s);
  std::string dir = TempDir();

  GstElement *w = gst_parse_launch(
      ("appsrc name=src format=time is-live=true ! vdbsink location=" + dir + " stream=cam")
          .c_str(),
      NULL);
  GstElement *src = gst_bin_get_by_name(GST_BIN(w), "src");
  gst_app_src_set_caps(GST_APP_SRC(src), s.caps);
  gst_element_set_state(w, GST_STATE_PLAYING);

  std::mutex mu;
  std::map<guint64, double> pushed;  // pts -> wall time it went into vdbsink
  auto push = [&](guint64 i) {
    GstBuffer *b = FrameAt(s, i);
    guint64 pts = GST_BUFFER_PTS(b);
    {
      std::lock_guard<std::mutex> l(mu);
      pushed[pts] = WallSeconds();
    }
    gst_app_src_push_buffer(GST_APP_SRC(src), b);
  };
  double start = WallSeconds();
  guint64 next = 0;
  for (; next < 15; next++) push(next);  // the stream exists before the follower opens it
  GstElement *r = gst_parse_launch(
      ("vdbsrc location=" + dir + " stream=cam follow=true ! appsink name=out sync=false").c_str(),
      NULL);
  GstElement *out = gst_bin_get_by_name(GST_BIN(r), "out");
  gst_element_set_state(r, GST_STATE_PLAYING);
  std::vector<double> lat;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      GstSample *smp = gst_app_sink_try_pull_sample(GST_APP_SINK(out), GST_SECOND);
      if (!smp) continue;
      double now = WallSeconds();
      guint64 pts = GST_BUFFER_PTS(gst_sample_get_buffer(smp));
      gst_sample_unref(smp);
      std::lock_guard<std::mutex> l(mu);
      auto it = pushed.find(pts);
      if (it != pushed.end() && pts >= 30 * GST_SECOND / 30) lat.push_back(now - it->second);
      if (lat.size() + 30 >= frames) done = true;
    }
  });
  for (; next < frames; next++) {
    double due = start + double(next) / 30.0;
    while (WallSeconds() < due) g_usleep(1000);
    push(next);
  }
  for (int i = 0; i < 300 && !done; i++) g_usleep(10000);
  done = true;
  reader.join();
  GstBus *bus = gst_element_get_bus(r);
  if (GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    std::printf("follow_bench: follower: %s\n", e->message);
    g_error_free(e);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_element_set_state(r, GST_STATE_NULL);
  gst_element_set_state(w, GST_STATE_NULL);
  gst_object_unref(out);
  gst_object_unref(r);
  gst_object_unref(src);
  gst_object_unref(w);
  Rm(dir);
  std::sort(lat.begin(), lat.end());
  if (lat.empty()) {
    std::printf("follow_bench: no frame reached the follower\n");
    return 1;
  }
  std::printf(
      "follow latency behind vdbsink, %zu frames at 30 fps: median %.1f ms, p95 %.1f ms, "
      "max %.1f ms\n",
      lat.size(), lat[lat.size() / 2] * 1e3, lat[lat.size() * 95 / 100] * 1e3, lat.back() * 1e3);
  return 0;
}
