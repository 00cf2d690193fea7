// The catalog: torn tails, damage, rebuild, compaction, and an open cost that
// does not depend on frames.
#include <gtest/gtest.h>

#include "mem_fs.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

namespace {
void Record(Fs *fs, size_t frames, uint64_t seg_duration, uint64_t start = 0) {
  WriterOptions o;
  o.max_segment_duration = seg_duration;
  auto w = Writer::Open(fs, "/s", "cam", o, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264").ok());
  AppendAll(w->get(), MakeFrames(frames, 100, 30, 30, start));
  ASSERT_TRUE((*w)->Close().ok());
}
const std::string kCat = "/s/cam/catalog.vdbc";
}  // namespace

TEST(Catalog, TornTailIsACleanEnd) {
  MemFs fs;
  Record(&fs, 300, 2 * kSecond);
  std::string cat = fs.Contents(kCat);
  size_t full = Catalog::Load(&fs, "/s/cam")->segments().size();
  ASSERT_EQ(full, 5u);
  for (size_t cut = 1; cut < kCatalogRecordSize; cut += 7) {
    fs.SetContents(kCat, cat + std::string(cut, 'x'));
    auto c = Catalog::Load(&fs, "/s/cam");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->segments().size(), full);
    EXPECT_EQ(c->torn_bytes(), cut);
  }
  // The writer cuts the torn tail and goes on appending.
  Record(&fs, 60, 2 * kSecond, 100 * kSecond);
  auto c = Catalog::Load(&fs, "/s/cam");
  EXPECT_EQ(c->torn_bytes(), 0u);
  EXPECT_EQ(c->segments().size(), 6u);
}

TEST(Catalog, DamageInTheMiddleIsReportedReadersListTheFilesAndTheWriterRebuildsIt) {
  MemFs fs;
  Record(&fs, 300, 2 * kSecond);
  std::string cat = fs.Contents(kCat);
  cat[kFileHeaderSize + kCatalogRecordSize + 10] ^= 1;
  fs.SetContents(kCat, cat);
  auto c = Catalog::Load(&fs, "/s/cam");
  EXPECT_EQ(c.status().code(), Code::kCorrupt);
  EXPECT_NE(c.status().message().find("offset"), std::string::npos);
  {  // A reader lists the segments from their files (it never writes).
    auto r = Reader::Open(&fs, "/s", "cam");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE((*r)->problem().find("offset"), std::string::npos);
    EXPECT_EQ((*r)->segments().size(), 5u);
    EXPECT_EQ(ReadAll(r->get()).size(), 300u);
  }
  RecoveryReport rep;
  auto w = Writer::Open(&fs, "/s", "cam", {}, &rep);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(rep.catalog_rebuilt);
  w->reset();
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->segments().size(), 5u);
  EXPECT_EQ(ReadAll(r->get()).size(), 300u);
}

TEST(Catalog, RefreshFollowsAppendsAndRewrites) {
  MemFs fs;
  Record(&fs, 120, 2 * kSecond);
  auto c = Catalog::Load(&fs, "/s/cam");
  ASSERT_EQ(c->segments().size(), 2u);
  Record(&fs, 120, 2 * kSecond, 10 * kSecond);
  bool reloaded = true;
  ASSERT_TRUE(c->Refresh(&fs, "/s/cam", &reloaded).ok());
  EXPECT_FALSE(reloaded);
  EXPECT_EQ(c->segments().size(), 4u);
  ASSERT_TRUE(CatalogFile::Rewrite(&fs, "/s/cam", c->segments()).ok());
  ASSERT_TRUE(c->Refresh(&fs, "/s/cam", &reloaded).ok());
  EXPECT_TRUE(reloaded);
  EXPECT_EQ(c->segments().size(), 4u);
}

TEST(Catalog, OpenDoesNotReadSegments) {
  MemFs fs;
  Record(&fs, 300, 2 * kSecond);
  // Remove every index file: opening the stream must not notice.
  for (int id = 1; id <= 5; id++) ASSERT_TRUE(fs.Remove(IndexPath("/s/cam", uint64_t(id))).ok());
  uint64_t before = fs.appends();
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->segments().size(), 5u);
  EXPECT_EQ(fs.appends(), before);
  EXPECT_EQ(ReadAll(r->get()).size(), 300u);  // and reading rebuilds lazily
}

TEST(Catalog, FindByTime) {
  Catalog c;
  for (uint64_t i = 0; i < 100; i++) {
    SegmentInfo s;
    s.id = i + 1;
    s.state = SegmentState::kSealed;
    s.first_pts = i * 10;
    s.end_pts = i * 10 + 10;
    c.Apply(CatalogOp::kSealed, s);
  }
  EXPECT_EQ(c.FindByTime(0), 0);
  EXPECT_EQ(c.FindByTime(5), 0);
  EXPECT_EQ(c.FindByTime(10), 1);
  EXPECT_EQ(c.FindByTime(995), 99);
  EXPECT_EQ(c.FindByTime(100000), 99);
  SegmentInfo d;
  d.id = 1;
  c.Apply(CatalogOp::kDeleted, d);
  EXPECT_EQ(c.segments().front().id, 2u);
  EXPECT_EQ(c.FindByTime(0), 0);
}

// A weeks-long run with retention: the catalog is compacted while recording,
// so its size follows what the stream holds, not how long it ran; and ids are
// never given out twice, even after the newest segments were deleted.
TEST(Catalog, CompactedDuringARunAndIdsNeverReused) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = kSecond / 30;  // a segment per keyframe
  auto w = Writer::Open(&fs, "/s", "cam", o, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264").ok());
  auto frames = MakeFrames(3000, 50, 1);  // every frame a keyframe
  size_t max_bytes = 0;
  for (size_t i = 0; i < frames.size(); i++) {
    ASSERT_TRUE((*w)->Append(ToFrame(frames[i])).ok());
    auto segs = (*w)->segments();
    if (segs.size() > 10) {
      ASSERT_TRUE((*w)->DeleteSegment(segs.front().id).ok());
    }
    max_bytes = std::max(max_bytes, fs.Contents(kCat).size());
  }
  EXPECT_LT(max_bytes, (2 * 11 + 256 + 2) * kCatalogRecordSize + 64);
  ASSERT_TRUE((*w)->Close().ok());
  uint64_t last = (*w)->segments().back().id;
  for (const auto &s : (*w)->segments()) ASSERT_TRUE((*w)->DeleteSegment(s.id).ok());
  w->reset();
  // Reopened (and compacted at open) with nothing left: the next id is new.
  auto again = Writer::Open(&fs, "/s", "cam", o, nullptr);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->SetCaps("h264", "video/x-h264").ok());
  ASSERT_TRUE((*again)->Append(ToFrame(frames[0])).ok());
  EXPECT_EQ((*again)->segments().back().id, last + 1);
}
