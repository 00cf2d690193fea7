// A store in a bucket: what `vdb upload` puts there (uploader.h) and what the
// engine reads from it through RemoteFs (remote_fs.h), on a MemObjectStore
// with injected faults. The same against a real Ceph RGW, through vdbsrc,
// playbin and `vdb export`: tests/gst/bucket_play_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "../engine/test_util.h"
#include "catalog.h"
#include "mem_fs.h"
#include "mem_object_store.h"
#include "play_cursor.h"
#include "remote_fs.h"
#include "retention.h"
#include "store.h"
#include "store_location.h"
#include "tiered_fs.h"
#include "uploader.h"
#include "verify.h"

namespace vdb::remote {
namespace {

using test::kSecond;
using test::TestFrame;

const char kStore[] = "/local";
const char kPrefix[] = "site1";

class BucketStoreTest : public ::testing::Test {
 protected:
  // `seconds` of 30 fps video (keyframe every second) in 1 s segments; the
  // last segment stays open unless `close`.
  std::vector<TestFrame> Record(int seconds, bool close = true, size_t frame_size = 1000,
                                uint64_t start = 0) {
    if (!writer_) {
      WriterOptions o;
      o.max_segment_duration = kSecond;
      writer_ = test::OpenWriter(&fs_, kStore, o);
    }
    auto frames = test::MakeFrames(size_t(seconds) * 30, frame_size, 30, 30, start);
    test::AppendAll(writer_.get(), frames);
    if (close) {
      EXPECT_TRUE(writer_->Close().ok());
      writer_.reset();
    }
    return frames;
  }
  Result<StreamUploadReport> Upload(StreamUploadOptions o = {}) {
    Status st = EnsureRemoteStore(&bucket_, kPrefix);
    if (!st.ok()) return st;
    return UploadStream(&bucket_, kPrefix, &fs_, kStore, "cam", o);
  }
  // The stream as a machine without the local store reads it.
  std::unique_ptr<Reader> OpenFromBucket() {
    auto r = Reader::Open(&rfs_, kPrefix, "cam");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  MemFs fs_;
  MemObjectStore bucket_{"footage"};
  RemoteFs rfs_{&bucket_};
  std::unique_ptr<Writer> writer_;
};

TEST_F(BucketStoreTest, AStoreUploadedIsReadFromTheBucketAloneFrameForFrame) {
  auto frames = Record(10);
  auto report = Upload();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->segments_sent, 10);
  EXPECT_EQ(report->remote_segments, 10u);
  EXPECT_TRUE(bucket_.Object("site1/vdb-store.json").has_value());
  EXPECT_TRUE(bucket_.Object("site1/cam/catalog.vdbc").has_value());

  ASSERT_TRUE(PrepareStore(&rfs_, kPrefix, false).ok());
  auto streams = ListStreams(&rfs_, kPrefix);
  ASSERT_TRUE(streams.ok()) << streams.status().ToString();
  EXPECT_EQ(streams.value(), std::vector<std::string>{"cam"});
  auto r = OpenFromBucket();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->problem().empty()) << r->problem();
  EXPECT_EQ(r->segments().size(), 10u);
  EXPECT_TRUE(test::SameFrames(test::ReadAll(r.get()), frames));
  auto check = VerifyStream(&rfs_, kPrefix, "cam");
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->problems.empty());
  EXPECT_EQ(check->records, frames.size() + 10);  // + a caps record per segment
}

TEST_F(BucketStoreTest, TheSegmentBeingWrittenStaysLocal) {
  auto frames = Record(5, /*close=*/false);
  auto report = Upload();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->remote_segments, 4u);  // the fifth is open
  for (const std::string &k : bucket_.Keys())
    EXPECT_EQ(k.find("000000000005"), std::string::npos) << k;
  auto r = OpenFromBucket();
  ASSERT_TRUE(r);
  frames.resize(4 * 30);
  EXPECT_TRUE(test::SameFrames(test::ReadAll(r.get()), frames));
  writer_.reset();
}

TEST_F(BucketStoreTest, ASecondPassSendsNothingAndALaterOneOnlyWhatIsNew) {
  Record(4, /*close=*/false);
  ASSERT_TRUE(Upload().ok());
  bucket_.ResetCounters();
  auto again = Upload();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->segments_sent, 0);
  EXPECT_EQ(again->segments_present, 3);
  EXPECT_EQ(again->bytes_sent, 0u);
  EXPECT_EQ(bucket_.calls("Put") + bucket_.calls("PutFile") + bucket_.calls("UploadPart"), 0u);

  Record(3, true, 1000, 4 * kSecond);  // the open segment is sealed, three more
  auto later = Upload();
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->segments_sent, 4);
  EXPECT_EQ(later->remote_segments, 7u);
  EXPECT_EQ(test::ReadAll(OpenFromBucket().get()).size(), 7u * 30);
}

TEST_F(BucketStoreTest, SegmentsDeletedLocallyStayInTheBucketsCatalog) {
  auto frames = Record(6);
  ASSERT_TRUE(Upload().ok());
  {
    auto w = Writer::Open(&fs_, kStore, "cam", {}, nullptr);
    ASSERT_TRUE(w.ok());
    for (uint64_t id : {1, 2, 3}) ASSERT_TRUE((*w)->DeleteSegment(id).ok());
  }
  auto report = Upload();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->remote_segments, 6u);
  EXPECT_TRUE(test::SameFrames(test::ReadAll(OpenFromBucket().get()), frames));
}

TEST_F(BucketStoreTest, AnUploadCutByAnOutageResumesAndTheBucketNeverShowsHalfASegment) {
  auto frames = Record(6);
  ObjectFaults f;
  f.op = "PutFile";
  f.fail_call_at = 8;  // the frames of segment 3 (three files a segment)
  f.fail_count = 1000;
  bucket_.SetFaults(f);
  auto cut = Upload();
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), Code::kIo);
  // No catalog yet: a reader finds the segments from the objects there,
  // each whole.
  auto partial = OpenFromBucket();
  ASSERT_TRUE(partial);
  auto got = test::ReadAll(partial.get());
  EXPECT_LT(got.size(), frames.size());
  std::vector<TestFrame> prefix(frames.begin(), frames.begin() + long(got.size()));
  EXPECT_TRUE(test::SameFrames(got, prefix));

  bucket_.SetFaults({});
  auto resumed = Upload();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->segments_present + resumed->segments_sent, 6);
  EXPECT_GT(resumed->segments_present, 0);
  EXPECT_TRUE(test::SameFrames(test::ReadAll(OpenFromBucket().get()), frames));
}

TEST_F(BucketStoreTest, AKilledMultipartUploadResumesKeepingItsParts) {
  Record(2, true, 400000);  // ~12 MB segments: three 5 MiB parts each
  ObjectFaults f;
  f.op = "UploadPart";
  f.fail_call_at = 3;  // the third part of the first segment: as a kill would stop it
  f.fail_count = 1000;
  bucket_.SetFaults(f);
  StreamUploadOptions o;
  o.parts.multipart_threshold = kMinPartSize;
  o.parts.part_size = kMinPartSize;
  ASSERT_FALSE(Upload(o).ok());
  EXPECT_EQ(bucket_.PendingUploads(), 1u);

  f.fail_call_at = 0;
  bucket_.SetFaults(f);
  auto resumed = Upload(o);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->parts_reused, 2);
  EXPECT_EQ(bucket_.PendingUploads(), 0u);
  EXPECT_EQ(test::ReadAll(OpenFromBucket().get()).size(), 2u * 30);
}

TEST_F(BucketStoreTest, ASeekFetchesTheIndexAndAboutOneGopNotTheSegment) {
  WriterOptions o;
  o.max_segment_duration = 60 * kSecond;
  writer_ = test::OpenWriter(&fs_, kStore, o);
  auto frames = test::MakeFrames(60 * 30, 8000, 30);  // one 60 s segment, ~15 MB
  test::AppendAll(writer_.get(), frames);
  ASSERT_TRUE(writer_->Close().ok());
  writer_.reset();
  ASSERT_TRUE(Upload().ok());
  uint64_t segment_bytes = bucket_.Object("site1/cam/000000000001.vdbf")->size();

  auto r = OpenFromBucket();
  ASSERT_TRUE(r);
  bucket_.ResetCounters();
  PlayCursor cursor(r.get());
  PlayOptions po;
  po.batch_frames = 30;  // one GOP
  ASSERT_TRUE(cursor.Seek(37 * kSecond + kSecond / 2, Snap::kBefore, po).ok());
  EXPECT_EQ(cursor.seek_key_pts(), 37 * kSecond);
  test::Played played;
  ASSERT_TRUE(test::Drain(&cursor, &played, 1).ok());
  ASSERT_FALSE(played.frames.empty());
  EXPECT_EQ(played.frames[0].pts, 37 * kSecond);
  uint64_t index_bytes = bucket_.Object("site1/cam/000000000001.vdbi")->size();
  uint64_t gop_bytes = 0;
  for (size_t i = 37 * 30; i < 38 * 30; i++) gop_bytes += frames[i].data.size() + 64;
  // The index, the GOP, and a read window at the file's start (its header).
  EXPECT_LE(bucket_.bytes_read(), index_bytes + gop_bytes + RemoteFsOptions().min_window + 4096)
      << "segment " << segment_bytes;
  EXPECT_LT(bucket_.bytes_read(), segment_bytes / 10);
}

TEST_F(BucketStoreTest, AlteredOrTruncatedObjectsAreDamageTheChecksumsFind) {
  auto frames = Record(6);
  ASSERT_TRUE(Upload().ok());
  ASSERT_TRUE(bucket_.AlterObject("site1/cam/000000000002.vdbf", 2000));
  uint64_t size4 = bucket_.Object("site1/cam/000000000004.vdbf")->size();
  ASSERT_TRUE(bucket_.TruncateObject("site1/cam/000000000004.vdbf", size4 / 2));
  auto check = VerifyStream(&rfs_, kPrefix, "cam");
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  std::set<uint64_t> damaged;
  for (const auto &p : check->problems) damaged.insert(p.segment);
  EXPECT_EQ(damaged, (std::set<uint64_t>{2, 4}));
  // Playback goes on past both, never handing out a damaged byte.
  auto r = OpenFromBucket();
  PlayCursor cursor(r.get());
  PlayOptions po;
  po.skip_corrupt = true;
  ASSERT_TRUE(cursor.Seek(0, Snap::kBefore, po).ok());
  test::Played played;
  Status st = test::Drain(&cursor, &played);
  EXPECT_EQ(st.code(), Code::kEnd) << st.ToString();
  EXPECT_FALSE(played.warnings.empty());
  EXPECT_LT(played.frames.size(), frames.size());
  EXPECT_GE(played.frames.size(), 4u * 30);
  for (const TestFrame &f : played.frames) {
    size_t i = size_t((f.pts * 30 + kSecond / 2) / kSecond);
    ASSERT_LT(i, frames.size());
    EXPECT_TRUE(f.data == frames[i].data) << "frame " << i << " differs";
  }
}

TEST_F(BucketStoreTest, ForeignObjectsUnderThePrefixAreIgnored) {
  auto frames = Record(3);
  ASSERT_TRUE(Upload().ok());
  bucket_.SetObject("site1/cam/notes.txt", "not a segment");
  bucket_.SetObject("site1/backup/holiday.jpg", "jpeg");
  bucket_.SetObject("site1/README", "hello");
  auto streams = ListStreams(&rfs_, kPrefix);
  ASSERT_TRUE(streams.ok());
  EXPECT_EQ(streams.value(), std::vector<std::string>{"cam"});
  EXPECT_TRUE(test::SameFrames(test::ReadAll(OpenFromBucket().get()), frames));
  auto again = Upload();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->segments_sent, 0);
}

TEST_F(BucketStoreTest, TheBucketIsReadOnlyThroughRemoteFs) {
  Record(2);
  ASSERT_TRUE(Upload().ok());
  EXPECT_EQ(rfs_.Open("site1/cam/new", OpenMode::kCreateExcl).status().code(), Code::kUnsupported);
  EXPECT_EQ(rfs_.Remove("site1/cam/000000000001.vdbf").code(), Code::kUnsupported);
  EXPECT_EQ(rfs_.TryLock("site1/cam/LOCK", LockMode::kExclusive).status().code(),
            Code::kUnsupported);
  EXPECT_EQ(Writer::Open(&rfs_, kPrefix, "cam", {}, nullptr).status().code(), Code::kUnsupported);
  EXPECT_EQ(rfs_.Open("site1/../etc/passwd", OpenMode::kRead).status().code(),
            Code::kInvalidArgument);
}

TEST_F(BucketStoreTest, ARecorderMarksWhatTheBucketHoldsEvictsItAndStillPlaysItAll) {
  auto frames = Record(8, /*close=*/false);  // recording goes on: segment 8 is open
  StreamUploader uploader(&bucket_, kPrefix, &fs_, kStore, "cam");
  ASSERT_TRUE(EnsureRemoteStore(&bucket_, kPrefix).ok());
  StreamUploadOptions o;
  o.on_confirmed = [&](uint64_t id) { return writer_->MarkInBucket(id); };
  auto pass = uploader.Pass(o);
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->confirmed_ids.size(), 7u);
  for (const SegmentInfo &s : writer_->segments()) EXPECT_EQ(s.in_bucket(), s.sealed()) << s.id;
  bucket_.ResetCounters();
  auto idle = uploader.Pass(o);  // nothing new: not a single request
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(bucket_.calls(), 0u);

  RetentionPolicy p;
  p.max_total_bytes = 1;  // as little local footage as possible
  p.bucket_first = true;
  auto evicted = writer_->ApplyRetention(p, 0);
  ASSERT_TRUE(evicted.ok()) << evicted.status().ToString();
  EXPECT_EQ(evicted.value(), 7u);
  EXPECT_FALSE(fs_.Exists("/local/cam/000000000001.vdbf"));

  ASSERT_TRUE(writer_->Flush().ok());  // the open segment's frames, to the file
  // The recorder's store, read locally where it can and from the bucket
  // where only the bucket has it: every frame, in order.
  TieredFs tiered(&fs_, &rfs_, kStore, kPrefix);
  auto r = Reader::Open(&tiered, kStore, "cam");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->segments().size(), 8u);
  EXPECT_TRUE(test::SameFrames(test::ReadAll(r->get()), frames));
  // Without the bucket, the evicted segments cannot be read: never silently.
  auto local_only = Reader::Open(&fs_, kStore, "cam");
  ASSERT_TRUE(local_only.ok());
  EXPECT_FALSE((*local_only)->Segment(0).ok());
  writer_.reset();
}

TEST_F(BucketStoreTest, BucketRetentionTakesTheOldestFirstAndNeverWhatIsStillOnLocalDisk) {
  Record(8, /*close=*/false);
  StreamUploader uploader(&bucket_, kPrefix, &fs_, kStore, "cam");
  ASSERT_TRUE(EnsureRemoteStore(&bucket_, kPrefix).ok());
  StreamUploadOptions o;
  o.on_confirmed = [&](uint64_t id) { return writer_->MarkInBucket(id); };
  ASSERT_TRUE(uploader.Pass(o).ok());
  for (uint64_t id : {1, 2, 3}) ASSERT_TRUE(writer_->EvictLocal(id).ok());

  auto still_local = [&](uint64_t id) {
    for (const SegmentInfo &s : writer_->segments())
      if (s.id == id) return s.local();
    return false;
  };
  std::vector<uint64_t> removed;
  RetentionPolicy p;
  p.max_total_bytes = 1;  // the bucket would keep nothing
  auto gone = uploader.ApplyRetention(p, 0, still_local, [&](uint64_t id) {
    removed.push_back(id);
    EXPECT_TRUE(writer_->DeleteSegment(id).ok());
  });
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone.value(), (std::vector<uint64_t>{1, 2, 3}));  // 4 is still on disk: it stops
  EXPECT_EQ(removed, gone.value());
  for (const std::string &k : bucket_.Keys())
    for (const char *id : {"000000000001", "000000000002", "000000000003"})
      EXPECT_EQ(k.find(id), std::string::npos) << k;
  auto r = OpenFromBucket();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->segments().size(), 4u);
  EXPECT_EQ(r->segments().front().id, 4u);
  EXPECT_EQ(test::ReadAll(r.get()).size(), 4u * 30);
  EXPECT_EQ(writer_->segments().front().id, 4u);  // the recorder forgot them too

  // A later pass lists what remains and what is new, never the removed.
  ASSERT_TRUE(writer_->Close().ok());
  auto pass = uploader.Pass(o);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->remote_segments, 5u);
  EXPECT_EQ(OpenFromBucket()->segments().front().id, 4u);

  // By age: everything ended long ago, but what is still local stays.
  p = RetentionPolicy();
  p.max_age_ns = kSecond;
  gone = uploader.ApplyRetention(p, UINT64_MAX / 2, still_local, {});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  writer_.reset();
}

TEST_F(BucketStoreTest, RecordersOnSeveralMachinesShareABucketAndAnyMachinePlaysEveryStream) {
  // Two recorders (their own disks), one prefix, a stream each.
  MemFs disk_a, disk_b;
  std::vector<std::vector<test::TestFrame>> recorded;
  for (auto [fs, stream] : {std::pair<MemFs *, const char *>{&disk_a, "gate"}, {&disk_b, "yard"}}) {
    WriterOptions o;
    o.max_segment_duration = kSecond;
    auto w = Writer::Open(fs, "/rec", stream, o, nullptr);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->SetCaps("h264", "video/x-h264, stream-format=byte-stream").ok());
    recorded.push_back(test::MakeFrames(90, 1000, 30, 30, 0, stream[0]));
    test::AppendAll(w->get(), recorded.back());
    ASSERT_TRUE((*w)->Close().ok());
    ASSERT_TRUE(EnsureRemoteStore(&bucket_, kPrefix).ok());
    auto up = UploadStream(&bucket_, kPrefix, fs, "/rec", stream);
    ASSERT_TRUE(up.ok()) << up.status().ToString();
  }
  // A third machine: the bucket alone.
  auto streams = ListStreams(&rfs_, kPrefix);
  ASSERT_TRUE(streams.ok());
  std::vector<std::string> names = streams.value();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"gate", "yard"}));
  for (size_t i = 0; i < 2; i++) {
    auto r = Reader::Open(&rfs_, kPrefix, names[i]);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(test::SameFrames(test::ReadAll(r->get()), recorded[i])) << names[i];
  }
}

// Two recorders uploading a stream of the same name to one prefix would
// overwrite each other's segments: the second store is refused, naming the
// first, and the bucket keeps the first one's footage.
TEST_F(BucketStoreTest, ASecondStoreUploadingTheSameStreamIsRefusedAndChangesNothing) {
  const std::string where = std::string("s3://footage/") + kPrefix;
  auto frames = Record(3);
  ASSERT_TRUE(BindRemoteConfig(&fs_, kStore, {where, "", "", ""}).ok());
  ASSERT_TRUE(Upload().ok());
  MemFs other;
  auto w = test::OpenWriter(&other, "/elsewhere");
  test::AppendAll(w.get(), test::MakeFrames(60, 900, 30, 30, 0, 'x'));
  ASSERT_TRUE(w->Close().ok());
  ASSERT_TRUE(BindRemoteConfig(&other, "/elsewhere", {where, "", "", ""}).ok());
  auto up = UploadStream(&bucket_, kPrefix, &other, "/elsewhere", "cam");
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().code(), Code::kInvalidArgument);
  EXPECT_NE(up.status().message().find("uploaded by another store (/local on "), std::string::npos)
      << up.status().ToString();
  EXPECT_TRUE(test::SameFrames(test::ReadAll(OpenFromBucket().get()), frames));
  // The store that has the stream goes on uploading it.
  Record(2, true, 1000, 3 * kSecond);
  auto again = Upload();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GE(again->segments_sent, 2);
}

// Two stores making their first upload of one stream at the same moment:
// the claim is a conditional write, so exactly one gets the stream.
TEST_F(BucketStoreTest, TwoStoresClaimingAStreamAtOnceGetItOnce) {
  const std::string where = std::string("s3://footage/") + kPrefix;
  for (int round = 0; round < 10; round++) {
    MemObjectStore bucket("footage");
    ASSERT_TRUE(EnsureRemoteStore(&bucket, kPrefix).ok());
    MemFs disks[2];
    for (auto &disk : disks) {
      auto w = test::OpenWriter(&disk, "/rec");
      test::AppendAll(w.get(), test::MakeFrames(30));
      ASSERT_TRUE(w->Close().ok());
      ASSERT_TRUE(BindRemoteConfig(&disk, "/rec", {where, "", "", ""}).ok());
    }
    Status got[2];
    std::thread a(
        [&] { got[0] = UploadStream(&bucket, kPrefix, &disks[0], "/rec", "cam").status(); });
    std::thread b(
        [&] { got[1] = UploadStream(&bucket, kPrefix, &disks[1], "/rec", "cam").status(); });
    a.join();
    b.join();
    EXPECT_NE(got[0].ok(), got[1].ok()) << got[0].ToString() << " / " << got[1].ToString();
    for (const Status &st : got) {
      if (!st.ok()) {
        EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
      }
    }
  }
}

// A remote.json written before stores had an id gets one when the store is
// bound again, and keeps it.
TEST_F(BucketStoreTest, AStoreGetsItsIdWhenBoundAndKeepsIt) {
  Record(1);
  ASSERT_TRUE(WriteRemoteConfig(&fs_, kStore, {"s3://footage/site1", "", "", ""}).ok());
  ASSERT_TRUE(BindRemoteConfig(&fs_, kStore, {"s3://footage/site1", "", "", ""}).ok());
  auto first = ReadRemoteConfig(&fs_, kStore);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->store_id.size(), 32u);
  ASSERT_TRUE(BindRemoteConfig(&fs_, kStore, {"s3://footage/site1", "", "", ""}).ok());
  EXPECT_EQ(ReadRemoteConfig(&fs_, kStore)->store_id, first->store_id);
}

// Recorders of one store starting together (one per stream, at boot) bind
// it at once: they agree on one store_id.
TEST_F(BucketStoreTest, RecordersBindingAStoreTogetherAgreeOnItsId) {
  Record(1);
  for (int round = 0; round < 20; round++) {
    ASSERT_TRUE(fs_.Remove(std::string(kStore) + "/remote.json").ok() || round == 0);
    std::vector<std::thread> recorders;
    std::string seen[4];  // the id each recorder uploads with, read after its bind
    for (int i = 0; i < 4; i++)
      recorders.emplace_back([this, &seen, i] {
        EXPECT_TRUE(BindRemoteConfig(&fs_, kStore, {"s3://footage/site1", "", "", ""}).ok());
        auto c = ReadRemoteConfig(&fs_, kStore);
        if (c.ok()) seen[i] = c->store_id;
      });
    for (auto &t : recorders) t.join();
    EXPECT_EQ(seen[0].size(), 32u);
    for (int i = 1; i < 4; i++) EXPECT_EQ(seen[i], seen[0]) << "round " << round;
  }
}

// A store numbering its segments from 1 again (its catalog lost) meets the
// bucket's segments of the same ids: another recording is never taken as
// already uploaded; the pass stops and nothing is marked.
TEST_F(BucketStoreTest, ABucketSegmentOfTheSameIdFromAnotherRecordingIsNeverTakenAsOurs) {
  auto frames = Record(3);
  ASSERT_TRUE(Upload().ok());
  MemFs other;
  auto w = test::OpenWriter(&other, kStore, [] {
    WriterOptions o;
    o.max_segment_duration = kSecond;
    return o;
  }());
  test::AppendAll(w.get(), test::MakeFrames(60, 900, 30, 30, 0, 'x'));
  ASSERT_TRUE(w->Close().ok());
  StreamUploadOptions o;
  o.on_confirmed = [](uint64_t id) -> Status {
    ADD_FAILURE() << "segment " << id << " marked as uploaded";
    return Status::Ok();
  };
  auto up = UploadStream(&bucket_, kPrefix, &other, kStore, "cam", o);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().code(), Code::kCorrupt);
  EXPECT_NE(up.status().message().find("is another recording"), std::string::npos)
      << up.status().ToString();
  EXPECT_TRUE(test::SameFrames(test::ReadAll(OpenFromBucket().get()), frames));
}

}  // namespace
}  // namespace vdb::remote
