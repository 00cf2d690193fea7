// Damage costs at most the damaged GOP (DESIGN.md guarantee 7): each kind of
// damage a real disk, backup or user inflicts on a store, one test per case,
// then a randomized test over every file kind. Damage is applied to MemFs
// file contents; playback goes through the PlayCursor as vdbsrc plays.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "mem_fs.h"
#include "record_scan.h"
#include "store.h"
#include "test_util.h"
#include "verify.h"

namespace vdb::test {
namespace {

const char kDir[] = "/s/cam";
const uint64_t kStart = 1000 * 3600 * kSecond;  // x264enc's timestamps start at 1000 h
constexpr size_t kGop = 30;

std::string F(uint64_t id) {
  return FramesPath(kDir, id);
}

// 300 frames, a keyframe every 30, a segment every 2 s (60 frames): five
// sealed segments of two GOPs.
std::vector<TestFrame> RecordStore(MemFs *fs, WriterOptions o = {}) {
  auto frames = MakeFrames(300, 600, int(kGop), 30, kStart);
  o.max_segment_duration = 2 * kSecond;
  auto w = OpenWriter(fs, "/s", o);
  AppendAll(w.get(), frames);
  EXPECT_TRUE(w->Close().ok());
  return frames;
}

struct Playback {
  Played played;
  Status end;
  size_t calls = 0;
};

// Plays the stream forward from its start, as vdbsrc does, with a bound on
// the calls so that a loop is a failure, not a hang.
Playback PlayForward(Fs *fs) {
  Playback p;
  auto r = Reader::Open(fs, "/s", "cam");
  if (!r.ok()) {
    p.end = r.status();
    return p;
  }
  PlayCursor c(r->get());
  PlayOptions o;
  (void)c.Seek(0, Snap::kBefore, o);
  p.end = Drain(&c, &p.played, 10000);
  return p;
}

std::set<uint64_t> PtsOf(const std::vector<TestFrame> &v) {
  std::set<uint64_t> s;
  for (const auto &f : v) s.insert(f.pts);
  return s;
}

// Every played frame is one that was recorded, byte for byte.
::testing::AssertionResult OnlyRecordedFrames(const std::vector<TestFrame> &played,
                                              const std::vector<TestFrame> &recorded) {
  std::map<uint64_t, const TestFrame *> by_pts;
  for (const auto &f : recorded) by_pts[f.pts] = &f;
  for (const auto &f : played) {
    auto it = by_pts.find(f.pts);
    if (it == by_pts.end() || it->second->data != f.data)
      return ::testing::AssertionFailure() << "played a frame that was not recorded, pts " << f.pts;
  }
  return ::testing::AssertionSuccess();
}

// Frames of recorded[] in the GOPs of frames [first, last]: what damage there may cost.
std::set<uint64_t> GopsOf(const std::vector<TestFrame> &recorded, size_t first, size_t last) {
  std::set<uint64_t> out;
  size_t a = first / kGop * kGop, b = (last / kGop + 1) * kGop;
  for (size_t i = a; i < b && i < recorded.size(); i++) out.insert(recorded[i].pts);
  return out;
}

// Where each recorded frame lies: its frame file and byte range.
struct Loc {
  uint64_t segment;
  uint64_t offset, size;  // of the whole record
};

std::vector<Loc> Locate(MemFs *fs) {
  std::vector<Loc> out;
  auto cat = Catalog::Load(fs, kDir);
  for (const auto &s : cat->segments()) {
    auto f = fs->Open(F(s.id), OpenMode::kRead);
    auto scan = ScanRecords(f->get(), kFileHeaderSize, ScanMode::kStopAtDamage);
    for (const auto &e : scan->entries)
      if (!(e.flags & kFlagConfig)) out.push_back({s.id, e.offset, kRecordHeaderSize + e.size});
  }
  return out;
}

void Flip(MemFs *fs, const std::string &path, uint64_t offset, uint8_t mask = 0x10) {
  std::string d = fs->Contents(path);
  d[offset] = char(d[offset] ^ mask);
  fs->SetContents(path, d);
}

TEST(Damage, FlippedByteInAFrameCostsOnlyTheRestOfItsGop) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  auto locs = Locate(&fs);
  // Frame 75: segment 2, the 16th frame of its second GOP (60..89).
  Flip(&fs, F(locs[75].segment), locs[75].offset + kRecordHeaderSize + 9);
  Playback p = PlayForward(&fs);
  EXPECT_EQ(p.end.code(), Code::kEnd) << p.end.ToString();
  EXPECT_TRUE(OnlyRecordedFrames(p.played.frames, frames));
  // Frames 0..74 and 90..299 play: 75..89 were the damaged frame and what
  // depends on it.
  std::set<uint64_t> want = PtsOf(frames);
  for (size_t i = 75; i < 90; i++) want.erase(frames[i].pts);
  EXPECT_EQ(PtsOf(p.played.frames), want);
  ASSERT_FALSE(p.played.warnings.empty());
  EXPECT_NE(p.played.warnings[0].find("offset " + std::to_string(locs[75].offset)),
            std::string::npos)
      << p.played.warnings[0];
  // The jump is marked DISCONT.
  EXPECT_NE(std::find(p.played.discont_at.begin(), p.played.discont_at.end(), size_t(75)),
            p.played.discont_at.end());
}

TEST(Damage, ZeroedBlockWithoutAnIndexCostsOnlyTheGopsItTouches) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  auto locs = Locate(&fs);
  // No index: the reader scans the frame file and resynchronises past the
  // zeros at the next valid record.
  (void)fs.Remove(IndexPath(kDir, locs[130].segment));
  std::string d = fs.Contents(F(locs[130].segment));
  uint64_t at = locs[130].offset + 100;
  for (uint64_t i = at; i < at + 4096 && i < d.size(); i++) d[i] = 0;
  fs.SetContents(F(locs[130].segment), d);
  size_t last = 130;
  while (last + 1 < locs.size() && locs[last + 1].segment == locs[130].segment &&
         locs[last + 1].offset < at + 4096)
    last++;
  Playback p = PlayForward(&fs);
  EXPECT_EQ(p.end.code(), Code::kEnd) << p.end.ToString();
  EXPECT_TRUE(OnlyRecordedFrames(p.played.frames, frames));
  std::set<uint64_t> lost = GopsOf(frames, 130, last), played = PtsOf(p.played.frames);
  for (const auto &f : frames) {
    if (!lost.count(f.pts)) {
      EXPECT_TRUE(played.count(f.pts)) << "lost pts " << f.pts;
    }
  }
  EXPECT_FALSE(played.count(frames[130].pts));
}

TEST(Damage, DamagedIndexCostsNothing) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  Flip(&fs, IndexPath(kDir, 3), kFileHeaderSize + 10 * kIndexEntrySize + 3);
  Playback p = PlayForward(&fs);
  EXPECT_TRUE(SameFrames(p.played.frames, frames));
}

TEST(Damage, DamagedCapsRecordTakesTheCapsFromTheMetadata) {
  MemFs fs;
  RecordStore(&fs);
  Flip(&fs, F(2), kFileHeaderSize + kRecordHeaderSize + 3);  // inside the caps string
  auto r = OpenReader(&fs, "/s");
  auto seg = r->SegmentById(2);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->caps(), "video/x-h264, stream-format=byte-stream");
  EXPECT_EQ((*seg)->size(), 60u);
  // Both damaged: the segment is never played with wrong caps; it is a gap.
  std::string meta = fs.Contents(MetaPath(kDir, 2));
  meta[meta.find("byte-stream")] = 'X';
  fs.SetContents(MetaPath(kDir, 2), meta);
  auto r2 = OpenReader(&fs, "/s");
  EXPECT_EQ(r2->SegmentById(2).status().code(), Code::kCorrupt);
  Playback p = PlayForward(&fs);
  EXPECT_EQ(p.end.code(), Code::kEnd);
  EXPECT_GE(p.played.frames.size(), 240u);
}

TEST(Damage, MissingMiddleSegmentIsAGapNotTheEnd) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  for (const auto &p : {F(3), IndexPath(kDir, 3), MetaPath(kDir, 3)})
    ASSERT_TRUE(fs.Remove(p).ok());
  Playback p = PlayForward(&fs);
  EXPECT_EQ(p.end.code(), Code::kEnd);
  EXPECT_EQ(p.played.frames.size(), 240u);
  EXPECT_EQ(p.played.frames.back().pts, frames.back().pts);
  EXPECT_FALSE(p.played.gaps_at.empty());
  ASSERT_FALSE(p.played.warnings.empty());
  EXPECT_NE(p.played.warnings[0].find("missing"), std::string::npos) << p.played.warnings[0];
  // Seeking into the hole lands on the footage after it.
  auto r = OpenReader(&fs, "/s");
  PlayCursor c(r.get());
  EXPECT_TRUE(c.Seek(frames[150].pts, Snap::kAfter, {}).ok());
  EXPECT_EQ(c.seek_key_pts(), frames[180].pts);
  // verify says so; the writer drops it from the catalog; then verify is clean.
  auto check = VerifyStream(&fs, "/s", "cam");
  ASSERT_TRUE(check.ok());
  ASSERT_EQ(check->problems.size(), 1u);
  EXPECT_EQ(check->problems[0].segment, 3u);
  RecoveryReport rep;
  OpenWriter(&fs, "/s").reset();
  EXPECT_TRUE(VerifyStream(&fs, "/s", "cam")->problems.empty());
}

TEST(Damage, TruncatedCatalogIsNoticedByReadersVerifyAndTheWriter) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  std::string cat = fs.Contents(Catalog::Path(kDir));
  // Keep the header and segments 1-2 (OPEN + SEALED each).
  fs.SetContents(Catalog::Path(kDir), cat.substr(0, kFileHeaderSize + 4 * kCatalogRecordSize));
  Playback p = PlayForward(&fs);
  EXPECT_TRUE(SameFrames(p.played.frames, frames));
  EXPECT_NE(OpenReader(&fs, "/s")->problem(), "");
  auto check = VerifyStream(&fs, "/s", "cam");
  EXPECT_EQ(check->problems.size(), 3u);  // segments 3, 4, 5 are not in the catalog
  RecoveryReport rep;
  auto w = Writer::Open(&fs, "/s", "cam", {}, &rep);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->segments().size(), 5u);
  w->reset();
  EXPECT_TRUE(VerifyStream(&fs, "/s", "cam")->problems.empty());
  EXPECT_EQ(OpenReader(&fs, "/s")->problem(), "");
}

TEST(Damage, MissingCatalogIsRebuiltFromTheFiles) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  ASSERT_TRUE(fs.Remove(Catalog::Path(kDir)).ok());
  EXPECT_EQ(ListStreams(&fs, "/s").value(), std::vector<std::string>{"cam"});
  Playback p = PlayForward(&fs);
  EXPECT_TRUE(SameFrames(p.played.frames, frames));
  auto check = VerifyStream(&fs, "/s", "cam");
  ASSERT_EQ(check->problems.size(), 1u);
  EXPECT_NE(check->problems[0].error.find("missing"), std::string::npos);
  RecoveryReport rep;
  OpenWriter(&fs, "/s", {}).reset();
  EXPECT_TRUE(VerifyStream(&fs, "/s", "cam")->problems.empty());
  EXPECT_TRUE(SameFrames(PlayForward(&fs).played.frames, frames));
}

TEST(Damage, SealedSegmentTruncatedAtARecordBoundaryFailsVerifyAndRepairFixesIt) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  auto locs = Locate(&fs);
  std::string d = fs.Contents(F(2));
  fs.SetContents(F(2), d.substr(0, locs[100].offset));  // frames 100..119 gone
  auto check = VerifyStream(&fs, "/s", "cam");
  ASSERT_FALSE(check->problems.empty());
  EXPECT_NE(check->problems[0].error.find("60 frames"), std::string::npos)
      << check->problems[0].error;
  auto w = OpenWriter(&fs, "/s");
  RecoveryReport rep;
  ASSERT_TRUE(w->Repair(&rep).ok());
  ASSERT_EQ(rep.segments.size(), 1u);
  EXPECT_EQ(rep.segments[0].frames_kept, 40u);
  w.reset();
  EXPECT_TRUE(VerifyStream(&fs, "/s", "cam")->problems.empty());
  EXPECT_EQ(PlayForward(&fs).played.frames.size(), 280u);
}

TEST(Damage, RepairCutsDamagedRecordsFromASealedSegmentAndKeepsEveryGoodOne) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  auto locs = Locate(&fs);
  Flip(&fs, F(locs[75].segment), locs[75].offset + kRecordHeaderSize + 9);
  EXPECT_FALSE(VerifyStream(&fs, "/s", "cam")->problems.empty());
  auto w = OpenWriter(&fs, "/s");
  RecoveryReport rep;
  ASSERT_TRUE(w->Repair(&rep).ok());
  ASSERT_EQ(rep.segments.size(), 1u);
  EXPECT_EQ(rep.segments[0].frames_kept, 59u);
  EXPECT_EQ(rep.segments[0].bytes_cut, locs[75].size);
  w.reset();
  EXPECT_TRUE(VerifyStream(&fs, "/s", "cam")->problems.empty());
  std::vector<TestFrame> expect = frames;
  expect.erase(expect.begin() + 75);
  expect[75].flags |= kFlagDiscont;  // the first frame after the cut
  EXPECT_TRUE(SameFrames(ReadAll(OpenReader(&fs, "/s").get()), expect));
  // The damaged bytes are kept beside the segment.
  EXPECT_EQ(fs.Contents(F(2) + ".damaged-" + std::to_string(locs[75].offset)).size(),
            locs[75].size);
}

TEST(Damage, EveryFrameModeMakesTheCatalogDurableWithEachFrame) {
  MemFs fs;
  WriterOptions o;
  o.sync_mode = SyncMode::kEveryFrame;
  o.max_segment_duration = 2 * kSecond;
  auto frames = MakeFrames(150, 300, int(kGop), 30, kStart);
  auto w = OpenWriter(&fs, "/s", o);
  AppendAll(w.get(), frames);
  fs.Crash();  // power loss: only what was synced survives
  w.reset();
  auto cat = Catalog::Load(&fs, kDir);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ(cat->segments().size(), 3u);
  EXPECT_EQ(cat->torn_bytes(), 0u);
}

TEST(Damage, ZeroFilledCatalogTailAfterAPowerLossIsATornTailNotDamage) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  std::string cat = fs.Contents(Catalog::Path(kDir));
  fs.SetContents(Catalog::Path(kDir), cat + std::string(3 * kCatalogRecordSize + 17, '\0'));
  auto c = Catalog::Load(&fs, kDir);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->segments().size(), 5u);
  EXPECT_EQ(c->torn_bytes(), 3 * kCatalogRecordSize + 17);
}

TEST(Damage, CrashOnAFullDiskRestartsWhenRetentionIsConfigured) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = 2 * kSecond;
  o.flush_interval = 0;
  auto frames = MakeFrames(270, 600, int(kGop), 30, kStart);
  auto w = OpenWriter(&fs, "/s", o);
  AppendAll(w.get(), frames);  // segment 5 is open
  // kill -9: what the OS has is what is left; then the disk is full.
  MemFs killed;
  ASSERT_TRUE(killed.MakeDirs(kDir).ok());
  killed.SetContents("/s/vdb-store.json", fs.Contents("/s/vdb-store.json"));
  auto names = fs.List(kDir).value();
  for (const auto &n : names)
    killed.SetContents(std::string(kDir) + "/" + n, fs.Contents(std::string(kDir) + "/" + n));
  w.reset();
  Faults full;
  full.space_left = 0;
  killed.SetFaults(full);
  EXPECT_EQ(Writer::Open(&killed, "/s", "cam", o, nullptr).status().code(), Code::kNoSpace);
  o.retention.min_free_bytes = 1;
  RecoveryReport rep;
  auto w2 = Writer::Open(&killed, "/s", "cam", o, &rep);
  ASSERT_TRUE(w2.ok()) << w2.status().ToString();
  EXPECT_NE(rep.ToString().find("disk full"), std::string::npos) << rep.ToString();
  EXPECT_EQ((*w2)->segments().front().id, 2u);  // the oldest went first
  EXPECT_TRUE((*w2)->segments().back().sealed());
  EXPECT_EQ((*w2)->segments().size(), 4u);
}

TEST(Damage, LeftoversAreRemovedByRecovery) {
  MemFs fs;
  RecordStore(&fs);
  for (const char *n : {"000000000003.json.tmp", "000000000003.vdbi.tmp", "catalog.vdbc.tmp",
                        "000000000006.vdbf.tmp"})
    fs.SetContents(std::string(kDir) + "/" + n, "leftover");
  RecoveryReport rep;
  auto w = Writer::Open(&fs, "/s", "cam", {}, &rep);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(rep.notes.size(), 4u) << rep.ToString();
  auto names = fs.List(kDir).value();
  for (const auto &n : names) EXPECT_EQ(n.find(".tmp"), std::string::npos) << n;
  w->reset();
  RecoveryReport again;
  ASSERT_TRUE(Writer::Open(&fs, "/s", "cam", {}, &again).ok());
  EXPECT_TRUE(again.empty()) << again.ToString();
}

TEST(Damage, DamagedBytesGoWithTheirSegmentAndCountInTheQuota) {
  MemFs fs;
  RecordStore(&fs);
  const std::string kept = F(1) + ".damaged-5000";
  fs.SetContents(kept, std::string(1 << 20, 'x'));
  auto w = OpenWriter(&fs, "/s");
  uint64_t live = 0;
  for (const auto &s : w->segments()) live += SegmentDiskBytes(s);
  // Within the quota without the damaged bytes, over it with them.
  RetentionPolicy quota;
  quota.max_total_bytes = live + 64 * 1024;
  auto n = w->ApplyRetention(quota, 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 1u);
  EXPECT_FALSE(fs.Exists(kept));
  EXPECT_EQ(w->segments().front().id, 2u);
  w.reset();
  RecoveryReport again;
  ASSERT_TRUE(Writer::Open(&fs, "/s", "cam", {}, &again).ok());
  EXPECT_TRUE(again.empty()) << again.ToString();
}

TEST(Damage, DescendingCatalogLoadsInIdOrder) {
  MemFs fs;
  ASSERT_TRUE(fs.MakeDirs(kDir).ok());
  std::vector<SegmentInfo> segs;
  for (uint64_t id = 50000; id >= 1; id--) {
    SegmentInfo s;
    s.id = id;
    s.state = SegmentState::kSealed;
    s.first_pts = id * kSecond;
    s.end_pts = s.first_pts + kSecond;
    segs.push_back(s);
  }
  std::string data(kFileHeaderSize, '\0');
  EncodeFileHeader(FileHeader{FileKind::kCatalog, kFormatVersion, 7},
                   reinterpret_cast<uint8_t *>(data.data()));
  uint8_t rec[kCatalogRecordSize];
  for (const auto &s : segs) {
    Catalog::EncodeRecord(CatalogOp::kSealed, s, rec);
    data.append(reinterpret_cast<char *>(rec), sizeof rec);
  }
  fs.SetContents(Catalog::Path(kDir), data);
  auto c = Catalog::Load(&fs, kDir);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->segments().size(), 50000u);
  for (size_t i = 0; i < c->segments().size(); i++) ASSERT_EQ(c->segments()[i].id, i + 1);
}

TEST(Damage, CatalogWithNoRecordsListsTheSegmentFiles) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  std::string cat = fs.Contents(Catalog::Path(kDir));
  fs.SetContents(Catalog::Path(kDir), cat.substr(0, kFileHeaderSize) + std::string(640, '\0'));
  EXPECT_TRUE(SameFrames(PlayForward(&fs).played.frames, frames));
  EXPECT_NE(OpenReader(&fs, "/s")->problem(), "");
}

TEST(Damage, RepairInterruptedAtAnyWriteIsFinishedByTheNextOpen) {
  MemFs base;
  auto frames = RecordStore(&base);
  auto locs = Locate(&base);
  Flip(&base, F(locs[75].segment), locs[75].offset + kRecordHeaderSize + 9);
  std::map<std::string, std::string> snap;
  auto names = base.List(kDir).value();
  for (const auto &n : names)
    snap[std::string(kDir) + "/" + n] = base.Contents(std::string(kDir) + "/" + n);
  std::string marker = base.Contents("/s/vdb-store.json");
  std::vector<TestFrame> expect = frames;
  expect.erase(expect.begin() + 75);
  expect[75].flags |= kFlagDiscont;
  int interrupted = 0;
  for (uint64_t n = 1; n < 40; n++) {
    MemFs fs;
    ASSERT_TRUE(fs.MakeDirs(kDir).ok());
    fs.SetContents("/s/vdb-store.json", marker);
    for (const auto &kv : snap) fs.SetContents(kv.first, kv.second);
    {
      auto w = OpenWriter(&fs, "/s");
      Faults f;
      f.fail_append_at = n;  // the nth write of the repair fails: the process gives up
      fs.SetFaults(f);
      RecoveryReport rep;
      interrupted += !w->Repair(&rep).ok();
      fs.SetFaults(Faults());
    }
    RecoveryReport rep;
    auto w = Writer::Open(&fs, "/s", "cam", {}, &rep);
    ASSERT_TRUE(w.ok()) << "write " << n << ": " << w.status().ToString();
    ASSERT_TRUE((*w)->Repair(&rep).ok());
    w->reset();
    auto v = VerifyStream(&fs, "/s", "cam");
    ASSERT_TRUE(v->problems.empty()) << "write " << n << ": " << v->problems[0].error;
    EXPECT_TRUE(SameFrames(ReadAll(OpenReader(&fs, "/s").get()), expect)) << "write " << n;
  }
  EXPECT_GT(interrupted, 5);
}

TEST(Damage, UnusableSegmentFilesAreKeptAsideNeverDeleted) {
  MemFs fs;
  auto frames = RecordStore(&fs);
  // Segment 1's frame file under segment 2's name (a botched restore).
  fs.SetContents(F(2), fs.Contents(F(1)));
  auto w = OpenWriter(&fs, "/s");
  RecoveryReport rep;
  ASSERT_TRUE(w->Repair(&rep).ok());
  ASSERT_EQ(rep.segments.size(), 1u);
  EXPECT_NE(rep.segments[0].message.find("unusable"), std::string::npos) << rep.ToString();
  EXPECT_EQ(fs.Contents(F(2) + ".unusable"), fs.Contents(F(1)));
  w.reset();
  EXPECT_TRUE(VerifyStream(&fs, "/s", "cam")->problems.empty());
  EXPECT_EQ(PlayForward(&fs).played.frames.size(), 240u);
}

TEST(Damage, CapsThatAreNotUtf8AreStoredAndRepairedWithoutThrowing) {
  MemFs fs;
  auto w = Writer::Open(&fs, "/s", "cam", {}, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264, junk=\xff\xfe").ok());
  AppendAll(w->get(), MakeFrames(60, 300, int(kGop), 30, kStart));
  ASSERT_TRUE((*w)->Close().ok());
  w->reset();
  fs.SetContents(MetaPath(kDir, 1), "{");  // repair rebuilds the metadata from the caps record
  auto w2 = OpenWriter(&fs, "/s");
  RecoveryReport rep;
  EXPECT_TRUE(w2->Repair(&rep).ok());
}

// Many trials of one damage each (bit flips, zeroed blocks, truncations) in
// every kind of file: no played frame differs from a recorded one, no good
// frame outside the damaged GOPs is lost, playback ends (no loop), and after
// recovery + repair, verify is clean and the same holds.
TEST(Damage, RandomizedDamageCostsAtMostTheDamagedGops) {
  MemFs base;
  auto frames = RecordStore(&base);
  auto locs = Locate(&base);
  std::map<std::string, std::string> snap;
  auto names = base.List(kDir).value();
  for (const auto &n : names) {
    std::string p = std::string(kDir) + "/" + n;
    if (n != "LOCK") snap[p] = base.Contents(p);
  }
  std::string marker = base.Contents("/s/vdb-store.json");
  std::mt19937_64 rng(20261125);
  const int kTrials = 2000;
  std::map<std::string, int> by_kind;
  int repaired_clean = 0, refused = 0;
  for (int t = 0; t < kTrials; t++) {
    MemFs fs;
    ASSERT_TRUE(fs.MakeDirs(kDir).ok());
    fs.SetContents("/s/vdb-store.json", marker);
    for (const auto &kv : snap) fs.SetContents(kv.first, kv.second);
    // Frame files get 40% of the trials: that is where frames are lost.
    uint64_t id = 1 + rng() % 5;
    int which = int(rng() % 20);
    std::string path = which < 8    ? F(id)
                       : which < 11 ? IndexPath(kDir, id)
                       : which < 14 ? MetaPath(kDir, id)
                       : which < 18 ? Catalog::Path(kDir)
                                    : "/s/vdb-store.json";
    std::string ext = which < 8    ? "frames"
                      : which < 11 ? "index"
                      : which < 14 ? "metadata"
                      : which < 18 ? "catalog"
                                   : "marker";
    std::string d = fs.Contents(path);
    uint64_t lo = 0, hi = 0;  // damaged bytes [lo, hi)
    int kind = int(rng() % 3);
    if (kind == 0) {  // a few flipped bits close together
      lo = rng() % d.size();
      hi = std::min<uint64_t>(d.size(), lo + 1 + rng() % 64);
      for (int k = 0; k < 3; k++) d[lo + rng() % (hi - lo)] ^= char(1 << (rng() % 8));
    } else if (kind == 1) {  // a zeroed 4 KiB block
      lo = rng() % d.size() / 4096 * 4096;
      hi = std::min<uint64_t>(d.size(), lo + 4096);
      for (uint64_t i = lo; i < hi; i++) d[i] = 0;
    } else {  // truncated
      lo = rng() % d.size();
      hi = d.size();
      d.resize(lo);
    }
    fs.SetContents(path, d);
    by_kind[ext + (kind == 0 ? " flip" : kind == 1 ? " zero" : " cut")]++;
    // What the damage may cost: the GOPs of the frames it touched.
    std::set<uint64_t> may_lose;
    if (ext == "frames")
      for (size_t i = 0; i < locs.size(); i++)
        if (locs[i].segment == id && locs[i].offset < hi && locs[i].offset + locs[i].size > lo) {
          auto g = GopsOf(frames, i, i);
          may_lose.insert(g.begin(), g.end());
        }
    auto check = [&](const char *when) {
      Playback p = PlayForward(&fs);
      if (ext == "marker" && p.end.code() == Code::kUnsupported) {
        refused++;  // a flipped digit claims a newer format: refused, clearly
        return;
      }
      ASSERT_EQ(p.end.code(), Code::kEnd) << when << " trial " << t << ": " << p.end.ToString();
      ASSERT_TRUE(OnlyRecordedFrames(p.played.frames, frames)) << when << " trial " << t;
      std::set<uint64_t> played = PtsOf(p.played.frames);
      for (size_t i = 0; i < frames.size(); i++)
        ASSERT_TRUE(played.count(frames[i].pts) || may_lose.count(frames[i].pts))
            << when << " trial " << t << ": " << path << " [" << lo << ", " << hi << ") lost frame "
            << i;
    };
    check("before repair");
    RecoveryReport rep;
    auto w = Writer::Open(&fs, "/s", "cam", {}, &rep);
    if (ext == "marker" && w.status().code() == Code::kUnsupported) continue;
    ASSERT_TRUE(w.ok()) << "trial " << t << ": " << w.status().ToString();
    ASSERT_TRUE((*w)->Repair(&rep).ok()) << "trial " << t;
    w->reset();
    auto v = VerifyStream(&fs, "/s", "cam");
    ASSERT_TRUE(v.ok());
    std::string problems;
    for (const auto &p : v->problems) problems += p.error + "; ";
    EXPECT_TRUE(v->problems.empty()) << "trial " << t << " " << path << ": " << problems;
    repaired_clean += v->problems.empty();
    check("after repair");
  }
  std::string summary;
  for (const auto &kv : by_kind) summary += kv.first + ": " + std::to_string(kv.second) + ", ";
  std::printf(
      "%d trials (%s): no played frame differs, no frame outside a damaged GOP lost; "
      "verify clean after repair in %d; refused (marker claims a newer format) %d\n",
      kTrials, summary.c_str(), repaired_clean, refused);
}

}  // namespace
}  // namespace vdb::test
