// RecordingClock: vdbsink's rules for putting input frames on the stored
// timeline, as recorders meet them (x264enc's 1000 h, pipelines restarted
// at 0, discontinuities, B-frames).
#include "recording_clock.h"

#include <gtest/gtest.h>

namespace vdb {
namespace {

constexpr uint64_t kS = 1000000000;
constexpr uint64_t kHour = 3600 * kS;
constexpr uint64_t kNow = 1764900000 * kS;  // the wall clock, UTC ns
using Step = RecordingClock::Step;

Step Lead(RecordingClock *c, uint64_t in, bool key, bool discont = false,
          uint64_t store_end = kNoTime, uint64_t store_end_utc = 0, uint64_t now = kNow) {
  auto d = c->Lead(in, kNoTime, key, discont);
  if (d.step == Step::kNewRun) c->StartRun(in, store_end, store_end_utc, now);
  if (d.step == Step::kStore || d.step == Step::kNewRun || d.step == Step::kNewSegment)
    c->LeadStored(in, c->Stored(in));
  return d.step;
}

TEST(RecordingClock, AFirstRunKeepsTheInputTimestampsAndTakesTheWallClock) {
  RecordingClock c;
  EXPECT_EQ(Lead(&c, 1000 * kHour, true), Step::kNewRun);  // x264enc starts at 1000 h
  EXPECT_EQ(c.shift(), 0u);
  EXPECT_EQ(Lead(&c, 1000 * kHour + kS / 30, false), Step::kStore);
  EXPECT_EQ(c.Utc(1000 * kHour), kNow);
  EXPECT_EQ(c.Utc(1000 * kHour + 10 * kS), kNow + 10 * kS);
}

TEST(RecordingClock, ARunRestartedAtZeroContinuesAfterTheStoreLeavingTheWallClockGap) {
  // The store ends at 50 s, recorded until 30 s ago; a new pipeline starts at 0.
  RecordingClock c;
  EXPECT_EQ(Lead(&c, 0, true, false, 50 * kS, kNow - 30 * kS), Step::kNewRun);
  EXPECT_EQ(c.Stored(0), 80 * kS);
  EXPECT_EQ(c.Utc(80 * kS), kNow);
}

TEST(RecordingClock, TimestampsGoingBackwardsStartANewRunAtAKeyframeOnly) {
  RecordingClock c;
  Lead(&c, 100 * kS, true);
  Lead(&c, 101 * kS, false);
  // A delta frame 90 s back: dropped; so is what follows, to a keyframe.
  EXPECT_EQ(Lead(&c, 11 * kS, false, false, 101 * kS, kNow), Step::kDropUntilKey);
  EXPECT_EQ(Lead(&c, 11 * kS, true, false, 101 * kS, kNow, kNow + 5 * kS), Step::kNewRun);
  EXPECT_EQ(c.Stored(11 * kS), 106 * kS);  // after the store's end, 5 s of wall clock later
  EXPECT_EQ(Lead(&c, 11 * kS + kS / 30, false), Step::kStore);
}

TEST(RecordingClock, ADtsBeforeTheLastStoredOneIsGoingBackwards) {
  RecordingClock c;
  ASSERT_EQ(c.Lead(10 * kS, 10 * kS, true, false).step, Step::kNewRun);
  c.StartRun(10 * kS, kNoTime, 0, kNow);
  c.LeadStored(10 * kS, 10 * kS);
  // B-frames: a PTS a little earlier is normal, a DTS earlier is not.
  EXPECT_EQ(c.Lead(10 * kS - kS / 10, 10 * kS + kS / 30, false, false).step, Step::kStore);
  EXPECT_EQ(c.Lead(10 * kS + kS, 10 * kS - kS / 30, true, false).step, Step::kNewRun);
}

TEST(RecordingClock, ADiscontinuityOrAJumpStartsASegmentInTheSameRun) {
  RecordingClock c;
  Lead(&c, 0, true);
  EXPECT_EQ(Lead(&c, kS, true, true), Step::kNewSegment);
  EXPECT_EQ(Lead(&c, kS + kS / 30, false, true), Step::kStore);  // not on a delta frame
  EXPECT_EQ(Lead(&c, 10 * kS, true), Step::kNewSegment);         // the jump stays a gap
  EXPECT_EQ(c.shift(), 0u);
  EXPECT_EQ(Lead(&c, 11 * kS, true), Step::kStore);
}

TEST(RecordingClock, ResetStartsANewRecording) {
  RecordingClock c;
  Lead(&c, 0, true);
  c.Reset();
  EXPECT_FALSE(c.started());
  EXPECT_EQ(Lead(&c, 0, true, false, 60 * kS, kNow), Step::kNewRun);
  EXPECT_EQ(c.Stored(0), 60 * kS);
}

}  // namespace
}  // namespace vdb
