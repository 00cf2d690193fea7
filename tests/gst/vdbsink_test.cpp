// vdbsink element tests: what goes in is what the store holds.
#include <atomic>
#include <thread>

#include "gst_test_util.h"
#include "test_plugins.h"

using namespace vdbtest;

namespace {

const char kH264[] =
    "x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! "
    "video/x-h264,stream-format=byte-stream,alignment=au";
const uint64_t kSec = GST_SECOND;

GstHarness *SinkHarness(const std::string &props) {
  GstHarness *h = VdbSinkHarness(props);
  return h;
}

// Pushes encoded buffers [from, to) with their timestamps.
void PushRange(GstHarness *h, const Encoded &e, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(e.buffers[i])), GST_FLOW_OK);
}

void Finish(GstHarness *h) {
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  gst_harness_teardown(h);
}

// Every stored frame equals the pushed buffer: bytes, timestamps, key flag.
void CheckSame(const Encoded &e, size_t from, const std::vector<StoredFrame> &got, size_t got_from,
               size_t n, bool allow_added_headers = false) {
  for (size_t i = 0; i < n; i++) {
    GstBuffer *b = e.buffers[from + i];
    const StoredFrame &f = got[got_from + i];
    std::string in = BufferBytes(b);
    if (allow_added_headers && f.data.size() > in.size())
      fail_unless(f.data.compare(f.data.size() - in.size(), in.size(), in) == 0, "frame %zu", i);
    else
      fail_unless(f.data == in, "frame %zu differs (%zu vs %zu bytes)", i, f.data.size(),
                  in.size());
    fail_unless_equals_uint64(f.pts, GST_BUFFER_PTS(b));
    fail_unless_equals_uint64(f.dts, GST_BUFFER_DTS(b));
    fail_unless_equals_uint64(f.duration, GST_BUFFER_DURATION(b));
    bool key = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
    fail_unless_equals_int(bool(f.flags & vdb::kFlagKey), key);
  }
}

// Records 90 frames from `encoder` and checks them; returns how many were
// stored with DTS != PTS (B-frames).
size_t RecordAndCheck(const std::string &encoder, const char *caps_prefix) {
  TempDir tmp;
  Encoded e;
  Encode(encoder, 90, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path + " stream=cam");
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, e.buffers.size());
  Finish(h);
  std::vector<std::string> caps;
  auto got = ReadStore(tmp.path, "cam", nullptr, &caps);
  fail_unless_equals_int(int(got.size()), 90);
  CheckSame(e, 0, got, 0, 90);
  gchar *want = gst_caps_to_string(e.caps);
  fail_unless(caps[0] == want, "stored caps %s", caps[0].c_str());
  fail_unless(caps[0].rfind(caps_prefix, 0) == 0);
  g_free(want);
  size_t reordered = 0;
  for (const auto &f : got) reordered += f.dts != f.pts;
  return reordered;
}

}  // namespace

GST_START_TEST(test_h264_byte_stream_every_frame) {
  RecordAndCheck(kH264, "video/x-h264");
}
GST_END_TEST;

GST_START_TEST(test_h264_avc_keeps_codec_data) {
  RecordAndCheck(
      "x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! "
      "video/x-h264,stream-format=avc",
      "video/x-h264");
  TempDir tmp;
  Encoded e;
  Encode("x264enc key-int-max=30 ! h264parse ! video/x-h264,stream-format=avc", 10, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path);
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, 10);
  Finish(h);
  std::vector<std::string> caps;
  ReadStore(tmp.path, "default", nullptr, &caps);
  fail_unless(caps[0].find("codec_data=(buffer)") != std::string::npos, "%s", caps[0].c_str());
}
GST_END_TEST;

GST_START_TEST(test_h264_avc3) {
  RecordAndCheck(
      "x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! "
      "video/x-h264,stream-format=avc3",
      "video/x-h264");
}
GST_END_TEST;

// x264enc with B-frames (DTS != PTS), in each stream format: every frame,
// PTS and DTS come back exactly.
GST_START_TEST(test_h264_bframes_keep_pts_and_dts) {
  for (const char *format : {"byte-stream", "avc", "avc3"}) {
    size_t reordered = RecordAndCheck(
        std::string("x264enc key-int-max=30 bframes=2 b-adapt=false speed-preset=ultrafast ! "
                    "h264parse ! video/x-h264,alignment=au,stream-format=") +
            format,
        "video/x-h264");
    fail_unless(reordered > 30, "%s: only %zu frames with DTS != PTS", format, reordered);
  }
}
GST_END_TEST;

GST_START_TEST(test_vp9) {
  RecordAndCheck("vp9enc deadline=1 cpu-used=8 keyframe-max-dist=30", "video/x-vp9");
}
GST_END_TEST;

GST_START_TEST(test_rotation_segments_start_with_headers) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 150, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path + " stream=cam max-segment-time=1000000000");
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, e.buffers.size());
  Finish(h);
  std::vector<vdb::SegmentInfo> segs;
  auto got = ReadStore(tmp.path, "cam", &segs);
  fail_unless_equals_int(int(segs.size()), 5);
  fail_unless_equals_int(int(got.size()), 150);
  CheckSame(e, 0, got, 0, 150, /*allow_added_headers=*/true);
  uint64_t seg = 0;
  for (const auto &f : got) {
    if (f.segment == seg) continue;
    seg = f.segment;
    fail_unless(f.flags & vdb::kFlagKey);
    fail_unless(f.flags & vdb::kFlagHeader, "segment %" G_GUINT64_FORMAT " lacks SPS/PPS", seg);
    // SPS NAL (type 7) near the start.
    size_t sps = f.data.find(std::string("\x00\x00\x01\x67", 4));
    fail_unless(sps < 64, "segment %" G_GUINT64_FORMAT ": SPS at %zu", seg, sps);
  }
  for (size_t i = 1; i < segs.size(); i++)
    fail_unless(segs[i].first_pts >= segs[i - 1].first_pts + kSec);
}
GST_END_TEST;

GST_START_TEST(test_record_toggle_resumes_on_keyframe) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 90, &e);
  GstHarness *h = SinkHarness("name=vsink location=" + tmp.path);
  GstElement *sink = GST_ELEMENT(gst_object_ref(h->element));
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, 30);
  g_object_set(sink, "record", FALSE, NULL);
  PushRange(h, e, 30, 45);
  g_object_set(sink, "record", TRUE, NULL);
  PushRange(h, e, 45, 90);  // 45..59 are delta frames: dropped until 60
  gst_object_unref(sink);
  Finish(h);
  std::vector<vdb::SegmentInfo> segs;
  auto got = ReadStore(tmp.path, "default", &segs);
  fail_unless_equals_int(int(segs.size()), 2);
  fail_unless_equals_int(int(got.size()), 60);
  CheckSame(e, 0, got, 0, 30);
  CheckSame(e, 60, got, 30, 30, true);
}
GST_END_TEST;

GST_START_TEST(test_leading_delta_frames_dropped_and_keyframe_requested) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 60, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path);
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 5, 60);
  bool asked = false;
  while (GstEvent *ev = gst_harness_try_pull_upstream_event(h)) {
    if (gst_video_event_is_force_key_unit(ev)) asked = true;
    gst_event_unref(ev);
  }
  fail_unless(asked, "no force-key-unit request upstream");
  Finish(h);
  auto got = ReadStore(tmp.path, "default");
  fail_unless_equals_int(int(got.size()), 30);
  CheckSame(e, 30, got, 0, 30, true);
}
GST_END_TEST;

GST_START_TEST(test_caps_change_starts_segment) {
  TempDir tmp;
  Encoded a, b;
  Encode(kH264, 30, &a, 160, 120);
  Encode(kH264, 30, &b, 320, 240);
  GstHarness *h = SinkHarness("location=" + tmp.path);
  gst_harness_set_src_caps(h, gst_caps_ref(a.caps));
  PushRange(h, a, 0, 30);
  gst_harness_set_src_caps(h, gst_caps_ref(b.caps));
  PushRange(h, b, 0, 30);  // timestamps restart at the same time: stored after
  Finish(h);
  std::vector<vdb::SegmentInfo> segs;
  std::vector<std::string> caps;
  auto got = ReadStore(tmp.path, "default", &segs, &caps);
  fail_unless_equals_int(int(segs.size()), 2);
  fail_unless(caps[0].find("width=(int)160") != std::string::npos);
  fail_unless(caps[1].find("width=(int)320") != std::string::npos);
  fail_unless_equals_int(int(got.size()), 60);
  fail_unless(segs[1].first_pts >= segs[0].end_pts, "timeline must not go back");
}
GST_END_TEST;

GST_START_TEST(test_restart_continues_timeline_with_gap) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 30, &e);
  for (int run = 0; run < 2; run++) {
    GstHarness *h = SinkHarness("location=" + tmp.path);
    gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
    PushRange(h, e, 0, 30);
    Finish(h);
    // The 1 s run was pushed at once: its wall-clock end is 1 s after its start.
    g_usleep(1300000);
  }
  std::vector<vdb::SegmentInfo> segs;
  auto got = ReadStore(tmp.path, "default", &segs);
  fail_unless_equals_int(int(segs.size()), 2);
  fail_unless_equals_int(int(got.size()), 60);
  // Run 1 keeps its timestamps exactly; run 2 follows after a visible gap.
  fail_unless_equals_uint64(segs[0].first_pts, GST_BUFFER_PTS(e.buffers[0]));
  fail_unless(segs[1].first_pts > segs[0].end_pts + 100 * GST_MSECOND, "no gap");
  fail_unless(segs[1].utc_start > segs[0].utc_start);
}
GST_END_TEST;

GST_START_TEST(test_retention_counts_earlier_runs) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 90, &e);
  {
    GstHarness *h = SinkHarness("location=" + tmp.path + " max-segment-time=1000000000");
    gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
    PushRange(h, e, 0, 90);
    Finish(h);
  }
  std::vector<vdb::SegmentInfo> before;
  ReadStore(tmp.path, "default", &before);
  fail_unless_equals_int(int(before.size()), 3);
  // A quota of one segment: a new run deletes the two oldest at start.
  std::string desc =
      "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! " +
      std::string(kH264) + " ! vdbsink location=" + tmp.path + " max-total-bytes=" +
      std::to_string(vdb::SegmentDiskBytes(before[1]) + vdb::SegmentDiskBytes(before[2]) * 3 / 2);
  RunResult r2;
  Run(desc, &r2);
  fail_unless(r2.eos);
  fail_unless(r2.HasElement("vdbsink-segment-deleted"));
  std::vector<vdb::SegmentInfo> after;
  ReadStore(tmp.path, "default", &after);
  fail_unless_equals_int(int(after.size()), 2);
  fail_unless_equals_uint64(after.front().id, 3);  // 1 and 2 went, oldest first
  fail_unless_equals_uint64(after.back().id, 4);   // the new run's segment stays
}
GST_END_TEST;

GST_START_TEST(test_retention_by_age_with_reference_timestamps) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 60, &e);
  // Footage stamped (timestamp/x-unix) as recorded two days ago.
  GstCaps *unix_caps = gst_caps_new_empty_simple("timestamp/x-unix");
  guint64 two_days_ago = guint64(g_get_real_time()) * 1000 - 48 * 3600 * GST_SECOND;
  {
    GstHarness *h = SinkHarness("location=" + tmp.path + " max-segment-time=1000000000 " +
                                "wallclock=reference-meta");
    gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
    for (size_t i = 0; i < e.buffers.size(); i++) {
      GstBuffer *b = gst_buffer_copy(e.buffers[i]);
      gst_buffer_add_reference_timestamp_meta(b, unix_caps, two_days_ago + i * GST_SECOND / 30,
                                              GST_CLOCK_TIME_NONE);
      fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    }
    Finish(h);
  }
  gst_caps_unref(unix_caps);
  std::vector<vdb::SegmentInfo> segs;
  ReadStore(tmp.path, "default", &segs);
  fail_unless_equals_int(int(segs.size()), 2);
  fail_unless_equals_uint64(segs[0].utc_start, two_days_ago);
  // A day of retention: a new writer deletes both, off the streaming thread.
  GstHarness *h =
      SinkHarness("location=" + tmp.path + " max-age=" + std::to_string(24 * 3600 * GST_SECOND));
  // Watch the catalog only: reading segments would lock them against deletion.
  for (int i = 0; i < 100; i++) {
    segs = vdb::Catalog::Load(vdb::DefaultFs(), tmp.path + "/default")->segments();
    if (segs.empty()) break;
    g_usleep(50000);
  }
  fail_unless_equals_int(int(segs.size()), 0);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_messages_and_signals) {
  TempDir tmp;
  std::string desc =
      "videotestsrc num-buffers=60 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! " +
      std::string(kH264) + " ! vdbsink location=" + tmp.path;
  RunResult r;
  Run(desc, &r);
  fail_unless(r.eos);
  fail_unless(r.HasElement("vdbsink-segment-opened"));
  fail_unless(r.HasElement("vdbsink-segment-closed"));
  for (auto *s : r.elements) {
    if (!gst_structure_has_name(s, "vdbsink-segment-closed")) continue;
    guint64 frames = 0;
    fail_unless(gst_structure_get_uint64(s, "frames", &frames));
    fail_unless_equals_uint64(frames, 60);
    fail_unless(gst_structure_get_string(s, "frames-path") != NULL);
  }
  // Action signals exist and work on a running element.
  GstElement *sink = gst_element_factory_make("vdbsink", NULL);
  gboolean ok = TRUE;
  g_signal_emit_by_name(sink, "sync", &ok);
  fail_if(ok, "sync without a store must report failure");
  g_signal_emit_by_name(sink, "split-now");
  gst_object_unref(sink);
}
GST_END_TEST;

GST_START_TEST(test_errors) {
  TempDir tmp;
  const std::string src =
      "videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=160,"
      "height=120 ! x264enc ! h264parse ! ";
  {
    RunResult r;
    Run(src + "vdbsink", &r);
    fail_unless(!r.errors.empty() && r.errors[0].find("No store location") != std::string::npos);
  }
  {
    RunResult r;
    Run(src + "vdbsink location=/proc/vdb-cannot-write-here", &r);
    fail_unless(!r.errors.empty() && r.errors[0].find("Could not open store") != std::string::npos,
                "%s", r.errors.empty() ? "no error" : r.errors[0].c_str());
  }
  {
    RunResult r;
    Run(src + "vdbsink location=" + tmp.path + " stream=../evil", &r);
    fail_unless(!r.errors.empty() && r.errors[0].find("invalid stream name") != std::string::npos);
  }
  {  // A second writer on the same stream is refused; the first keeps its data.
    GstHarness *first = SinkHarness("location=" + tmp.path + " stream=cam");
    RunResult r;
    Run(src + "vdbsink location=" + tmp.path + " stream=cam", &r);
    fail_unless(!r.errors.empty() &&
                r.errors[0].find("already being recorded") != std::string::npos);
    gst_harness_teardown(first);
  }
  {
    RunResult r;
    Run("videotestsrc num-buffers=5 ! vdbsink location=" + tmp.path, &r);
    fail_unless(!r.errors.empty(), "raw video must be refused");
  }
}
GST_END_TEST;

GST_START_TEST(test_segments_get_headers_the_encoder_sent_once) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 90, &e);
  StripRepeatedHeaders(&e);
  fail_unless(!HasSps(BufferBytes(e.buffers[30])));
  GstHarness *h = SinkHarness("location=" + tmp.path + " max-segment-time=1000000000");
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, 90);
  Finish(h);
  std::vector<vdb::SegmentInfo> segs;
  auto got = ReadStore(tmp.path, "default", &segs);
  fail_unless_equals_int(int(segs.size()), 3);
  for (size_t i = 0; i < got.size(); i += 30) {
    fail_unless(HasSps(got[i].data), "segment starting at frame %zu has no SPS", i);
    fail_unless(got[i].flags & vdb::kFlagHeader);
  }
  CheckSame(e, 0, got, 0, 90, /*allow_added_headers=*/true);
}
GST_END_TEST;

GST_START_TEST(test_discont_and_timestamp_jump_start_segments) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 90, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path);
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, 30);
  for (size_t i = 30; i < 90; i++) {
    GstBuffer *b = gst_buffer_copy(e.buffers[i]);
    if (i >= 60) {  // a 10 s jump forward
      GST_BUFFER_PTS(b) += 10 * kSec;
      GST_BUFFER_DTS(b) += 10 * kSec;
    }
    if (i == 30) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
  Finish(h);
  std::vector<vdb::SegmentInfo> segs;
  auto got = ReadStore(tmp.path, "default", &segs);
  fail_unless_equals_int(int(segs.size()), 3);
  fail_unless_equals_int(int(got.size()), 90);
  fail_unless(got[30].flags & vdb::kFlagDiscont);
  // The jump stays visible: a 10 s hole between the second and third segment.
  guint64 hole = segs[2].first_pts - segs[1].end_pts;  // durations are rounded to the ns
  fail_unless(hole + 2 >= 10 * kSec && hole <= 10 * kSec + 2, "hole %" G_GUINT64_FORMAT, hole);
}
GST_END_TEST;

GST_START_TEST(test_rotation_asks_encoder_for_keyframe) {
  TempDir tmp;
  Encoded e;
  Encode(
      "x264enc key-int-max=300 speed-preset=ultrafast ! h264parse ! "
      "video/x-h264,stream-format=byte-stream,alignment=au",
      60, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path + " max-segment-time=1000000000");
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, 29);
  while (GstEvent *ev = gst_harness_try_pull_upstream_event(h)) gst_event_unref(ev);
  PushRange(h, e, 29, 40);  // the segment is due at 1 s; no keyframe comes
  bool asked = false;
  while (GstEvent *ev = gst_harness_try_pull_upstream_event(h)) {
    asked |= gst_video_event_is_force_key_unit(ev);
    gst_event_unref(ev);
  }
  fail_unless(asked, "no force-key-unit when the segment was due");
  Finish(h);
}
GST_END_TEST;

// A small file system filled during recording: a clear error, and what was
// stored before stays readable; with retention, recording goes on.
GST_START_TEST(test_disk_full) {
  TempDir tmp;
  std::string mnt = tmp.path + "/small";
  g_mkdir_with_parents(mnt.c_str(), 0755);
  if (std::system(("mount -t tmpfs -o size=1m tmpfs '" + mnt + "' 2>/dev/null").c_str()) != 0) {
    LogSkip("test_disk_full", "cannot mount a small tmpfs here (needs root)");
    return;
  }
  const std::string src =
      "videotestsrc num-buffers=300 pattern=snow ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! x264enc speed-preset=ultrafast key-int-max=15 ! h264parse ! ";
  RunResult full;
  Run(src + "vdbsink location=" + mnt + "/a max-segment-time=500000000", &full);
  bool said = !full.errors.empty() && full.errors[0].find("Disk full") != std::string::npos;
  std::vector<vdb::SegmentInfo> segs;
  auto kept = ReadStore(mnt + "/a", "default", &segs);
  fail_unless(!kept.empty(), "nothing readable after disk full");
  (void)std::system(("rm -rf '" + mnt + "/a'").c_str());
  RunResult retained;
  Run(src + "vdbsink location=" + mnt + "/b max-segment-time=500000000 min-free-space=400000",
      &retained);
  bool went_on = retained.eos && retained.errors.empty();
  auto last = ReadStore(mnt + "/b", "default", &segs);
  (void)std::system(("umount '" + mnt + "'").c_str());
  fail_unless(said, "%s", full.errors.empty() ? "no error" : full.errors[0].c_str());
  fail_unless(went_on, "%s", retained.errors.empty() ? "no eos" : retained.errors[0].c_str());
  fail_unless(segs.front().id > 1, "retention deleted nothing");
}
GST_END_TEST;

// Frames without timestamps are dropped with a warning; timestamps that jump
// back start a new run after what is stored: nothing stored is lost and the
// timeline never goes back.
// Audio that comes long before the video's first keyframe waits for it, up
// to 4096 frames: the oldest beyond that are dropped with a warning, the
// rest stored in the first segment, with the video.
GST_START_TEST(test_audio_before_the_first_keyframe_waits_bounded) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 30, &e);
  GstHarness *v = SinkHarness("location=" + tmp.path + " stream=cam");
  GstHarness *a = gst_harness_new_with_element(v->element, "audio_0", NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(v->element, bus);
  gst_harness_set_src_caps(v, gst_caps_ref(e.caps));
  gst_harness_set_src_caps_str(a,
                               "audio/x-opus, rate=(int)48000, channels=(int)1, "
                               "channel-mapping-family=(int)0");
  const int kAudio = 5000;  // 100 s of 20 ms frames, all before the video
  for (int i = 0; i < kAudio; i++) {
    GstBuffer *b = gst_buffer_new_wrapped(g_strdup("opus frame"), 10);
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) =
        GST_BUFFER_PTS(e.buffers[0]) - 100 * kSec + i * kSec / 50;
    GST_BUFFER_DURATION(b) = kSec / 50;
    fail_unless_equals_int(gst_harness_push(a, b), GST_FLOW_OK);
  }
  PushRange(v, e, 0, 30);
  fail_unless(gst_harness_push_event(a, gst_event_new_eos()));
  fail_unless(gst_harness_push_event(v, gst_event_new_eos()));
  bool warned = false;
  while (GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    GError *err = NULL;
    gst_message_parse_warning(m, &err, NULL);
    warned |= std::string(err->message).find("oldest is dropped") != std::string::npos;
    g_error_free(err);
    gst_message_unref(m);
  }
  gst_bus_set_flushing(bus, TRUE);  // the other messages hold the element
  gst_object_unref(bus);
  gst_harness_teardown(a);
  gst_harness_teardown(v);
  fail_unless(warned, "no warning for the dropped audio");
  auto r = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam", 4, 1);
  fail_unless(r.ok());
  auto seg = (*r)->Segment(0);
  fail_unless(seg.ok());
  fail_unless_equals_int(int((*seg)->size()), 4096);  // the newest that waited
  fail_unless_equals_uint64((*seg)->entry(4095).pts, GST_BUFFER_PTS(e.buffers[0]) - 100 * kSec +
                                                         guint64(kAudio - 1) * kSec / 50);
  fail_unless_equals_int(int(ReadStore(tmp.path, "cam").size()), 30);
}
GST_END_TEST;

// A byte-stream whose keyframes never carry SPS/PPS cannot be decoded from
// any segment: a warning says so (once), and the frames are kept.
GST_START_TEST(test_keyframes_without_codec_headers_are_a_warning) {
  TempDir tmp;
  GstHarness *h = SinkHarness("location=" + tmp.path);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps_str(h, "video/x-h264, stream-format=byte-stream, alignment=au");
  for (int i = 0; i < 60; i++) {
    guint8 idr[] = {0, 0, 0, 1, guint8(i % 30 == 0 ? 0x65 : 0x41), 0x88, 0x84, 0x21, 0x43};
    GstBuffer *b = gst_buffer_new_memdup(idr, sizeof idr);
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GstClockTime(i) * kSec / 30;
    if (i % 30) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
  Finish(h);
  int warnings = 0;
  while (GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    GError *err = NULL;
    gst_message_parse_warning(m, &err, NULL);
    warnings += std::string(err->message).find("carry no codec headers") != std::string::npos;
    g_error_free(err);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  fail_unless_equals_int(warnings, 1);
  fail_unless_equals_int(int(ReadStore(tmp.path, "default").size()), 60);
}
GST_END_TEST;

GST_START_TEST(test_bad_timestamps) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 90, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  PushRange(h, e, 0, 30);
  for (size_t i = 30; i < 35; i++) {
    GstBuffer *b = gst_buffer_copy(e.buffers[i]);
    GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GST_CLOCK_TIME_NONE;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
  for (size_t i = 60; i < 90; i++) {  // back to the first second's timestamps
    GstBuffer *b = gst_buffer_copy(e.buffers[i]);
    GST_BUFFER_PTS(b) -= 2 * kSec;
    GST_BUFFER_DTS(b) -= 2 * kSec;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
  Finish(h);
  bool warned = false;
  while (GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    GError *err = NULL;
    gst_message_parse_warning(m, &err, NULL);
    warned |= std::string(err->message).find("without timestamps") != std::string::npos;
    g_error_free(err);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  fail_unless(warned, "no warning for frames without timestamps");
  std::vector<vdb::SegmentInfo> segs;
  auto got = ReadStore(tmp.path, "default", &segs);
  fail_unless_equals_int(int(got.size()), 60);
  CheckSame(e, 0, got, 0, 30);
  fail_unless_equals_int(int(segs.size()), 2);
  fail_unless(segs[1].first_pts >= segs[0].end_pts, "the timeline went back");
}
GST_END_TEST;

// A sync bus handler that calls back into vdbsink when a segment opens (as
// an application that syncs or splits on that message does) must not hang
// the pipeline: messages are posted with no engine lock held.
GST_START_TEST(test_sync_bus_handler_may_call_back_into_vdbsink) {
  TempDir tmp;
  std::string desc =
      "videotestsrc num-buffers=90 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! " +
      std::string(kH264) + " ! vdbsink name=sink max-segment-time=500000000 location=" + tmp.path;
  GstElement *p = gst_parse_launch(desc.c_str(), NULL);
  fail_unless(p != NULL);
  struct Ctx {
    GstElement *sink;
    int opened;
  } ctx{gst_bin_get_by_name(GST_BIN(p), "sink"), 0};
  GstBus *bus = gst_element_get_bus(p);
  gst_bus_set_sync_handler(
      bus,
      [](GstBus *, GstMessage *m, gpointer d) -> GstBusSyncReply {
        auto *c = static_cast<Ctx *>(d);
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT &&
            gst_message_has_name(m, "vdbsink-segment-opened")) {
          c->opened++;
          gboolean ok = FALSE;
          g_signal_emit_by_name(c->sink, "sync", &ok);
          g_signal_emit_by_name(c->sink, "split-now");
          g_object_set(c->sink, "max-segment-time", guint64(GST_SECOND), NULL);
        }
        return GST_BUS_PASS;
      },
      &ctx, NULL);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m != NULL, "the pipeline hung");
  fail_unless_equals_int(GST_MESSAGE_TYPE(m), GST_MESSAGE_EOS);
  gst_message_unref(m);
  gst_element_set_state(p, GST_STATE_NULL);
  fail_unless(ctx.opened >= 2, "%d segments opened", ctx.opened);
  gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
  gst_object_unref(bus);
  gst_object_unref(ctx.sink);
  gst_object_unref(p);
  fail_unless_equals_int(int(ReadStore(tmp.path, "default").size()), 90);
}
GST_END_TEST;

// An H.264 elementary stream read from a file (no container): h264parse
// gives DTS from the frame rate and no PTS; every frame is stored with
// PTS = DTS and plays.
GST_START_TEST(test_elementary_stream_import_gets_pts_from_dts) {
  TempDir tmp;
  std::string raw = tmp.path + "/in.h264";
  RunResult enc;
  Run("videotestsrc num-buffers=60 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! x264enc bframes=0 key-int-max=30 speed-preset=ultrafast ! "
      "video/x-h264,stream-format=byte-stream ! filesink location=" +
          raw,
      &enc);
  fail_unless(enc.eos);
  RunResult r;
  Run("filesrc location=" + raw + " ! h264parse ! vdbsink location=" + tmp.path + "/s", &r);
  fail_unless(r.eos && r.errors.empty(), "%s", r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  auto got = ReadStore(tmp.path + "/s", "default");
  fail_unless_equals_int(int(got.size()), 60);
  for (size_t i = 0; i < got.size(); i++) {
    fail_unless_equals_uint64(got[i].pts, got[i].dts);
    if (i > 0) {  // one frame duration apart (h264parse adds durations: ±1 ns)
      guint64 step = got[i].dts - got[i - 1].dts;
      fail_unless(step >= GST_SECOND / 30 - 1 && step <= GST_SECOND / 30 + 1,
                  "step %" G_GUINT64_FORMAT, step);
    }
  }
}
GST_END_TEST;

// Frames with no timestamp at all: nothing can be stored, and EOS says so
// with an error that tells what to add, never an empty stream and success.
GST_START_TEST(test_no_timestamps_at_all_is_an_error) {
  TempDir tmp;
  Encoded e;
  Encode(kH264, 10, &e);
  GstHarness *h = SinkHarness("location=" + tmp.path);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps(h, gst_caps_ref(e.caps));
  for (GstBuffer *b : e.buffers) {
    GstBuffer *copy = gst_buffer_copy(b);
    GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
    gst_harness_push(h, copy);
  }
  gst_harness_push_event(h, gst_event_new_eos());
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(m != NULL, "no error");
  GError *err = NULL;
  gst_message_parse_error(m, &err, NULL);
  fail_unless(strstr(err->message, "No frame had a timestamp") != NULL, "%s", err->message);
  g_error_free(err);
  gst_message_unref(m);
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}
GST_END_TEST;

// A stream keeps one codec: VP9 after H.264 into the same stream is refused
// with an error naming both (readers could not play through the switch).
GST_START_TEST(test_codec_change_in_a_stream_is_refused) {
  TempDir tmp;
  const std::string raw =
      "videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! ";
  RunResult h264, vp9, other;
  Run(raw + kH264 + " ! vdbsink location=" + tmp.path + " stream=cam", &h264);
  fail_unless(h264.eos);
  Run(raw + "vp9enc deadline=1 ! vdbsink location=" + tmp.path + " stream=cam", &vp9);
  fail_unless(!vp9.errors.empty() && vp9.errors[0].find("holds h264, not vp9") != std::string::npos,
              "%s", vp9.errors.empty() ? "accepted" : vp9.errors[0].c_str());
  Run(raw + "vp9enc deadline=1 ! vdbsink location=" + tmp.path + " stream=other", &other);
  fail_unless(other.eos && other.errors.empty());
  fail_unless_equals_int(int(ReadStore(tmp.path, "cam").size()), 10);
}
GST_END_TEST;

// upload-location: one that is not s3://BUCKET/PREFIX, and a bucket other
// than the one the store uploads to (its remote.json), are errors at start
// that say so; nothing is recorded and nothing is sent.
GST_START_TEST(test_upload_location_errors_are_clear) {
  TempDir tmp;
  const std::string rec =
      "videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! " +
      std::string(kH264) + " ! vdbsink location=" + tmp.path + " stream=cam upload-location=";
  RunResult bad;
  Run(rec + "footage/site1", &bad);
  fail_unless(
      !bad.errors.empty() &&
          bad.errors[0].find("Invalid upload-location 'footage/site1'") != std::string::npos,
      "%s", bad.errors.empty() ? "accepted" : bad.errors[0].c_str());
  g_mkdir_with_parents(tmp.path.c_str(), 0755);
  fail_unless(g_file_set_contents((tmp.path + "/remote.json").c_str(),
                                  "{\"location\": \"s3://other/site\"}", -1, NULL));
  RunResult other;
  Run(rec + "s3://footage/site1", &other);
  fail_unless(!other.errors.empty() &&
                  other.errors[0].find("uploads to s3://other/site (its remote.json), not "
                                       "s3://footage/site1") != std::string::npos,
              "%s", other.errors.empty() ? "accepted" : other.errors[0].c_str());
}
GST_END_TEST;

// Action signals and property changes from another thread while the sink
// starts and stops over and over: never a crash or a use after free
// (valgrind and ASan run this too).
GST_START_TEST(test_signals_race_with_start_and_stop) {
  TempDir tmp;
  GstElement *sink = gst_element_factory_make("vdbsink", NULL);
  g_object_set(sink, "location", tmp.path.c_str(), NULL);
  std::atomic<bool> stop{false};
  std::thread poker([&] {
    for (guint64 i = 0; !stop; i++) {
      gboolean ok;
      g_signal_emit_by_name(sink, "sync", &ok);
      g_signal_emit_by_name(sink, "split-now");
      g_object_set(sink, "max-segment-time", guint64(GST_SECOND + i % 7), "max-total-bytes",
                   guint64(1 << 30), NULL);
      g_usleep(50);
    }
  });
  for (int i = 0; i < 10; i++) {
    fail_unless(gst_element_set_state(sink, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
    gst_element_set_state(sink, GST_STATE_PAUSED);
    gst_element_set_state(sink, GST_STATE_NULL);
  }
  stop = true;
  poker.join();
  gst_object_unref(sink);
}
GST_END_TEST;

// System plugins the cases load into this binary's registry (test_plugins.h).
#define BASE_PLUGINS "coreelements", "app", "videotestsrc"
#define H264_PLUGINS BASE_PLUGINS, "x264", "videoparsersbad"

static Suite *vdbsink_suite(void) {
  Suite *s = suite_create("vdbsink");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  VDB_ADD_TEST(tc, test_h264_byte_stream_every_frame, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_h264_avc_keeps_codec_data, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_h264_avc3, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_h264_bframes_keep_pts_and_dts, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_vp9, BASE_PLUGINS, "vpx");
  VDB_ADD_TEST(tc, test_upload_location_errors_are_clear, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_audio_before_the_first_keyframe_waits_bounded, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_rotation_segments_start_with_headers, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_record_toggle_resumes_on_keyframe, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_leading_delta_frames_dropped_and_keyframe_requested, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_caps_change_starts_segment, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_restart_continues_timeline_with_gap, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_retention_counts_earlier_runs, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_retention_by_age_with_reference_timestamps, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_messages_and_signals, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_errors, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_segments_get_headers_the_encoder_sent_once, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_discont_and_timestamp_jump_start_segments, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_rotation_asks_encoder_for_keyframe, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_disk_full, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_bad_timestamps, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_sync_bus_handler_may_call_back_into_vdbsink, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_elementary_stream_import_gets_pts_from_dts, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_no_timestamps_at_all_is_an_error, H264_PLUGINS);
  VDB_ADD_TEST(tc, test_keyframes_without_codec_headers_are_a_warning, "coreelements");
  VDB_ADD_TEST(tc, test_codec_change_in_a_stream_is_refused, H264_PLUGINS, "vpx");
  VDB_ADD_TEST(tc, test_signals_race_with_start_and_stop, "coreelements");
  return s;
}

GST_CHECK_MAIN(vdbsink);
