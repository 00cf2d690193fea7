// vdbsrc element tests: playback of what vdbsink recorded, seeks of every
// kind, trick modes, gaps, damage, live follow, URIs and export.
#include <gst/app/app.h>

#include "gst_test_util.h"
#include "segment_writer.h"
#include "store.h"
#include "test_plugins.h"
#include "writer.h"

using namespace vdbtest;

namespace {

const char kH264[] =
    "x264enc key-int-max=30 bframes=0 speed-preset=ultrafast ! h264parse ! "
    "video/x-h264,stream-format=byte-stream,alignment=au";
const GstClockTime kSec = GST_SECOND;

// Records the encoded runs, one after the other, through vdbsink with
// `props`, and ends with EOS.
void RecordRuns(const std::string &props, std::initializer_list<const Encoded *> runs,
                size_t max_frames = SIZE_MAX) {
  GstHarness *h = VdbSinkHarness(props);
  for (const Encoded *e : runs) {
    gst_harness_set_src_caps(h, gst_caps_ref(e->caps));
    for (size_t i = 0; i < e->buffers.size() && i < max_frames; i++)
      fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(e->buffers[i])), GST_FLOW_OK);
  }
  gst_harness_push_event(h, gst_event_new_eos());
  gst_harness_teardown(h);
}

// Records `n` frames (30 fps, a keyframe every second) in 1 s segments.
GstClockTime Record(const std::string &store, int n, const Encoded **out = nullptr) {
  static Encoded *e = nullptr;  // one encode per test process
  if (!e) {
    e = new Encoded();
    Encode(kH264, 150, e);
  }
  RecordRuns("location=" + store + " stream=cam max-segment-time=1000000000", {e}, size_t(n));
  if (out) *out = e;
  return GST_BUFFER_PTS(e->buffers[0]);
}

struct Out {
  GstClockTime pts, dts;
  bool key, discont;
  std::string data;
  GstClockTime seg_start;
};

struct Playback {
  GstElement *pipeline = nullptr, *src = nullptr, *sink = nullptr;
  explicit Playback(const std::string &desc) {
    GError *err = NULL;
    pipeline = gst_parse_launch(desc.c_str(), &err);
    fail_unless(pipeline != NULL, "%s", err ? err->message : "?");
    g_clear_error(&err);
    src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  }
  ~Playback() {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    if (src) gst_object_unref(src);
    if (sink) gst_object_unref(sink);
    gst_object_unref(pipeline);
  }
  // Waits for a message type; fails on ERROR.
  GstMessage *Wait(GstMessageType t, GstClockTime timeout = 30 * kSec) {
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, timeout, GstMessageType(t | GST_MESSAGE_ERROR));
    gst_object_unref(bus);
    if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error(m, &e, NULL);
      fail("error: %s", e->message);
    }
    return m;
  }
  void Paused() {
    gst_element_set_state(pipeline, GST_STATE_PAUSED);
    GstMessage *m = Wait(GST_MESSAGE_ASYNC_DONE);
    fail_unless(m != NULL, "no preroll");
    gst_message_unref(m);
  }
  void Seek(double rate, GstSeekFlags flags, GstClockTime start,
            GstClockTime stop = GST_CLOCK_TIME_NONE) {
    fail_unless(gst_element_seek(pipeline, rate, GST_FORMAT_TIME,
                                 GstSeekFlags(flags | GST_SEEK_FLAG_FLUSH), GST_SEEK_TYPE_SET,
                                 gint64(start), GST_SEEK_TYPE_SET,
                                 stop == GST_CLOCK_TIME_NONE ? -1 : gint64(stop)));
    GstMessage *m = Wait(GST_MESSAGE_ASYNC_DONE);
    fail_unless(m != NULL);
    gst_message_unref(m);
  }
  // Plays to EOS, returning what reached the appsink.
  std::vector<Out> Drain(size_t max = SIZE_MAX) {
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    std::vector<Out> out;
    while (out.size() < max) {
      GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * kSec);
      if (!s) break;
      GstBuffer *b = gst_sample_get_buffer(s);
      out.push_back({GST_BUFFER_PTS(b), GST_BUFFER_DTS(b),
                     !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT),
                     GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DISCONT), BufferBytes(b),
                     gst_sample_get_segment(s)->start});
      gst_sample_unref(s);
    }
    return out;
  }
};

std::string Src(const std::string &store, const std::string &extra = "") {
  return "vdbsrc name=src location=" + store + " stream=cam " + extra;
}
const char kSink[] = " ! appsink name=out sync=false";

}  // namespace

GST_START_TEST(test_roundtrip_every_frame) {
  TempDir tmp;
  const Encoded *e;
  Record(tmp.path, 150, &e);
  auto stored = ReadStore(tmp.path, "cam");
  Playback p(Src(tmp.path) + kSink);
  auto out = p.Drain();
  fail_unless_equals_int(int(out.size()), 150);
  for (size_t i = 0; i < out.size(); i++) {
    fail_unless(out[i].data == stored[i].data, "frame %zu", i);
    fail_unless_equals_uint64(out[i].pts, GST_BUFFER_PTS(e->buffers[i]));
    fail_unless_equals_uint64(out[i].dts, GST_BUFFER_DTS(e->buffers[i]));
    fail_unless_equals_int(out[i].key,
                           !GST_BUFFER_FLAG_IS_SET(e->buffers[i], GST_BUFFER_FLAG_DELTA_UNIT));
  }
  // The caps are the recorded ones.
  GstPad *pad = gst_element_get_static_pad(p.src, "video");
  GstCaps *caps = gst_pad_get_current_caps(pad);
  fail_unless(gst_caps_is_equal(caps, e->caps));
  gst_caps_unref(caps);
  gst_object_unref(pad);
}
GST_END_TEST;

GST_START_TEST(test_key_unit_seeks_snap) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  struct Case {
    GstSeekFlags flags;
    GstClockTime target, key;
  } cases[] = {
      {GST_SEEK_FLAG_SNAP_BEFORE, 2500 * GST_MSECOND, 2 * kSec},
      {GST_SEEK_FLAG_SNAP_AFTER, 2500 * GST_MSECOND, 3 * kSec},
      {GST_SEEK_FLAG_SNAP_NEAREST, 2400 * GST_MSECOND, 2 * kSec},
      {GST_SEEK_FLAG_SNAP_NEAREST, 2600 * GST_MSECOND, 3 * kSec},
      {GST_SEEK_FLAG_SNAP_BEFORE, 3 * kSec, 3 * kSec},      // a segment boundary
      {GST_SEEK_FLAG_SNAP_BEFORE, 3 * kSec - 1, 2 * kSec},  // just before it
      {GST_SEEK_FLAG_SNAP_BEFORE, 0, 0},                    // the first frame
      {GST_SEEK_FLAG_SNAP_BEFORE, 10 * kSec, 4 * kSec},     // past the end: last keyframe
  };
  for (const Case &c : cases) {
    Playback p(Src(tmp.path) + kSink);
    p.Paused();
    p.Seek(1.0, GstSeekFlags(GST_SEEK_FLAG_KEY_UNIT | c.flags), c.target);  // stream time
    auto out = p.Drain();
    fail_unless(!out.empty());
    fail_unless_equals_uint64(out[0].pts, t0 + c.key);
    fail_unless(out[0].key && out[0].discont);
    fail_unless_equals_uint64(out[0].seg_start, t0 + c.key);
    fail_unless_equals_int(int(out.size()), int(150 - (c.key / (kSec / 30))));
  }
}
GST_END_TEST;

GST_START_TEST(test_accurate_seek_starts_at_previous_keyframe) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  Playback p(Src(tmp.path) + kSink);
  p.Paused();
  // What the source pushes after the seek's flush, before the sink clips.
  std::vector<GstClockTime> pushed;
  GstPad *pad = gst_element_get_static_pad(p.src, "video");
  gulong probe = gst_pad_add_probe(
      pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      [](GstPad *, GstPadProbeInfo *info, gpointer d) {
        auto *v = static_cast<std::vector<GstClockTime> *>(d);
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
          v->push_back(GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)));
        else
          v->clear();
        return GST_PAD_PROBE_OK;
      },
      &pushed, NULL);
  p.Seek(1.0, GST_SEEK_FLAG_ACCURATE, 2500 * GST_MSECOND);
  auto out = p.Drain();
  gst_pad_remove_probe(pad, probe);
  gst_object_unref(pad);
  fail_unless_equals_uint64(out[0].seg_start, t0 + 2500 * GST_MSECOND);  // decoders clip to here
  fail_unless_equals_uint64(out[0].pts, t0 + 2500 * GST_MSECOND);  // the sink dropped earlier ones
  fail_unless_equals_int(int(out.size()), 75);
  fail_unless_equals_int(int(pushed.size()), 90);
  fail_unless_equals_uint64(pushed[0], t0 + 2 * kSec);  // decoding starts at the keyframe before
}
GST_END_TEST;

// After an accurate seek a decoder yields the same picture as a linear decode.
GST_START_TEST(test_accurate_seek_decodes_same_frame) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  const std::string dec = " ! h264parse ! avdec_h264 ! video/x-raw,format=I420";
  std::map<GstClockTime, std::string> linear;
  {
    Playback p(Src(tmp.path) + dec + kSink);
    for (auto &o : p.Drain()) linear[o.pts] = o.data;
  }
  fail_unless_equals_int(int(linear.size()), 150);
  GstClockTime offset = 2 * kSec + 10 * (kSec / 30) + 5;  // mid-GOP, mid-segment
  GstClockTime target = t0 + offset;
  Playback p(Src(tmp.path) + dec + kSink);
  p.Paused();
  p.Seek(1.0, GST_SEEK_FLAG_ACCURATE, offset);
  auto out = p.Drain();
  fail_unless(!out.empty());
  fail_unless(out[0].pts + kSec / 30 > target && out[0].pts <= target + kSec / 30,
              "first decoded frame at %" GST_TIME_FORMAT, GST_TIME_ARGS(out[0].pts));
  // The decoder clips the first frame's start to the target: compare by frame number.
  std::map<guint64, std::string> by_frame;
  auto frame_no = [t0](GstClockTime pts) { return (pts - t0 + kSec / 60) * 30 / kSec; };
  for (auto &kv : linear) by_frame[frame_no(kv.first)] = kv.second;
  for (const auto &o : out) {
    guint64 n = frame_no(o.pts);
    fail_unless(by_frame[n] == o.data, "frame %" G_GUINT64_FORMAT " differs", n);
  }
  fail_unless_equals_int(int(out.size()), 150 - 70);
}
GST_END_TEST;

GST_START_TEST(test_trickmode_key_units) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  Playback p(Src(tmp.path) + kSink);
  p.Paused();
  p.Seek(4.0, GstSeekFlags(GST_SEEK_FLAG_TRICKMODE | GST_SEEK_FLAG_TRICKMODE_KEY_UNITS), 0);
  auto out = p.Drain();
  fail_unless_equals_int(int(out.size()), 5);
  for (size_t i = 0; i < out.size(); i++) {
    fail_unless(out[i].key);
    fail_unless_equals_uint64(out[i].pts, t0 + i * kSec);
  }
}
GST_END_TEST;

GST_START_TEST(test_reverse_playback) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  Playback p(Src(tmp.path) + kSink);
  p.Paused();
  p.Seek(-1.0, GST_SEEK_FLAG_NONE, 0, 5 * kSec);
  auto out = p.Drain();
  fail_unless_equals_int(int(out.size()), 150);
  // GOPs from the last to the first, each in decode order, each DISCONT.
  for (size_t g = 0; g < 5; g++) {
    const Out &head = out[g * 30];
    fail_unless(head.key && head.discont);
    fail_unless_equals_uint64(head.pts, t0 + (4 - g) * kSec);
  }
  // Reverse key-unit trick mode: keyframes only, newest first.
  Playback k(Src(tmp.path) + kSink);
  k.Paused();
  k.Seek(-2.0, GstSeekFlags(GST_SEEK_FLAG_TRICKMODE | GST_SEEK_FLAG_TRICKMODE_KEY_UNITS), 0,
         5 * kSec);
  auto keys = k.Drain();
  fail_unless_equals_int(int(keys.size()), 5);
  fail_unless_equals_uint64(keys[0].pts, t0 + 4 * kSec);
  fail_unless_equals_uint64(keys[4].pts, t0);
}
GST_END_TEST;

GST_START_TEST(test_segment_seek_posts_segment_done) {
  TempDir tmp;
  Record(tmp.path, 150);
  Playback p(Src(tmp.path) + kSink);
  p.Paused();
  p.Seek(1.0, GstSeekFlags(GST_SEEK_FLAG_SEGMENT | GST_SEEK_FLAG_KEY_UNIT), kSec, 3 * kSec);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  GstMessage *m = p.Wait(GstMessageType(GST_MESSAGE_SEGMENT_DONE | GST_MESSAGE_EOS));
  fail_unless(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_SEGMENT_DONE);
  gst_message_unref(m);
}
GST_END_TEST;

GST_START_TEST(test_queries_and_ranges) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  Playback p(Src(tmp.path) + kSink);
  p.Paused();
  std::vector<vdb::SegmentInfo> segs;
  ReadStore(tmp.path, "cam", &segs);
  const guint64 end = segs.back().end_pts;  // last pts + its duration
  fail_unless(end > t0 + 5 * kSec - 10 && end <= t0 + 5 * kSec);
  gint64 dur = 0;
  fail_unless(gst_element_query_duration(p.src, GST_FORMAT_TIME, &dur));
  fail_unless_equals_uint64(guint64(dur), end - t0);  // stream time: 0 ... length
  GstQuery *q = gst_query_new_seeking(GST_FORMAT_TIME);
  fail_unless(gst_element_query(p.src, q));
  gboolean seekable;
  gint64 a, b;
  gst_query_parse_seeking(q, NULL, &seekable, &a, &b);
  fail_unless(seekable);
  fail_unless_equals_uint64(guint64(a), 0);
  fail_unless_equals_uint64(guint64(b), end - t0);
  gst_query_unref(q);
  GstStructure *ranges = NULL;
  g_signal_emit_by_name(p.src, "get-ranges", &ranges);
  const GValue *list = gst_structure_get_value(ranges, "ranges");
  fail_unless_equals_int(int(gst_value_list_get_size(list)), 1);
  const GstStructure *r0 = gst_value_get_structure(gst_value_list_get_value(list, 0));
  guint64 utc_start = 0, start = 0;
  gst_structure_get_uint64(r0, "utc-start", &utc_start);
  gst_structure_get_uint64(r0, "start", &start);
  fail_unless_equals_uint64(start, 0);
  gst_structure_free(ranges);
  guint64 st = 0, utc = 0;
  g_signal_emit_by_name(p.src, "utc-to-stream-time", utc_start + 2 * kSec, &st);
  fail_unless_equals_uint64(st, 2 * kSec);
  g_signal_emit_by_name(p.src, "stream-time-to-utc", 3 * kSec, &utc);
  fail_unless_equals_uint64(utc, utc_start + 3 * kSec);
}
GST_END_TEST;

GST_START_TEST(test_wallclock_range_properties) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);
  std::vector<vdb::SegmentInfo> segs;
  ReadStore(tmp.path, "cam", &segs);
  guint64 utc0 = segs[0].utc_start;
  Playback p(Src(tmp.path, "start-time=" + std::to_string(utc0 + 1 * kSec) +
                               " stop-time=" + std::to_string(utc0 + 3 * kSec)) +
             kSink);
  auto out = p.Drain();
  fail_unless(!out.empty());
  fail_unless_equals_uint64(out.front().pts, t0 + kSec);
  fail_unless(out.back().pts < t0 + 3 * kSec);
  fail_unless_equals_int(int(out.size()), 60);
  // ISO 8601 parses too; garbage is a clear error.
  RunResult bad;
  Run(Src(tmp.path, "start-time=yesterday") + " ! fakesink", &bad);
  fail_unless(!bad.errors.empty() && bad.errors[0].find("Invalid start-time") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST(test_gaps_preserve_and_collapse) {
  TempDir tmp;
  Record(tmp.path, 30);
  g_usleep(1500000);  // the second run starts > 0.5 s after the first one's end
  Record(tmp.path, 30);
  std::vector<vdb::SegmentInfo> segs;
  ReadStore(tmp.path, "cam", &segs);
  fail_unless_equals_int(int(segs.size()), 2);
  GstClockTime hole = segs[1].first_pts - segs[0].end_pts;
  fail_unless(hole > GST_SECOND / 2);
  {  // preserve: a GAP event covers the hole
    GstHarness *h = VdbSrcHarness(Src(tmp.path));
    gst_harness_play(h);
    bool gap = false;
    GstBuffer *b = NULL;
    int frames = 0;
    while (gst_harness_pull_until_eos(h, &b) && b) {
      frames++;
      gst_buffer_unref(b);
    }
    while (GstEvent *ev = gst_harness_try_pull_event(h)) {
      if (GST_EVENT_TYPE(ev) == GST_EVENT_GAP) {
        GstClockTime ts, dur;
        gst_event_parse_gap(ev, &ts, &dur);
        fail_unless_equals_uint64(ts, segs[0].end_pts);
        fail_unless_equals_uint64(dur, hole);
        gap = true;
      }
      gst_event_unref(ev);
    }
    fail_unless(gap, "no GAP event");
    fail_unless_equals_int(frames, 60);
    gst_harness_teardown(h);
  }
  {  // collapse: back to back, DISCONT at the join
    Playback p(Src(tmp.path, "gaps=collapse") + kSink);
    auto out = p.Drain();
    fail_unless_equals_int(int(out.size()), 60);
    fail_unless_equals_uint64(out[30].pts, segs[0].end_pts);
    fail_unless(out[30].discont);
  }
  {  // collapse: duration and seeks use the collapsed timeline too
    Playback p(Src(tmp.path, "gaps=collapse") + kSink);
    p.Paused();
    gint64 dur = 0;
    fail_unless(gst_element_query_duration(p.src, GST_FORMAT_TIME, &dur));
    fail_unless(dur > gint64(2 * kSec - kSec / 10) && dur <= gint64(2 * kSec),
                "collapsed duration %" GST_TIME_FORMAT, GST_TIME_ARGS(dur));
    p.Seek(1.0, GST_SEEK_FLAG_KEY_UNIT, 1500 * GST_MSECOND);  // the second run's keyframe
    auto out = p.Drain();
    fail_unless_equals_int(int(out.size()), 30);
    fail_unless_equals_uint64(out[0].pts, segs[0].end_pts);
  }
}
GST_END_TEST;

// x264enc with B-frames: DTS != PTS, PTS go back and forth inside segments.
// Playback gives every frame with its recorded PTS and DTS, no GAP event and
// no DISCONT but the first.
GST_START_TEST(test_bframes_play_back_exactly_without_false_gaps) {
  TempDir tmp;
  Encoded e;
  Encode(
      "x264enc key-int-max=30 bframes=2 b-adapt=false speed-preset=ultrafast ! h264parse ! "
      "video/x-h264,stream-format=avc,alignment=au",
      150, &e);
  RecordRuns("location=" + tmp.path + " stream=cam max-segment-time=1000000000", {&e});
  for (const char *gaps : {"gaps=preserve", "gaps=collapse"}) {
    GstHarness *h = VdbSrcHarness(Src(tmp.path, gaps));
    gst_harness_play(h);
    std::vector<GstBuffer *> got;
    GstBuffer *b = NULL;
    while (gst_harness_pull_until_eos(h, &b) && b) got.push_back(b);
    int gap_events = 0;
    while (GstEvent *ev = gst_harness_try_pull_event(h)) {
      gap_events += GST_EVENT_TYPE(ev) == GST_EVENT_GAP;
      gst_event_unref(ev);
    }
    fail_unless_equals_int(gap_events, 0);
    fail_unless_equals_int(int(got.size()), 150);
    int reordered = 0;
    for (size_t i = 0; i < got.size(); i++) {
      fail_unless_equals_uint64(GST_BUFFER_PTS(got[i]), GST_BUFFER_PTS(e.buffers[i]));
      fail_unless_equals_uint64(GST_BUFFER_DTS(got[i]), GST_BUFFER_DTS(e.buffers[i]));
      fail_unless_equals_int(GST_BUFFER_FLAG_IS_SET(got[i], GST_BUFFER_FLAG_DISCONT), i == 0);
      reordered += GST_BUFFER_PTS(got[i]) != GST_BUFFER_DTS(got[i]);
      gst_buffer_unref(got[i]);
    }
    fail_unless(reordered > 100, "only %d frames with DTS != PTS", reordered);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

// A follower started before the stream holds any frame: the first frames it
// gets start at running time 0 (its segment is sent with them).
GST_START_TEST(test_follower_started_before_the_first_frame) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 60, &e);
  GstHarness *w = VdbSinkHarness("location=" + tmp.path + " stream=cam");
  gst_harness_set_src_caps(w, gst_caps_ref(e.caps));
  Playback p(Src(tmp.path, "follow=true") + kSink);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  for (GstBuffer *b : e.buffers) gst_harness_push(w, gst_buffer_ref(b));
  for (int i = 0; i < 60; i++) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
    fail_unless(s != NULL, "follow stalled after %d frames", i);
    GstBuffer *b = gst_sample_get_buffer(s);
    fail_unless_equals_uint64(GST_BUFFER_PTS(b), GST_BUFFER_PTS(e.buffers[size_t(i)]));
    if (i == 0) {
      GstClockTime rt = gst_segment_to_running_time(gst_sample_get_segment(s), GST_FORMAT_TIME,
                                                    GST_BUFFER_PTS(b));
      fail_unless(rt < kSec / 10, "first frame at running time %" GST_TIME_FORMAT,
                  GST_TIME_ARGS(rt));
    }
    gst_sample_unref(s);
  }
  gst_harness_push_event(w, gst_event_new_eos());
  gst_harness_teardown(w);
}
GST_END_TEST;

// A follower that opened the stream between the writer creating the first
// segment's files and adding its catalog record (a window of microseconds
// in vdbsink) knows no start for that segment: its first frames still start
// its segment, at running time 0, and reach the sink.
GST_START_TEST(test_follower_that_listed_a_segment_before_its_catalog_record) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 30, &e);
  auto w = vdb::Writer::Open(vdb::DefaultFs(), tmp.path, "cam", {}, nullptr);
  fail_unless(w.ok() && (*w)->Close().ok());
  gchar *caps = gst_caps_to_string(e.caps);
  vdb::SegmentMeta m;  // as the writer creates it, frozen before its catalog record
  m.info.id = 1;
  m.stream = "cam";
  m.codec = "h264";
  m.caps = caps;
  g_free(caps);
  auto seg = vdb::SegmentWriter::Create(vdb::DefaultFs(), *vdb::StreamDir(tmp.path, "cam"), m, 0);
  fail_unless(seg.ok(), "%s", seg.status().ToString().c_str());
  Playback p(Src(tmp.path, "follow=true") + kSink);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  for (GstBuffer *b : e.buffers) {
    GstMapInfo map;
    fail_unless(gst_buffer_map(b, &map, GST_MAP_READ));
    vdb::Frame f;
    f.data = map.data;
    f.size = map.size;
    f.pts = GST_BUFFER_PTS(b);
    f.dts = GST_BUFFER_DTS(b);
    f.flags = GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT) ? 0 : vdb::kFlagKey;
    fail_unless((*seg)->Append(f).ok());
    gst_buffer_unmap(b, &map);
  }
  fail_unless((*seg)->FlushFrames().ok());
  GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
  fail_unless(s != NULL, "no frame reached the sink");
  GstBuffer *b = gst_sample_get_buffer(s);
  fail_unless_equals_uint64(GST_BUFFER_PTS(b), GST_BUFFER_PTS(e.buffers[0]));
  GstClockTime rt =
      gst_segment_to_running_time(gst_sample_get_segment(s), GST_FORMAT_TIME, GST_BUFFER_PTS(b));
  fail_unless(rt < kSec / 10, "first frame at running time %" GST_TIME_FORMAT, GST_TIME_ARGS(rt));
  gst_sample_unref(s);
}
GST_END_TEST;

// A store on a read-only mount plays: readers take no lock and write nothing.
GST_START_TEST(test_read_only_store_plays) {
  TempDir tmp;
  std::string mnt = tmp.path + "/ro";
  g_mkdir_with_parents(mnt.c_str(), 0755);
  if (std::system(("mount -t tmpfs -o size=8m tmpfs '" + mnt + "' 2>/dev/null").c_str()) != 0) {
    LogSkip("test_read_only_store_plays", "cannot mount a tmpfs here (needs root)");
    return;
  }
  Record(mnt, 90);
  bool ro = std::system(("mount -o remount,ro '" + mnt + "'").c_str()) == 0;
  std::vector<Out> out;
  if (ro) {
    Playback p(Src(mnt) + kSink);
    out = p.Drain();
  }
  (void)std::system(("umount '" + mnt + "'").c_str());
  fail_unless(ro, "could not remount read-only");
  fail_unless_equals_int(int(out.size()), 90);
}
GST_END_TEST;

// A follower that falls behind retention: every frame it gets is in order,
// every jump lands on a keyframe with DISCONT and a warning, never an error.
GST_START_TEST(test_follower_behind_retention_jumps_to_the_oldest_footage) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 150, &e);
  GstHarness *w = VdbSinkHarness("location=" + tmp.path +
                                 " stream=cam max-segment-time=500000000 max-total-bytes=20000 "
                                 "sync-mode=none");
  gst_harness_set_src_caps(w, gst_caps_ref(e.caps));
  for (int i = 0; i < 15; i++) gst_harness_push(w, gst_buffer_ref(e.buffers[size_t(i)]));
  // The follower holds one buffer at a time: it cannot read ahead of the test.
  Playback p(Src(tmp.path, "follow=true") + " ! appsink name=out sync=false max-buffers=1");
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  GstSample *first = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
  fail_unless(first != NULL);
  GstClockTime last = GST_BUFFER_DTS(gst_sample_get_buffer(first));
  gst_sample_unref(first);
  // The writer races ahead (retention deletes what the follower has not read).
  for (size_t i = 15; i < e.buffers.size(); i++) gst_harness_push(w, gst_buffer_ref(e.buffers[i]));
  g_usleep(300000);  // the housekeeping thread applies retention
  int jumps = 0, got = 1;
  GstClockTime end = GST_BUFFER_DTS(e.buffers.back());
  while (last < end) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
    fail_unless(s != NULL, "stalled after %d frames", got);
    GstBuffer *b = gst_sample_get_buffer(s);
    fail_unless(GST_BUFFER_DTS(b) > last, "out of order");
    if (GST_BUFFER_DTS(b) > last + kSec / 30 + 1) {
      jumps++;
      fail_unless(!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT),
                  "jumped to a delta frame");
      fail_unless(GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DISCONT), "jump without DISCONT");
    }
    last = GST_BUFFER_DTS(b);
    got++;
    gst_sample_unref(s);
  }
  fail_unless(jumps >= 1, "retention deleted nothing ahead of the follower");
  GstMessage *err = p.Wait(GST_MESSAGE_ERROR, 0);  // fails the test on an error
  if (err) gst_message_unref(err);
  gst_harness_push_event(w, gst_event_new_eos());
  gst_harness_teardown(w);
}
GST_END_TEST;

// Downstream that cannot take the stored caps: a clear negotiation error,
// never other caps.
GST_START_TEST(test_refused_caps_are_a_clear_error) {
  TempDir tmp;
  Record(tmp.path, 30);
  RunResult r;
  Run(Src(tmp.path) + " ! video/x-vp9 ! fakesink", &r);
  fail_unless(!r.errors.empty(), "no error");
  fail_unless(r.errors[0].find("negotiat") != std::string::npos, "%s", r.errors[0].c_str());
}
GST_END_TEST;

// live-edge=true starts at the newest keyframe, stream time 0 there.
GST_START_TEST(test_live_edge_starts_at_the_newest_keyframe) {
  TempDir tmp;
  GstClockTime t0 = Record(tmp.path, 150);  // keyframes at 0, 1, ..., 4 s
  Playback p(Src(tmp.path, "live-edge=true") + kSink);
  auto out = p.Drain();
  fail_unless_equals_int(int(out.size()), 30);
  fail_unless_equals_uint64(out[0].pts, t0 + 4 * kSec);
  fail_unless_equals_uint64(out[0].seg_start, t0 + 4 * kSec);
}
GST_END_TEST;

// While a follower waits for a writer, queries are answered and a flushing
// seek goes through at once.
GST_START_TEST(test_follow_answers_queries_and_seeks_while_waiting) {
  TempDir tmp;
  Record(tmp.path, 60);
  Playback p(Src(tmp.path, "follow=true") + kSink);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  for (int i = 0; i < 60; i++) {  // take every frame: the source now waits at the end
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
    fail_unless(s != NULL, "stalled after %d frames", i);
    gst_sample_unref(s);
  }
  gint64 dur = 0;
  fail_unless(gst_element_query_duration(p.src, GST_FORMAT_TIME, &dur));
  fail_unless(dur > gint64(kSec) && dur <= gint64(2 * kSec));
  fail_unless(gst_element_seek_simple(p.pipeline, GST_FORMAT_TIME,
                                      GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                                      gint64(kSec)));
  GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
  fail_unless(s != NULL, "no frame after the seek");
  fail_unless_equals_uint64(gst_segment_to_stream_time(gst_sample_get_segment(s), GST_FORMAT_TIME,
                                                       GST_BUFFER_PTS(gst_sample_get_buffer(s))),
                            kSec);
  gst_sample_unref(s);
}
GST_END_TEST;

GST_START_TEST(test_damaged_segment_is_skipped_or_fatal) {
  TempDir tmp;
  Record(tmp.path, 150);
  std::string path = tmp.path + "/cam/000000000003.vdbf";
  FILE *f = fopen(path.c_str(), "r+b");
  fseek(f, 2000, SEEK_SET);
  fputc(0x5a ^ 0xff, f);
  fclose(f);
  RunResult r;
  Run(Src(tmp.path) + " ! fakesink", &r);
  fail_unless(r.eos, "playback must go on past a damaged segment");
  fail_unless(!r.warnings.empty() && r.warnings[0].find("damaged") != std::string::npos);
  RunResult strict;
  Run(Src(tmp.path, "skip-corrupt=false") + " ! fakesink", &strict);
  fail_unless(!strict.errors.empty() && strict.errors[0].find("damaged") != std::string::npos);
  // Playback never delivers damaged bytes, and loses only the damaged GOP
  // (here the keyframe itself: the whole 1 s segment).
  Playback p(Src(tmp.path) + kSink);
  auto out = p.Drain();
  fail_unless_equals_int(int(out.size()), 120);
}
GST_END_TEST;

GST_START_TEST(test_follow_a_live_writer) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 90, &e);
  GstHarness *w = VdbSinkHarness("location=" + tmp.path + " stream=cam");
  gst_harness_set_src_caps(w, gst_caps_ref(e.caps));
  for (int i = 0; i < 30; i++) gst_harness_push(w, gst_buffer_ref(e.buffers[size_t(i)]));
  Playback p(Src(tmp.path, "follow=true") + kSink);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  std::vector<Out> got;
  for (int i = 30; i < 90; i++) gst_harness_push(w, gst_buffer_ref(e.buffers[size_t(i)]));
  while (got.size() < 90) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec);
    fail_unless(s != NULL, "follow stalled after %zu frames", got.size());
    GstBuffer *b = gst_sample_get_buffer(s);
    got.push_back({GST_BUFFER_PTS(b), GST_BUFFER_DTS(b), false, false, "", 0});
    gst_sample_unref(s);
  }
  for (size_t i = 0; i < got.size(); i++)
    fail_unless_equals_uint64(got[i].pts, GST_BUFFER_PTS(e.buffers[i]));
  gst_harness_push_event(w, gst_event_new_eos());
  gst_harness_teardown(w);
}
GST_END_TEST;

GST_START_TEST(test_playbin_uri_and_mp4_export) {
  TempDir tmp;
  Record(tmp.path, 150);
  RunResult r;
  Run("playbin uri=vdb://" + tmp.path + "?stream=cam video-sink=fakesink audio-sink=fakesink", &r);
  fail_unless(r.eos, "%s", r.errors.empty() ? "no eos" : r.errors[0].c_str());
  std::string mp4 = tmp.path + "/clip.mp4";
  RunResult ex;
  Run(Src(tmp.path) + " ! h264parse ! mp4mux ! filesink location=" + mp4, &ex);
  fail_unless(ex.eos);
  Playback back("filesrc location=" + mp4 + " ! qtdemux ! appsink name=out sync=false");
  fail_unless_equals_int(int(back.Drain().size()), 150);
}
GST_END_TEST;

// vdbs3://BUCKET/PREFIX?stream=S names a store in a bucket (endpoint and
// region as query keys); one without a prefix is refused as a bad URI.
GST_START_TEST(test_vdbs3_uri) {
  GstElement *src = gst_element_make_from_uri(
      GST_URI_SRC, "vdbs3://footage/site1/a?stream=cam&endpoint=http://rgw:7480&region=eu", NULL,
      NULL);
  fail_unless(src != NULL);
  gchar *location = NULL, *endpoint = NULL, *region = NULL, *stream = NULL;
  g_object_get(src, "location", &location, "endpoint", &endpoint, "region", &region, "stream",
               &stream, NULL);
  fail_unless_equals_string(location, "s3://footage/site1/a");
  fail_unless_equals_string(endpoint, "http://rgw:7480");
  fail_unless_equals_string(region, "eu");
  fail_unless_equals_string(stream, "cam");
  gchar *uri = gst_uri_handler_get_uri(GST_URI_HANDLER(src));
  fail_unless(g_str_has_prefix(uri, "vdbs3://footage/site1/a?"), "%s", uri);
  g_free(uri);
  g_free(location);
  g_free(endpoint);
  g_free(region);
  g_free(stream);
  GError *err = NULL;
  fail_if(gst_uri_handler_set_uri(GST_URI_HANDLER(src), "vdbs3://footage?stream=cam", &err));
  fail_unless(err && strstr(err->message, "vdbs3://BUCKET/PREFIX"), "%s", err ? err->message : "");
  g_clear_error(&err);
  gst_object_unref(src);
}
GST_END_TEST;

GST_START_TEST(test_errors) {
  TempDir tmp;
  struct {
    std::string desc, expect;
  } cases[] = {
      {"vdbsrc ! fakesink", "No store location"},
      {"vdbsrc location=" + tmp.path + "/nothing ! fakesink", "does not exist"},
  };
  for (auto &c : cases) {
    RunResult r;
    Run(c.desc, &r);
    fail_unless(!r.errors.empty() && r.errors[0].find(c.expect) != std::string::npos, "%s: %s",
                c.desc.c_str(), r.errors.empty() ? "no error" : r.errors[0].c_str());
  }
  Record(tmp.path, 30);
  RunResult unknown;
  Run("vdbsrc location=" + tmp.path + " stream=other ! fakesink", &unknown);
  fail_unless(!unknown.errors.empty() &&
              unknown.errors[0].find("does not exist") != std::string::npos);
  // A damaged catalog: everything plays from the segment files, with a
  // warning naming the fix.
  std::string cat = tmp.path + "/cam/catalog.vdbc";
  FILE *f = fopen(cat.c_str(), "r+b");
  fseek(f, 40, SEEK_SET);
  fputc('X', f);
  fseek(f, 0, SEEK_END);
  fwrite(std::string(64 * 3, 'Y').data(), 1, 64 * 3, f);
  fclose(f);
  RunResult corrupt;
  Run(Src(tmp.path) + " ! fakesink name=out", &corrupt);
  fail_unless(corrupt.eos && corrupt.errors.empty(), "%s",
              corrupt.errors.empty() ? "no eos" : corrupt.errors[0].c_str());
  fail_unless(
      !corrupt.warnings.empty() && corrupt.warnings[0].find("vdb repair") != std::string::npos,
      "%s", corrupt.warnings.empty() ? "no warning" : corrupt.warnings[0].c_str());
  Playback all(Src(tmp.path) + " ! appsink name=out sync=false");
  fail_unless_equals_int(int(all.Drain().size()), 30);
  // An empty stream (a writer that never got a frame).
  TempDir empty;
  GstHarness *h = VdbSinkHarness("location=" + empty.path + " stream=cam");
  gst_harness_teardown(h);
  RunResult none;
  Run(Src(empty.path) + " ! fakesink", &none);
  fail_unless(!none.errors.empty() &&
              none.errors[0].find("holds no recording") != std::string::npos);
}
GST_END_TEST;

// An encoder that sends SPS/PPS once: a fresh decoder started at a keyframe
// in the middle of a segment still decodes, because vdbsrc re-sends them.
GST_START_TEST(test_headers_resent_after_seek) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 150, &e);
  StripRepeatedHeaders(&e);
  RecordRuns("location=" + tmp.path + " stream=cam max-segment-time=2000000000", {&e});
  GstClockTime t0 = GST_BUFFER_PTS(e.buffers[0]);
  const std::string dec = " ! h264parse ! avdec_h264 ! video/x-raw,format=I420";
  std::map<guint64, std::string> linear;
  {
    Playback p(Src(tmp.path) + dec + kSink);
    for (auto &o : p.Drain()) linear[(o.pts - t0 + kSec / 60) * 30 / kSec] = o.data;
  }
  fail_unless_equals_int(int(linear.size()), 150);
  // The keyframe at 3 s is in the middle of the segment [2 s, 4 s).
  std::vector<vdb::SegmentInfo> segs;
  ReadStore(tmp.path, "cam", &segs);
  std::string start = std::to_string(segs[0].utc_start + 3 * kSec + kSec / 2);
  Playback p(Src(tmp.path, "start-time=" + start) + dec + kSink);
  // The first buffer vdbsrc pushes: the keyframe at 3 s, with SPS/PPS.
  GstBuffer *head_buf = NULL;
  gst_element_set_state(p.pipeline, GST_STATE_READY);  // vdbsrc's pads appear
  GstPad *pad = gst_element_get_static_pad(p.src, "video");
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *, GstPadProbeInfo *info, gpointer d) {
        auto **out = static_cast<GstBuffer **>(d);
        if (!*out) *out = gst_buffer_ref(GST_PAD_PROBE_INFO_BUFFER(info));
        return GST_PAD_PROBE_OK;
      },
      &head_buf, NULL);
  gst_object_unref(pad);
  auto out = p.Drain();
  fail_unless(head_buf != NULL);
  fail_unless_equals_uint64(GST_BUFFER_PTS(head_buf), t0 + 3 * kSec);
  fail_unless(HasSps(BufferBytes(head_buf)), "no SPS after the seek");
  gst_buffer_unref(head_buf);
  fail_unless_equals_int(int(out.size()), 45);
  for (const auto &o : out) {
    guint64 n = (o.pts - t0 + kSec / 60) * 30 / kSec;
    fail_unless(linear[n] == o.data, "frame %" G_GUINT64_FORMAT " differs", n);
  }
}
GST_END_TEST;

GST_START_TEST(test_caps_change_between_segments) {
  TempDir tmp;
  Encoded a, b;
  Encode(kH264, 30, &a, 160, 120);
  Encode(kH264, 30, &b, 320, 240);
  RecordRuns("location=" + tmp.path + " stream=cam", {&a, &b});
  Playback p(Src(tmp.path) + kSink);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  std::vector<int> widths;
  while (GstSample *smp = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec)) {
    int w = 0;
    gst_structure_get_int(gst_caps_get_structure(gst_sample_get_caps(smp), 0), "width", &w);
    widths.push_back(w);
    gst_sample_unref(smp);
  }
  fail_unless_equals_int(int(widths.size()), 60);
  fail_unless_equals_int(widths.front(), 160);
  fail_unless_equals_int(widths.back(), 320);
}
GST_END_TEST;

// Looping a range with non-flushing segment seeks, as a player does.
GST_START_TEST(test_non_flushing_segment_seeks_loop) {
  TempDir tmp;
  Record(tmp.path, 150);
  Playback p(Src(tmp.path) + kSink);
  p.Paused();
  p.Seek(1.0, GstSeekFlags(GST_SEEK_FLAG_SEGMENT | GST_SEEK_FLAG_KEY_UNIT), kSec, 2 * kSec);
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  for (int loop = 0; loop < 2; loop++) {
    GstMessage *m = p.Wait(GST_MESSAGE_SEGMENT_DONE);
    fail_unless(m != NULL, "loop %d: no SEGMENT_DONE", loop);
    gst_message_unref(m);
    fail_unless(gst_element_seek(
        p.pipeline, 1.0, GST_FORMAT_TIME, GstSeekFlags(loop == 0 ? GST_SEEK_FLAG_SEGMENT : 0),
        GST_SEEK_TYPE_SET, gint64(kSec), GST_SEEK_TYPE_SET, gint64(2 * kSec)));
  }
  // appsink holds EOS until its samples are taken: take them all.
  guint frames = 0;
  while (GstSample *smp = gst_app_sink_try_pull_sample(GST_APP_SINK(p.sink), 10 * kSec)) {
    frames++;
    gst_sample_unref(smp);
  }
  fail_unless(gst_app_sink_is_eos(GST_APP_SINK(p.sink)));
  fail_unless_equals_int(int(frames), 3 * 30);  // the range [1 s, 2 s) three times
}
GST_END_TEST;

// System plugins the cases load into this binary's registry (test_plugins.h).
#define H264_PLUGINS "coreelements", "app", "videotestsrc", "x264", "videoparsersbad"
#define PLAYBIN_PLUGINS "playback", "typefindfunctions", "libav", "videoconvertscale"

static Suite *vdbsrc_suite(void) {
  Suite *s = suite_create("vdbsrc");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 180);
  suite_add_tcase(s, tc);
  VDB_ADD_TEST(tc, test_roundtrip_every_frame, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_key_unit_seeks_snap, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_accurate_seek_starts_at_previous_keyframe, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_accurate_seek_decodes_same_frame, H264_PLUGINS, "libav");
  VDB_ADD_TEST(tc, test_trickmode_key_units, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_reverse_playback, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_segment_seek_posts_segment_done, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_queries_and_ranges, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_wallclock_range_properties, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_gaps_preserve_and_collapse, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_damaged_segment_is_skipped_or_fatal, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_follow_a_live_writer, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_bframes_play_back_exactly_without_false_gaps, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_follow_answers_queries_and_seeks_while_waiting, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_follower_started_before_the_first_frame, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_follower_that_listed_a_segment_before_its_catalog_record, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_live_edge_starts_at_the_newest_keyframe, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_read_only_store_plays, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_refused_caps_are_a_clear_error, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_follower_behind_retention_jumps_to_the_oldest_footage, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin_uri_and_mp4_export, H264_PLUGINS, PLAYBIN_PLUGINS, "isomp4");
  VDB_ADD_TEST(tc, test_errors, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_headers_resent_after_seek, H264_PLUGINS, "libav");
  VDB_ADD_TEST(tc, test_caps_change_between_segments, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_non_flushing_segment_seeks_loop, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_vdbs3_uri, "coreelements");
  return s;
}

GST_CHECK_MAIN(vdbsrc);
