// A store in S3-compatible object storage, against a real Ceph RGW started
// for this test (tests/s3/ceph-s3-start.sh): recorded on one "machine" (a
// directory), uploaded as `vdb upload` does, the directory removed, then
// played from the bucket alone as a user's player does it: playbin with
// clock-synced sinks, seeks keeping audio with video, `vdb export` read by
// ffprobe, wrong credentials and an object altered in the bucket.
// Skipped (exit 77, with a printed reason) when radosgw is not installed.
// The C++ headers first: gstcheck.h defines a `fail` macro that iostreams
// would meet.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "remote_fs.h"
#include "rgw_server.h"
#include "s3_store.h"
#include "tiered_fs.h"
#include "uploader.h"
//
#include "gst_test_util.h"
#include "synced_play.h"
#include "test_plugins.h"

using namespace vdbtest;

namespace {

const GstClockTime kSec = GST_SECOND;
const char kBucket[] = "footage";
const GstClockTime kAacFrame = 1024 * kSec / 48000;

vdb::Result<std::unique_ptr<vdb::remote::S3Store>> OpenBucket() {
  vdb::remote::S3Options o;
  o.endpoint = g_getenv("AWS_ENDPOINT_URL");
  o.bucket = kBucket;
  return vdb::remote::S3Store::Open(o);
}

std::unique_ptr<vdb::remote::S3Store> Bucket() {
  auto s = OpenBucket();
  fail_unless(s.ok(), "S3Store: %s", s.status().ToString().c_str());
  return std::move(s).value();
}

// Uploads stream "cam" of the store in `dir` under `prefix`, as `vdb
// upload` does. Returns the bucket store's location.
std::string Upload(const std::string &dir, const std::string &prefix) {
  auto bucket = Bucket();
  fail_unless(vdb::remote::EnsureRemoteStore(bucket.get(), prefix).ok());
  auto up = vdb::remote::UploadStream(bucket.get(), prefix, vdb::DefaultFs(), dir, "cam");
  fail_unless(up.ok(), "upload: %s", up.status().ToString().c_str());
  fail_unless(up->remote_segments >= 4, "%d segments", int(up->remote_segments));
  return std::string("s3://") + kBucket + "/" + prefix;
}

// Records 2 s of H.264 (keyframe every 0.5 s, B-frames) with AAC beside it
// in 0.5 s segments on "another machine", uploads it under `prefix`, and
// removes the local store: only the bucket holds it. Returns its location.
std::string RecordAndUpload(const std::string &prefix) {
  TempDir tmp;
  RunResult r;
  Run("videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! x264enc key-int-max=15 bframes=2 speed-preset=ultrafast ! h264parse ! "
      "vdbsink name=rec location=" +
          tmp.path +
          " stream=cam max-segment-time=500000000 audiotestsrc num-buffers=100 "
          "samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse ! "
          "rec.audio_0",
      &r);
  fail_unless(r.eos && r.errors.empty(), "recording: %s",
              r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  return Upload(tmp.path, prefix);
}

// Records 2 s of video from `encode` (a keyframe every 0.5 s) in 0.5 s
// segments on "another machine" and uploads it under `prefix` alone.
std::string RecordVideoAndUpload(const std::string &encode, const std::string &prefix) {
  TempDir tmp;
  RunResult r;
  Run("videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! " +
          encode + " ! vdbsink location=" + tmp.path + " stream=cam max-segment-time=500000000",
      &r);
  fail_unless(r.eos && r.errors.empty(), "recording %s: %s", encode.c_str(),
              r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  return Upload(tmp.path, prefix);
}

// playbin on a store, clock-synced sinks, as gst-play does it: a bucket's
// by its vdbs3:// URI (the endpoint from AWS_ENDPOINT_URL), a directory's
// by vdb://.
GstElement *Playbin(const std::string &location, Seen *video, Seen *audio) {
  std::string uri =
      location.rfind("s3://", 0) == 0 ? "vdbs3://" + location.substr(5) : "vdb://" + location;
  uri += "?stream=cam";
  GstElement *p = gst_element_factory_make("playbin", NULL);
  g_object_set(p, "uri", uri.c_str(), "video-sink", SyncedSink(video), "audio-sink",
               SyncedSink(audio), NULL);
  return p;
}

GstClockTime Diff(GstClockTime a, GstClockTime b) {
  return a > b ? a - b : b - a;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  fail_unless(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
  fail_unless(getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

// The video keyframe at or before stream time t, read from the bucket by
// the engine (x264enc with B-frames shifts keyframe PTS off the GOP grid).
GstClockTime KeyframeBefore(const std::string &prefix, GstClockTime t) {
  auto bucket = Bucket();
  vdb::remote::RemoteFs fs(bucket.get());
  auto r = vdb::Reader::Open(&fs, prefix, "cam");
  fail_unless(r.ok(), "%s", r.status().ToString().c_str());
  uint64_t first = (*r)->start_pts();
  auto p = (*r)->FindKeyframe(first + t, vdb::Snap::kBefore);
  fail_unless(p.ok(), "%s", p.status().ToString().c_str());
  auto seg = (*r)->Segment(p->segment);
  fail_unless(seg.ok());
  return (*seg)->entry(p->frame).pts - first;
}

// Runs the vdb tool as a user does: with the system's plugins (this test's
// registry holds only what its cases load) and vdb's from the build tree.
// Returns its exit status; *out and *err get what it printed.
int VdbTool(std::vector<std::string> args, std::string *out, std::string *err) {
  gchar **env = g_get_environ();
  env = g_environ_unsetenv(env, "GST_PLUGIN_SYSTEM_PATH_1_0");
  env = g_environ_unsetenv(env, "GST_REGISTRY_1_0");
  std::vector<const gchar *> argv{VDB_TOOL};
  for (const auto &a : args) argv.push_back(a.c_str());
  argv.push_back(NULL);
  gchar *std_out = NULL, *std_err = NULL;
  gint status = 0;
  fail_unless(g_spawn_sync(NULL, (gchar **)argv.data(), env, G_SPAWN_DEFAULT, NULL, NULL, &std_out,
                           &std_err, &status, NULL));
  g_strfreev(env);
  *out = std_out;
  *err = std_err;
  g_free(std_out);
  g_free(std_err);
  return status;
}

}  // namespace

// Every frame of both tracks plays from the bucket, from running time 0,
// on a machine that never had the store.
GST_START_TEST(test_playbin_plays_a_store_from_the_bucket_alone) {
  std::string location = RecordAndUpload("play");
  Seen v, a;
  GstElement *p = Playbin(location, &v, &a);
  std::string err = PlayToEos(p);
  fail_unless(err.empty(), "%s", err.c_str());
  fail_unless_equals_int(v.buffers, 60);
  fail_unless(a.buffers >= 90, "%d audio buffers", a.buffers);
  fail_unless(v.first_running <= kSec / 30, "video from %" GST_TIME_FORMAT,
              GST_TIME_ARGS(v.first_running));
  fail_unless(Diff(a.first_running, v.first_running) <= kAacFrame);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

// H.265 (B-frames, VPS/SPS/PPS sent once by x265enc), VP9 and AV1 play
// from the bucket alone through playbin with a clock-synced sink: every
// frame from running time 0, then a KEY_UNIT seek lands on the keyframe and
// decodes from there (the segment's headers re-sent after the jump).
GST_START_TEST(test_h265_vp9_and_av1_play_and_seek_from_the_bucket) {
  const struct {
    const char *prefix, *encode;
  } codecs[] = {
      {"h265",
       "x265enc key-int-max=15 speed-preset=ultrafast ! h265parse ! "
       "video/x-h265,stream-format=byte-stream,alignment=au"},
      {"vp9", "vp9enc deadline=1 cpu-used=8 keyframe-max-dist=15"},
      {"av1", "av1enc cpu-used=8 usage-profile=realtime keyframe-max-dist=15 ! av1parse"},
  };
  for (const auto &c : codecs) {
    std::string location = RecordVideoAndUpload(c.encode, c.prefix);
    Seen v, a;
    GstElement *p = Playbin(location, &v, &a);
    std::string err = PlayToEos(p);
    fail_unless(err.empty(), "%s: %s", c.prefix, err.c_str());
    fail_unless_equals_int(v.buffers, 60);
    fail_unless(v.first_running <= kSec / 30, "%s: video from %" GST_TIME_FORMAT, c.prefix,
                GST_TIME_ARGS(v.first_running));
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);

    const GstClockTime target = kSec + kSec / 5, expect = KeyframeBefore(c.prefix, target);
    v = Seen();
    p = Playbin(location, &v, &a);
    fail_unless(Preroll(p));
    v = Seen();
    fail_unless(gst_element_seek_simple(
        p, GST_FORMAT_TIME, GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT), target));
    fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
    err = PlayToEos(p);
    fail_unless(err.empty(), "%s: %s", c.prefix, err.c_str());
    fail_unless(Diff(v.first_stream, expect) <= kSec / 60,
                "%s: seek to %" GST_TIME_FORMAT ": video from %" GST_TIME_FORMAT, c.prefix,
                GST_TIME_ARGS(target), GST_TIME_ARGS(v.first_stream));
    fail_unless(v.buffers >= int(60 - expect * 30 / kSec) - 1, "%s: %d frames after the seek",
                c.prefix, v.buffers);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// KEY_UNIT starts both tracks at the video's keyframe, ACCURATE at the
// target; audio within one frame of the video, as on local disk.
GST_START_TEST(test_seeks_in_a_bucket_store_keep_audio_with_video) {
  std::string location = RecordAndUpload("seek");
  struct Case {
    GstSeekFlags flags;
    GstClockTime target, expect;
  } cases[] = {
      {GST_SEEK_FLAG_KEY_UNIT, kSec + kSec / 5, KeyframeBefore("seek", kSec + kSec / 5)},
      {GST_SEEK_FLAG_ACCURATE, kSec + kSec / 5, kSec + kSec / 5},
  };
  for (const Case &c : cases) {
    Seen v, a;
    GstElement *p = Playbin(location, &v, &a);
    fail_unless(Preroll(p));
    v = Seen();
    a = Seen();
    fail_unless(gst_element_seek_simple(p, GST_FORMAT_TIME,
                                        GstSeekFlags(GST_SEEK_FLAG_FLUSH | c.flags), c.target));
    fail_unless(gst_element_get_state(p, NULL, NULL, 30 * kSec) == GST_STATE_CHANGE_SUCCESS);
    std::string err = PlayToEos(p);
    fail_unless(err.empty(), "%s", err.c_str());
    fail_unless(Diff(v.first_stream, c.expect) <= kSec / 60,
                "seek to %" GST_TIME_FORMAT ": video from %" GST_TIME_FORMAT,
                GST_TIME_ARGS(c.target), GST_TIME_ARGS(v.first_stream));
    fail_unless(Diff(a.first_stream, v.first_stream) <= kAacFrame,
                "video from %" GST_TIME_FORMAT ", audio from %" GST_TIME_FORMAT,
                GST_TIME_ARGS(v.first_stream), GST_TIME_ARGS(a.first_stream));
    fail_unless(Diff(a.first_running, v.first_running) <= kAacFrame);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// `vdb export` of a bucket store writes an MP4 ffprobe reads with both
// tracks and every video frame.
GST_START_TEST(test_vdb_export_from_the_bucket_is_read_by_ffprobe) {
  std::string location = RecordAndUpload("export");
  TempDir out;
  std::string mp4 = out.path + "/clip.mp4";
  std::string printed, errors;
  int exported =
      VdbTool({"export", location, "--stream", "cam", "--quiet", mp4}, &printed, &errors);
  fail_unless(exported == 0, "vdb export %s: %s", location.c_str(), errors.c_str());
  gchar *std_out = NULL, *std_err = NULL;
  gint status = 0;
  std::string cmd =
      "ffprobe -v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 " +
      mp4;
  fail_unless(g_spawn_command_line_sync(cmd.c_str(), &std_out, &std_err, &status, NULL));
  fail_unless(status == 0, "ffprobe: %s", std_err);
  std::string probed = std_out;
  fail_unless(probed.find("h264,60") != std::string::npos, "ffprobe: %s", probed.c_str());
  fail_unless(probed.find("aac,") != std::string::npos, "ffprobe: %s", probed.c_str());
  g_free(std_out);
  g_free(std_err);
}
GST_END_TEST;

// `vdb upload` sends a store; run again it sends nothing new; another
// store with a stream of the same name is refused (it would overwrite the
// first one's segments), naming the store that has the stream.
GST_START_TEST(test_vdb_upload_refuses_a_second_store_with_the_same_stream) {
  TempDir first, second;
  for (const std::string &dir : {first.path, second.path}) {
    RunResult r;
    Run("videotestsrc num-buffers=45 ! video/x-raw,format=I420,width=160,height=120,"
        "framerate=30/1 ! x264enc key-int-max=15 speed-preset=ultrafast ! h264parse ! "
        "vdbsink location=" +
            dir + " stream=cam max-segment-time=500000000",
        &r);
    fail_unless(r.eos && r.errors.empty());
  }
  const std::string where = std::string("s3://") + kBucket + "/cli";
  std::string out, err;
  fail_unless(VdbTool({"upload", first.path, "--to", where}, &out, &err) == 0, "%s", err.c_str());
  fail_unless(VdbTool({"upload", first.path, "--to", where}, &out, &err) == 0, "%s", err.c_str());
  fail_unless(VdbTool({"upload", second.path, "--to", where}, &out, &err) != 0);
  fail_unless(err.find("is uploaded by another store (" + first.path) != std::string::npos, "%s",
              err.c_str());
  fail_unless(VdbTool({"info", where}, &out, &err) == 0, "%s", err.c_str());
  fail_unless(out.find("cam") != std::string::npos, "%s", out.c_str());
  // What the bucket holds is the first store's recording.
  auto bucket = Bucket();
  vdb::remote::RemoteFs fs(bucket.get());
  auto remote = vdb::Reader::Open(&fs, "cli", "cam");
  auto local = vdb::Reader::Open(vdb::DefaultFs(), first.path, "cam");
  fail_unless(remote.ok() && local.ok());
  fail_unless_equals_int(int((*remote)->segments().size()), int((*local)->segments().size()));
  fail_unless_equals_uint64((*remote)->segments()[0].utc_start, (*local)->segments()[0].utc_start);
}
GST_END_TEST;

// Credentials the server refuses: an error naming the store and the
// refusal, never a hang, never the secret.
GST_START_TEST(test_wrong_credentials_are_a_clear_error) {
  std::string location = RecordAndUpload("creds");
  std::string secret = g_getenv("AWS_SECRET_ACCESS_KEY");
  g_setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", TRUE);
  RunResult r;
  Run("vdbsrc location=" + location + " stream=cam ! fakesink", &r, 30 * kSec);
  g_setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), TRUE);
  fail_unless(!r.errors.empty(), "no error");
  std::string all;
  for (const auto &e : r.errors) all += e + "\n";
  fail_unless(all.find("Could not open store") != std::string::npos, "%s", all.c_str());
  fail_unless(all.find("403") != std::string::npos, "%s", all.c_str());
  fail_unless(all.find("not-the-secret") == std::string::npos, "%s", all.c_str());
}
GST_END_TEST;

// An object altered in the bucket (bit rot, a bad copy): the CRCs find it,
// playback warns and goes on at the next keyframe, to the end.
GST_START_TEST(test_an_object_altered_in_the_bucket_plays_around_the_damage) {
  std::string location = RecordAndUpload("damaged");
  auto bucket = Bucket();
  std::string key = "damaged/cam/000000000002.vdbf";
  auto data = bucket->GetAll(key, 64 << 20);
  fail_unless(data.ok(), "%s", data.status().ToString().c_str());
  std::string bytes = data.value();
  bytes[bytes.size() / 2] ^= 0x5a;
  fail_unless(bucket->Put(key, bytes.data(), bytes.size()).ok());
  Seen v, a;
  GstElement *p = Playbin(location, &v, &a);
  std::vector<std::string> warnings;
  std::string err = PlayToEos(p, &warnings);
  fail_unless(err.empty(), "%s", err.c_str());
  fail_unless(!warnings.empty(), "no warning");
  fail_unless(v.buffers > 30 && v.buffers < 60, "%d video buffers", v.buffers);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

// A recorder with upload-location: sealed segments go up while it records,
// retention keeps the disk under its quota by freeing only uploaded copies,
// EOS waits for the last segment's upload, and the recorder's store still
// plays every frame through playbin (the old ones from the bucket), as does
// the bucket alone.
GST_START_TEST(test_a_recording_uploads_as_it_goes_and_plays_whole_after_retention) {
  TempDir tmp;
  RunResult r;
  Run("videotestsrc is-live=true num-buffers=120 pattern=ball ! video/x-raw,format=I420,"
      "width=160,height=120,framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 "
      "speed-preset=ultrafast ! h264parse ! vdbsink location=" +
          tmp.path +
          " stream=cam max-segment-time=500000000 max-total-bytes=30000 "
          "upload-location=s3://footage/recorder",
      &r);
  fail_unless(r.eos && r.errors.empty(), "%s", r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  fail_unless(r.HasElement("vdbsink-uploaded"));
  fail_unless(!r.HasElement("vdbsink-upload-failing"));
  // Uploaded footage left the disk; at EOS every segment is in the bucket.
  auto local = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam");
  fail_unless(local.ok());
  int gone = 0, in_bucket = 0, segments = int((*local)->segments().size());
  for (const auto &s : (*local)->segments()) {
    gone += !s.local();
    in_bucket += s.in_bucket();
  }
  fail_unless(gone >= 3, "%d evicted", gone);
  fail_unless_equals_int(in_bucket, segments);
  fail_unless(!g_file_test((tmp.path + "/cam/000000000001.vdbf").c_str(), G_FILE_TEST_EXISTS));

  for (const std::string &where : {tmp.path, std::string("s3://footage/recorder")}) {
    Seen v, a;
    GstElement *p = Playbin(where, &v, &a);
    std::string err = PlayToEos(p);
    fail_unless(err.empty(), "%s: %s", where.c_str(), err.c_str());
    fail_unless_equals_int(v.buffers, 120);
    fail_unless(v.first_running <= kSec / 30);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// The server is down when recording starts and comes back during it: the
// recording loses no frame, the outage is one warning, nothing is freed
// while it lasts, and uploads resume by themselves.
GST_START_TEST(test_recording_goes_on_through_a_server_outage_and_uploads_resume) {
  int port = FreePort();  // nothing listens there yet
  std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  TempDir tmp;
  std::string desc =
      "videotestsrc is-live=true num-buffers=450 pattern=ball ! video/x-raw,format=I420,"
      "width=160,height=120,framerate=30/1 ! x264enc tune=zerolatency key-int-max=15 "
      "speed-preset=ultrafast ! h264parse ! vdbsink location=" +
      tmp.path +
      " stream=cam max-segment-time=500000000 max-total-bytes=30000 "
      "upload-location=s3://outage/cam upload-endpoint=" +
      endpoint;
  GstElement *p = gst_parse_launch(desc.c_str(), NULL);
  fail_unless(p != NULL);
  GstBus *bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  vdb::test::RgwServer back;
  int failing = 0, resumed = 0, uploaded = 0;
  bool eos = false;
  while (!eos) {
    GstMessage *m = gst_bus_timed_pop(bus, 60 * kSec);
    fail_unless(m != NULL, "no EOS");
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error(m, &e, NULL);
      fail("%s", e->message);
    }
    eos = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
    const GstStructure *st = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && st) {
      if (gst_structure_has_name(st, "vdbsink-upload-failing") && failing++ == 0) {
        // While it is down, nothing local may go: every segment stays.
        auto r = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam");
        fail_unless(r.ok());
        for (const auto &s : (*r)->segments()) fail_unless(s.local());
        std::string error;
        fail_unless(back.Start(&error, port), "%s", error.c_str());
        vdb::remote::S3Options o;
        o.endpoint = endpoint;
        o.bucket = "outage";
        auto bucket = vdb::remote::S3Store::Open(o);
        fail_unless(bucket.ok() && (*bucket)->CreateBucket().ok());
      }
      resumed += gst_structure_has_name(st, "vdbsink-upload-resumed");
      uploaded += gst_structure_has_name(st, "vdbsink-uploaded");
    }
    gst_message_unref(m);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(p);
  fail_unless_equals_int(failing, 1);
  fail_unless_equals_int(resumed, 1);
  fail_unless(uploaded >= 1);
  // Every frame recorded: on disk or in the bucket.
  vdb::remote::S3Options o;
  o.endpoint = endpoint;
  o.bucket = "outage";
  auto bucket = vdb::remote::S3Store::Open(o);
  fail_unless(bucket.ok());
  vdb::remote::RemoteFs rfs(bucket->get());
  vdb::remote::TieredFs tiered(vdb::DefaultFs(), &rfs, tmp.path, "cam");
  auto r = vdb::Reader::Open(&tiered, tmp.path, "cam");
  fail_unless(r.ok());
  uint64_t total = 0;
  for (size_t i = 0; i < (*r)->segments().size(); i++) {
    auto seg = (*r)->Segment(i);
    fail_unless(seg.ok(), "segment %zu: %s", i, seg.status().ToString().c_str());
    total += (*seg)->size();
  }
  fail_unless_equals_int(int(total), 450);
  back.Stop();
}
GST_END_TEST;

// A server that is down at EOS: EOS still comes (after one more try, not
// after the backoff), with a warning, and the footage stays on disk.
GST_START_TEST(test_eos_with_the_server_down_warns_and_keeps_the_footage) {
  TempDir tmp;
  RunResult r;
  Run("videotestsrc num-buffers=45 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! x264enc key-int-max=15 speed-preset=ultrafast ! h264parse ! "
      "vdbsink location=" +
          tmp.path +
          " stream=cam max-segment-time=500000000 upload-location=s3://footage/down "
          "upload-endpoint=http://127.0.0.1:" +
          std::to_string(FreePort()),
      &r);
  fail_unless(r.eos && r.errors.empty(), "%s", r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  bool warned = false;
  for (const auto &w : r.warnings) warned |= w.find("Not everything was uploaded") == 0;
  fail_unless(warned, "no warning at EOS");
  auto local = vdb::Reader::Open(vdb::DefaultFs(), tmp.path, "cam");
  fail_unless(local.ok());
  for (const auto &s : (*local)->segments()) fail_unless(s.local() && !s.in_bucket());
}
GST_END_TEST;

// A store whose bucket cannot be reached (no credentials here) still plays
// what it holds locally, with a warning saying the bucket is not read.
GST_START_TEST(test_a_store_without_access_to_its_bucket_plays_locally_with_a_warning) {
  TempDir tmp;
  RunResult rec;
  Run("videotestsrc num-buffers=30 ! video/x-raw,format=I420,width=160,height=120,"
      "framerate=30/1 ! x264enc speed-preset=ultrafast ! h264parse ! vdbsink location=" +
          tmp.path + " stream=cam",
      &rec);
  fail_unless(rec.eos);
  fail_unless(g_file_set_contents((tmp.path + "/remote.json").c_str(),
                                  "{\"location\": \"s3://footage/elsewhere\"}", -1, NULL));
  std::string key = g_getenv("AWS_ACCESS_KEY_ID"), secret = g_getenv("AWS_SECRET_ACCESS_KEY");
  g_unsetenv("AWS_ACCESS_KEY_ID");
  g_unsetenv("AWS_SECRET_ACCESS_KEY");
  g_setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", TRUE);
  RunResult r;
  Run("vdbsrc location=" + tmp.path + " stream=cam ! fakesink sync=true", &r);
  g_setenv("AWS_ACCESS_KEY_ID", key.c_str(), TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), TRUE);
  g_unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  fail_unless(r.eos && r.errors.empty(), "%s", r.errors.empty() ? "no EOS" : r.errors[0].c_str());
  fail_unless(
      !r.warnings.empty() && r.warnings[0].find("is read without its bucket") != std::string::npos,
      "%s", r.warnings.empty() ? "no warning" : r.warnings[0].c_str());
}
GST_END_TEST;

#define RECORD_PLUGINS                                                                       \
  "coreelements", "videotestsrc", "x264", "videoparsersbad", "audiotestsrc", "audioparsers", \
      "voaacenc", "app"
#define PLAY_PLUGINS \
  "playback", "typefindfunctions", "libav", "videoconvertscale", "audioconvert", "audioresample"

static Suite *bucket_play_suite(void) {
  Suite *s = suite_create("bucket_play");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  VDB_ADD_TEST(tc, test_playbin_plays_a_store_from_the_bucket_alone, RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_seeks_in_a_bucket_store_keep_audio_with_video, RECORD_PLUGINS,
               PLAY_PLUGINS);
  if (gchar *ffprobe = g_find_program_in_path("ffprobe")) {
    g_free(ffprobe);
    VDB_ADD_TEST(tc, test_vdb_export_from_the_bucket_is_read_by_ffprobe, RECORD_PLUGINS);
  } else {
    LogSkip("test_vdb_export_from_the_bucket_is_read_by_ffprobe",
            "ffprobe not installed (Debian package ffmpeg)");
  }
  VDB_ADD_TEST(tc, test_h265_vp9_and_av1_play_and_seek_from_the_bucket, RECORD_PLUGINS,
               PLAY_PLUGINS, "x265", "vpx", "aom");
  VDB_ADD_TEST(tc, test_wrong_credentials_are_a_clear_error, RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_vdb_upload_refuses_a_second_store_with_the_same_stream, RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_an_object_altered_in_the_bucket_plays_around_the_damage, RECORD_PLUGINS,
               PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_a_recording_uploads_as_it_goes_and_plays_whole_after_retention,
               RECORD_PLUGINS, PLAY_PLUGINS);
  VDB_ADD_TEST(tc, test_recording_goes_on_through_a_server_outage_and_uploads_resume,
               RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_eos_with_the_server_down_warns_and_keeps_the_footage, RECORD_PLUGINS);
  VDB_ADD_TEST(tc, test_a_store_without_access_to_its_bucket_plays_locally_with_a_warning,
               RECORD_PLUGINS);
  return s;
}

int main(int argc, char **argv) {
  if (!vdb::test::RadosgwInstalled()) return vdb::test::SkipNoRadosgw("bucket_play_test");
  vdb::test::RgwServer rgw;
  std::string error;
  if (!rgw.Start(&error)) {
    std::fprintf(stderr, "bucket_play_test: %s\n", error.c_str());
    return 1;
  }
  // What a user sets: the endpoint and the credentials, in the environment.
  g_setenv("AWS_ENDPOINT_URL", rgw.endpoint().c_str(), TRUE);
  g_setenv("AWS_ACCESS_KEY_ID", rgw.access_key().c_str(), TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", rgw.secret_key().c_str(), TRUE);
  {
    auto bucket = OpenBucket();
    vdb::Status st = bucket.ok() ? (*bucket)->CreateBucket() : bucket.status();
    if (!st.ok()) {
      std::fprintf(stderr, "bucket_play_test: create bucket: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  gst_check_init(&argc, &argv);
  int failed = gst_check_run_suite(bucket_play_suite(), "bucket_play", __FILE__);
  rgw.Stop();
  return failed == 0 ? 0 : 1;
}
