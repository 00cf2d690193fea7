// Real clients over vdbsrc: playbin, decodebin and GstDiscoverer with
// clock-synced sinks, for every H.264 stream format (with and without
// B-frames) and VP9, recorded straight from the encoders (x264enc stamps
// from 1000 h). Timing is asserted on running time and the pipeline clock,
// never on sleeps.
#include <gst/pbutils/pbutils.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "codec_headers.h"
#include "gst_test_util.h"
#include "test_plugins.h"
#include "writer.h"

using namespace vdbtest;

namespace {

const GstClockTime kSec = GST_SECOND;

struct Format {
  const char *name;
  const char *encode;  // what follows the raw caps
};

const Format kFormats[] = {
    {"h264 byte-stream",
     "x264enc key-int-max=15 bframes=0 speed-preset=ultrafast ! h264parse ! "
     "video/x-h264,stream-format=byte-stream,alignment=au"},
    {"h264 byte-stream, B-frames",
     "x264enc key-int-max=15 bframes=2 speed-preset=ultrafast ! h264parse ! "
     "video/x-h264,stream-format=byte-stream,alignment=au"},
    {"h264 avc",
     "x264enc key-int-max=15 bframes=0 speed-preset=ultrafast ! h264parse ! "
     "video/x-h264,stream-format=avc,alignment=au"},
    {"h264 avc, B-frames",
     "x264enc key-int-max=15 bframes=2 speed-preset=ultrafast ! h264parse ! "
     "video/x-h264,stream-format=avc,alignment=au"},
    {"h264 avc3, B-frames",
     "x264enc key-int-max=15 bframes=2 speed-preset=ultrafast ! h264parse ! "
     "video/x-h264,stream-format=avc3,alignment=au"},
    {"vp9", "vp9enc deadline=1 cpu-used=8 keyframe-max-dist=15"},
};

// What current IP cameras and screen recorders send: H.265 in every stream
// format (x265enc's presets use B-frames; it sends VPS/SPS/PPS with the
// first keyframe only), and AV1.
const Format kNewFormats[] = {
    {"h265 byte-stream, B-frames",
     "x265enc key-int-max=15 speed-preset=ultrafast ! h265parse ! "
     "video/x-h265,stream-format=byte-stream,alignment=au"},
    {"h265 byte-stream",
     "x265enc key-int-max=15 speed-preset=ultrafast option-string=bframes=0 ! h265parse ! "
     "video/x-h265,stream-format=byte-stream,alignment=au"},
    {"h265 hvc1, B-frames",
     "x265enc key-int-max=15 speed-preset=ultrafast ! h265parse ! "
     "video/x-h265,stream-format=hvc1,alignment=au"},
    {"h265 hev1, B-frames",
     "x265enc key-int-max=15 speed-preset=ultrafast ! h265parse ! "
     "video/x-h265,stream-format=hev1,alignment=au"},
    {"av1", "av1enc cpu-used=8 usage-profile=realtime keyframe-max-dist=15 ! av1parse"},
};

// Records `frames` frames at 30 fps as a user does: encoder into vdbsink.
void RecordPipeline(const std::string &store, const Format &f, int frames,
                    const std::string &sink_props = "max-segment-time=500000000") {
  RunResult r;
  Run("videotestsrc num-buffers=" + std::to_string(frames) +
          " pattern=ball ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 ! " +
          f.encode + " ! vdbsink location=" + store + " stream=cam " + sink_props,
      &r);
  fail_unless(r.eos && r.errors.empty(), "%s: recording: %s", f.name,
              r.errors.empty() ? "no EOS" : r.errors[0].c_str());
}

std::string Uri(const std::string &store) {
  return "vdb://" + store + "?stream=cam";
}

// What a clock-synced sink saw.
struct Seen {
  int frames = 0;
  GstClockTime first_running = GST_CLOCK_TIME_NONE, last_running = GST_CLOCK_TIME_NONE;
  GstClockTime first_stream = GST_CLOCK_TIME_NONE;
};

GstPadProbeReturn Watch(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  auto *seen = static_cast<Seen *>(data);
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (!ev) return GST_PAD_PROBE_OK;
  const GstSegment *seg;
  gst_event_parse_segment(ev, &seg);
  GstClockTime rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(b));
  if (seen->frames == 0) {
    seen->first_running = rt;
    seen->first_stream = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(b));
  }
  seen->last_running = rt;
  seen->frames++;
  gst_event_unref(ev);
  return GST_PAD_PROBE_OK;
}

// A fakesink that syncs to the clock, with a probe counting what it renders.
GstElement *SyncedSink(Seen *seen) {
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  g_object_set(sink, "sync", TRUE, NULL);
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, Watch, seen, NULL);
  gst_object_unref(pad);
  return sink;
}

// Waits for EOS or an error; returns the pipeline clock time spent playing.
GstClockTime PlayToEos(GstElement *p, std::string *error) {
  GstBus *bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * kSec,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  GstClockTime spent = GST_CLOCK_TIME_NONE;
  if (!m) {
    *error = "no EOS within 60 s";
  } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    *error = e->message;
    g_error_free(e);
  } else {
    GstClock *clock = gst_element_get_clock(p);
    spent = gst_clock_get_time(clock) - gst_element_get_base_time(p);
    gst_object_unref(clock);
  }
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  return spent;
}

}  // namespace

// playbin with a clock-synced sink plays every frame of `f` in real time
// from running time 0, with the right duration and position.
void PlaysInRealTime(const Format &f) {
  TempDir tmp;
  RecordPipeline(tmp.path, f, 30);
  Seen seen;
  GstElement *p = gst_element_factory_make("playbin", NULL);
  g_object_set(p, "uri", Uri(tmp.path).c_str(), "video-sink", SyncedSink(&seen), NULL);
  gst_element_set_state(p, GST_STATE_PAUSED);
  fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS,
              "%s: no preroll", f.name);
  gint64 dur = -1, pos = -1;
  fail_unless(gst_element_query_duration(p, GST_FORMAT_TIME, &dur), "%s: duration", f.name);
  fail_unless(dur > gint64(900 * GST_MSECOND) && dur <= gint64(kSec),
              "%s: duration %" GST_TIME_FORMAT, f.name, GST_TIME_ARGS(dur));
  fail_unless(gst_element_query_position(p, GST_FORMAT_TIME, &pos), "%s: position", f.name);
  fail_unless(pos >= 0 && pos < gint64(kSec / 10), "%s: position %" GST_TIME_FORMAT, f.name,
              GST_TIME_ARGS(pos));
  std::string err;
  GstClockTime spent = PlayToEos(p, &err);
  fail_unless(err.empty(), "%s: %s", f.name, err.c_str());
  fail_unless_equals_int(seen.frames, 30);
  fail_unless(seen.first_running < kSec / 10, "%s: first frame at running time %" GST_TIME_FORMAT,
              f.name, GST_TIME_ARGS(seen.first_running));
  fail_unless(seen.first_stream < kSec / 10);
  // 30 frames at 30 fps: the last one is due at ~0.97 s of running time,
  // and a synced sink waited for it on the pipeline clock.
  fail_unless(seen.last_running > 900 * GST_MSECOND && seen.last_running < kSec);
  fail_unless(spent >= 900 * GST_MSECOND, "%s: played 1 s in %" GST_TIME_FORMAT, f.name,
              GST_TIME_ARGS(spent));
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}

// playbin with a clock-synced sink plays every frame in real time from
// running time 0, for every codec and stream format, with the right
// duration and position.
GST_START_TEST(test_playbin_plays_every_format_in_real_time) {
  for (const Format &f : kFormats) PlaysInRealTime(f);
}
GST_END_TEST;

GST_START_TEST(test_playbin_plays_h265_and_av1_in_real_time) {
  for (const Format &f : kNewFormats) PlaysInRealTime(f);
}
GST_END_TEST;

// decodebin gets the store's caps from the first caps query and plugs the
// right parser and decoder, for every format.
GST_START_TEST(test_caps_query_answers_the_stored_caps) {
  for (const Format &f : kFormats) {
    TempDir tmp;
    RecordPipeline(tmp.path, f, 15);
    std::vector<std::string> stored;
    ReadStore(tmp.path, "cam", nullptr, &stored);
    GstElement *src = gst_element_factory_make("vdbsrc", NULL);
    g_object_set(src, "location", tmp.path.c_str(), "stream", "cam", NULL);
    fail_unless(gst_element_set_state(src, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
    GstPad *pad = gst_element_get_static_pad(src, "video");
    gst_element_set_state(src, GST_STATE_PAUSED);  // started: the store is open
    GstCaps *caps = gst_pad_query_caps(pad, NULL);
    GstCaps *want = gst_caps_from_string(stored[0].c_str());
    fail_unless(gst_caps_is_equal(caps, want), "%s: caps query gave %" GST_PTR_FORMAT, f.name,
                caps);
    gst_caps_unref(caps);
    gst_caps_unref(want);
    gst_object_unref(pad);
    gst_element_set_state(src, GST_STATE_NULL);
    gst_object_unref(src);
  }
}
GST_END_TEST;

// A seek through playbin to 1 s lands at 1 s of stream time, KEY_UNIT and
// ACCURATE, and what follows decodes: the keyframe there starts a segment
// (0.5 s segments) whose in-band headers the sink and vdbsrc provide.
void SeekLandsWhereAsked(const Format &f) {
  TempDir tmp;
  RecordPipeline(tmp.path, f, 60);
  for (GstSeekFlags flags : {GST_SEEK_FLAG_KEY_UNIT, GST_SEEK_FLAG_ACCURATE}) {
    Seen seen;
    GstElement *p = gst_element_factory_make("playbin", NULL);
    g_object_set(p, "uri", Uri(tmp.path).c_str(), "video-sink", SyncedSink(&seen), NULL);
    gst_element_set_state(p, GST_STATE_PAUSED);
    fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
    fail_unless(gst_element_seek_simple(p, GST_FORMAT_TIME,
                                        GstSeekFlags(GST_SEEK_FLAG_FLUSH | flags), kSec));
    fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
    gint64 pos = -1;
    fail_unless(gst_element_query_position(p, GST_FORMAT_TIME, &pos));
    fail_unless(pos >= gint64(kSec - kSec / 30) && pos <= gint64(kSec + kSec / 30),
                "%s: position after a seek to 1 s: %" GST_TIME_FORMAT, f.name, GST_TIME_ARGS(pos));
    seen = Seen();
    std::string err;
    PlayToEos(p, &err);
    fail_unless(err.empty(), "%s: %s", f.name, err.c_str());
    fail_unless(seen.first_stream >= kSec - kSec / 30 && seen.first_stream <= kSec + kSec / 30,
                "%s: first frame after the seek at stream time %" GST_TIME_FORMAT, f.name,
                GST_TIME_ARGS(seen.first_stream));
    fail_unless(seen.frames >= 29 && seen.frames <= 31, "%s: %d frames after the seek", f.name,
                seen.frames);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}

GST_START_TEST(test_playbin_seek_lands_where_asked) {
  SeekLandsWhereAsked(kFormats[1]);  // B-frames
}
GST_END_TEST;

GST_START_TEST(test_playbin_seeks_in_h265_and_av1) {
  for (const Format &f : {kNewFormats[0], kNewFormats[2], kNewFormats[4]}) SeekLandsWhereAsked(f);
}
GST_END_TEST;

// Every segment of an H.265 byte-stream and of AV1 starts with the headers
// a decoder needs, though x265enc sends VPS/SPS/PPS only once: the sink
// inserts them.
GST_START_TEST(test_every_segment_carries_its_codec_headers) {
  for (const Format &f : {kNewFormats[0], kNewFormats[4]}) {
    TempDir tmp;
    RecordPipeline(tmp.path, f, 60);
    std::vector<std::string> caps;
    std::vector<vdb::SegmentInfo> segs;
    auto frames = ReadStore(tmp.path, "cam", &segs, &caps);
    fail_unless(segs.size() >= 4, "%s: %zu segments", f.name, segs.size());
    uint64_t seg = 0;
    for (const auto &fr : frames) {
      if (fr.segment == seg) continue;
      seg = fr.segment;
      vdb::CodecHeaders h(vdb::InbandHeadersOfCaps(caps[0]));
      fail_unless(h.Scan(reinterpret_cast<const uint8_t *>(fr.data.data()), fr.data.size()),
                  "%s: segment %" G_GUINT64_FORMAT " starts without its headers", f.name, seg);
    }
  }
}
GST_END_TEST;

// GstDiscoverer (gst-discoverer-1.0) reports codec, size, duration and
// seekability.
void DiscovererReports(const Format &f, const char *media_type) {
  TempDir tmp;
  RecordPipeline(tmp.path, f, 30);
  GstDiscoverer *d = gst_discoverer_new(30 * kSec, NULL);
  GError *err = NULL;
  GstDiscovererInfo *info = gst_discoverer_discover_uri(d, Uri(tmp.path).c_str(), &err);
  fail_unless(info != NULL, "%s: %s", f.name, err ? err->message : "?");
  fail_unless_equals_int(gst_discoverer_info_get_result(info), GST_DISCOVERER_OK);
  GstClockTime dur = gst_discoverer_info_get_duration(info);
  fail_unless(dur > 900 * GST_MSECOND && dur <= kSec, "%s: duration %" GST_TIME_FORMAT, f.name,
              GST_TIME_ARGS(dur));
  fail_unless(gst_discoverer_info_get_seekable(info));
  GList *videos = gst_discoverer_info_get_video_streams(info);
  fail_unless_equals_int(int(g_list_length(videos)), 1);
  auto *v = GST_DISCOVERER_VIDEO_INFO(videos->data);
  fail_unless_equals_int(int(gst_discoverer_video_info_get_width(v)), 160);
  fail_unless_equals_int(int(gst_discoverer_video_info_get_height(v)), 120);
  GstCaps *caps = gst_discoverer_stream_info_get_caps(GST_DISCOVERER_STREAM_INFO(v));
  fail_unless(gst_structure_has_name(gst_caps_get_structure(caps, 0), media_type),
              "%s: %" GST_PTR_FORMAT, f.name, caps);
  gst_caps_unref(caps);
  gst_discoverer_stream_info_list_free(videos);
  gst_discoverer_info_unref(info);
  g_object_unref(d);
}

GST_START_TEST(test_discoverer_reports_duration_and_codec) {
  DiscovererReports(kFormats[2], "video/x-h264");
  DiscovererReports(kFormats[5], "video/x-vp9");
}
GST_END_TEST;

GST_START_TEST(test_discoverer_reports_h265_and_av1) {
  DiscovererReports(kNewFormats[2], "video/x-h265");
  DiscovererReports(kNewFormats[4], "video/x-av1");
}
GST_END_TEST;

// playbin3 and uridecodebin (the other autoplugging paths) play every frame
// with the right caps, for an avc store with B-frames and a VP9 store.
GST_START_TEST(test_playbin3_and_uridecodebin_play_every_frame) {
  for (const Format &f : {kFormats[3], kFormats[5]}) {
    TempDir tmp;
    RecordPipeline(tmp.path, f, 30);
    for (const char *client : {"playbin3", "uridecodebin"}) {
      Seen seen;
      GstElement *p;
      if (std::string(client) == "playbin3") {
        p = gst_element_factory_make("playbin3", NULL);
        g_object_set(p, "uri", Uri(tmp.path).c_str(), "video-sink", SyncedSink(&seen), NULL);
      } else {
        p = gst_pipeline_new(NULL);
        GstElement *dec = gst_element_factory_make("uridecodebin", NULL);
        GstElement *sink = SyncedSink(&seen);
        GstCaps *raw = gst_caps_from_string("video/x-raw");
        g_object_set(dec, "uri", Uri(tmp.path).c_str(), "caps", raw, NULL);
        gst_caps_unref(raw);
        gst_bin_add_many(GST_BIN(p), dec, sink, NULL);
        g_signal_connect(dec, "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer d) {
                           GstPad *sinkpad = gst_element_get_static_pad(GST_ELEMENT(d), "sink");
                           if (!gst_pad_is_linked(sinkpad)) gst_pad_link(pad, sinkpad);
                           gst_object_unref(sinkpad);
                         }),
                         sink);
      }
      std::string err;
      GstClockTime spent = PlayToEos(p, &err);
      fail_unless(err.empty(), "%s %s: %s", client, f.name, err.c_str());
      fail_unless_equals_int(seen.frames, 30);
      fail_unless(seen.first_running < kSec / 10);
      fail_unless(spent >= 900 * GST_MSECOND, "%s %s: 1 s played in %" GST_TIME_FORMAT, client,
                  f.name, GST_TIME_ARGS(spent));
      gst_element_set_state(p, GST_STATE_NULL);
      gst_object_unref(p);
    }
  }
}
GST_END_TEST;

// Rates and trick modes through playbin, on the pipeline clock: rate 2
// plays 2 s in about 1 s; rate -1 plays every frame backwards from the end;
// key-unit trick mode at rate 4 shows keyframes only.
GST_START_TEST(test_playbin_rates_and_trick_modes) {
  TempDir tmp;
  RecordPipeline(tmp.path, kFormats[1], 60);  // 2 s, B-frames, a keyframe every 0.5 s
  struct Case {
    double rate;
    GstSeekFlags flags;
    int min_frames, max_frames;
    GstClockTime min_spent, max_spent;
  } cases[] = {
      {2.0, GST_SEEK_FLAG_NONE, 60, 60, 900 * GST_MSECOND, 1500 * GST_MSECOND},
      {-1.0, GST_SEEK_FLAG_NONE, 58, 60, 1800 * GST_MSECOND, 4 * kSec},
      {4.0, GstSeekFlags(GST_SEEK_FLAG_TRICKMODE | GST_SEEK_FLAG_TRICKMODE_KEY_UNITS), 3, 5, 0,
       1500 * GST_MSECOND},
  };
  for (const Case &c : cases) {
    Seen seen;
    GstElement *p = gst_element_factory_make("playbin", NULL);
    g_object_set(p, "uri", Uri(tmp.path).c_str(), "video-sink", SyncedSink(&seen), NULL);
    gst_element_set_state(p, GST_STATE_PAUSED);
    fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
    seen = Seen();  // the streaming thread waits in preroll: count from the seek on
    fail_unless(gst_element_seek(p, c.rate, GST_FORMAT_TIME,
                                 GstSeekFlags(GST_SEEK_FLAG_FLUSH | c.flags), GST_SEEK_TYPE_SET, 0,
                                 GST_SEEK_TYPE_SET, gint64(2 * kSec)));
    fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
    std::string err;
    GstClockTime spent = PlayToEos(p, &err);
    fail_unless(err.empty(), "rate %.1f: %s", c.rate, err.c_str());
    fail_unless(seen.frames >= c.min_frames && seen.frames <= c.max_frames, "rate %.1f: %d frames",
                c.rate, seen.frames);
    if (c.rate < 0)
      fail_unless(seen.first_stream > 1900 * GST_MSECOND, "reverse started at %" GST_TIME_FORMAT,
                  GST_TIME_ARGS(seen.first_stream));
    fail_unless(spent >= c.min_spent && spent <= c.max_spent, "rate %.1f took %" GST_TIME_FORMAT,
                c.rate, GST_TIME_ARGS(spent));
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// Plays `uri` through playbin with a synced sink to EOS: what the sink saw.
Seen PlayAll(const std::string &uri, GstClockTime *spent) {
  Seen seen;
  GstElement *p = gst_element_factory_make("playbin", NULL);
  g_object_set(p, "uri", uri.c_str(), "video-sink", SyncedSink(&seen), NULL);
  std::string err;
  *spent = PlayToEos(p, &err);
  fail_unless(err.empty(), "%s", err.c_str());
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return seen;
}

// Recorded from a live source (timestamps are its running time) and from a
// store whose start retention removed: playback starts at running time 0 and
// takes as long as the footage left.
GST_START_TEST(test_live_source_and_retained_stores_play_in_real_time) {
  TempDir live;
  RunResult r;
  Run("videotestsrc is-live=true num-buffers=30 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 speed-preset=ultrafast ! "
      "h264parse ! vdbsink location=" +
          live.path + " stream=cam",
      &r);
  fail_unless(r.eos);
  GstClockTime spent;
  Seen a = PlayAll(Uri(live.path), &spent);
  fail_unless_equals_int(a.frames, 30);
  fail_unless(a.first_running < kSec / 10);
  fail_unless(spent >= 900 * GST_MSECOND && spent < 5 * kSec);

  TempDir cut;
  RecordPipeline(cut.path, kFormats[1], 60);  // 2 s in 0.5 s segments
  {                                           // retention removes the first second
    auto w = vdb::Writer::Open(vdb::DefaultFs(), cut.path, "cam", {}, nullptr);
    fail_unless(w.ok());
    auto segs = (*w)->segments();
    fail_unless(segs.size() >= 4);
    fail_unless((*w)->DeleteSegment(segs[0].id).ok() && (*w)->DeleteSegment(segs[1].id).ok());
  }
  Seen b = PlayAll(Uri(cut.path), &spent);
  fail_unless_equals_int(b.frames, 30);
  fail_unless(b.first_running < kSec / 10, "first frame at running time %" GST_TIME_FORMAT,
              GST_TIME_ARGS(b.first_running));
  fail_unless(b.first_stream < kSec / 10);
  fail_unless(spent >= 900 * GST_MSECOND && spent < 5 * kSec);
}
GST_END_TEST;

// A damaged store through playbin with a clock-synced sink: a flipped byte
// costs the rest of its GOP, a FIFO in place of a segment's frame file is a
// gap, a deleted catalog is replaced by the segment files. Playback runs to
// EOS in real time: no error, no hang, no frame out of place.
GST_START_TEST(test_playbin_plays_a_damaged_store_to_the_end) {
  TempDir tmp;
  RecordPipeline(tmp.path, kFormats[3], 90);  // avc, B-frames: six 0.5 s segments of one GOP
  std::string dir = tmp.path + "/cam/";
  std::string f2 = dir + "000000000002.vdbf", f4 = dir + "000000000004.vdbf";
  FILE *f = fopen(f2.c_str(), "r+b");
  fail_unless(f != NULL);
  fseek(f, 0, SEEK_END);
  long mid = ftell(f) / 2;
  fseek(f, mid, SEEK_SET);
  int c = fgetc(f);
  fseek(f, mid, SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
  fail_unless(unlink(f4.c_str()) == 0 && mkfifo(f4.c_str(), 0644) == 0);
  fail_unless(unlink((dir + "catalog.vdbc").c_str()) == 0);
  GstClockTime spent;
  Seen seen = PlayAll(Uri(tmp.path), &spent);
  // Segment 4 (15 frames) is a gap; segment 2 loses at most its GOP's rest.
  fail_unless(seen.frames >= 60 && seen.frames < 75, "%d frames played", seen.frames);
  fail_unless(seen.first_running < kSec / 10);
  // The gap keeps its time: the last frame is due at ~2.97 s.
  fail_unless(seen.last_running > 2800 * GST_MSECOND && seen.last_running < 3 * kSec,
              "last frame at running time %" GST_TIME_FORMAT, GST_TIME_ARGS(seen.last_running));
  fail_unless(spent >= 2800 * GST_MSECOND, "played in %" GST_TIME_FORMAT, GST_TIME_ARGS(spent));
}
GST_END_TEST;

// A RECONFIGURE from downstream renegotiates the store's caps, never others.
GST_START_TEST(test_reconfigure_keeps_the_stored_caps) {
  TempDir tmp;
  RecordPipeline(tmp.path, kFormats[2], 30);  // avc: codec_data in the caps
  std::vector<std::string> stored;
  ReadStore(tmp.path, "cam", nullptr, &stored);
  GstElement *p = gst_parse_launch(
      ("vdbsrc name=src location=" + tmp.path + " stream=cam ! fakesink name=out sync=true")
          .c_str(),
      NULL);
  gst_element_set_state(p, GST_STATE_PAUSED);
  fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
  GstElement *out = gst_bin_get_by_name(GST_BIN(p), "out");
  GstPad *sinkpad = gst_element_get_static_pad(out, "sink");
  gst_pad_push_event(sinkpad, gst_event_new_reconfigure());
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 30 * kSec,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
  gst_message_unref(m);
  GstCaps *caps = gst_pad_get_current_caps(sinkpad);
  GstCaps *want = gst_caps_from_string(stored[0].c_str());
  fail_unless(caps && gst_caps_is_equal(caps, want), "caps after RECONFIGURE: %" GST_PTR_FORMAT,
              caps);
  gst_caps_unref(want);
  gst_caps_unref(caps);
  gst_object_unref(bus);
  gst_object_unref(sinkpad);
  gst_object_unref(out);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

// System plugins the cases load into this binary's registry (test_plugins.h).
#define RECORD_PLUGINS "coreelements", "videotestsrc", "x264", "videoparsersbad", "vpx", "app"
#define PLAY_PLUGINS "playback", "typefindfunctions", "libav", "videoconvertscale", "app"
#define NEW_CODEC_PLUGINS "x265", "aom"

static Suite *clients_suite(void) {
  Suite *s = suite_create("clients");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  VDB_ADD_TEST(tc, test_playbin_plays_every_format_in_real_time, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_caps_query_answers_the_stored_caps, RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin_seek_lands_where_asked, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin_plays_h265_and_av1_in_real_time, RECORD_PLUGINS, PLAY_PLUGINS,
               NEW_CODEC_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin_seeks_in_h265_and_av1, RECORD_PLUGINS, PLAY_PLUGINS,
               NEW_CODEC_PLUGINS);
  VDB_ADD_TEST(tc, test_every_segment_carries_its_codec_headers, RECORD_PLUGINS, NEW_CODEC_PLUGINS);
  VDB_ADD_TEST(tc, test_discoverer_reports_duration_and_codec, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_discoverer_reports_h265_and_av1, RECORD_PLUGINS, PLAY_PLUGINS,
               NEW_CODEC_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin3_and_uridecodebin_play_every_frame, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin_rates_and_trick_modes, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_live_source_and_retained_stores_play_in_real_time, RECORD_PLUGINS,
               PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_reconfigure_keeps_the_stored_caps, RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_playbin_plays_a_damaged_store_to_the_end, RECORD_PLUGINS, PLAY_PLUGINS);
  return s;
}

GST_CHECK_MAIN(clients);
