// Writing and reading back: every frame, timestamp and flag; rotation;
// keyframe search; live reading.
#include <gtest/gtest.h>

#include "mem_fs.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

TEST(RoundTrip, ThousandsOfMixedFramesOnRealFiles) {
  TempDir tmp;
  std::vector<TestFrame> frames = MakeFrames(3000, 1500, 25);
  // A few large frames among the small ones.
  for (size_t i = 100; i < frames.size(); i += 500) frames[i].data.append(300000, 'L');
  {
    WriterOptions o;
    o.max_segment_duration = 0;  // size limit only
    auto w = OpenWriter(DefaultFs(), tmp.path(), o);
    AppendAll(w.get(), frames);
    ASSERT_TRUE(w->Close().ok());
  }
  auto r = OpenReader(DefaultFs(), tmp.path());
  ASSERT_EQ(r->segments().size(), 1u);
  EXPECT_EQ(r->segments()[0].frames, 3000u);
  EXPECT_EQ(r->segments()[0].state, SegmentState::kSealed);
  auto seg = r->Segment(0);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ((*seg)->caps(), "video/x-h264, stream-format=byte-stream");
  EXPECT_FALSE((*seg)->index_rebuilt());
  EXPECT_TRUE(SameFrames(ReadAll(r.get()), frames));
}

TEST(RoundTrip, RotatesBySizeOnKeyframes) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_bytes = 100000;
  auto w = OpenWriter(&fs, "/s", o);
  auto frames = MakeFrames(1000, 1000, 30);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  ASSERT_GT(r->segments().size(), 5u);
  for (size_t s = 0; s < r->segments().size(); s++) {
    auto seg = r->Segment(s);
    ASSERT_TRUE(seg.ok());
    EXPECT_TRUE((*seg)->entry(0).flags & kFlagKey) << "segment " << s;
    // A segment may pass the limit only by the GOP that was open at the time.
    EXPECT_LT(r->segments()[s].bytes, o.max_segment_bytes + 60000u);
    if (s > 0) {
      EXPECT_EQ(r->segments()[s].first_pts, r->segments()[s - 1].end_pts);
    }
  }
  EXPECT_TRUE(SameFrames(ReadAll(r.get()), frames));
}

TEST(RoundTrip, RotatesByTime) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = 10 * kSecond;
  auto w = OpenWriter(&fs, "/s", o);
  auto frames = MakeFrames(30 * 65, 200, 60);  // 65 s, keyframe every 2 s
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  ASSERT_EQ(r->segments().size(), 7u);
  for (size_t s = 0; s + 1 < r->segments().size(); s++)
    EXPECT_EQ(r->segments()[s].end_pts - r->segments()[s].first_pts, 10 * kSecond);
  EXPECT_TRUE(SameFrames(ReadAll(r.get()), frames));
}

TEST(RoundTrip, CapsChangeStartsANewSegment) {
  MemFs fs;
  auto w = OpenWriter(&fs, "/s");
  auto frames = MakeFrames(120, 300, 30);
  for (size_t i = 0; i < frames.size(); i++) {
    if (i == 60) {
      ASSERT_TRUE(w->SetCaps("h264", "video/x-h264, width=640").ok());
    }
    ASSERT_TRUE(w->Append(ToFrame(frames[i])).ok());
  }
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  ASSERT_EQ(r->segments().size(), 2u);
  EXPECT_EQ((*r->Segment(1))->caps(), "video/x-h264, width=640");
}

TEST(RoundTrip, RejectsWhatCannotBeStoredWithoutWritingIt) {
  MemFs fs;
  auto w = OpenWriter(&fs, "/s");
  auto frames = MakeFrames(60, 300, 30);
  EXPECT_EQ(w->Append(ToFrame(frames[1])).code(), Code::kInvalidArgument);  // not a keyframe
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin(), frames.begin() + 40));
  TestFrame back = frames[10];
  EXPECT_EQ(w->Append(ToFrame(back)).code(), Code::kInvalidArgument);  // dts backwards
  TestFrame none = frames[41];
  none.pts = none.dts = kNoTime;
  EXPECT_EQ(w->Append(ToFrame(none)).code(), Code::kInvalidArgument);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  EXPECT_TRUE(
      SameFrames(ReadAll(r.get()), std::vector<TestFrame>(frames.begin(), frames.begin() + 40)));
}

TEST(KeyframeSearch, AtBoundaries) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = 4 * kSecond;
  auto w = OpenWriter(&fs, "/s", o);
  auto frames = MakeFrames(300, 100, 30, 30, 5 * kSecond);  // 10 s from t=5s, key every 1 s
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  ASSERT_EQ(r->segments().size(), 3u);
  auto key_pts = [&](uint64_t t, Snap s) -> uint64_t {
    auto p = r->FindKeyframe(t, s);
    if (!p.ok()) return kNoTime;
    return (*r->Segment(p->segment))->entry(p->frame).pts;
  };
  EXPECT_EQ(key_pts(0, Snap::kBefore), 5 * kSecond);  // before the start: first keyframe
  EXPECT_EQ(key_pts(5 * kSecond, Snap::kBefore), 5 * kSecond);
  EXPECT_EQ(key_pts(9 * kSecond - 1, Snap::kBefore), 8 * kSecond);
  EXPECT_EQ(key_pts(9 * kSecond, Snap::kBefore), 9 * kSecond);  // first frame of segment 2
  EXPECT_EQ(key_pts(9 * kSecond - 1, Snap::kAfter), 9 * kSecond);
  EXPECT_EQ(key_pts(9 * kSecond + 1, Snap::kAfter), 10 * kSecond);
  EXPECT_EQ(key_pts(9 * kSecond + 400000000, Snap::kNearest), 9 * kSecond);
  EXPECT_EQ(key_pts(9 * kSecond + 600000000, Snap::kNearest), 10 * kSecond);
  EXPECT_EQ(key_pts(100 * kSecond, Snap::kBefore), 14 * kSecond);  // last keyframe
  EXPECT_EQ(key_pts(14 * kSecond + 1, Snap::kAfter), kNoTime);
  // Walk from the last frame of a segment into the next.
  auto p = r->FindKeyframe(9 * kSecond, Snap::kBefore);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->frame, 0u);
  auto last = Position{p->segment - 1, (*r->Segment(p->segment - 1))->size() - 1};
  auto n = r->Next(last);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->segment, p->segment);
  EXPECT_EQ(n->frame, 0u);
  auto end = r->Next(Position{2, (*r->Segment(2))->size() - 1});
  EXPECT_EQ(end.status().code(), Code::kEnd);
}

TEST(LiveRead, ReaderSeesFramesBeforeTheyAreSyncedOrIndexed) {
  TempDir tmp;
  WriterOptions o;
  o.sync_mode = SyncMode::kNone;
  o.flush_interval = 0;  // every frame goes to the OS at once
  auto w = OpenWriter(DefaultFs(), tmp.path(), o);
  auto frames = MakeFrames(100, 500, 30);
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin(), frames.begin() + 50));
  auto r = OpenReader(DefaultFs(), tmp.path());
  ASSERT_EQ(r->segments().size(), 1u);
  EXPECT_FALSE(r->segments()[0].sealed());
  EXPECT_EQ((*r->Segment(0))->size(), 50u);
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin() + 50, frames.end()));
  EXPECT_EQ((*r->Segment(0))->size(), 100u);  // refreshed on access
  EXPECT_TRUE(SameFrames(ReadAll(r.get()), frames));
  // Frames appended after the reader's last look and then sealed are not lost.
  auto more = MakeFrames(20, 500, 30, 30, frames.back().pts + frames.back().duration, 2);
  more[0].flags = 0;  // continues the GOP
  AppendAll(w.get(), more);
  ASSERT_TRUE(w->Close().ok());
  bool changed = false;
  ASSERT_TRUE(r->Refresh(&changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_TRUE(r->segments()[0].sealed());
  frames.insert(frames.end(), more.begin(), more.end());
  EXPECT_TRUE(SameFrames(ReadAll(r.get()), frames));
}

TEST(Store, ErrorsNameTheProblem) {
  MemFs fs;
  EXPECT_EQ(Reader::Open(&fs, "/nowhere", "cam").status().code(), Code::kNotFound);
  auto w = OpenWriter(&fs, "/s");
  EXPECT_EQ(Reader::Open(&fs, "/s", "other").status().code(), Code::kNotFound);
  EXPECT_EQ(Writer::Open(&fs, "/s", "../x", {}, nullptr).status().code(), Code::kInvalidArgument);
  fs.SetContents("/t/vdb-store.json", "{\"format\":\"vdb-store\",\"version\":99}");
  auto newer = Writer::Open(&fs, "/t", "cam", {}, nullptr);
  EXPECT_EQ(newer.status().code(), Code::kUnsupported);
  EXPECT_NE(newer.status().message().find("99"), std::string::npos);
}

TEST(Lock, SecondWriterIsRefused) {
  TempDir tmp;
  auto w1 = Writer::Open(DefaultFs(), tmp.path(), "cam", {}, nullptr);
  ASSERT_TRUE(w1.ok());
  auto w2 = Writer::Open(DefaultFs(), tmp.path(), "cam", {}, nullptr);
  EXPECT_EQ(w2.status().code(), Code::kLocked);
  EXPECT_NE(w2.status().message().find("another writer"), std::string::npos);
  // Another stream of the same store is independent.
  EXPECT_TRUE(Writer::Open(DefaultFs(), tmp.path(), "cam2", {}, nullptr).ok());
  w1->reset();
  EXPECT_TRUE(Writer::Open(DefaultFs(), tmp.path(), "cam", {}, nullptr).ok());
}

TEST(LiveRead, BufferedFramesReachReadersWithinTheFlushInterval) {
  TempDir tmp;
  WriterOptions o;
  o.sync_mode = SyncMode::kNone;
  o.flush_interval = 200000000;  // 200 ms = 6 frames at 30 fps
  auto w = OpenWriter(DefaultFs(), tmp.path(), o);
  auto frames = MakeFrames(60, 200, 30);
  auto r = OpenReader(DefaultFs(), tmp.path());
  for (size_t i = 0; i < frames.size(); i++) {
    ASSERT_TRUE(w->Append(ToFrame(frames[i])).ok());
    if (i == 0) {
      bool changed;
      ASSERT_TRUE(r->Refresh(&changed).ok());
    }
    auto seg = r->Segment(0);
    ASSERT_TRUE(seg.ok());
    EXPECT_GE((*seg)->size() + 7, i + 1) << "frame " << i << " not visible after 200 ms";
  }
}

TEST(KeyframeSearch, ByFramePosition) {
  MemFs fs;
  auto w = OpenWriter(&fs, "/s");
  AppendAll(w.get(), MakeFrames(100, 100, 30));  // keyframes at frames 0, 30, 60, 90
  ASSERT_TRUE(w->Close().ok());
  auto r = OpenReader(&fs, "/s");
  auto seg = r->Segment(0);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ((*seg)->KeyFrameAtOrAfter(0), 0);
  EXPECT_EQ((*seg)->KeyFrameAtOrAfter(1), 30);
  EXPECT_EQ((*seg)->KeyFrameAtOrAfter(90), 90);
  EXPECT_EQ((*seg)->KeyFrameAtOrAfter(91), -1);
  EXPECT_EQ((*seg)->KeyFrameBefore(0), -1);
  EXPECT_EQ((*seg)->KeyFrameBefore(30), 0);
  EXPECT_EQ((*seg)->KeyFrameBefore(31), 30);
  EXPECT_EQ((*seg)->KeyFrameBefore(100), 90);
}

// Event callbacks run after the Writer released its lock: one may call back
// into the Writer (as a GStreamer sync bus handler does) without deadlock.
TEST(RoundTrip, EventCallbacksMayCallBackIntoTheWriter) {
  MemFs fs;
  auto w = OpenWriter(&fs, "/s");
  int opened = 0, closed = 0;
  Writer *wp = w.get();
  w->SetEventCallback([&](SegmentEvent ev, const SegmentMeta &) {
    if (ev == SegmentEvent::kOpened) {
      opened++;
      EXPECT_TRUE(wp->Sync().ok());
      wp->Split();
      WriterOptions o;
      o.max_segment_duration = kSecond;
      wp->SetOptions(o);
    }
    if (ev == SegmentEvent::kClosed) closed++;
  });
  AppendAll(w.get(), MakeFrames(90, 500, 30));
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(opened, 3);
  EXPECT_EQ(closed, 3);
}
