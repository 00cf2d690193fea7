// Kill test: record with a real gst-launch-1.0 process, kill -9 it at random
// moments, then check the store: it opens (before and after recovery, and
// with vdbsrc), every recorded frame is byte-identical to what the pipeline
// produced, and the loss is within the documented window. The frames the
// pipeline produced are captured from a second tee branch written to a pipe
// (fdsink): pipe data survives the kill.
#include <gst/app/app.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "reader.h"
#include "writer.h"

namespace {

const double kFps = 30;

struct Mode {
  const char *props;
  double sync_interval_s;  // the documented window for a power loss
};

std::string TempDir() {
  gchar *p = g_dir_make_tmp("vdbkill-XXXXXX", NULL);
  std::string s = p;
  g_free(p);
  return s;
}

// Splits an H.264 byte-stream into access units at each AUD NAL unit.
std::vector<std::string> SplitAccessUnits(const std::string &s) {
  static const std::string aud("\0\0\0\1\x09", 5);
  std::vector<std::string> out;
  size_t pos = s.find(aud);
  while (pos != std::string::npos) {
    size_t next = s.find(aud, pos + aud.size());
    if (next == std::string::npos) break;  // the last one may be cut: not counted
    out.push_back(s.substr(pos, next - pos));
    pos = next;
  }
  return out;
}

// Runs gst-launch-1.0 `desc`, kills it after `ms`, returns what it wrote to stdout.
std::string RunAndKill(const std::string &desc, int ms) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("sh", "sh", "-c", ("exec gst-launch-1.0 -q " + desc + " 2>/dev/null").c_str(),
           (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  reader.join();
  close(fds[0]);
  return out;
}

const char kVideo[] =
    "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,"
    "framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 aud=true ! "
    "h264parse ! video/x-h264,stream-format=byte-stream,alignment=au";

// Runs the recorder, kills it after `ms`, returns what it wrote to stdout.
std::string RecordAndKill(const std::string &store, const Mode &m, int ms) {
  return RunAndKill(std::string(kVideo) + " ! tee name=t t. ! queue max-size-buffers=2 ! " +
                        "vdbsink location=" + store + " stream=cam max-segment-time=1000000000 " +
                        m.props + " t. ! queue max-size-buffers=2 ! fdsink fd=1",
                    ms);
}

std::vector<std::string> StoredFrames(const std::string &store) {
  std::vector<std::string> out;
  auto r = vdb::Reader::Open(vdb::DefaultFs(), store, "cam");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  std::vector<uint8_t> buf;
  std::vector<vdb::FrameView> views;
  for (size_t i = 0; i < (*r)->segments().size(); i++) {
    auto seg = (*r)->Segment(i);
    EXPECT_TRUE(seg.ok()) << seg.status().ToString();
    if (!seg.ok()) break;
    vdb::Status st = (*seg)->Read(0, (*seg)->size(), &buf, &views);
    EXPECT_TRUE(st.ok()) << st.ToString();
    for (auto &v : views)
      out.emplace_back(reinterpret_cast<char *>(buf.data()) + v.data_offset, v.header.payload_size);
  }
  return out;
}

int PlayedByVdbsrc(const std::string &store) {
  GstElement *p = gst_parse_launch(
      ("vdbsrc location=" + store + " stream=cam ! appsink name=out sync=false").c_str(), NULL);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
  gst_element_set_state(p, GST_STATE_PLAYING);
  int n = 0;
  while (GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND)) {
    n++;
    gst_sample_unref(s);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  return n;
}

}  // namespace

TEST(KillTest, KillNineLosesAtMostTheSyncIntervalAndNothingIsDamaged) {
  const Mode modes[] = {
      {"sync-mode=interval sync-interval=1000000000", 1.0},
      {"sync-mode=interval sync-interval=250000000", 0.25},
      {"sync-mode=every-frame", 0.0},
      {"sync-mode=none", 1.0},
  };
  const int kills_per_mode = std::getenv("VDB_KILLS") ? std::atoi(std::getenv("VDB_KILLS")) : 6;
  std::mt19937 rng(20261123);
  std::printf("%-46s %6s %8s %9s %9s\n", "mode", "kills", "frames", "max loss", "mean loss");
  int total_kills = 0;
  for (const Mode &m : modes) {
    double worst = 0, sum = 0;
    int frames = 0;
    for (int k = 0; k < kills_per_mode; k++) {
      std::string store = TempDir();
      int ms = 900 + int(rng() % 2100);
      std::string sent_bytes = RecordAndKill(store, m, ms);
      std::vector<std::string> sent = SplitAccessUnits(sent_bytes);
      ASSERT_GT(sent.size(), 5u) << "the recorder produced nothing in " << ms << " ms";
      // Without recovery (a reader sees the segment the writer left open).
      std::vector<std::string> before = StoredFrames(store);
      // With recovery: what the next writer sees.
      vdb::RecoveryReport rep;
      {
        auto w = vdb::Writer::Open(vdb::DefaultFs(), store, "cam", {}, &rep);
        ASSERT_TRUE(w.ok()) << w.status().ToString();
      }
      for (const auto &item : rep.segments)
        EXPECT_EQ(item.damage_offset, vdb::kNoTime) << "a kill -9 must not damage the middle";
      std::vector<std::string> after = StoredFrames(store);
      ASSERT_EQ(after.size(), before.size()) << "recovery changed what was readable";
      size_t common = std::min(after.size(), sent.size());
      for (size_t i = 0; i < common; i++)
        ASSERT_EQ(after[i], sent[i]) << "frame " << i << " differs from what was recorded";
      EXPECT_EQ(PlayedByVdbsrc(store), int(after.size()));
      double loss = sent.size() > after.size() ? double(sent.size() - after.size()) / kFps : 0;
      EXPECT_LE(loss, 1.0) << "lost " << loss << " s in mode " << m.props;
      worst = std::max(worst, loss);
      sum += loss;
      frames += int(after.size());
      total_kills++;
      (void)std::system(("rm -rf '" + store + "'").c_str());
    }
    std::printf("%-46s %6d %8d %8.3fs %8.3fs\n", m.props, kills_per_mode, frames, worst,
                sum / kills_per_mode);
  }
  EXPECT_GE(total_kills, 20);
}

// Records live video with Opus audio beside it and kills the recorder: after
// recovery both tracks open undamaged, the audio runs without a hole (each
// frame starts where the previous ended) as long as the video, within the
// sync window, and vdbsrc plays every stored frame of both.
TEST(KillTest, KillNineWithAudioKeepsBothTracksWhole) {
  std::mt19937 rng(20261125);
  std::printf("%-8s %8s %8s %10s\n", "kill", "video", "audio", "audio end");
  for (int k = 0; k < 4; k++) {
    std::string store = TempDir();
    int ms = 1200 + int(rng() % 1800);
    RunAndKill(std::string(kVideo) + " ! vdbsink name=r location=" + store +
                   " stream=cam max-segment-time=1000000000 sync-interval=250000000 "
                   "audiotestsrc is-live=true samplesperbuffer=960 ! "
                   "audio/x-raw,rate=48000,channels=1 ! opusenc ! r.audio_0",
               ms);
    vdb::RecoveryReport rep;
    {
      auto w = vdb::Writer::Open(vdb::DefaultFs(), store, "cam", {}, &rep);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
    }
    for (const auto &item : rep.segments) EXPECT_EQ(item.damage_offset, vdb::kNoTime);
    size_t video = StoredFrames(store).size();
    auto r = vdb::Reader::Open(vdb::DefaultFs(), store, "cam", 4, 1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::vector<uint8_t> buf;
    std::vector<vdb::FrameView> views;
    size_t audio = 0, audio_played = 0;  // played: from the first video keyframe on
    uint64_t next = vdb::kNoTime, first = vdb::kNoTime;
    uint64_t start = (*r)->segments().empty() ? 0 : (*r)->segments().front().first_pts;
    for (size_t i = 0; i < (*r)->segments().size(); i++) {
      auto seg = (*r)->Segment(i);
      ASSERT_TRUE(seg.ok()) << seg.status().ToString();
      ASSERT_TRUE((*seg)->Read(0, (*seg)->size(), &buf, &views).ok());
      for (const auto &v : views) {
        if (first == vdb::kNoTime) first = v.header.pts;
        if (next != vdb::kNoTime) {
          ASSERT_LE(std::max(v.header.pts, next) - std::min(v.header.pts, next), 1000u)
              << "a hole in the audio at frame " << audio;
        }
        next = v.header.pts + v.header.duration;
        audio++;
        audio_played += next > start;
      }
    }
    ASSERT_GT(video, 10u);
    ASSERT_GT(audio, 10u);
    // Audio and video end together, within the sync window and a GOP.
    double audio_s = double(next - first) / 1e9, video_s = double(video) / kFps;
    EXPECT_LE(std::abs(audio_s - video_s), 0.75)
        << audio_s << " s of audio, " << video_s << " s of video";
    GstElement *p = gst_parse_launch(("vdbsrc name=s location=" + store +
                                      " stream=cam s.video ! appsink name=v sync=false "
                                      "s.audio_0 ! appsink name=a sync=false")
                                         .c_str(),
                                     NULL);
    ASSERT_TRUE(p);
    gst_element_set_state(p, GST_STATE_PLAYING);
    size_t played[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
      GstElement *sink = gst_bin_get_by_name(GST_BIN(p), i ? "a" : "v");
      while (GstSample *smp = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND)) {
        played[i]++;
        gst_sample_unref(smp);
      }
      gst_object_unref(sink);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    EXPECT_EQ(played[0], video);
    // Audio that came before the first video keyframe is stored, and played
    // from the frame that covers the keyframe's time, where playback starts.
    EXPECT_EQ(played[1], audio_played);
    std::printf("%6d ms %8zu %8zu %9.3fs\n", ms, video, audio, audio_s);
    (void)std::system(("rm -rf '" + store + "'").c_str());
  }
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
