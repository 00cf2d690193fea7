// A reader following a live writer while retention deletes old segments;
// edge cases of bad input that must give a clear error, never a crash.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mem_fs.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

// Ten minutes of footage (18 000 frames) appended as fast as possible on one
// thread, 10 s segments, a quota of about a minute applied as it goes; a
// reader follows on another thread. It must see frames in order, each
// intact, and lose none it had not fallen behind retention for.
TEST(Concurrency, ReaderFollowsWriterWhileRetentionDeletes) {
  TempDir tmp;
  const size_t n = 18000;
  auto frames = MakeFrames(n, 300, 30);
  WriterOptions o;
  o.max_segment_duration = 10 * kSecond;
  o.sync_mode = SyncMode::kNone;
  o.flush_interval = 0;
  auto w = Writer::Open(DefaultFs(), tmp.path(), "cam", o, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264").ok());
  ASSERT_TRUE((*w)->Append(ToFrame(frames[0])).ok());
  std::atomic<bool> done{false};
  std::atomic<size_t> deleted{0};
  std::thread writer([&] {
    RetentionPolicy p;
    p.max_total_bytes = 60 * 30 * 700;  // about a minute of footage
    for (size_t i = 1; i < n; i++) {
      ASSERT_TRUE((*w)->Append(ToFrame(frames[i])).ok());
      if (i % 300 == 0) {
        auto d = (*w)->ApplyRetention(p, 0);
        ASSERT_TRUE(d.ok()) << d.status().ToString();
        deleted += *d;
      }
    }
    ASSERT_TRUE((*w)->Close().ok());
    done = true;
  });

  auto r = Reader::Open(DefaultFs(), tmp.path(), "cam");
  ASSERT_TRUE(r.ok());
  uint64_t last_pts = 0;
  size_t seen = 0, skipped = 0;
  std::vector<uint8_t> buf;
  std::vector<FrameView> views;
  uint64_t want_pts = 0;  // the next frame's pts
  while (true) {
    // Read `done` before the refresh: a pass that makes no progress ends the
    // loop only if the writer had finished before the catalog was read.
    bool finished = done;
    bool changed = false;
    ASSERT_TRUE((*r)->Refresh(&changed).ok());
    bool progressed = false;
    const auto &segs = (*r)->segments();
    for (size_t s = 0; s < segs.size(); s++) {
      if (segs[s].end_pts != kNoTime && segs[s].sealed() && segs[s].end_pts <= want_pts) continue;
      auto seg = (*r)->Segment(s);
      if (!seg.ok()) {  // deleted between Refresh and open: we fell behind
        ASSERT_EQ(seg.status().code(), Code::kNotFound) << seg.status().ToString();
        continue;
      }
      for (size_t i = 0; i < (*seg)->size(); i++) {
        if ((*seg)->entry(i).pts < want_pts) continue;
        if ((*seg)->entry(i).pts > want_pts)  // fell behind retention: count what went
          skipped += size_t(((*seg)->entry(i).pts - want_pts) * 30 / kSecond);
        ASSERT_TRUE((*seg)->Read(i, 1, &buf, &views).ok());
        size_t idx = size_t((views[0].header.pts * 30 + kSecond / 2) / kSecond);
        ASSERT_LT(idx, n);
        ASSERT_TRUE(std::string(reinterpret_cast<char *>(buf.data()) + views[0].data_offset,
                                views[0].header.payload_size) == frames[idx].data)
            << "frame " << idx;
        ASSERT_GE(views[0].header.pts, last_pts);
        last_pts = views[0].header.pts;
        want_pts = frames[idx].pts + frames[idx].duration;
        seen++;
        progressed = true;
      }
    }
    if (finished && !progressed) break;
  }
  writer.join();
  EXPECT_GT(deleted.load(), 30u) << "retention deleted too little to test anything";
  EXPECT_EQ(seen + skipped, n) << "frames were neither read nor behind retention";
  std::printf(
      "followed %zu frames, %zu deleted by retention before the reader got there, %zu "
      "segments deleted\n",
      seen, skipped, deleted.load());
}

TEST(BadInput, FramesBiggerThanASegmentOrTheRecordLimit) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_bytes = 10000;
  auto w = Writer::Open(&fs, "/s", "cam", o, nullptr);
  ASSERT_TRUE((*w)->SetCaps("vp9", "video/x-vp9").ok());
  auto frames = MakeFrames(20, 100, 5);
  frames[10].data.assign(50000, 'G');  // a keyframe 5x the segment size
  AppendAll(w->get(), frames);
  std::string huge(kMaxPayload + 1, 'H');
  Frame f = ToFrame(frames[19]);
  f.pts = f.dts = frames[19].pts + kSecond;
  f.data = huge.data();
  f.size = huge.size();
  Status st = (*w)->Append(f);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("record limit"), std::string::npos) << st.message();
  ASSERT_TRUE((*w)->Close().ok());
  auto r = Reader::Open(&fs, "/s", "cam");
  EXPECT_TRUE(SameFrames(ReadAll(r->get()), frames));
}

TEST(BadInput, FilesFromANewerFormatAreRefusedClearly) {
  MemFs fs;
  {
    auto w = Writer::Open(&fs, "/s", "cam", {}, nullptr);
    ASSERT_TRUE((*w)->SetCaps("vp9", "video/x-vp9").ok());
    AppendAll(w->get(), MakeFrames(10, 100, 5));
  }
  // A frame file whose header says the next version.
  std::string path = FramesPath("/s/cam", 1);
  std::string data = fs.Contents(path);
  uint8_t hdr[kFileHeaderSize];
  EncodeFileHeader(FileHeader{FileKind::kFrames, kFormatVersion + 1, 1}, hdr);
  data.replace(0, kFileHeaderSize, reinterpret_cast<char *>(hdr), kFileHeaderSize);
  fs.SetContents(path, data);
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok());
  auto seg = (*r)->Segment(0);
  EXPECT_EQ(seg.status().code(), Code::kUnsupported);
  EXPECT_NE(seg.status().message().find("version " + std::to_string(kFormatVersion + 1)),
            std::string::npos)
      << seg.status().message();
  // Metadata from a newer version.
  SegmentMeta m;
  m.format_version = kFormatVersion + 1;
  EXPECT_EQ(SegmentMetaFromJson(SegmentMetaToJson(m)).status().code(), Code::kUnsupported);
}
