// Audio recorded beside the video, and alone: every audio codec vdbsink
// stores plays through playbin with clock-synced sinks, stays in sync with
// the video through KEY_UNIT and ACCURATE seeks, and a stream continued
// with other tracks plays. Timing is asserted on running time, never on
// sleeps.
#include "gst_test_util.h"
#include "synced_play.h"
#include "test_plugins.h"

using namespace vdbtest;

namespace {

const GstClockTime kSec = GST_SECOND;

struct AudioCodec {
  const char *name;
  const char *encode;  // what follows audio/x-raw at 48 kHz
  const char *codec;   // as vdb names it
  GstClockTime frame;  // duration of one encoded frame
};

const AudioCodec kAudio[] = {
    {"aac", "voaacenc ! aacparse", "aac", 1024 * kSec / 48000},
    {"aac adts", "voaacenc ! aacparse ! audio/mpeg,stream-format=adts", "aac", 1024 * kSec / 48000},
    {"opus", "opusenc frame-size=20", "opus", kSec / 50},
    {"alaw", "alawenc", "alaw", kSec / 50},
    {"mulaw", "mulawenc", "mulaw", kSec / 50},
};

const char kVideo[] =
    "videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=I420,width=160,height=120,"
    "framerate=30/1 ! x264enc key-int-max=15 bframes=2 speed-preset=ultrafast ! h264parse";

// 2 s of a sine at 48 kHz in 20 ms buffers.
std::string Audio(const AudioCodec &a, int seconds = 2) {
  return "audiotestsrc num-buffers=" + std::to_string(50 * seconds) +
         " samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! " + a.encode;
}

// Records 2 s of video (0.5 s segments) and `a` beside it, as a user does.
void RecordAv(const std::string &store, const AudioCodec &a) {
  RunResult r;
  Run(std::string(kVideo) + " ! vdbsink name=rec location=" + store +
          " stream=cam max-segment-time=500000000 " + Audio(a) + " ! rec.audio_0",
      &r);
  fail_unless(r.eos && r.errors.empty(), "%s: recording: %s", a.name,
              r.errors.empty() ? "no EOS" : r.errors[0].c_str());
}

std::string Uri(const std::string &store) {
  return "vdb://" + store + "?stream=cam";
}

// playbin with clock-synced video and audio sinks on the store.
GstElement *Playbin(const std::string &store, Seen *video, Seen *audio) {
  GstElement *p = gst_element_factory_make("playbin", NULL);
  g_object_set(p, "uri", Uri(store).c_str(), "video-sink", SyncedSink(video), "audio-sink",
               SyncedSink(audio), NULL);
  return p;
}

}  // namespace

// Each audio codec is stored with its caps, beside every video frame, and
// playbin plays both from running time 0 to the end, in real time.
GST_START_TEST(test_playbin_plays_video_and_each_audio_codec) {
  for (const AudioCodec &a : kAudio) {
    TempDir tmp;
    RecordAv(tmp.path, a);
    std::vector<vdb::SegmentInfo> segs;
    auto video = ReadStore(tmp.path, "cam", &segs);
    fail_unless_equals_int(int(video.size()), 60);
    auto reader = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam");
    auto tracks = (*reader)->Tracks();
    fail_unless(tracks.ok() && tracks->size() == 2, "%s: tracks", a.name);
    fail_unless_equals_string((*tracks)[1].codec.c_str(), a.codec);
    Seen v, au;
    GstElement *p = Playbin(tmp.path, &v, &au);
    fail_unless(Preroll(p), "%s: no preroll", a.name);
    std::string err = PlayToEos(p);
    fail_unless(err.empty(), "%s: %s", a.name, err.c_str());
    fail_unless_equals_int(v.buffers, 60);
    fail_unless(v.first_running < kSec / 20 && au.first_running < kSec / 20,
                "%s: video from %" GST_TIME_FORMAT ", audio from %" GST_TIME_FORMAT, a.name,
                GST_TIME_ARGS(v.first_running), GST_TIME_ARGS(au.first_running));
    // 2 s of audio, to the end, as the video.
    fail_unless(au.last_end > 2 * kSec - 2 * a.frame && au.last_end <= 2 * kSec + 2 * a.frame,
                "%s: audio ends at %" GST_TIME_FORMAT, a.name, GST_TIME_ARGS(au.last_end));
    GstClock *clock = gst_element_get_clock(p);
    GstClockTime spent = gst_clock_get_time(clock) - gst_element_get_base_time(p);
    gst_object_unref(clock);
    fail_unless(spent >= 19 * kSec / 10, "%s: 2 s played in %" GST_TIME_FORMAT, a.name,
                GST_TIME_ARGS(spent));
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// After every seek, the first audio and video that play start within one
// audio frame of each other: at the keyframe for KEY_UNIT (the video's
// keyframe, not the target), at the target for ACCURATE.
GST_START_TEST(test_audio_and_video_stay_in_sync_after_seeks) {
  for (const AudioCodec &a : {kAudio[0], kAudio[2]}) {
    TempDir tmp;
    RecordAv(tmp.path, a);
    std::vector<vdb::SegmentInfo> segs;
    auto video = ReadStore(tmp.path, "cam", &segs);
    // The video keyframe (stream time) at or before / after t.
    auto key = [&](GstClockTime t, bool after) {
      GstClockTime best = GST_CLOCK_TIME_NONE;
      for (const auto &f : video) {
        if (!(f.flags & vdb::kFlagKey)) continue;
        GstClockTime k = f.pts - segs[0].first_pts;
        if (after ? k >= t && (best == GST_CLOCK_TIME_NONE || k < best)
                  : k <= t && (best == GST_CLOCK_TIME_NONE || k > best))
          best = k;
      }
      return best;
    };
    struct Case {
      GstSeekFlags flags;
      GstClockTime target, expect;  // stream time
    } cases[] = {
        {GST_SEEK_FLAG_KEY_UNIT, kSec + kSec / 5, key(kSec + kSec / 5, false)},
        {GST_SEEK_FLAG_ACCURATE, kSec + kSec / 5, kSec + kSec / 5},
        {GstSeekFlags(GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_AFTER), kSec / 5,
         key(kSec / 5, true)},
        {GST_SEEK_FLAG_ACCURATE, kSec / 3, kSec / 3},
    };
    for (const Case &c : cases) {
      Seen v, au;
      GstElement *p = Playbin(tmp.path, &v, &au);
      fail_unless(Preroll(p));
      v = Seen();  // what plays from the seek on, the preroll frame first
      au = Seen();
      fail_unless(gst_element_seek_simple(p, GST_FORMAT_TIME,
                                          GstSeekFlags(GST_SEEK_FLAG_FLUSH | c.flags), c.target));
      fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
      std::string err = PlayToEos(p);
      fail_unless(err.empty(), "%s: %s", a.name, err.c_str());
      GstClockTime tol = a.frame;
      fail_unless(v.first_stream + kSec / 60 >= c.expect && v.first_stream <= c.expect + kSec / 60,
                  "%s, seek to %" GST_TIME_FORMAT ": video from %" GST_TIME_FORMAT
                  ", expected %" GST_TIME_FORMAT,
                  a.name, GST_TIME_ARGS(c.target), GST_TIME_ARGS(v.first_stream),
                  GST_TIME_ARGS(c.expect));
      GstClockTime diff = au.first_stream > v.first_stream ? au.first_stream - v.first_stream
                                                           : v.first_stream - au.first_stream;
      fail_unless(diff <= tol,
                  "%s, seek to %" GST_TIME_FORMAT ": video from %" GST_TIME_FORMAT
                  ", audio from %" GST_TIME_FORMAT,
                  a.name, GST_TIME_ARGS(c.target), GST_TIME_ARGS(v.first_stream),
                  GST_TIME_ARGS(au.first_stream));
      // And in running time: both play from the same moment.
      diff = au.first_running > v.first_running ? au.first_running - v.first_running
                                                : v.first_running - au.first_running;
      fail_unless(diff <= tol, "%s: running times %" GST_TIME_FORMAT " and %" GST_TIME_FORMAT,
                  a.name, GST_TIME_ARGS(v.first_running), GST_TIME_ARGS(au.first_running));
      gst_element_set_state(p, GST_STATE_NULL);
      gst_object_unref(p);
    }
  }
}
GST_END_TEST;

// Reverse and key-unit trick modes play the video; the audio pad ends at
// once (documented): playback reaches EOS.
GST_START_TEST(test_reverse_plays_video_and_drops_audio) {
  TempDir tmp;
  RecordAv(tmp.path, kAudio[2]);
  Seen v, au;
  GstElement *p = Playbin(tmp.path, &v, &au);
  fail_unless(Preroll(p));
  fail_unless(gst_element_seek(p, -1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET, 0,
                               GST_SEEK_TYPE_SET, 2 * kSec));
  fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
  v = Seen();
  au = Seen();
  std::string err = PlayToEos(p);
  fail_unless(err.empty(), "%s", err.c_str());
  fail_unless(v.buffers >= 55, "%d video frames in reverse", v.buffers);
  fail_unless_equals_int(au.buffers, 0);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

// An audio-only recording (no video pad) is cut by time and plays.
GST_START_TEST(test_audio_only_stream_plays) {
  TempDir tmp;
  RunResult r;
  Run(Audio(kAudio[2], 3) + " ! vdbsink location=" + tmp.path +
          " stream=cam max-segment-time=1000000000",
      &r);
  fail_unless(r.eos && r.errors.empty(), "%s", r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  auto reader = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam");
  fail_unless(reader.ok());
  fail_unless_equals_int(int((*reader)->segments().size()), 3);
  Seen v, au;
  GstElement *p = Playbin(tmp.path, &v, &au);
  fail_unless(Preroll(p));
  std::string err = PlayToEos(p);
  fail_unless(err.empty(), "%s", err.c_str());
  fail_unless_equals_int(v.buffers, 0);
  fail_unless(au.last_end > 3 * kSec - kSec / 10, "audio ends at %" GST_TIME_FORMAT,
              GST_TIME_ARGS(au.last_end));
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

// A stream recorded without audio and continued with it is one stream that
// plays: vdbsrc has both pads, the audio plays where it was recorded.
GST_START_TEST(test_stream_continued_with_audio_plays) {
  TempDir tmp;
  RunResult r;
  Run(std::string(kVideo) + " ! vdbsink location=" + tmp.path + " stream=cam", &r);
  fail_unless(r.eos && r.errors.empty());
  RecordAv(tmp.path, kAudio[2]);
  Seen v, au;
  GstElement *p = Playbin(tmp.path, &v, &au);
  fail_unless(Preroll(p));
  std::string err = PlayToEos(p);
  fail_unless(err.empty(), "%s", err.c_str());
  fail_unless_equals_int(v.buffers, 120);
  fail_unless(au.buffers > 0);
  fail_unless(au.first_running >= 2 * kSec - kSec / 50, "audio from %" GST_TIME_FORMAT,
              GST_TIME_ARGS(au.first_running));
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

// A live view of a recording in progress (follow + live-edge) starts the
// audio at the video's newest keyframe and plays both as they are recorded.
GST_START_TEST(test_live_view_follows_audio_and_video_in_sync) {
  TempDir tmp;
  GError *err = NULL;
  GstElement *rec = gst_parse_launch(
      ("videotestsrc is-live=true num-buffers=120 ! video/x-raw,width=160,height=120,"
       "framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 ! h264parse ! vdbsink name=rec "
       "location=" +
       tmp.path +
       " stream=cam max-segment-time=500000000 audiotestsrc is-live=true num-buffers=200 "
       "samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! opusenc ! rec.audio_0")
          .c_str(),
      &err);
  fail_unless(rec != NULL, "%s", err ? err->message : "?");
  gst_element_set_state(rec, GST_STATE_PLAYING);
  // Wait, on the clock, until the recording holds both tracks (slow under
  // valgrind), then a little more for a newer keyframe.
  GstClock *clock = gst_system_clock_obtain();
  auto wait = [clock](GstClockTime t) {
    GstClockID id = gst_clock_new_single_shot_id(clock, gst_clock_get_time(clock) + t);
    gst_clock_id_wait(id, NULL);
    gst_clock_id_unref(id);
  };
  for (int i = 0; i < 300; i++) {
    auto r = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam");
    auto t = r.ok() ? (*r)->Tracks() : vdb::Result<std::vector<vdb::TrackMeta>>(r.status());
    if (t.ok() && t->size() == 2) break;
    wait(kSec / 10);
  }
  wait(kSec / 2);
  Seen v, au;
  GstElement *p = gst_pipeline_new(NULL);
  GstElement *src = gst_element_factory_make("vdbsrc", NULL);
  g_object_set(src, "location", tmp.path.c_str(), "stream", "cam", "follow", TRUE, "live-edge",
               TRUE, "stop-time", NULL, NULL);
  GstElement *vs = SyncedSink(&v), *as = SyncedSink(&au);
  gst_bin_add_many(GST_BIN(p), src, vs, as, NULL);
  fail_unless(gst_element_set_state(src, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  fail_unless(gst_element_link_pads(src, "video", vs, NULL));
  fail_unless(gst_element_link_pads(src, "audio_0", as, NULL));
  gst_element_set_state(p, GST_STATE_PLAYING);
  for (int i = 0; i < 300 && (v.buffers < 15 || au.buffers < 25); i++) wait(kSec / 10);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  gst_object_unref(clock);
  gst_element_set_state(rec, GST_STATE_NULL);
  gst_object_unref(rec);
  fail_unless(v.buffers >= 15 && au.buffers >= 25, "%d video, %d audio buffers", v.buffers,
              au.buffers);
  // The same moment of the recording, at the same running time.
  GstClockTime diff =
      au.first_pts > v.first_pts ? au.first_pts - v.first_pts : v.first_pts - au.first_pts;
  fail_unless(diff <= kSec / 50, "video from %" GST_TIME_FORMAT ", audio from %" GST_TIME_FORMAT,
              GST_TIME_ARGS(v.first_pts), GST_TIME_ARGS(au.first_pts));
  diff = au.first_running > v.first_running ? au.first_running - v.first_running
                                            : v.first_running - au.first_running;
  fail_unless(diff <= kSec / 50, "running times %" GST_TIME_FORMAT " and %" GST_TIME_FORMAT,
              GST_TIME_ARGS(v.first_running), GST_TIME_ARGS(au.first_running));
}
GST_END_TEST;

// An audio format vdbsink does not store is refused when linking, and raw
// audio too: the pad's template names what it takes.
GST_START_TEST(test_unsupported_audio_is_refused) {
  GstElement *sink = gst_element_factory_make("vdbsink", NULL);
  GstPadTemplate *templ = gst_element_get_pad_template(sink, "audio_%u");
  fail_unless(templ != NULL);
  GstCaps *caps = gst_pad_template_get_caps(templ);
  for (const char *refused : {"audio/x-raw, format=S16LE, rate=48000, channels=1",
                              "audio/mpeg, mpegversion=1, layer=3", "audio/x-vorbis"}) {
    GstCaps *c = gst_caps_from_string(refused);
    fail_if(gst_caps_can_intersect(caps, c), "%s accepted", refused);
    gst_caps_unref(c);
  }
  gst_caps_unref(caps);
  gst_object_unref(sink);
}
GST_END_TEST;

#define RECORD_PLUGINS                                                                       \
  "coreelements", "videotestsrc", "x264", "videoparsersbad", "audiotestsrc", "audioparsers", \
      "voaacenc", "opus", "alaw", "mulaw", "app"
#define PLAY_PLUGINS \
  "playback", "typefindfunctions", "libav", "videoconvertscale", "audioconvert", "audioresample"

static Suite *audio_suite(void) {
  Suite *s = suite_create("audio");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  VDB_ADD_TEST(tc, test_playbin_plays_video_and_each_audio_codec, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_audio_and_video_stay_in_sync_after_seeks, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_reverse_plays_video_and_drops_audio, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_audio_only_stream_plays, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_stream_continued_with_audio_plays, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_live_view_follows_audio_and_video_in_sync, RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_unsupported_audio_is_refused, "coreelements");
  return s;
}

GST_CHECK_MAIN(audio);
