// PlayCursor: forward, reverse and key-only playback over a store that a
// writer extends and retention shrinks while it plays.
#include "play_cursor.h"

#include <gtest/gtest.h>

#include "mem_fs.h"
#include "test_util.h"

namespace vdb::test {
namespace {

// A writer cutting a segment every `seg_ns` of footage.
std::unique_ptr<Writer> WriterCutting(Fs *fs, const std::string &store, uint64_t seg_ns) {
  WriterOptions o;
  o.max_segment_duration = seg_ns;
  return OpenWriter(fs, store, o);
}

// I P B B P B B ...: decode order, PTS reordered, DTS = PTS of the frame two
// before in display order (as x264enc bframes=2 stamps them).
std::vector<TestFrame> BFrames(size_t n, uint64_t start) {
  auto f = MakeFrames(n, 500, 30, 30, start);
  const uint64_t d = kSecond / 30;
  for (size_t i = 0; i < n; i++) {
    size_t g = i % 30;  // position in the GOP, decode order
    size_t shown = g == 0 ? 0 : (g % 3 == 1 ? g + 2 : g - 1);
    if (shown >= 30) shown = g;  // the GOP's tail: no reordering
    f[i].pts = start + (i - g + shown) * d;
    f[i].dts = start + i * d - 2 * d;
  }
  return f;
}

TEST(PlayCursor, ForwardPlaysEveryFrameAcrossSegments) {
  MemFs fs;
  auto frames = MakeFrames(300, 800, 30, 30, 1000 * 3600 * kSecond);
  auto w = WriterCutting(&fs, "/s", kSecond);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  ASSERT_GE(r->segments().size(), 9u);
  PlayCursor c(r.get());
  ASSERT_TRUE(c.Seek(0, Snap::kBefore, PlayOptions{}).ok());
  Played p;
  EXPECT_EQ(Drain(&c, &p).code(), Code::kEnd);
  EXPECT_TRUE(SameFrames(p.frames, frames));
  EXPECT_EQ(p.discont_at, (std::vector<size_t>{0}));
  EXPECT_TRUE(p.gaps_at.empty());
}

// B-frames: PTS go back and forth inside segments, yet no gap is seen.
TEST(PlayCursor, BFramesAreNotGaps) {
  MemFs fs;
  auto frames = BFrames(300, 1000 * 3600 * kSecond);
  auto w = WriterCutting(&fs, "/s", kSecond);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  ASSERT_TRUE(c.Seek(0, Snap::kBefore, PlayOptions{}).ok());
  Played p;
  EXPECT_EQ(Drain(&c, &p).code(), Code::kEnd);
  EXPECT_TRUE(SameFrames(p.frames, frames));
  EXPECT_TRUE(p.gaps_at.empty());
  EXPECT_EQ(p.discont_at.size(), 1u);
  Timeline t = Timeline::Build(r->segments(), kNoTime, true);
  EXPECT_EQ(t.runs().size(), 1u);
}

TEST(PlayCursor, AHoleBetweenRecordingsIsReportedOnce) {
  MemFs fs;
  auto a = MakeFrames(60, 500, 30, 30, 0);
  auto b = MakeFrames(60, 500, 30, 30, 10 * kSecond);
  auto w = WriterCutting(&fs, "/s", kSecond);
  AppendAll(w.get(), a);
  AppendAll(w.get(), b);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  ASSERT_TRUE(c.Seek(0, Snap::kBefore, PlayOptions{}).ok());
  Played p;
  Drain(&c, &p);
  EXPECT_EQ(p.frames.size(), 120u);
  EXPECT_EQ(p.gaps_at, (std::vector<size_t>{60}));
  EXPECT_EQ(p.discont_at, (std::vector<size_t>{0, 60}));
}

TEST(PlayCursor, ReverseGivesGopsFromTheEndBackToTheStart) {
  MemFs fs;
  auto frames = MakeFrames(150, 500, 30, 30, 0);
  auto w = WriterCutting(&fs, "/s", kSecond);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  PlayOptions o;
  o.direction = PlayDirection::kReverse;
  ASSERT_TRUE(c.Seek(5 * kSecond, Snap::kBefore, o).ok());
  std::vector<uint64_t> gop_starts;
  PlayBatch b;
  while (c.Next(&b).ok()) {
    EXPECT_TRUE(b.discont);
    EXPECT_TRUE(b.frames[0].header.flags & kFlagKey);
    EXPECT_EQ(b.frames.size(), 30u);
    gop_starts.push_back(b.frames[0].header.pts);
  }
  EXPECT_TRUE(c.finished());
  EXPECT_EQ(gop_starts, (std::vector<uint64_t>{4 * kSecond, 3 * kSecond, 2 * kSecond, kSecond, 0}));
}

TEST(PlayCursor, KeyUnitsOnly) {
  MemFs fs;
  auto frames = MakeFrames(150, 500, 15, 30, 0);
  auto w = WriterCutting(&fs, "/s", kSecond);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  PlayOptions o;
  o.keys_only = true;
  ASSERT_TRUE(c.Seek(kSecond, Snap::kBefore, o).ok());
  Played p;
  Drain(&c, &p);
  ASSERT_EQ(p.frames.size(), 8u);
  for (const auto &f : p.frames) EXPECT_TRUE(f.flags & kFlagKey);
  EXPECT_EQ(p.frames[0].pts, kSecond);
}

TEST(PlayCursor, FollowsAWriterWithoutLosingFrames) {
  MemFs fs;
  auto frames = MakeFrames(240, 500, 30, 30, 0);
  auto w = WriterCutting(&fs, "/s", kSecond);
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin(), frames.begin() + 45));
  ASSERT_TRUE(w->Flush().ok());
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  ASSERT_TRUE(c.Seek(0, Snap::kBefore, PlayOptions{}).ok());
  Played p;
  size_t appended = 45;
  while (p.frames.size() < frames.size()) {
    Status st = Drain(&c, &p);
    ASSERT_EQ(st.code(), Code::kEnd) << st.ToString();
    ASSERT_FALSE(c.finished());
    if (appended < frames.size()) {
      size_t to = std::min(frames.size(), appended + 37);
      AppendAll(w.get(),
                std::vector<TestFrame>(frames.begin() + long(appended), frames.begin() + long(to)));
      appended = to;
      if (appended == frames.size()) {
        ASSERT_TRUE(w->Close().ok());
      }
      ASSERT_TRUE(w->Flush().ok());
    }
    bool changed;
    ASSERT_TRUE(c.Refresh(&changed).ok());
  }
  EXPECT_TRUE(SameFrames(p.frames, frames));
}

// Retention deletes what the cursor is reading and what comes next: the
// segment being read plays to its end (the open file survives the unlink),
// then playback continues at the oldest footage that remains.
TEST(PlayCursor, RetentionUnderTheCursorContinuesAtTheOldestFootage) {
  TempDir tmp;
  auto frames = MakeFrames(300, 500, 30, 30, 0);
  auto w = WriterCutting(DefaultFs(), tmp.path(), kSecond);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(DefaultFs(), tmp.path());
  PlayCursor c(r.get());
  PlayOptions o;
  o.batch_frames = 10;
  ASSERT_TRUE(c.Seek(kSecond, Snap::kBefore, o).ok());
  Played p;
  ASSERT_TRUE(Drain(&c, &p, 1).ok());  // frames 30..39, in segment 2
  auto segs = r->segments();
  for (size_t i = 0; i < 4; i++) ASSERT_TRUE(w->DeleteSegment(segs[i].id).ok());  // 0-4 s
  bool changed;
  ASSERT_TRUE(c.Refresh(&changed).ok());
  EXPECT_EQ(Drain(&c, &p).code(), Code::kEnd);
  // Frames 30..59 (the segment being read), then from 4 s on.
  ASSERT_EQ(p.frames.size(), 30u + 180u);
  for (size_t i = 0; i < 30; i++) EXPECT_EQ(p.frames[i].pts, frames[30 + i].pts);
  for (size_t i = 30; i < p.frames.size(); i++) EXPECT_EQ(p.frames[i].pts, frames[90 + i].pts);
  EXPECT_TRUE(p.frames[30].flags & kFlagKey);
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.discont_at, (std::vector<size_t>{0, 30}));
}

// A follower at the live edge of a segment that is then sealed and deleted
// before it looks again: it goes on at the oldest footage left, not stuck.
TEST(PlayCursor, LiveSegmentSealedAndDeletedUnderAFollower) {
  TempDir tmp;
  auto frames = MakeFrames(300, 500, 30, 30, 0);
  auto w = WriterCutting(DefaultFs(), tmp.path(), kSecond);
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin(), frames.begin() + 20));
  ASSERT_TRUE(w->Flush().ok());
  auto r = OpenReader(DefaultFs(), tmp.path());
  PlayCursor c(r.get());
  ASSERT_TRUE(c.Seek(0, Snap::kBefore, PlayOptions{}).ok());
  Played p;
  EXPECT_EQ(Drain(&c, &p).code(), Code::kEnd);  // at the live edge of segment 1
  ASSERT_EQ(p.frames.size(), 20u);
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin() + 20, frames.end()));
  ASSERT_TRUE(w->Close().ok());
  auto segs = w->segments();
  for (size_t i = 0; i < 3; i++) ASSERT_TRUE(w->DeleteSegment(segs[i].id).ok());
  bool changed;
  ASSERT_TRUE(c.Refresh(&changed).ok());
  EXPECT_EQ(Drain(&c, &p).code(), Code::kEnd);
  // The rest of segment 1 (its open file outlives the unlink), then 3 s on.
  ASSERT_EQ(p.frames.size(), 30u + 210u);
  EXPECT_EQ(p.frames[29].pts, frames[29].pts);
  EXPECT_EQ(p.frames[30].pts, frames[90].pts);
  EXPECT_EQ(p.discont_at.back(), 30u);
}

TEST(PlayCursor, EmptyStreamEndsAtOnce) {
  MemFs fs;
  auto w = WriterCutting(&fs, "/s", kSecond);
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  EXPECT_EQ(c.Seek(0, Snap::kBefore, PlayOptions{}).code(), Code::kNotFound);
  PlayBatch b;
  EXPECT_EQ(c.Next(&b).code(), Code::kEnd);
}

}  // namespace
}  // namespace vdb::test
