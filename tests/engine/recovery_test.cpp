// Crash recovery: torn tails at every byte, damage in the middle, index
// rebuild, simulated power loss.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "mem_fs.h"
#include "record_scan.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

namespace {

const char kCaps[] = "video/x-h264, stream-format=avc";

// Frames go to the (simulated) OS at once: these tests cut what a killed
// writer left, byte by byte.
WriterOptions Unbuffered() {
  WriterOptions o;
  o.flush_interval = 0;
  return o;
}

std::unique_ptr<Writer> OpenWriter(Fs *fs, WriterOptions o = Unbuffered(),
                                   RecoveryReport *rep = nullptr) {
  auto w = Writer::Open(fs, "/s", "cam", o, rep);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  if (!w.ok()) return nullptr;
  EXPECT_TRUE((*w)->SetCaps("h264", kCaps).ok());
  return std::move(w).value();
}

std::vector<TestFrame> ReadStore(Fs *fs, Status *err = nullptr) {
  auto r = Reader::Open(fs, "/s", "cam");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? ReadAll(r->get(), err) : std::vector<TestFrame>();
}

using Snapshot = std::map<std::string, std::string>;

Snapshot Take(MemFs &fs) {
  Snapshot s;
  for (const char *dir : {"/s", "/s/cam"}) {
    auto names = fs.List(dir);
    for (auto &n : names.value()) {
      std::string p = std::string(dir) + "/" + n;
      if (p != "/s/cam") s[p] = fs.Contents(p);
    }
  }
  return s;
}

void Restore(MemFs &fs, const Snapshot &s) {
  fs.MakeDirs("/s/cam");
  for (auto &kv : s) fs.SetContents(kv.first, kv.second);
}

std::vector<TestFrame> Prefix(const std::vector<TestFrame> &v, size_t n) {
  return std::vector<TestFrame>(v.begin(), v.begin() + long(n));
}

}  // namespace

// A writer killed mid-segment, its frame file cut at every byte of the last
// records: recovery keeps exactly the records that are whole.
TEST(Recovery, TornTailAtEveryByteOfTheLastRecords) {
  MemFs fs;
  auto frames = MakeFrames(40, 200, 10);
  auto w = OpenWriter(&fs);
  AppendAll(w.get(), frames);
  Snapshot snap = Take(fs);  // the writer is still open: the segment is "open"
  w.reset();
  const std::string fpath = "/s/cam/000000000001.vdbf";
  const std::string &data = snap[fpath];
  // Record boundaries from a scan of the intact file.
  MemFs scanfs;
  scanfs.SetContents("/f", data);
  auto f = scanfs.Open("/f", OpenMode::kRead);
  auto scan = ScanRecords(f->get(), kFileHeaderSize, ScanMode::kStopAtDamage);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->entries.size(), 41u);  // caps + 40 frames
  uint64_t from = scan->entries[37].offset;
  for (uint64_t cut = from; cut <= data.size(); cut++) {
    MemFs crashed;
    Snapshot s = snap;
    s[fpath] = data.substr(0, cut);
    Restore(crashed, s);
    RecoveryReport rep;
    auto w2 = OpenWriter(&crashed, Unbuffered(), &rep);
    ASSERT_TRUE(w2);
    ASSERT_EQ(rep.segments.size(), 1u) << "cut " << cut;
    size_t whole = 0;
    for (size_t i = 1; i < scan->entries.size(); i++)
      if (scan->entries[i].offset + kRecordHeaderSize + scan->entries[i].size <= cut) whole = i;
    EXPECT_EQ(rep.segments[0].frames_kept, whole) << "cut " << cut;
    EXPECT_EQ(rep.segments[0].damage_offset, kNoTime) << "a torn tail is not damage";
    w2.reset();
    EXPECT_TRUE(SameFrames(ReadStore(&crashed), Prefix(frames, whole))) << "cut " << cut;
    auto r = Reader::Open(&crashed, "/s", "cam");
    EXPECT_EQ((*r)->segments()[0].state, SegmentState::kRecovered);
  }
}

TEST(Recovery, IndexRebuiltFromFramesEqualsTheWrittenIndex) {
  auto frames = MakeFrames(500, 300, 25);
  MemFs clean;
  {
    auto w = OpenWriter(&clean);
    AppendAll(w.get(), frames);
    ASSERT_TRUE(w->Close().ok());
  }
  const std::string ipath = "/s/cam/000000000001.vdbi";
  std::string written = clean.Contents(ipath);
  ASSERT_EQ(written.size(), kFileHeaderSize + 501 * kIndexEntrySize);

  // Crash with the index missing entirely: recovery rewrites it.
  MemFs fs;
  auto w = OpenWriter(&fs);
  AppendAll(w.get(), frames);
  Snapshot snap = Take(fs);
  w.reset();
  snap.erase(ipath);
  MemFs crashed;
  Restore(crashed, snap);
  OpenWriter(&crashed).reset();
  EXPECT_EQ(crashed.Contents(ipath), written);

  // A sealed segment whose index lost its tail: the reader rebuilds in memory.
  MemFs cut;
  Snapshot sealed = Take(clean);
  sealed[ipath] = written.substr(0, written.size() - 100 * kIndexEntrySize - 7);
  Restore(cut, sealed);
  auto r = Reader::Open(&cut, "/s", "cam");
  auto seg = (*r)->Segment(0);
  ASSERT_TRUE(seg.ok());
  EXPECT_TRUE((*seg)->index_rebuilt());
  EXPECT_TRUE(SameFrames(ReadAll(r->get()), frames));
}

TEST(Recovery, DamageInTheMiddleOfAnOpenSegmentCostsOnlyTheDamagedRecord) {
  MemFs fs;
  auto frames = MakeFrames(60, 400, 10);
  auto w = OpenWriter(&fs);
  AppendAll(w.get(), frames);
  Snapshot snap = Take(fs);
  w.reset();
  const std::string fpath = "/s/cam/000000000001.vdbf";
  // Flip a byte inside frame 30's payload.
  MemFs scanfs;
  scanfs.SetContents("/f", snap[fpath]);
  auto scan = ScanRecords(scanfs.Open("/f", OpenMode::kRead)->get(), kFileHeaderSize,
                          ScanMode::kStopAtDamage);
  uint64_t bad = scan->entries[31].offset;  // entry 0 is the caps record
  uint64_t bad_size = scan->entries[32].offset - bad;
  snap[fpath][bad + kRecordHeaderSize + 5] ^= 0x10;
  MemFs crashed;
  Restore(crashed, snap);
  RecoveryReport rep;
  OpenWriter(&crashed, Unbuffered(), &rep).reset();
  ASSERT_EQ(rep.segments.size(), 1u);
  EXPECT_EQ(rep.segments[0].damage_offset, bad);
  EXPECT_EQ(rep.segments[0].frames_kept, 59u);
  EXPECT_NE(rep.ToString().find("damage at offset " + std::to_string(bad)), std::string::npos);
  // The cut bytes (that record only) are kept beside the segment.
  std::string kept = crashed.Contents(fpath + ".damaged-" + std::to_string(bad));
  EXPECT_EQ(kept.size(), bad_size);
  // Every other frame is kept; the one after the cut says DISCONT.
  std::vector<TestFrame> expect = frames;
  expect.erase(expect.begin() + 30);
  expect[30].flags |= kFlagDiscont;
  EXPECT_TRUE(SameFrames(ReadStore(&crashed), expect));
}

TEST(Recovery, BitFlipInASealedSegmentIsDetectedOnRead) {
  MemFs fs;
  auto frames = MakeFrames(60, 400, 10);
  {
    auto w = OpenWriter(&fs);
    AppendAll(w.get(), frames);
    ASSERT_TRUE(w->Close().ok());
  }
  const std::string fpath = "/s/cam/000000000001.vdbf";
  std::string data = fs.Contents(fpath);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; trial++) {
    MemFs copy;
    Snapshot s = Take(fs);
    size_t pos = kFileHeaderSize + rng() % (data.size() - kFileHeaderSize);
    s[fpath][pos] ^= char(1 << (rng() % 8));
    Restore(copy, s);
    Status err;
    auto got = ReadStore(&copy, &err);
    EXPECT_FALSE(err.ok()) << "flip at " << pos << " went unnoticed";
    EXPECT_TRUE(err.code() == Code::kCorrupt) << err.ToString();
    // Whatever was returned before the error is an intact prefix.
    EXPECT_TRUE(SameFrames(got, Prefix(frames, got.size())));
  }
}

// Simulated power loss at many points: everything synced survives,
// byte-identical, and the loss is bounded by the sync interval.
TEST(Recovery, PowerLossLosesAtMostTheSyncInterval) {
  auto frames = MakeFrames(1200, 300, 30);  // 40 s at 30 fps
  WriterOptions o;
  o.sync_interval = kSecond;
  o.max_segment_duration = 7 * kSecond;
  std::mt19937 rng(3);
  uint64_t worst = 0;
  for (int trial = 0; trial < 60; trial++) {
    MemFs fs;
    size_t stop = 1 + rng() % frames.size();
    {
      auto w = OpenWriter(&fs, o);
      AppendAll(w.get(), Prefix(frames, stop));
      fs.Crash(trial % 2 ? rng() | 1 : 0);  // even trials: exact, odd: torn tails
    }
    RecoveryReport rep;
    OpenWriter(&fs, o, &rep).reset();
    auto got = ReadStore(&fs);
    ASSERT_TRUE(SameFrames(got, Prefix(frames, got.size()))) << "trial " << trial;
    ASSERT_LE(got.size(), stop);
    uint64_t lost = (stop - got.size()) * (kSecond / 30);
    worst = std::max(worst, lost);
    EXPECT_LE(lost, o.sync_interval + kSecond / 30)
        << "trial " << trial << ": lost " << stop - got.size() << " frames";
  }
  std::printf("worst loss over 60 simulated power losses: %.3f s (sync-interval 1 s)\n",
              double(worst) / kSecond);
}

TEST(Recovery, CleanCloseLosesNothingAcrossCrash) {
  MemFs fs;
  auto frames = MakeFrames(300, 300, 30);
  WriterOptions o;
  o.sync_mode = SyncMode::kNone;
  {
    auto w = OpenWriter(&fs, o);
    AppendAll(w.get(), frames);
    ASSERT_TRUE(w->Close().ok());
    fs.Crash();
  }
  EXPECT_TRUE(SameFrames(ReadStore(&fs), frames));
}

TEST(Recovery, RecordingContinuesAfterRecovery) {
  MemFs fs;
  auto frames = MakeFrames(300, 300, 30);
  {
    auto w = OpenWriter(&fs);
    AppendAll(w.get(), Prefix(frames, 150));
    ASSERT_TRUE(w->Sync().ok());
    fs.Crash();
  }
  auto w = OpenWriter(&fs);
  AppendAll(w.get(), std::vector<TestFrame>(frames.begin() + 150, frames.end()));
  ASSERT_TRUE(w->Close().ok());
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_EQ((*r)->segments().size(), 2u);
  EXPECT_EQ((*r)->segments()[0].state, SegmentState::kRecovered);
  EXPECT_TRUE(SameFrames(ReadAll(r->get()), frames));
}

// After a power loss the open segment's JSON may be gone (it is synced only
// when sealed): its UTC comes from the catalog's record, so max-age
// retention still sees how old the footage is.
TEST(Recovery, UtcSurvivesAPowerLossFromTheCatalogRecord) {
  MemFs fs;
  auto frames = MakeFrames(90, 300, 30);
  const uint64_t utc0 = 1764000000ull * kSecond;
  {
    auto w = OpenWriter(&fs);
    for (size_t i = 0; i < frames.size(); i++)
      ASSERT_TRUE(w->Append(ToFrame(frames[i], utc0 + frames[i].pts)).ok());
    ASSERT_TRUE(w->Sync().ok());
    fs.Crash();
  }
  (void)fs.Remove("/s/cam/" + SegmentBaseName(1) + ".json");  // never made durable
  OpenWriter(&fs).reset();
  auto r = Reader::Open(&fs, "/s", "cam");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)->segments().size(), 1u);
  EXPECT_EQ((*r)->segments()[0].utc_start, utc0);
  // And the rewritten metadata carries it too.
  auto meta = SegmentMetaFromJson(fs.Contents("/s/cam/" + SegmentBaseName(1) + ".json"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->info.utc_start, utc0);
}
