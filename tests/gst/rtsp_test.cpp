// Re-serving a recording through gst-rtsp-server (`vdbsrc ! parse ! pay` in
// a media factory) to an rtspsrc client on 127.0.0.1: every frame from the
// start, and from where a seek (PLAY with Range) asks.
#include <atomic>

#include "gst_test_util.h"
#include "test_plugins.h"

#ifdef VDB_HAVE_RTSP_SERVER
#include <gst/rtsp-server/rtsp-server.h>

using namespace vdbtest;

namespace {

const GstClockTime kSec = GST_SECOND;

// An RTSP server on 127.0.0.1 (a free port), run by its own main loop.
struct Server {
  GMainContext *ctx = g_main_context_new();
  GMainLoop *loop = g_main_loop_new(ctx, FALSE);
  GstRTSPServer *server = gst_rtsp_server_new();
  GThread *thread = nullptr;
  int port = 0;
  explicit Server(const std::string &launch) {
    g_object_set(server, "address", "127.0.0.1", "service", "0", NULL);
    GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(f, launch.c_str());
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    gst_rtsp_mount_points_add_factory(mounts, "/rec", f);
    g_object_unref(mounts);
    fail_unless(gst_rtsp_server_attach(server, ctx) != 0, "cannot listen on 127.0.0.1");
    port = gst_rtsp_server_get_bound_port(server);
    thread = g_thread_new(
        "rtsp",
        [](gpointer l) -> gpointer {
          g_main_loop_run(static_cast<GMainLoop *>(l));
          return nullptr;
        },
        loop);
  }
  ~Server() {
    g_main_loop_quit(loop);
    g_thread_join(thread);
    g_object_unref(server);
    g_main_loop_unref(loop);
    g_main_context_unref(ctx);
  }
};

struct Client {
  GstElement *p;
  std::atomic<int> frames{0}, from_frames{0};  // all; those at or after `from`
  std::atomic<GstClockTime> from{0};
  explicit Client(int port) {
    std::string desc = "rtspsrc name=src protocols=tcp latency=200 location=rtsp://127.0.0.1:" +
                       std::to_string(port) +
                       "/rec ! rtph264depay ! h264parse ! avdec_h264 ! fakesink name=out sync=true";
    p = gst_parse_launch(desc.c_str(), NULL);
    fail_unless(p != NULL);
    GstElement *out = gst_bin_get_by_name(GST_BIN(p), "out");
    GstPad *pad = gst_element_get_static_pad(out, "sink");
    gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad *pad, GstPadProbeInfo *info, gpointer d) {
          auto *c = static_cast<Client *>(d);
          c->frames++;
          GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
          const GstSegment *seg;
          gst_event_parse_segment(ev, &seg);
          GstClockTime t = gst_segment_to_stream_time(
              seg, GST_FORMAT_TIME, GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)));
          gst_event_unref(ev);
          if (GST_CLOCK_TIME_IS_VALID(t) && t >= c->from) c->from_frames++;
          return GST_PAD_PROBE_OK;
        },
        this, NULL);
    gst_object_unref(pad);
    gst_object_unref(out);
  }
  ~Client() {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
  // Plays to EOS; returns the error, if any.
  std::string PlayToEos() {
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * kSec,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    std::string err = m ? "" : "no EOS within 60 s";
    if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error(m, &e, NULL);
      err = e->message;
      g_error_free(e);
    }
    if (m) gst_message_unref(m);
    gst_object_unref(bus);
    return err;
  }
};

void Record(const std::string &store, const char *format) {
  RunResult r;
  Run(std::string("videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=I420,width=160,"
                  "height=120,framerate=30/1 ! x264enc key-int-max=30 bframes=2 "
                  "speed-preset=ultrafast ! h264parse ! video/x-h264,alignment=au,stream-format=") +
          format + " ! vdbsink location=" + store + " stream=cam max-segment-time=1000000000",
      &r);
  fail_unless(r.eos && r.errors.empty());
}

std::string Launch(const std::string &store) {
  return "( vdbsrc location=" + store +
         " stream=cam ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )";
}

}  // namespace

// An rtspsrc client gets every frame of an avc and of a byte-stream store.
GST_START_TEST(test_rtsp_client_gets_every_frame) {
  for (const char *format : {"avc", "byte-stream"}) {
    TempDir tmp;
    Record(tmp.path, format);
    Server server(Launch(tmp.path));
    Client c(server.port);
    std::string err = c.PlayToEos();
    fail_unless(err.empty(), "%s: %s", format, err.c_str());
    fail_unless_equals_int(c.frames, 60);
  }
}
GST_END_TEST;

// A seek on the client (PLAY with a Range) plays from there.
GST_START_TEST(test_rtsp_client_seek_plays_from_the_range) {
  TempDir tmp;
  Record(tmp.path, "avc");
  Server server(Launch(tmp.path));
  Client c(server.port);
  gst_element_set_state(c.p, GST_STATE_PLAYING);
  for (int i = 0; i < 3000 && c.frames == 0; i++) g_usleep(10000);  // the session is up
  fail_unless(c.frames > 0, "no frame within 30 s");
  c.from = kSec - GST_MSECOND;
  c.from_frames = 0;
  fail_unless(gst_element_seek_simple(c.p, GST_FORMAT_TIME,
                                      GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                                      gint64(kSec)));
  std::string err = c.PlayToEos();
  fail_unless(err.empty(), "%s", err.c_str());
  int n = c.from_frames;
  fail_unless(n >= 29 && n <= 31, "%d frames from 1 s on after a seek to 1 s (of 2 s)", n);
  // What was skipped was not played: a few frames before the seek, then 1 s .. 2 s.
  fail_unless(c.frames < 50, "%d frames in all: the seek did not skip", int(c.frames));
}
GST_END_TEST;

#define RTSP_PLUGINS                                                                               \
  "coreelements", "videotestsrc", "x264", "videoparsersbad", "libav", "rtsp", "rtp", "rtpmanager", \
      "udp", "app"

static Suite *rtsp_suite(void) {
  Suite *s = suite_create("rtsp");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  VDB_ADD_TEST(tc, test_rtsp_client_gets_every_frame, RTSP_PLUGINS);
  VDB_ADD_TEST(tc, test_rtsp_client_seek_plays_from_the_range, RTSP_PLUGINS);
  return s;
}

GST_CHECK_MAIN(rtsp);

#else  // no gst-rtsp-server to build against

int main() {
  vdbtest::LogSkip("rtsp_test", "gst-rtsp-server is not installed (libgstrtspserver-1.0-dev)");
  return 77;
}

#endif
