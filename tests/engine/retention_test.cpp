// Retention: oldest sealed segments go first, never the open one, never more
// than asked; segments from earlier runs count; age survives clock jumps.
#include <gtest/gtest.h>

#include "mem_fs.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

namespace {
const uint64_t kUtc0 = 1700000000ull * kSecond;

std::unique_ptr<Writer> Record(Fs *fs, size_t frames, uint64_t start, bool close = true) {
  WriterOptions o;
  o.max_segment_duration = 2 * kSecond;
  auto w = Writer::Open(fs, "/s", "cam", o, nullptr);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->SetCaps("h264", "video/x-h264").ok());
  auto fr = MakeFrames(frames, 1000, 30, 30, start);
  for (auto &f : fr) EXPECT_TRUE((*w)->Append(ToFrame(f, kUtc0 + f.pts)).ok());
  if (close) {
    EXPECT_TRUE((*w)->Close().ok());
  }
  return std::move(w).value();
}
}  // namespace

TEST(Retention, QuotaCountsEarlierRunsAndKeepsTheOpenSegment) {
  MemFs fs;
  Record(&fs, 300, 0).reset();  // an earlier run: 5 segments
  auto w = Record(&fs, 150, 20 * kSecond, /*close=*/false);
  auto segs = w->segments();
  ASSERT_EQ(segs.size(), 8u);
  uint64_t total = 0;
  for (auto &s : segs) total += SegmentDiskBytes(s);
  RetentionPolicy p;
  p.max_total_bytes = total - SegmentDiskBytes(segs[0]) - 1;  // asks for two to go
  auto n = w->ApplyRetention(p, kUtc0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  segs = w->segments();
  EXPECT_EQ(segs.front().id, 3u);
  EXPECT_FALSE(fs.Exists(FramesPath("/s/cam", 1)));
  // A quota smaller than the open segment deletes every sealed one, not it.
  p.max_total_bytes = 1;
  ASSERT_TRUE(w->ApplyRetention(p, kUtc0).ok());
  segs = w->segments();
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_FALSE(segs[0].sealed());
}

// Footage from an earlier run is aged by its UTC end (the only clock that
// survives a restart).
TEST(Retention, ByAgeAndFreeSpace) {
  MemFs fs;
  Record(&fs, 600, 0).reset();  // 20 s in 10 segments, an earlier run
  auto w = Writer::Open(&fs, "/s", "cam", {}, nullptr);
  ASSERT_TRUE(w.ok());
  RetentionPolicy age;
  age.max_age_ns = 10 * kSecond;
  ASSERT_EQ(*(*w)->ApplyRetention(age, kUtc0 + 25 * kSecond), 7u);  // segments ending <= 15 s go
  EXPECT_EQ((*w)->segments().front().first_pts, 14 * kSecond);
  RetentionPolicy space;
  fs.SetFaults(Faults{50000, 0, 0});
  space.min_free_bytes = 100000;
  ASSERT_TRUE((*w)->ApplyRetention(space, kUtc0).ok());
  EXPECT_EQ((*w)->segments().size(), 2u);  // one deletion frees enough
}

// Footage this writer recorded is aged by the monotonic clock: the wall
// clock jumping two days forward deletes none of it, jumping a day back does
// not stop retention.
TEST(Retention, MaxAgeFollowsTheMonotonicClockWhenTheWallClockJumps) {
  MemFs fs;
  uint64_t mono = 1000 * kSecond;
  WriterOptions o;
  o.max_segment_duration = 2 * kSecond;
  o.monotonic_clock = [&mono] { return mono; };
  auto w = Writer::Open(&fs, "/s", "cam", o, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264").ok());
  auto fr = MakeFrames(600, 1000, 30);  // 20 s, 10 segments, recorded in real time
  for (auto &f : fr) {
    mono = 1000 * kSecond + f.pts;
    ASSERT_TRUE((*w)->Append(ToFrame(f, kUtc0 + f.pts)).ok());
  }
  RetentionPolicy age;
  age.max_age_ns = 3600 * kSecond;  // an hour
  // Two days forward on the wall clock, a second later on the monotonic one.
  mono += kSecond;
  EXPECT_EQ(*(*w)->ApplyRetention(age, kUtc0 + 48 * 3600 * kSecond), 0u);
  // A day back on the wall clock while an hour passes: every sealed segment
  // ended more than an hour ago by the monotonic clock and goes; the open
  // one stays.
  mono += 3600 * kSecond;
  EXPECT_EQ(*(*w)->ApplyRetention(age, kUtc0 - 24 * 3600 * kSecond), 9u);
  EXPECT_EQ((*w)->segments().size(), 1u);
}

// Oldest first even while someone reads it: the reader keeps reading the
// deleted segment (an open file survives its unlink) and needs no lock.
TEST(Retention, ASegmentBeingReadIsDeletedInTurnAndStaysReadable) {
  MemFs fs;
  auto w = Record(&fs, 300, 0);
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE((*r)->Segment(0).ok());  // holds segment 1 open
  RetentionPolicy p;
  p.max_total_bytes = 1;
  ASSERT_TRUE(w->ApplyRetention(p, kUtc0).ok());
  for (const auto &s : w->segments()) EXPECT_NE(s.id, 1u);
  bool changed;
  ASSERT_TRUE((*r)->Refresh(&changed).ok());
  std::vector<uint8_t> buf;
  std::vector<FrameView> views;
  auto seg = (*r)->SegmentById(1);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_TRUE((*seg)->Read(0, (*seg)->size(), &buf, &views).ok());
  EXPECT_EQ(views.size(), 60u);
}

TEST(Retention, SelectionStopsWhenLimitsHold) {
  std::vector<SegmentInfo> segs(10);
  for (size_t i = 0; i < segs.size(); i++) {
    segs[i].id = i + 1;
    segs[i].state = SegmentState::kSealed;
    segs[i].bytes = 1000;
    segs[i].first_pts = i * kSecond;
    segs[i].end_pts = (i + 1) * kSecond;
    segs[i].utc_start = kUtc0 + i * kSecond;
  }
  RetentionPolicy p;
  p.max_total_bytes = SegmentDiskBytes(segs[0]) * 7;
  auto ids = SelectForDeletion(segs, p, 0, UINT64_MAX);
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(SelectForDeletion(segs, RetentionPolicy{}, 0, 0).empty());
}

// Oldest footage first, always: an open segment stops the selection; nothing
// newer is deleted in its place.
TEST(Retention, NeverSkipsASegmentToDeleteANewerOne) {
  std::vector<SegmentInfo> segs(5);
  for (size_t i = 0; i < segs.size(); i++) {
    segs[i].id = i + 1;
    segs[i].state = i == 1 ? SegmentState::kOpen : SegmentState::kSealed;
    segs[i].bytes = 1000;
    segs[i].first_pts = i * kSecond;
    segs[i].end_pts = (i + 1) * kSecond;
  }
  RetentionPolicy p;
  p.max_total_bytes = SegmentDiskBytes(segs[0]);
  EXPECT_EQ(SelectForDeletion(segs, p, 0, UINT64_MAX), (std::vector<uint64_t>{1}));
}
