// splitmux_get: a range of recorded one-minute MP4 files served as an MP4
// with GStreamer's own elements, the way a MediaMTX-like server over
// splitmuxsink parts would do it: splitmuxsrc (which opens and measures every
// part it is given) seeked to the start, its frames muxed by mp4mux
// (fragmented, as a streaming server must when it cannot seek its output)
// into an appsink standing for the socket. For serve_bench.py.
//
// A long-running process (a server keeps GStreamer loaded): one request per
// line on stdin,
//   MODE START_NS STOP_NS LOCATION...
// MODE: "ttfb" stops at the first byte, "full" reads to the end. START/STOP:
// the range on splitmuxsrc's timeline (0 = the start of the first part).
// LOCATION: one glob (splitmuxsrc location=) or several files (given through
// splitmuxsrc's format-location signal, as a server that picks the parts by
// their names does). One line out per request:
//   ok open_ms=.. ttfb_ms=.. total_ms=.. bytes=.. frames=.. first_pts=..
// (times from the start of the request) or "error <message>" ("error hang
// ..." when splitmuxsrc did not preroll or seek within 10 s; the process may
// then be stuck in its teardown: the caller restarts it).
#include <atomic>
#include <iostream>
#include <sstream>

#include "bench_util.h"

using namespace bench;

namespace {

struct Out {
  std::atomic<double> first{0};
  std::atomic<guint64> bytes{0};
};

GstFlowReturn OnSample(GstAppSink *sink, gpointer data) {
  Out *o = static_cast<Out *>(data);
  GstSample *s = gst_app_sink_pull_sample(sink);
  if (!s) return GST_FLOW_ERROR;
  if (o->first.load() == 0) o->first = WallSeconds();
  o->bytes += gst_buffer_get_size(gst_sample_get_buffer(s));
  gst_sample_unref(s);
  return GST_FLOW_OK;
}

std::string BusError(GstElement *p) {
  GstBus *bus = gst_element_get_bus(p);
  std::string out;
  if (GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    out = e->message;
    g_error_free(e);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  return out;
}

// A preroll or seek that takes longer than this is reported as a hang
// ("error hang ..."): splitmuxsrc of GStreamer 1.22.0 given its parts through
// format-location sometimes never finishes preparing them (seen once in a
// few dozen requests in one process; never in a fresh process).
constexpr GstClockTime kHang = 10 * GST_SECOND;

bool WaitAsyncDone(GstElement *p, std::string *err) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, kHang, GstMessageType(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  bool ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ASYNC_DONE;
  if (m && !ok) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    *err = e->message;
    g_error_free(e);
  } else if (!m) {
    *err = "no ASYNC_DONE within 10 s";
  }
  if (m) gst_message_unref(m);
  return ok;
}

bool IsHang(const std::string &err) { return err.rfind("no ASYNC_DONE", 0) == 0; }

std::string Request(const std::string &mode, guint64 start, guint64 stop,
                    const std::vector<std::string> &locs) {
  double t0 = WallSeconds();
  GstElement *a = gst_parse_launch(
      "splitmuxsrc name=src ! appsink name=a sync=false max-buffers=16", NULL);
  GstElement *b = gst_parse_launch(
      "appsrc name=in format=time max-bytes=0 block=true ! mux.video_0 "
      "mp4mux name=mux fragment-duration=1000 streamable=true ! appsink name=out sync=false",
      NULL);
  GstElement *src = gst_bin_get_by_name(GST_BIN(a), "src");
  GStrv files = NULL;
  if (locs.size() == 1 && locs[0].find('*') != std::string::npos) {
    g_object_set(src, "location", locs[0].c_str(), NULL);
  } else {
    GStrvBuilder *sb = g_strv_builder_new();
    for (const auto &l : locs) g_strv_builder_add(sb, l.c_str());
    files = g_strv_builder_end(sb);
    g_strv_builder_unref(sb);
    g_signal_connect(src, "format-location",
                     G_CALLBACK(+[](GstElement *, gpointer d) -> GStrv {
                       return g_strdupv(static_cast<GStrv>(d));
                     }),
                     files);
  }
  gst_object_unref(src);
  GstElement *as = gst_bin_get_by_name(GST_BIN(a), "a");
  GstElement *in = gst_bin_get_by_name(GST_BIN(b), "in");
  GstElement *out = gst_bin_get_by_name(GST_BIN(b), "out");
  Out o;
  GstAppSinkCallbacks cb = {};
  cb.new_sample = OnSample;
  gst_app_sink_set_callbacks(GST_APP_SINK(out), &cb, &o, NULL);
  std::string err, result;
  double open_ms = 0;
  guint64 frames = 0, first_pts = GST_CLOCK_TIME_NONE;
  gst_element_set_state(a, GST_STATE_PAUSED);
  if (!WaitAsyncDone(a, &err)) {
    result = (IsHang(err) ? "error hang open: " : "error open: ") + err;
    goto done;
  }
  open_ms = (WallSeconds() - t0) * 1e3;
  if (!gst_element_seek(a, 1.0, GST_FORMAT_TIME,
                        GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT |
                                     GST_SEEK_FLAG_SNAP_BEFORE),
                        GST_SEEK_TYPE_SET, gint64(start), GST_SEEK_TYPE_SET, gint64(stop)) ||
      !WaitAsyncDone(a, &err)) {
    result = (IsHang(err) ? "error hang seek: " : "error seek: ") + err;
    goto done;
  }
  gst_element_set_state(a, GST_STATE_PLAYING);
  gst_element_set_state(b, GST_STATE_PLAYING);
  for (;;) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(as), 60 * GST_SECOND);
    if (!s) break;  // EOS (or a stall: reported below)
    if (frames++ == 0) gst_app_src_set_caps(GST_APP_SRC(in), gst_sample_get_caps(s));
    GstBuffer *buf = gst_buffer_ref(gst_sample_get_buffer(s));
    if (first_pts == GST_CLOCK_TIME_NONE) first_pts = GST_BUFFER_PTS(buf);
    gst_sample_unref(s);
    if (gst_app_src_push_buffer(GST_APP_SRC(in), buf) != GST_FLOW_OK) break;
    if (mode == "ttfb" && o.first.load() != 0) break;
  }
  if (mode == "ttfb") {
    for (int i = 0; i < 60000 && o.first.load() == 0; i++) g_usleep(100);
  } else {
    gst_app_src_end_of_stream(GST_APP_SRC(in));
    GstBus *bus = gst_element_get_bus(b);
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, 600 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (m) gst_message_unref(m);
    gst_object_unref(bus);
  }
  err = BusError(a);
  if (err.empty()) err = BusError(b);
  if (!err.empty() || o.first.load() == 0) {
    result = "error " + (err.empty() ? std::string("no output") : err);
  } else {
    char line[256];
    std::snprintf(line, sizeof line,
                  "ok open_ms=%.2f ttfb_ms=%.2f total_ms=%.2f bytes=%" G_GUINT64_FORMAT
                  " frames=%" G_GUINT64_FORMAT " first_pts=%" G_GUINT64_FORMAT,
                  open_ms, (o.first.load() - t0) * 1e3, (WallSeconds() - t0) * 1e3,
                  o.bytes.load(), frames, first_pts);
    result = line;
  }
done:
  gst_element_set_state(a, GST_STATE_NULL);
  gst_element_set_state(b, GST_STATE_NULL);
  gst_object_unref(as);
  gst_object_unref(in);
  gst_object_unref(out);
  gst_object_unref(a);
  gst_object_unref(b);
  if (files) g_strfreev(files);
  return result;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string mode;
    guint64 start = 0, stop = 0;
    std::vector<std::string> locs;
    if (!(in >> mode >> start >> stop)) {
      std::cout << "error bad request" << std::endl;
      continue;
    }
    for (std::string l; in >> l;) locs.push_back(l);
    if (locs.empty()) {
      std::cout << "error no location" << std::endl;
      continue;
    }
    std::cout << Request(mode, start, stop, locs) << std::endl;
  }
  return 0;
}
