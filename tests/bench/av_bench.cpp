// Video with an audio track beside it, against GStreamer's own recorder in
// the same run: CPU per video frame for H.264 + AAC into vdbsink and into
// splitmuxsink (mp4mux) from one thread pushing both, interleaved by time;
// the index bytes per record and per second; and vdbsrc's open and
// key-unit seek times on the same video with and without the audio track.
// Prints figures and ratios; asserts nothing about time.
#include <glib/gstdio.h>

#include <algorithm>
#include <random>

#include "bench_util.h"

using namespace bench;

namespace {

const guint64 kAudioFrame = 1024 * GST_SECOND / 48000;  // AAC at 48 kHz

// AAC frames (~340 bytes: 128 kb/s) with real caps (codec_data) from voaacenc.
struct Audio {
  GstCaps *caps = nullptr;
  std::vector<GstBuffer *> frames;
  ~Audio() {
    if (caps) gst_caps_unref(caps);
    for (auto *b : frames) gst_buffer_unref(b);
  }
};

bool MakeAudio(Audio *a) {
  GstElement *p = gst_parse_launch(
      "audiotestsrc num-buffers=4 samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=2 ! "
      "voaacenc ! aacparse ! audio/mpeg,stream-format=raw ! appsink name=out",
      NULL);
  if (!p) return false;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (sample) a->caps = gst_caps_copy(gst_sample_get_caps(sample));
  if (sample) gst_sample_unref(sample);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  std::mt19937 rng(7);
  for (int i = 0; i < 64; i++) {
    size_t n = 280 + rng() % 120;
    GstBuffer *b = gst_buffer_new_allocate(NULL, n, NULL);
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_WRITE);
    for (size_t k = 0; k < n; k++) m.data[k] = guint8(rng());
    gst_buffer_unmap(b, &m);
    a->frames.push_back(b);
  }
  return a->caps != nullptr;
}

GstBuffer *AudioAt(const Audio &a, guint64 i) {
  GstBuffer *b = gst_buffer_copy(a.frames[i % a.frames.size()]);
  GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = i * kAudioFrame;
  GST_BUFFER_DURATION(b) = kAudioFrame;
  return b;
}

// Pushes n video frames and the audio of the same time through
// "appsrc name=v ! <video_sink>" and "appsrc name=a ! <audio_sink>" (both in
// `sinks`), interleaved by timestamp from one thread.
RunStats PushAv(const Stream &v, const Audio &a, guint64 n, const std::string &sinks) {
  std::string desc = "appsrc name=v format=time block=true max-buffers=64 ! queue ! " + sinks +
                     " appsrc name=a format=time block=true max-buffers=64 ! queue ! ";
  desc += sinks.find("name=rec") != std::string::npos ? "rec.audio_0" : "fakesink sync=false";
  GstElement *p = gst_parse_launch(desc.c_str(), NULL);
  if (!p) {
    std::fprintf(stderr, "pipeline '%s' failed\n", desc.c_str());
    std::exit(1);
  }
  GstElement *vs = gst_bin_get_by_name(GST_BIN(p), "v"), *as = gst_bin_get_by_name(GST_BIN(p), "a");
  gst_app_src_set_caps(GST_APP_SRC(vs), v.caps);
  gst_app_src_set_caps(GST_APP_SRC(as), a.caps);
  RunStats st;
  double c0 = CpuSeconds(), w0 = WallSeconds();
  gst_element_set_state(p, GST_STATE_PLAYING);
  guint64 ai = 0;
  for (guint64 i = 0; i < n; i++) {
    GstBuffer *vb = FrameAt(v, i, 30);
    while (ai * kAudioFrame <= GST_BUFFER_PTS(vb))
      gst_app_src_push_buffer(GST_APP_SRC(as), AudioAt(a, ai++));
    if (gst_app_src_push_buffer(GST_APP_SRC(vs), vb) != GST_FLOW_OK) break;
    if (i % 1024 == 0) DrainBus(p);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(vs));
  gst_app_src_end_of_stream(GST_APP_SRC(as));
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    std::fprintf(stderr, "'%s': %s\n", desc.c_str(), e->message);
    std::exit(1);
  }
  gst_message_unref(m);
  gst_object_unref(bus);
  st.cpu = CpuSeconds() - c0;
  st.wall = WallSeconds() - w0;
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(vs);
  gst_object_unref(as);
  gst_object_unref(p);
  return st;
}

// Milliseconds from NULL to PAUSED (first buffer at every sink).
double OpenMs(const std::string &desc) {
  GstElement *p = gst_parse_launch(desc.c_str(), NULL);
  double w0 = WallSeconds();
  gst_element_set_state(p, GST_STATE_PAUSED);
  gst_element_get_state(p, NULL, NULL, GST_CLOCK_TIME_NONE);
  double ms = (WallSeconds() - w0) * 1e3;
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return ms;
}

// Median milliseconds of flushing KEY_UNIT seeks to random times until
// every sink has its first buffer again.
double SeekMs(const std::string &desc, double seconds) {
  GstElement *p = gst_parse_launch(desc.c_str(), NULL);
  gst_element_set_state(p, GST_STATE_PAUSED);
  gst_element_get_state(p, NULL, NULL, GST_CLOCK_TIME_NONE);
  std::mt19937 rng(3);
  std::vector<double> ms;
  for (int i = 0; i < 40; i++) {
    gint64 t = gint64(double(rng() % 1000) / 1000 * seconds * GST_SECOND);
    double w0 = WallSeconds();
    gst_element_seek_simple(p, GST_FORMAT_TIME,
                            GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT), t);
    gst_element_get_state(p, NULL, NULL, GST_CLOCK_TIME_NONE);
    ms.push_back((WallSeconds() - w0) * 1e3);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

guint64 IndexBytes(const std::string &dir, guint64 *records) {
  guint64 bytes = 0;
  *records = 0;
  GDir *d = g_dir_open(dir.c_str(), 0, NULL);
  if (!d) return 0;
  while (const gchar *n = g_dir_read_name(d)) {
    if (!g_str_has_suffix(n, ".vdbi")) continue;
    GStatBuf sb;
    std::string path = dir + "/" + n;
    if (g_stat(path.c_str(), &sb) == 0 && sb.st_size > 32) {
      bytes += guint64(sb.st_size) - 32;  // the file header
      *records += (guint64(sb.st_size) - 32) / 32;
    }
  }
  g_dir_close(d);
  return bytes;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  guint64 n = quick ? 3000 : 54000;  // 100 s, or 30 min, of 30 fps video
  std::printf("video + audio benchmark (%s): %" G_GUINT64_FORMAT
              " H.264 frames of ~10 KB at 30 fps and AAC at 48 kHz (%.1f min)\n",
              quick ? "quick" : "full", n, double(n) / 30 / 60);
  Stream v;
  MakeStream(10000, &v);
  Audio a;
  if (!MakeAudio(&a)) {
    std::printf("SKIP: voaacenc/aacparse not available\n");
    return 0;
  }
  std::string dir = TempDir();
  struct Row {
    const char *name;
    std::string sinks;
  } rows[] = {
      {"fakesinks (baseline: appsrcs alone)", "fakesink sync=false"},
      {"vdbsink (default: sync every 1 s)", "vdbsink name=rec location=" + dir + "/vdb stream=cam"},
      {"splitmuxsink (mp4mux, 60 s parts)",
       "splitmuxsink name=rec location=" + dir + "/part%05d.mp4 max-size-time=60000000000"},
  };
  std::vector<double> cpu;
  guint64 idx_bytes = 0, records = 0;
  for (const Row &r : rows) {
    RunStats best;
    best.cpu = 1e9;
    for (int rep = 0; rep < 2; rep++) {  // best of two: less noise
      Rm(dir);
      g_mkdir_with_parents(dir.c_str(), 0755);
      RunStats st = PushAv(v, a, n, r.sinks);
      if (st.cpu < best.cpu) best = st;
      if (r.sinks.rfind("vdbsink", 0) == 0) idx_bytes = IndexBytes(dir + "/vdb/cam", &records);
    }
    cpu.push_back(best.cpu / double(n) * 1e6);
    std::printf("  %-38s %7.2f us CPU/video frame (%5.2f s wall)\n", r.name, cpu.back(), best.wall);
  }
  std::printf(
      "  net of the baseline: vdbsink %.2f us, splitmuxsink %.2f us; ratio "
      "vdbsink/splitmuxsink total %.2f, net %.2f\n",
      cpu[1] - cpu[0], cpu[2] - cpu[0], cpu[1] / cpu[2], (cpu[1] - cpu[0]) / (cpu[2] - cpu[0]));
  guint64 audio_frames = n * GST_SECOND / 30 / kAudioFrame;
  std::printf("  index: %" G_GUINT64_FORMAT " bytes for %" G_GUINT64_FORMAT
              " records (%" G_GUINT64_FORMAT " video + ~%" G_GUINT64_FORMAT
              " audio + caps): %.1f B/record, %.1f B per video frame, %.0f B/s of footage\n",
              idx_bytes, records, n, audio_frames, double(idx_bytes) / double(records),
              double(idx_bytes) / double(n), double(idx_bytes) / (double(n) / 30));

  // The same video with and without audio: open and seek.
  Rm(dir);
  g_mkdir_with_parents(dir.c_str(), 0755);
  PushAv(v, a, n, "vdbsink name=rec location=" + dir + " stream=av");
  PushThrough(v, n, "vdbsink location=" + dir + " stream=video", 30, 0, [](guint64) {});
  std::string video_only = "vdbsrc location=" + dir + " stream=video ! fakesink sync=false";
  std::string av = "vdbsrc name=s location=" + dir +
                   " stream=av s.video ! fakesink sync=false s.audio_0 ! fakesink sync=false";
  std::string av_video = "vdbsrc location=" + dir + " stream=av ! fakesink sync=false";
  double secs = double(n) / 30;
  std::vector<std::pair<const char *, std::string>> cases = {
      {"video only", video_only},
      {"video + audio, both played", av},
      {"video + audio, video played", av_video}};
  std::printf("  vdbsrc, %.0f s of footage:\n", secs);
  for (const auto &[name, desc] : cases) {
    std::vector<double> open;
    for (int i = 0; i < 5; i++) open.push_back(OpenMs(desc));
    std::sort(open.begin(), open.end());
    std::printf(
        "    %-30s open to PAUSED %6.2f ms (median of 5), KEY_UNIT seek %6.2f ms (median "
        "of 40)\n",
        name, open[2], SeekMs(desc, secs));
  }
  Rm(dir);
  return 0;
}
