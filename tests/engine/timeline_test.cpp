// Timeline: runs and gaps from segment boundaries, the three time axes, UTC.
#include "timeline.h"

#include "test_util.h"

namespace vdb::test {
namespace {

SegmentInfo Seg(uint64_t id, uint64_t first, uint64_t end, uint64_t utc = 0) {
  SegmentInfo s;
  s.id = id;
  s.state = SegmentState::kSealed;
  s.first_pts = first;
  s.end_pts = end;
  s.utc_start = utc;
  return s;
}

constexpr uint64_t kH = 3600 * kSecond;  // x264enc's timestamps start at 1000 h
constexpr uint64_t kUtc = 1764000000 * kSecond;

// 1000 h + [0, 2) [2, 4) then a 6 s hole, then [10, 12).
std::vector<SegmentInfo> TwoRuns() {
  return {Seg(1, 1000 * kH, 1000 * kH + 2 * kSecond, kUtc),
          Seg(2, 1000 * kH + 2 * kSecond, 1000 * kH + 4 * kSecond, kUtc + 2 * kSecond),
          Seg(5, 1000 * kH + 10 * kSecond, 1000 * kH + 12 * kSecond, kUtc + 10 * kSecond)};
}

TEST(Timeline, StreamTimeStartsAtZeroAtTheFirstFrame) {
  Timeline t = Timeline::Build(TwoRuns(), kNoTime, false);
  ASSERT_EQ(t.runs().size(), 2u);
  EXPECT_EQ(t.StreamTime(1000 * kH), 0u);
  EXPECT_EQ(t.StreamTime(1000 * kH + 3 * kSecond), 3 * kSecond);
  EXPECT_EQ(t.OutputAt(5 * kSecond), 1000 * kH + 5 * kSecond);
  EXPECT_EQ(t.duration(), 12 * kSecond);  // the hole is part of the real timeline
  EXPECT_EQ(t.ToOutput(1000 * kH + 11 * kSecond), 1000 * kH + 11 * kSecond);
}

TEST(Timeline, CollapseRemovesHolesFromEveryAxis) {
  Timeline t = Timeline::Build(TwoRuns(), kNoTime, true);
  EXPECT_EQ(t.duration(), 6 * kSecond);
  EXPECT_EQ(t.ShiftOf(1), 0u);
  EXPECT_EQ(t.ShiftOf(5), 6 * kSecond);
  EXPECT_EQ(t.ToOutput(1000 * kH + 10 * kSecond), 1000 * kH + 4 * kSecond);
  EXPECT_EQ(t.ToRecorded(1000 * kH + 5 * kSecond), 1000 * kH + 11 * kSecond);
  EXPECT_EQ(t.ToRecorded(1000 * kH + 1 * kSecond), 1000 * kH + 1 * kSecond);
  // A seek to stream time 4.5 s plays recorded 10.5 s.
  EXPECT_EQ(t.ToRecorded(t.OutputAt(4 * kSecond + kSecond / 2)), 1000 * kH + 10500000000ull);
}

TEST(Timeline, ATimeInAHoleMapsToTheNextRun) {
  Timeline t = Timeline::Build(TwoRuns(), kNoTime, false);
  EXPECT_EQ(t.ToRecorded(1000 * kH + 6 * kSecond), 1000 * kH + 10 * kSecond);
  EXPECT_EQ(t.UtcToPts(kUtc + 7 * kSecond), 1000 * kH + 10 * kSecond);
  EXPECT_EQ(t.UtcToPts(kUtc + 3 * kSecond), 1000 * kH + 3 * kSecond);
  EXPECT_EQ(t.UtcToPts(kUtc + 99 * kSecond), 1000 * kH + 12 * kSecond);
  EXPECT_EQ(t.UtcToPts(kUtc - 99 * kSecond), 1000 * kH);
  EXPECT_EQ(t.PtsToUtc(1000 * kH + 11 * kSecond), kUtc + 11 * kSecond);
}

TEST(Timeline, OriginMovesStreamTimeZero) {
  Timeline t = Timeline::Build(TwoRuns(), kNoTime, false);
  t.set_origin(1000 * kH + 3 * kSecond);
  EXPECT_EQ(t.StreamTime(1000 * kH + 3 * kSecond), 0u);
  EXPECT_EQ(t.StreamTime(1000 * kH), 0u);  // before the origin clamps
  EXPECT_EQ(t.duration(), 9 * kSecond);
}

// Segments cut inside continuous footage are one run, even when B-frames
// make the frames' PTS go back and forth inside them.
TEST(Timeline, ContiguousSegmentsAreOneRun) {
  std::vector<SegmentInfo> segs;
  for (uint64_t i = 0; i < 10; i++) segs.push_back(Seg(i + 1, i * kSecond, (i + 1) * kSecond));
  Timeline t = Timeline::Build(segs, kNoTime, true);
  EXPECT_EQ(t.runs().size(), 1u);
  EXPECT_EQ(t.duration(), 10 * kSecond);
}

TEST(Timeline, LiveEndExtendsTheOpenSegment) {
  auto segs = TwoRuns();
  segs.back().state = SegmentState::kOpen;
  segs.back().end_pts = kNoTime;
  Timeline t = Timeline::Build(segs, 1000 * kH + 11 * kSecond, false);
  EXPECT_EQ(t.duration(), 11 * kSecond);
}

TEST(Timeline, EmptyStream) {
  Timeline t = Timeline::Build({}, kNoTime, false);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.duration(), 0u);
  EXPECT_EQ(t.start_pts(), kNoTime);
}

}  // namespace
}  // namespace vdb::test
