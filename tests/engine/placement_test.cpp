// Where a segment lives (format 3): the catalog notes a segment whole in the
// store's bucket, and a local copy removed; retention of a store with a
// bucket evicts only what is safely there, oldest first.
#include <gtest/gtest.h>

#include "mem_fs.h"
#include "retention.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

namespace {

const uint64_t kUtc0 = 1700000000ull * kSecond;

// 6 sealed segments of 1 s (and, unless close, an open seventh).
std::unique_ptr<Writer> Record(Fs *fs, bool close = true) {
  WriterOptions o;
  o.max_segment_duration = kSecond;
  auto w = OpenWriter(fs, "/s", o);
  auto frames = MakeFrames(close ? 180 : 200);
  for (auto &f : frames) {
    EXPECT_TRUE(w->Append(ToFrame(f, kUtc0 + f.pts)).ok());
  }
  if (close) {
    EXPECT_TRUE(w->Close().ok());
  }
  return w;
}

std::unique_ptr<Writer> Reopen(Fs *fs, RecoveryReport *report = nullptr) {
  RecoveryReport own;
  auto w = Writer::Open(fs, "/s", "cam", {}, report ? report : &own);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(w).value() : nullptr;
}

}  // namespace

TEST(Placement, InTheBucketIsKeptInTheCatalogAcrossReopens) {
  MemFs fs;
  auto w = Record(&fs);
  ASSERT_TRUE(w->MarkInBucket(2).ok());
  ASSERT_TRUE(w->MarkInBucket(2).ok());  // idempotent
  w.reset();
  w = Reopen(&fs);
  auto segs = w->segments();
  ASSERT_EQ(segs.size(), 6u);
  for (const auto &s : segs) {
    EXPECT_EQ(s.in_bucket(), s.id == 2) << s.id;
    EXPECT_TRUE(s.local());
  }
  EXPECT_EQ(w->MarkInBucket(99).code(), Code::kNotFound);
}

TEST(Placement, EvictingRemovesTheLocalFilesAndKeepsTheSegmentListed) {
  MemFs fs;
  auto w = Record(&fs);
  EXPECT_EQ(w->EvictLocal(1).code(), Code::kInvalidArgument);  // not in the bucket
  ASSERT_TRUE(fs.Exists("/s/cam/000000000001.vdbf"));
  ASSERT_TRUE(w->MarkInBucket(1).ok());
  ASSERT_TRUE(w->EvictLocal(1).ok());
  EXPECT_FALSE(fs.Exists("/s/cam/000000000001.vdbf"));
  EXPECT_FALSE(fs.Exists("/s/cam/000000000001.vdbi"));
  EXPECT_FALSE(fs.Exists("/s/cam/000000000001.json"));
  w.reset();
  RecoveryReport report;
  w = Reopen(&fs, &report);
  EXPECT_TRUE(report.notes.empty()) << report.notes[0];  // not "frame file missing"
  auto segs = w->segments();
  ASSERT_EQ(segs.size(), 6u);
  EXPECT_FALSE(segs[0].local());
  EXPECT_TRUE(segs[0].in_bucket());
  // A local reader lists it; its bytes come from the bucket (RemoteFs).
  auto r = OpenReader(&fs, "/s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->segments().size(), 6u);
  // Repair leaves it alone: nothing of it is here to repair.
  RecoveryReport repaired;
  ASSERT_TRUE(w->Repair(&repaired).ok());
  EXPECT_TRUE(repaired.segments.empty());
  EXPECT_EQ(w->segments().size(), 6u);
}

TEST(Placement, AnEvictionCutByACrashIsFinishedAtTheNextOpen) {
  MemFs fs;
  auto w = Record(&fs);
  std::string frames = fs.Contents("/s/cam/000000000003.vdbf");
  ASSERT_TRUE(w->MarkInBucket(3).ok());
  ASSERT_TRUE(w->EvictLocal(3).ok());
  w.reset();
  fs.SetContents("/s/cam/000000000003.vdbf", frames);  // the removal never happened
  RecoveryReport report;
  w = Reopen(&fs, &report);
  EXPECT_FALSE(fs.Exists("/s/cam/000000000003.vdbf"));
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("local copy removed"), std::string::npos) << report.notes[0];
  EXPECT_EQ(w->segments().size(), 6u);
}

TEST(Placement, RetentionWithABucketEvictsOnlyWhatIsThereOldestFirst) {
  MemFs fs;
  auto w = Record(&fs, /*close=*/false);
  auto segs = w->segments();
  ASSERT_EQ(segs.size(), 7u);
  for (uint64_t id : {1, 2, 4}) ASSERT_TRUE(w->MarkInBucket(id).ok());
  RetentionPolicy p;
  p.max_total_bytes = 1;  // everything would go
  p.bucket_first = true;
  auto n = w->ApplyRetention(p, kUtc0 + 60 * kSecond);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.value(), 2u);  // 1 and 2; 3 is not uploaded yet, so 4 waits too
  segs = w->segments();
  ASSERT_EQ(segs.size(), 7u);  // evicted, still listed
  EXPECT_FALSE(segs[0].local());
  EXPECT_FALSE(segs[1].local());
  EXPECT_TRUE(segs[2].local());
  EXPECT_TRUE(segs[3].local());
  // Once 3 is uploaded, 3 and 4 go; the evicted ones cost no local bytes.
  ASSERT_TRUE(w->MarkInBucket(3).ok());
  n = w->ApplyRetention(p, kUtc0 + 60 * kSecond);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 2u);
  uint64_t local = 0;
  for (const auto &s : w->segments()) local += SegmentDiskBytes(s);
  EXPECT_EQ(local, SegmentDiskBytes(w->segments()[4]) + SegmentDiskBytes(w->segments()[5]) +
                       SegmentDiskBytes(w->segments()[6]));
}

TEST(Placement, RetentionWithoutABucketPolicyStillEvictsRatherThanDeletesUploadedSegments) {
  MemFs fs;
  auto w = Record(&fs);
  ASSERT_TRUE(w->MarkInBucket(1).ok());
  RetentionPolicy p;
  p.max_age_ns = 1;  // everything is too old
  auto n = w->ApplyRetention(p, kUtc0 + 3600 * kSecond);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 6u);
  auto segs = w->segments();
  ASSERT_EQ(segs.size(), 1u);  // the uploaded one stays listed, from the bucket
  EXPECT_EQ(segs[0].id, 1u);
  EXPECT_FALSE(segs[0].local());
}
