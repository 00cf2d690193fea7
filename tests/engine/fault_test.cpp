// Injected I/O faults: disk full and I/O errors leave the store valid,
// everything before the fault readable, and recording can go on.
#include <gtest/gtest.h>

#include "mem_fs.h"
#include "test_util.h"

using namespace vdb;
using namespace vdb::test;

namespace {
std::unique_ptr<Writer> OpenWriter(Fs *fs) {
  WriterOptions o;
  o.flush_interval = 0;  // every append reaches the file system: faults show at once
  auto w = Writer::Open(fs, "/s", "cam", o, nullptr);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->SetCaps("vp9", "video/x-vp9").ok());
  return std::move(w).value();
}
}  // namespace

TEST(Faults, DiskFullGivesAnErrorAndKeepsEverythingBefore) {
  for (uint64_t budget : {1000ull, 25000ull, 60001ull, 150000ull}) {
    MemFs fs;
    auto w = OpenWriter(&fs);
    auto frames = MakeFrames(400, 500, 30);
    fs.SetFaults(Faults{budget, 0, 0});
    size_t written = 0;
    Status st;
    for (; written < frames.size(); written++) {
      st = w->Append(ToFrame(frames[written]));
      if (!st.ok()) break;
    }
    ASSERT_EQ(st.code(), Code::kNoSpace) << "budget " << budget << ": " << st.ToString();
    EXPECT_NE(st.message().find("/s/cam/"), std::string::npos) << st.message();
    // Space returns: the same frame is accepted and recording goes on.
    fs.SetFaults(Faults{});
    for (size_t i = written; i < frames.size(); i++)
      ASSERT_TRUE(w->Append(ToFrame(frames[i])).ok());
    ASSERT_TRUE(w->Close().ok());
    auto r = Reader::Open(&fs, "/s", "cam");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(SameFrames(ReadAll(r->get()), frames)) << "budget " << budget;
  }
}

TEST(Faults, DiskFullThenCrashRecoversTheSyncedFrames) {
  MemFs fs;
  auto frames = MakeFrames(200, 500, 30);
  size_t ok_frames = 0;
  {
    auto w = OpenWriter(&fs);
    fs.SetFaults(Faults{80000, 0, 0});
    while (ok_frames < frames.size() && w->Append(ToFrame(frames[ok_frames])).ok()) ok_frames++;
    fs.SetFaults(Faults{});
    fs.Crash();
  }
  auto w = OpenWriter(&fs);
  w.reset();
  auto r = Reader::Open(&fs, "/s", "cam");
  auto got = ReadAll(r->get());
  EXPECT_TRUE(
      SameFrames(got, std::vector<TestFrame>(frames.begin(), frames.begin() + long(got.size()))));
  EXPECT_LE(got.size(), ok_frames);
  EXPECT_GE(got.size() + 31, ok_frames);  // at most one sync interval lost
}

TEST(Faults, IoErrorOnAppendOrSyncIsReported) {
  for (int which = 0; which < 2; which++) {
    MemFs fs;
    auto w = OpenWriter(&fs);
    auto frames = MakeFrames(100, 500, 30);
    AppendAll(w.get(), std::vector<TestFrame>(frames.begin(), frames.begin() + 50));
    fs.SetFaults(which == 0 ? Faults{UINT64_MAX, 1, 0} : Faults{UINT64_MAX, 0, 1});
    Status st = w->Append(ToFrame(frames[50]));
    if (which == 1 && st.ok()) st = w->Sync();
    EXPECT_EQ(st.code(), Code::kIo) << st.ToString();
    fs.SetFaults(Faults{});
    ASSERT_TRUE(w->Close().ok());
    auto r = Reader::Open(&fs, "/s", "cam");
    auto got = ReadAll(r->get());
    EXPECT_GE(got.size(), 50u);
    EXPECT_TRUE(
        SameFrames(got, std::vector<TestFrame>(frames.begin(), frames.begin() + long(got.size()))));
  }
}
