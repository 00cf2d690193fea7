// Bad input on a real file system (PosixFs): symlinks, FIFOs, directories
// and sparse files in place of every kind of file in a store. Nothing is
// followed or written outside the store, nothing hangs, nothing allocates
// what a file only pretends to hold (DESIGN.md guarantee 7, file.h).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>

#include "record_scan.h"
#include "store.h"
#include "test_util.h"
#include "verify.h"

namespace vdb::test {
namespace {

Fs *fs = DefaultFs();
const uint64_t kStart = 1000 * 3600 * kSecond;

struct Store {
  TempDir tmp;
  std::string root = tmp.path() + "/store";
  std::string dir = root + "/cam";
  std::string victim = tmp.path() + "/victim";  // outside the store
  std::vector<TestFrame> frames;

  // 150 frames in 3 sealed segments of 50 (ids 1-3); a victim file outside.
  Store() {
    frames = MakeFrames(150, 500, 25, 25, kStart);
    WriterOptions o;
    o.max_segment_duration = 2 * kSecond;
    auto w = OpenWriter(fs, root, o);
    AppendAll(w.get(), frames);
    EXPECT_TRUE(w->Close().ok());
    std::ofstream(victim) << "precious";
  }
  std::string Path(const std::string &name) const { return dir + "/" + name; }
  std::string Victim() const {
    std::ifstream in(victim);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Replaces `path` with a symlink to the victim.
  void Symlink(const std::string &path) const {
    ::unlink(path.c_str());
    ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
  }
  void Fifo(const std::string &path) const {
    ::unlink(path.c_str());
    ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  }
  void Dir(const std::string &path) const {
    ::unlink(path.c_str());
    ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  }
  void Sparse(const std::string &path, uint64_t size) const {
    ASSERT_EQ(::truncate(path.c_str(), off_t(size)), 0);
  }
};

// Runs `f` with a deadline: a hang fails the test instead of blocking it.
template <typename F>
void Bounded(const char *what, F f) {
  auto fut = std::async(std::launch::async, f);
  if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << what << " hangs";
    std::fflush(nullptr);
    std::_Exit(1);  // the thread cannot be joined
  }
  fut.get();
}

// Plays the stream to its end; frames played.
size_t PlayAll(const std::string &root, Status *end = nullptr, Played *out = nullptr) {
  Played p;
  auto r = Reader::Open(fs, root, "cam");
  if (!r.ok()) {
    if (end) *end = r.status();
    return 0;
  }
  PlayCursor c(r->get());
  (void)c.Seek(0, Snap::kBefore, {});
  Status st = Drain(&c, &p, 100000);
  if (end) *end = st;
  if (out) *out = p;
  return p.frames.size();
}

uint64_t PeakRssMb() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return uint64_t(ru.ru_maxrss) / 1024;
}

TEST(HostileFiles, SymlinkPlantedAsTheNextNewFileIsNeverWrittenThrough) {
  for (const char *name : {"000000000004.vdbf", "000000000004.vdbi", "000000000004.json.tmp",
                           "000000000004.json", "catalog.vdbc.tmp"}) {
    Store s;
    WriterOptions o;
    o.max_segment_duration = 2 * kSecond;
    auto w = OpenWriter(fs, s.root, o);
    s.Symlink(s.Path(name));  // planted while recording, before segment 4 starts
    auto more = MakeFrames(100, 500, 25, 25, kStart + 6 * kSecond, 2);
    for (const auto &f : more) (void)w->Append(ToFrame(f));  // may fail once: never writes through
    (void)w->Close();
    w.reset();
    EXPECT_EQ(s.Victim(), "precious") << name;
    RecoveryReport rep;
    auto w2 = Writer::Open(fs, s.root, "cam", {}, &rep);
    ASSERT_TRUE(w2.ok()) << name << ": " << w2.status().ToString();
    ASSERT_TRUE((*w2)->Repair(&rep).ok());
    w2->reset();
    auto t = fs->TypeOf(s.Path(name));  // used and replaced, or removed as a leftover
    if (t.ok()) {
      EXPECT_NE(t.value(), FileType::kSymlink) << name;
    }
    EXPECT_EQ(s.Victim(), "precious") << name;
    EXPECT_GE(PlayAll(s.root), 150u) << name;
  }
}

TEST(HostileFiles, RepairReplacesASymlinkedCatalogWithoutTouchingItsTarget) {
  Store s;
  s.Symlink(s.Path("catalog.vdbc"));
  s.Symlink(s.Path("catalog.vdbc.tmp"));
  EXPECT_EQ(PlayAll(s.root), 150u);  // readers list the segments from their files
  RecoveryReport rep;
  auto w = Writer::Open(fs, s.root, "cam", {}, &rep);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(rep.catalog_rebuilt);
  EXPECT_NE(rep.catalog_problem.find("symbolic link"), std::string::npos) << rep.catalog_problem;
  w->reset();
  EXPECT_EQ(fs->TypeOf(s.Path("catalog.vdbc")).value(), FileType::kRegular);
  EXPECT_EQ(s.Victim(), "precious");
  EXPECT_TRUE(VerifyStream(fs, s.root, "cam")->problems.empty());
}

TEST(HostileFiles, SymlinkInPlaceOfAStoreFileIsRefusedNamingIt) {
  {  // a segment's frame file: that segment is a gap, the rest plays
    Store s;
    std::string f = FramesPath(s.dir, 2);
    ASSERT_EQ(::rename(f.c_str(), s.victim.c_str()), 0);  // a real segment file, outside
    ASSERT_EQ(::symlink(s.victim.c_str(), f.c_str()), 0);
    Played p;
    EXPECT_EQ(PlayAll(s.root, nullptr, &p), 100u);
    ASSERT_FALSE(p.warnings.empty());
    EXPECT_NE(p.warnings[0].find("symbolic link"), std::string::npos) << p.warnings[0];
    auto check = VerifyStream(fs, s.root, "cam");
    ASSERT_EQ(check->problems.size(), 1u);
    EXPECT_NE(check->problems[0].error.find(f), std::string::npos) << check->problems[0].error;
  }
  {  // the stream directory
    Store s;
    std::string moved = s.tmp.path() + "/elsewhere";
    ASSERT_EQ(::rename(s.dir.c_str(), moved.c_str()), 0);
    ASSERT_EQ(::symlink(moved.c_str(), s.dir.c_str()), 0);
    auto r = Reader::Open(fs, s.root, "cam");
    EXPECT_EQ(r.status().code(), Code::kCorrupt);
    EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos);
    EXPECT_EQ(Writer::Open(fs, s.root, "cam", {}, nullptr).status().code(), Code::kCorrupt);
    EXPECT_TRUE(ListStreams(fs, s.root)->empty());
  }
  {  // the store marker and the lock
    Store s;
    s.Symlink(s.root + "/vdb-store.json");
    EXPECT_EQ(PrepareStore(fs, s.root, false).code(), Code::kCorrupt);
    Store t;
    t.Symlink(t.Path("LOCK"));
    auto w = Writer::Open(fs, t.root, "cam", {}, nullptr);
    EXPECT_EQ(w.status().code(), Code::kCorrupt);
    EXPECT_NE(w.status().message().find("LOCK"), std::string::npos);
    EXPECT_EQ(t.Victim(), "precious");
  }
}

// The store lock (taken to rewrite remote.json) is held on the marker: a
// second taker waits, then gets kLocked; a marker that is a symlink or a
// FIFO is refused without following it or hanging.
TEST(HostileFiles, TheStoreLockWaitsBoundedAndNeverFollowsTheMarker) {
  Store s;
  {
    auto held = LockStore(fs, s.root, std::chrono::milliseconds(0));
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    auto second = LockStore(fs, s.root, std::chrono::milliseconds(20));
    EXPECT_EQ(second.status().code(), Code::kLocked);
  }
  EXPECT_TRUE(LockStore(fs, s.root, std::chrono::milliseconds(0)).ok());  // released
  s.Symlink(s.root + "/vdb-store.json");
  EXPECT_EQ(LockStore(fs, s.root, std::chrono::milliseconds(0)).status().code(), Code::kCorrupt);
  EXPECT_EQ(s.Victim(), "precious");
  s.Fifo(s.root + "/vdb-store.json");
  EXPECT_FALSE(LockStore(fs, s.root, std::chrono::milliseconds(0)).ok());
}

TEST(HostileFiles, FifoInPlaceOfAnyFileNeverHangs) {
  for (const char *name : {"000000000002.vdbf", "000000000002.vdbi", "000000000002.json",
                           "catalog.vdbc", "LOCK", "../vdb-store.json"}) {
    Store s;
    s.Fifo(s.Path(name));
    Bounded(name, [&] {
      Status end;
      size_t n = PlayAll(s.root, &end);
      bool lost_segment = std::string(name) == "000000000002.vdbf";
      bool refused = std::string(name) == "../vdb-store.json";
      if (!refused) {
        EXPECT_EQ(n, lost_segment ? 100u : 150u) << name << ": " << end.ToString();
      }
      (void)VerifyStream(fs, s.root, "cam");
      RecoveryReport rep;
      auto w = Writer::Open(fs, s.root, "cam", {}, &rep);
      if (w.ok()) (void)(*w)->Repair(&rep);
    });
  }
}

TEST(HostileFiles, DirectoryInPlaceOfASegmentFileLeavesTheStreamRecordable) {
  for (uint64_t id : {uint64_t(2), uint64_t(4)}) {  // a listed segment, the next id
    Store s;
    s.Dir(FramesPath(s.dir, id));
    Bounded("directory", [&] {
      EXPECT_EQ(PlayAll(s.root), id == 2 ? 100u : 150u);
      RecoveryReport rep;
      auto w = Writer::Open(fs, s.root, "cam", {}, &rep);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      ASSERT_TRUE((*w)->Repair(&rep).ok());
      ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264, stream-format=byte-stream").ok());
      for (const auto &f : MakeFrames(50, 500, 25, 25, kStart + 10 * kSecond, 3))
        ASSERT_TRUE((*w)->Append(ToFrame(f)).ok());
      ASSERT_TRUE((*w)->Close().ok());
      EXPECT_GT((*w)->segments().back().id, 3u);
      EXPECT_NE((*w)->segments().back().id, id);
    });
    EXPECT_EQ(PlayAll(s.root), id == 2 ? 150u : 200u);
  }
}

TEST(HostileFiles, SparseFilesCostWhatTheyHoldNotTheirSize) {
  const uint64_t k50G = 50ull << 30;
  uint64_t rss = PeakRssMb();
  {  // index and frame file: played in full, the holes never read
    Store s;
    s.Sparse(IndexPath(s.dir, 2), k50G);
    s.Sparse(FramesPath(s.dir, 3), k50G);
    Bounded("sparse segment", [&] {
      EXPECT_EQ(PlayAll(s.root), 150u);
      auto check = VerifyStream(fs, s.root, "cam");
      EXPECT_FALSE(check->problems.empty());
      RecoveryReport rep;
      auto w = Writer::Open(fs, s.root, "cam", {}, &rep);
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE((*w)->Repair(&rep).ok());
      w->reset();
      EXPECT_TRUE(VerifyStream(fs, s.root, "cam")->problems.empty());
    });
  }
  {  // catalog: damage, listed from the files; rebuilt by a writer
    Store s;
    s.Sparse(s.Path("catalog.vdbc"), k50G);
    Bounded("sparse catalog", [&] {
      EXPECT_EQ(PlayAll(s.root), 150u);
      RecoveryReport rep;
      ASSERT_TRUE(Writer::Open(fs, s.root, "cam", {}, &rep).ok());
      EXPECT_TRUE(rep.catalog_rebuilt);
    });
  }
  {  // marker and metadata: refused by their size
    Store s;
    s.Sparse(s.root + "/vdb-store.json", k50G);
    Status st = PrepareStore(fs, s.root, false);
    EXPECT_EQ(st.code(), Code::kCorrupt);
    EXPECT_NE(st.message().find("vdb-store.json"), std::string::npos);
    Store t;
    t.Sparse(MetaPath(t.dir, 1), 100 << 20);
    EXPECT_EQ(ReadSegmentMeta(fs, t.dir, 1).status().code(), Code::kCorrupt);
    EXPECT_EQ(PlayAll(t.root), 150u);
  }
  EXPECT_LT(PeakRssMb(), rss + 64) << "peak RSS grew by more than 64 MB";
}

TEST(HostileFiles, FakeRecordHeadersClaimingHugeLengthsCostOnlyTheirBytes) {
  Store s;
  std::string f = FramesPath(s.dir, 2);
  uint64_t size;
  {
    struct stat st;
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    size = uint64_t(st.st_size);
  }
  // 500 headers claiming 250 MiB each, every 4 KiB after the real records,
  // in a file that is 300 MB long (sparse).
  s.Sparse(f, 300ull << 20);
  int fd = ::open(f.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 500; i++) {
    uint8_t h[kRecordHeaderSize] = {};
    Store32(h, kRecordMagic);
    Store32(h + 4, 250u << 20);
    ASSERT_EQ(::pwrite(fd, h, sizeof h, off_t(size + 4096 * uint64_t(i + 1))), ssize_t(sizeof h));
  }
  ::close(fd);
  Bounded("fake headers", [&] {
    auto file = fs->Open(f, OpenMode::kRead);
    ASSERT_TRUE(file.ok());
    auto scan = ScanRecords(file->get(), kFileHeaderSize, ScanMode::kResync);
    ASSERT_TRUE(scan.ok());
    EXPECT_EQ(scan->entries.size(), 51u);  // the caps record and the 50 real frames
    EXPECT_EQ(scan->end, size);
    EXPECT_EQ(PlayAll(s.root), 150u);
  });
}

TEST(HostileFiles, AStoreReachedThroughASymlinkRecordsAndPlays) {
  TempDir tmp;
  std::string real = tmp.path() + "/disk", link = tmp.path() + "/vdb";
  ASSERT_EQ(::mkdir(real.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto frames = MakeFrames(50, 500, 25, 25, kStart);
  auto w = OpenWriter(fs, link);  // creates the marker: the store's own directory is followed
  ASSERT_TRUE(w);
  AppendAll(w.get(), frames);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  EXPECT_EQ(PlayAll(link), 50u);
}

TEST(HostileFiles, DirectoryAtATemporaryNameDoesNotBlockTheFileItStandsFor) {
  Store s;
  // The next segment's metadata temporary and the catalog's, as directories.
  ASSERT_EQ(::mkdir(s.Path("000000000004.json.tmp").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(s.Path("catalog.vdbc.tmp").c_str(), 0755), 0);
  std::string cat = s.Path("catalog.vdbc");
  ASSERT_EQ(::truncate(cat.c_str(), 40), 0);  // damaged: the writer rewrites it
  RecoveryReport rep;
  auto w = Writer::Open(fs, s.root, "cam", {}, &rep);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264, stream-format=byte-stream").ok());
  for (const auto &f : MakeFrames(50, 500, 25, 25, kStart + 10 * kSecond, 3))
    ASSERT_TRUE((*w)->Append(ToFrame(f)).ok());
  ASSERT_TRUE((*w)->Close().ok());
  w->reset();
  EXPECT_EQ(PlayAll(s.root), 200u);
  EXPECT_TRUE(VerifyStream(fs, s.root, "cam")->problems.empty());
}

TEST(HostileFiles, DenseFakeHeadersClaimingTheRestOfTheFileCostABoundedScan) {
  Store s;
  std::string f = FramesPath(s.dir, 2);
  struct stat st;
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  uint64_t size = uint64_t(st.st_size), total = 256ull << 20;
  s.Sparse(f, total);
  // 1 MiB of headers, one every 40 bytes, each claiming the rest of the file.
  std::vector<uint8_t> fake(1 << 20);
  for (size_t at = 0; at + kRecordHeaderSize <= fake.size(); at += kRecordHeaderSize) {
    uint64_t off = size + 4096 + at;
    Store32(fake.data() + at, kRecordMagic);
    Store32(fake.data() + at + 4, uint32_t(total - off - kRecordHeaderSize));
  }
  int fd = ::open(f.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, fake.data(), fake.size(), off_t(size + 4096)), ssize_t(fake.size()));
  ::close(fd);
  Bounded("dense fake headers", [&] {
    auto file = fs->Open(f, OpenMode::kRead);
    ASSERT_TRUE(file.ok());
    auto scan = ScanRecords(file->get(), kFileHeaderSize, ScanMode::kResync);
    ASSERT_TRUE(scan.ok());
    EXPECT_EQ(scan->entries.size(), 51u);
    EXPECT_EQ(scan->end, size);
    EXPECT_EQ(PlayAll(s.root), 150u);
  });
}

}  // namespace
}  // namespace vdb::test
