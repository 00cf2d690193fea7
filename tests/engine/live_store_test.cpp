// The live store at once, as an NVR runs it: one writer rotating every
// 0.5 s of footage with a byte quota (retention and catalog compaction as it
// goes), followers at the live edge, and readers seeking at random forward,
// backward and over keyframes only. Run under ThreadSanitizer and
// AddressSanitizer by the test command.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "mem_fs.h"
#include "play_cursor.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

namespace {

struct Deleted {
  std::mutex mu;
  uint64_t end = 0;  // footage before this PTS was deleted (oldest first)
};

struct Jump {
  uint64_t from, to;  // the follower went from DTS `from` straight to `to`
};

}  // namespace

TEST(LiveStore, FollowersAndSeekersWhileTheWriterRotatesAndRetentionDeletes) {
  TempDir tmp;
  const size_t n = 6000;  // 200 s at 30 fps
  const uint64_t frame = kSecond / 30;
  auto frames = MakeFrames(n, 400, 15);  // a keyframe every 0.5 s
  WriterOptions o;
  o.max_segment_duration = kSecond / 2;
  o.sync_mode = SyncMode::kNone;
  o.flush_interval = 0;
  auto w = Writer::Open(DefaultFs(), tmp.path(), "cam", o, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264").ok());
  Deleted deleted;
  (*w)->SetEventCallback([&](SegmentEvent ev, const SegmentMeta &m) {
    if (ev != SegmentEvent::kDeleted) return;
    std::lock_guard<std::mutex> l(deleted.mu);
    deleted.end = std::max(deleted.end, m.info.end_pts);
  });
  ASSERT_TRUE((*w)->Append(ToFrame(frames[0])).ok());
  std::atomic<bool> done{false};
  std::atomic<size_t> deletions{0}, written{1};
  const uint64_t quota = 20 * 30 * 700;  // about 20 s of footage
  uint64_t worst_over = 0, max_segment = 0;
  std::thread writer([&] {
    RetentionPolicy p;
    p.max_total_bytes = quota;
    for (size_t i = 1; i < n; i++) {
      ASSERT_TRUE((*w)->Append(ToFrame(frames[i])).ok());
      written = i + 1;
      if (i % 15 == 0) {
        auto d = (*w)->ApplyRetention(p, 0);
        ASSERT_TRUE(d.ok()) << d.status().ToString();
        deletions += *d;
        uint64_t total = DefaultFs()
                             ->Open(tmp.path() + "/cam/catalog.vdbc", OpenMode::kRead)
                             .value()
                             ->Size()
                             .value();  // the quota holds the catalog too
        for (const auto &s : (*w)->segments()) {
          total += SegmentDiskBytes(s);
          if (s.sealed()) max_segment = std::max(max_segment, SegmentDiskBytes(s));
        }
        if (total > quota) worst_over = std::max(worst_over, total - quota);
      }
      if (i % 64 == 0) std::this_thread::yield();  // let the readers in
    }
    ASSERT_TRUE((*w)->Close().ok());
    done = true;
  });

  // A fast follower keeps up; a slow one falls behind retention.
  auto follow = [&](bool slow, std::vector<Jump> *jumps, size_t *played) {
    auto r = Reader::Open(DefaultFs(), tmp.path(), "cam");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    PlayCursor c(r->get());
    PlayOptions po;
    if (slow) po.batch_frames = 4;
    (void)c.Seek(0, Snap::kBefore, po);
    uint64_t last_dts = kNoTime;
    PlayBatch b;
    for (;;) {
      Status st = c.Next(&b);
      if (st.code() == Code::kEnd) {
        if (done) {  // one more look: the writer may have sealed since
          bool changed;
          ASSERT_TRUE(c.Refresh(&changed).ok());
          if (c.Next(&b).code() == Code::kEnd) break;
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          bool changed;
          ASSERT_TRUE(c.Refresh(&changed).ok());
          continue;
        }
      } else {
        ASSERT_TRUE(st.ok()) << st.ToString();
      }
      if (slow) {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        // However the threads are scheduled, it falls behind retention once.
        while (*played >= 200 && *played < 300 && written < n / 2 && !done)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      for (size_t i = 0; i < b.frames.size(); i++) {
        const RecordHeader &h = b.frames[i].header;
        size_t idx = size_t(h.dts / frame);
        ASSERT_LT(idx, n);
        ASSERT_TRUE(std::string(reinterpret_cast<char *>(b.bytes.data()) + b.frames[i].data_offset,
                                h.payload_size) == frames[idx].data)
            << "frame " << idx;
        if (last_dts != kNoTime) {
          ASSERT_GT(h.dts, last_dts) << "out of order";
          if (h.dts > last_dts + frame + 1) {  // skipped footage
            ASSERT_EQ(i, 0u) << "a jump inside a batch";
            ASSERT_TRUE(b.discont) << "a jump without DISCONT";
            ASSERT_TRUE(h.flags & kFlagKey) << "a jump to a delta frame";
            jumps->push_back({last_dts, h.dts});
          }
        }
        last_dts = h.dts;
        (*played)++;
      }
    }
    ASSERT_EQ(last_dts, frames.back().dts) << "the follower did not reach the end";
  };
  auto seek = [&](uint32_t seed, size_t *seeks) {
    auto r = Reader::Open(DefaultFs(), tmp.path(), "cam");
    ASSERT_TRUE(r.ok());
    PlayCursor c(r->get());
    std::mt19937 rng(seed);
    while (!done) {
      bool changed;
      ASSERT_TRUE(c.Refresh(&changed).ok());
      const auto &segs = (*r)->segments();
      if (segs.empty()) continue;
      uint64_t a = segs.front().first_pts, z = segs.back().first_pts;
      uint64_t target = a + (z > a ? rng() % (z - a) : 0);
      PlayOptions po;
      int mode = int(rng() % 3);
      po.direction = mode == 1 ? PlayDirection::kReverse : PlayDirection::kForward;
      po.keys_only = mode == 2;
      Status st = c.Seek(target, Snap(rng() % 3), po);
      if (st.code() == Code::kNotFound) continue;  // deleted under us: try another
      ASSERT_TRUE(st.ok()) << st.ToString();
      PlayBatch b;
      for (int k = 0; k < 4; k++) {
        Status nx = c.Next(&b);
        if (nx.code() == Code::kEnd) break;
        ASSERT_TRUE(nx.ok()) << nx.ToString();
        ASSERT_FALSE(b.frames.empty());
        if (k == 0 || mode != 0) {
          ASSERT_TRUE(b.frames[0].header.flags & kFlagKey);
        }
      }
      (*seeks)++;
      std::this_thread::sleep_for(std::chrono::microseconds(100));  // a viewer, not a spinner
    }
  };
  std::vector<Jump> jumps[2];
  size_t played[2] = {0, 0}, seeks[2] = {0, 0};
  std::thread f0(follow, false, &jumps[0], &played[0]), f1(follow, true, &jumps[1], &played[1]);
  std::thread s0(seek, 1u, &seeks[0]), s1(seek, 2u, &seeks[1]);
  writer.join();
  f0.join(), f1.join(), s0.join(), s1.join();
  // A follower only ever skipped footage retention had deleted.
  for (const auto &js : jumps)
    for (const Jump &j : js) EXPECT_LE(j.to, deleted.end + frame) << "skipped footage that exists";
  EXPECT_GT(deletions.load(), 100u);
  EXPECT_FALSE(jumps[1].empty()) << "the slow follower never fell behind: nothing was tested";
  EXPECT_LE(worst_over, max_segment) << "quota exceeded by more than the open segment";
  std::printf(
      "writer: %zu frames, %zu segments deleted; followers played %zu and %zu frames "
      "(%zu and %zu jumps over deleted footage); seekers: %zu and %zu seeks; quota "
      "overshoot at most %llu bytes (a segment: %llu)\n",
      n, deletions.load(), played[0], played[1], jumps[0].size(), jumps[1].size(), seeks[0],
      seeks[1], (unsigned long long)worst_over, (unsigned long long)max_segment);
}

// A reader opening a stream while its writer creates the first segment:
// the frame file exists, still without its header (then without a frame),
// and the catalog has no record of it yet. Opening lists nothing, or the
// segment without a start, never fails or crashes (a follower does this).
TEST(LiveStore, AReaderOpenedWhileTheWriterCreatesTheFirstSegmentListsNothingYet) {
  MemFs fs;
  auto w = OpenWriter(&fs, "/s");
  ASSERT_TRUE(w->Close().ok());
  fs.SetContents("/s/cam/000000000001.vdbf", "");  // created, header not written yet
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->segments().empty());
  EXPECT_EQ((*r)->problem(), "");
  SegmentMeta m;  // then its files, with their headers and no frame
  m.info.id = 1;
  m.stream = "cam";
  m.codec = "h264";
  m.caps = "video/x-h264, stream-format=byte-stream";
  ASSERT_TRUE(fs.Remove("/s/cam/000000000001.vdbf").ok());
  ASSERT_TRUE(SegmentWriter::Create(&fs, "/s/cam", m, 0).ok());
  r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)->segments().size(), 1u);
  EXPECT_FALSE((*r)->segments()[0].sealed());
  EXPECT_EQ((*r)->segments()[0].first_pts, kNoTime);
  EXPECT_EQ((*r)->problem(), "");
}

// The end of what a live writer stored so far: with B-frames the largest
// PTS is not the last one in decode order; once sealed, the catalog's end.
TEST(LiveStore, StoredEndPtsFollowsTheWriterWithBFrames) {
  MemFs fs;
  WriterOptions o;
  o.flush_interval = 0;  // every frame reaches the file at once
  auto w = OpenWriter(&fs, "/s", o);
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->StoredEndPts(), kNoTime);
  const uint64_t f = kSecond / 30;
  // Decode order I P B B P B B: presentation 0 3 1 2 6 4 5.
  const uint64_t pts[] = {0, 3, 1, 2, 6, 4, 5};
  std::string data(100, 'x');
  for (size_t i = 0; i < 7; i++) {
    Frame fr;
    fr.data = data.data();
    fr.size = data.size();
    fr.pts = pts[i] * f;
    fr.dts = i * f;
    fr.flags = i == 0 ? kFlagKey : 0;
    ASSERT_TRUE(w->Append(fr).ok());
    bool changed = false;
    ASSERT_TRUE((*r)->Refresh(&changed).ok());
    uint64_t expect = 0;
    for (size_t k = 0; k <= i; k++) expect = std::max(expect, pts[k] * f);
    EXPECT_EQ((*r)->StoredEndPts(), expect) << "after frame " << i;
  }
  ASSERT_TRUE(w->Close().ok());
  bool changed = false;
  ASSERT_TRUE((*r)->Refresh(&changed).ok());
  EXPECT_EQ((*r)->StoredEndPts(), (*r)->end_pts());
  EXPECT_GE((*r)->StoredEndPts(), 6 * f);
}
