// UploadWorker: a recorder's uploads on their own thread, against a
// MemObjectStore: sealed segments go up and are marked in the recorder's
// catalog; an outage is reported once, nothing is marked meanwhile, and
// uploads resume by themselves when the server is back.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../engine/test_util.h"
#include "mem_fs.h"
#include "mem_object_store.h"
#include "retention.h"
#include "upload_worker.h"

namespace vdb::remote {
namespace {

using test::kSecond;

// Waits (at most 30 s) until `done` holds: a bound against a hang, not a
// timing assertion.
template <typename F>
bool WaitFor(F done) {
  for (int i = 0; i < 3000 && !done(); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

class UploadWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriterOptions o;
    o.max_segment_duration = kSecond;
    writer_ = test::OpenWriter(&fs_, "/local", o);
    test::AppendAll(writer_.get(), test::MakeFrames(100));  // 3 sealed, 1 open
  }
  void StartWorker() {
    UploadWorker::Options o;
    o.location = "s3://footage/site1";
    o.fs = &fs_;
    o.local_store = "/local";
    o.stream = "cam";
    o.period = std::chrono::milliseconds(50);
    o.backoff_initial = backoff_;
    o.backoff_max = std::max(backoff_, std::chrono::milliseconds(100));
    auto owned = std::make_unique<MemObjectStore>("footage");
    bucket_ = owned.get();
    auto holder = std::make_shared<std::unique_ptr<MemObjectStore>>(std::move(owned));
    o.open = [holder]() -> Result<std::unique_ptr<ObjectStore>> {
      return std::unique_ptr<ObjectStore>(std::move(*holder));
    };
    if (down_at_start_) {
      ObjectFaults f;
      f.down = true;
      bucket_->SetFaults(f);
    }
    UploadWorker::Callbacks cb;
    cb.confirmed = [this](uint64_t id) { return writer_->MarkInBucket(id); };
    cb.failing = [this](const Status &) { failing_++; };
    cb.recovered = [this] { recovered_++; };
    cb.local_segments = [this] { return writer_->segments(); };
    cb.removed = [this](uint64_t id) { EXPECT_TRUE(writer_->DeleteSegment(id).ok()); };
    o.bucket_retention = bucket_retention_;
    worker_.Start(o, cb);
  }
  size_t Marked() {
    size_t n = 0;
    for (const auto &s : writer_->segments()) n += s.in_bucket();
    return n;
  }

  MemFs fs_;
  std::unique_ptr<Writer> writer_;
  MemObjectStore *bucket_ = nullptr;  // owned by the worker
  bool down_at_start_ = false;
  std::chrono::milliseconds backoff_{20};
  RetentionPolicy bucket_retention_;
  std::atomic<int> failing_{0}, recovered_{0};
  UploadWorker worker_;
};

TEST_F(UploadWorkerTest, SealedSegmentsGoUpAndAreMarkedInTheRecordersCatalog) {
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Marked() == 3; })) << Marked();
  // Recording goes on; the next sealed segment follows on a kick.
  test::AppendAll(writer_.get(), test::MakeFrames(30, 1000, 30, 30, 100 * kSecond / 30));
  ASSERT_TRUE(writer_->Close().ok());
  worker_.Kick();
  ASSERT_TRUE(WaitFor([&] { return Marked() == 4; })) << Marked();
  EXPECT_TRUE(bucket_->Object("site1/cam/000000000004.json").has_value());
  EXPECT_TRUE(bucket_->Object("site1/vdb-store.json").has_value());
  EXPECT_EQ(failing_, 0);
  worker_.Stop();
}

TEST_F(UploadWorkerTest, AnOutageIsReportedOnceAndUploadsResumeWhenTheServerIsBack) {
  down_at_start_ = true;
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return worker_.passes() >= 4; }));
  EXPECT_EQ(failing_, 1);
  EXPECT_EQ(Marked(), 0u);  // nothing confirmed, so nothing may leave the disk
  bucket_->SetFaults({});
  ASSERT_TRUE(WaitFor([&] { return Marked() == 3; })) << Marked();
  EXPECT_EQ(recovered_, 1);
  EXPECT_EQ(failing_, 1);
  worker_.Stop();
}

TEST_F(UploadWorkerTest, TheBucketsRetentionTakesWhatLeftTheDiskAndTheRecorderForgetsIt) {
  bucket_retention_.max_total_bytes = 1;
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Marked() == 3; }));
  // Local retention frees the copies of the two oldest; the next pass takes
  // them out of the bucket, and out of the recorder's catalog.
  for (uint64_t id : {1, 2}) ASSERT_TRUE(writer_->EvictLocal(id).ok());
  worker_.Kick();
  ASSERT_TRUE(WaitFor([&] { return writer_->segments().front().id == 3; }));
  EXPECT_FALSE(bucket_->Object("site1/cam/000000000001.vdbf").has_value());
  EXPECT_FALSE(bucket_->Object("site1/cam/000000000002.json").has_value());
  EXPECT_TRUE(bucket_->Object("site1/cam/000000000003.vdbf").has_value());  // still on disk
  worker_.Stop();
}

TEST_F(UploadWorkerTest, StopReturnsWithAPassDueAndTheWorkerCanStartAgain) {
  StartWorker();
  worker_.Stop();
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Marked() == 3; }));
  worker_.Stop();
}

// What vdbsink does at EOS: the segment sealed last is in the bucket, and
// marked in the recorder's catalog, when Flush returns.
TEST_F(UploadWorkerTest, FlushReturnsOnceWhatWasSealedBeforeItIsInTheBucket) {
  StartWorker();
  ASSERT_TRUE(writer_->Close().ok());  // seals segment 4
  // The largest timeout (vdbsink's GST_CLOCK_TIME_NONE) is "until done".
  Status st = worker_.Flush(std::chrono::milliseconds::max());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Marked(), 4u);
  EXPECT_TRUE(bucket_->Object("site1/cam/000000000004.vdbf").has_value());
  worker_.Stop();
}

// A server that is down is tried once more at once, not after the backoff:
// Flush answers with that attempt's error.
TEST_F(UploadWorkerTest, FlushWhileTheServerIsDownTriesAtOnceAndReturnsTheError) {
  down_at_start_ = true;
  backoff_ = std::chrono::minutes(10);
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return failing_ == 1; }));
  Status st = worker_.Flush(std::chrono::minutes(1));
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kIo) << st.ToString();
  EXPECT_EQ(st.message().find("did not finish"), std::string::npos) << st.ToString();
  EXPECT_EQ(Marked(), 0u);
  worker_.Stop();
}

TEST_F(UploadWorkerTest, FlushEndsAtItsTimeoutOrAtInterruptAndThePassGoesOn) {
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Marked() == 3; }));
  ObjectFaults f;
  f.op = "PutFile";
  f.stall_call_at = 1;
  f.stall_ms = 1500;
  bucket_->SetFaults(f);
  ASSERT_TRUE(writer_->Close().ok());
  Status st = worker_.Flush(std::chrono::milliseconds(1));
  EXPECT_EQ(st.code(), Code::kIo);
  EXPECT_NE(st.message().find("did not finish"), std::string::npos) << st.ToString();
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    worker_.Interrupt();
  });
  st = worker_.Flush(std::chrono::minutes(1));
  interrupter.join();
  EXPECT_EQ(st.code(), Code::kEnd) << st.ToString();
  // Until Resume, a Flush returns at once (a recorder shutting down).
  EXPECT_EQ(worker_.Flush(std::chrono::minutes(1)).code(), Code::kEnd);
  worker_.Resume();
  // The stalled request failed; the pass after it uploads segment 4.
  st = worker_.Flush(std::chrono::minutes(1));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Marked(), 4u);
  worker_.Stop();
}

}  // namespace
}  // namespace vdb::remote
