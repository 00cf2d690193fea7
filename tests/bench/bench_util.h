// Shared by the GStreamer benchmarks: synthetic parsed H.264 streams, CPU
// time and memory readings, temp directories.
#pragma once

#include <gst/app/app.h>
#include <gst/gst.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace bench {

inline double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Resident set size now, in MB (Linux /proc).
inline double RssMb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, rss = 0;
  f >> pages >> rss;
  return double(rss) * double(sysconf(_SC_PAGESIZE)) / 1e6;
}

// Peak resident set size of the process so far, in MB (Linux /proc).
inline double PeakRssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1e3;
  return 0;
}

inline std::string TempDir() {
  gchar *p = g_dir_make_tmp("vdbbench-XXXXXX", NULL);
  std::string s = p;
  g_free(p);
  return s;
}

inline void Rm(const std::string &p) {
  (void)std::system(("rm -rf '" + p + "'").c_str());
}

inline guint64 DiskBytes(const std::string &dir) {
  std::string cmd = "du -sb '" + dir + "' | cut -f1";
  FILE *f = popen(cmd.c_str(), "r");
  unsigned long long v = 0;
  if (f) {
    if (fscanf(f, "%llu", &v) != 1) v = 0;
    pclose(f);
  }
  return v;
}

// A parsed H.264 (avc, au) stream: real SPS/PPS in codec_data from x264enc,
// frames of random bytes of the requested size, a keyframe every `gop`.
// Sinks and muxers store frames without decoding them, so this measures
// exactly their cost per frame and per byte.
struct Stream {
  GstCaps *caps = nullptr;
  std::vector<GstBuffer *> frames;  // a pool reused round-robin
  int gop = 30;
  ~Stream() {
    if (caps) gst_caps_unref(caps);
    for (auto *b : frames) gst_buffer_unref(b);
  }
};

inline void MakeStream(size_t frame_size, Stream *s, int gop = 30) {
  GError *err = NULL;
  GstElement *p = gst_parse_launch(
      "videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=640,height=360 ! x264enc ! "
      "h264parse ! video/x-h264,stream-format=avc,alignment=au ! appsink name=out",
      &err);
  if (!p) {
    std::fprintf(stderr, "encoder pipeline: %s\n", err->message);
    std::exit(1);
  }
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  s->caps = gst_caps_copy(gst_sample_get_caps(sample));
  gst_caps_set_simple(s->caps, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  gst_sample_unref(sample);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  s->gop = gop;
  std::mt19937 rng(42);
  for (int i = 0; i < 64; i++) {
    size_t n = frame_size / 2 + rng() % (frame_size + 1);
    GstBuffer *b = gst_buffer_new_allocate(NULL, n, NULL);
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_WRITE);
    for (size_t k = 0; k < n; k++) m.data[k] = guint8(rng());
    guint32 len = guint32(n - 4);  // one NAL unit, 4-byte length prefix
    m.data[0] = guint8(len >> 24), m.data[1] = guint8(len >> 16), m.data[2] = guint8(len >> 8);
    m.data[3] = guint8(len);
    m.data[4] = 0x65;
    gst_buffer_unmap(b, &m);
    s->frames.push_back(b);
  }
}

// The i-th frame of an endless stream at `fps`, timestamps from zero.
inline GstBuffer *FrameAt(const Stream &s, guint64 i, int fps = 30) {
  GstBuffer *b = gst_buffer_copy(s.frames[i % s.frames.size()]);  // shares the memory
  GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = gst_util_uint64_scale(i, GST_SECOND, guint64(fps));
  GST_BUFFER_DURATION(b) =
      gst_util_uint64_scale(i + 1, GST_SECOND, guint64(fps)) - GST_BUFFER_PTS(b);
  if (i % guint64(s.gop) != 0) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

struct RunStats {
  double cpu = 0, wall = 0;
  double peak_rss_mb = 0;
};

inline void DrainBus(GstElement *p) {
  GstBus *bus = gst_element_get_bus(p);
  while (GstMessage *m = gst_bus_pop_filtered(
             bus, GstMessageType(GST_MESSAGE_ANY & ~(GST_MESSAGE_EOS | GST_MESSAGE_ERROR))))
    gst_message_unref(m);
  gst_object_unref(bus);
}

// Pushes `n` frames through "appsrc ! <sink_desc>" and waits for EOS.
// `every`/`on_progress` let a caller sample memory along the way.
template <typename F>
RunStats PushThrough(const Stream &s, guint64 n, const std::string &sink_desc, int fps,
                     guint64 every, F on_progress) {
  std::string desc =
      "appsrc name=src format=time is-live=false block=true max-buffers=64 ! " + sink_desc;
  GError *err = NULL;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  if (!p) {
    std::fprintf(stderr, "pipeline '%s': %s\n", desc.c_str(), err->message);
    std::exit(1);
  }
  GstElement *src = gst_bin_get_by_name(GST_BIN(p), "src");
  gst_app_src_set_caps(GST_APP_SRC(src), s.caps);
  RunStats st;
  double c0 = CpuSeconds(), w0 = WallSeconds();
  gst_element_set_state(p, GST_STATE_PLAYING);
  for (guint64 i = 0; i < n; i++) {
    if (gst_app_src_push_buffer(GST_APP_SRC(src), FrameAt(s, i, fps)) != GST_FLOW_OK) break;
    if (every && i % every == 0) on_progress(i);
    if (i % 1024 == 0) DrainBus(p);  // an application reads its bus; messages must not pile up
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    std::fprintf(stderr, "'%s' failed: %s\n", sink_desc.c_str(), e->message);
    std::exit(1);
  }
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  st.cpu = CpuSeconds() - c0;
  st.wall = WallSeconds() - w0;
  gst_object_unref(src);
  gst_object_unref(p);
  return st;
}

}  // namespace bench
