// The ObjectStore semantics (as MemObjectStore keeps them, S3's) and its
// injected faults; UploadFile's resumable multipart driver.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "mem_fs.h"
#include "mem_object_store.h"

using namespace vdb;
using namespace vdb::remote;

namespace {

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    s[i] = char(x >> 24);
  }
  return s;
}

// A file in a MemFs holding `data`.
std::unique_ptr<File> MemFile(MemFs *fs, const std::string &path, const std::string &data) {
  fs->SetContents(path, data);
  auto f = fs->Open(path, OpenMode::kRead);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return std::move(f).value();
}

UploadOptions SmallParts() {
  UploadOptions o;
  o.multipart_threshold = kMinPartSize;
  o.part_size = kMinPartSize;
  return o;
}

}  // namespace

TEST(MemObjectStore, PutGetHeadDelete) {
  MemObjectStore s;
  auto put = s.Put("a/b", "hello", 5);
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->size, 5u);
  EXPECT_FALSE(put->etag.empty());
  auto h = s.Head("a/b");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size, 5u);
  EXPECT_EQ(h->etag, put->etag);
  EXPECT_EQ(*s.GetAll("a/b", 5), "hello");
  auto other = s.Put("a/b", "world", 5);
  EXPECT_NE(other->etag, put->etag);  // another content, another ETag
  EXPECT_TRUE(s.Delete("a/b").ok());
  EXPECT_EQ(s.Head("a/b").status().code(), Code::kNotFound);
  EXPECT_EQ(s.GetAll("a/b", 5).status().code(), Code::kNotFound);
  EXPECT_TRUE(s.Delete("a/b").ok());  // deleting what is not there: OK
}

TEST(MemObjectStore, PutIfAbsentWritesOnlyTheFirst) {
  MemObjectStore s("b");
  ASSERT_TRUE(s.PutIfAbsent("k", "first", 5).ok());
  auto second = s.PutIfAbsent("k", "second", 6);
  EXPECT_EQ(second.status().code(), Code::kExists);
  EXPECT_EQ(*s.GetAll("k", 100), "first");
}

TEST(MemObjectStore, BadKeysAreRefusedBeforeAnything) {
  MemObjectStore s;
  for (const char *k : {"", "/abs", "a//b", "a/./b", "a/../b", "..", "dir/", "tab\there"}) {
    auto put = s.Put(k, "x", 1);
    EXPECT_EQ(put.status().code(), Code::kInvalidArgument) << "key \"" << k << "\"";
  }
  EXPECT_EQ(s.Put(std::string(1025, 'k'), "x", 1).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(s.Put(std::string(1024, 'k'), "x", 1).ok());
  EXPECT_TRUE(s.Put("odd key+a=b&c~d,é (1).bin", "x", 1).ok());
  EXPECT_TRUE(s.Put("a/.hidden/..x", "x", 1).ok());  // dots inside a segment are fine
  EXPECT_EQ(s.calls("Put"), 3u);                     // refused keys never reached the store
}

TEST(MemObjectStore, ReadAtGivesExactBytesAndNeverMoreThanAsked) {
  MemObjectStore s;
  std::string data = Bytes(100000, 1);
  s.SetObject("obj", data);
  std::vector<char> buf(1000 + 8, 'G');
  auto n = s.ReadAt("obj", 5000, buf.data(), 1000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1000u);
  EXPECT_EQ(std::string(buf.data(), 1000), data.substr(5000, 1000));
  EXPECT_EQ(*s.ReadAt("obj", data.size() - 10, buf.data(), 1000), 10u);
  EXPECT_EQ(*s.ReadAt("obj", data.size(), buf.data(), 1000), 0u);
  EXPECT_EQ(*s.ReadAt("obj", data.size() + 1, buf.data(), 1000), 0u);
  for (size_t i = 1000; i < buf.size(); i++) EXPECT_EQ(buf[i], 'G');
  EXPECT_EQ(s.bytes_read(), 1010u);
  auto capped = s.GetAll("obj", data.size() - 1);
  EXPECT_EQ(capped.status().code(), Code::kCorrupt);
  EXPECT_EQ(s.ReadAt("none", 0, buf.data(), 10).status().code(), Code::kNotFound);
}

TEST(MemObjectStore, PutFileReadsTheFileRangeThroughFs) {
  MemFs fs;
  MemObjectStore s;
  std::string data = Bytes(50000, 2);
  auto f = MemFile(&fs, "/seg", data);
  auto put = s.PutFile("k", f.get(), 100, 40000);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(*s.Object("k"), data.substr(100, 40000));
  auto short_put = s.PutFile("k2", f.get(), 49000, 2000);
  EXPECT_EQ(short_put.status().code(), Code::kCorrupt);
  EXPECT_NE(short_put.status().message().find("/seg ends at 50000"), std::string::npos)
      << short_put.status().message();
  EXPECT_FALSE(s.Object("k2"));
}

TEST(MemObjectStore, ListPagesInKeyOrderWithPrefixDelimiterAndToken) {
  MemObjectStore s;
  std::vector<std::string> want;
  for (int i = 0; i < 23; i++) {
    std::string k = "p/cam1/" + std::to_string(1000 + i * 3);
    want.push_back(k);
    s.SetObject(k, k);
  }
  for (const char *k : {"p/cam2/1", "p/cam2/2", "p/top", "q/x", "p"}) s.SetObject(k, "x");
  std::vector<std::string> got;
  std::string token;
  int pages = 0;
  do {
    auto page = s.List("p/cam1/", token, 4);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->objects.size(), 4u);
    for (auto &o : page->objects) got.push_back(o.key);
    token = page->next_token;
    pages++;
  } while (!token.empty());
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 6);

  // Delimiter: prefixes and the loose keys, paged too.
  std::vector<std::string> items;
  token.clear();
  do {
    auto page = s.List("p/", token, 1, "/");
    ASSERT_TRUE(page.ok());
    for (auto &c : page->common_prefixes) items.push_back("dir " + c);
    for (auto &o : page->objects) items.push_back(o.key);
    token = page->next_token;
  } while (!token.empty());
  EXPECT_EQ(items, (std::vector<std::string>{"dir p/cam1/", "dir p/cam2/", "p/top"}));

  EXPECT_EQ(s.List("p/", "garbage").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.List("p/", "", 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.List("p/", "", 1001).status().code(), Code::kInvalidArgument);
  auto all = ListAll(&s, "p/", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 26u);
  EXPECT_EQ(ListAll(&s, "p/", 25).status().code(), Code::kCorrupt);
}

TEST(MemObjectStore, MultipartFollowsS3Rules) {
  MemFs fs;
  MemObjectStore s;
  std::string data = Bytes(12 << 20, 3);
  auto f = MemFile(&fs, "/big", data);
  auto id = s.CreateMultipartUpload("mp");
  ASSERT_TRUE(id.ok());
  auto e1 = s.UploadPart("mp", *id, 1, f.get(), 0, 1 << 20);  // too small for a non-last part
  auto e2 = s.UploadPart("mp", *id, 2, f.get(), 1 << 20, 11 << 20);
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_FALSE(s.Head("mp").ok());  // invisible until complete
  auto small = s.CompleteMultipartUpload("mp", *id, {{1, 1 << 20, *e1}, {2, 11 << 20, *e2}});
  EXPECT_EQ(small.status().code(), Code::kInvalidArgument);
  EXPECT_NE(small.status().message().find("EntityTooSmall"), std::string::npos);
  // Re-upload part 1 at full size; a stale ETag is refused; order is checked.
  auto e1b = s.UploadPart("mp", *id, 1, f.get(), 0, 5 << 20);
  auto e2b = s.UploadPart("mp", *id, 2, f.get(), 5 << 20, 7 << 20);
  ASSERT_TRUE(e1b.ok() && e2b.ok());
  auto parts = s.ListParts("mp", *id);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].size, 5u << 20);
  EXPECT_EQ(s.CompleteMultipartUpload("mp", *id, {{1, 0, *e1}, {2, 0, *e2b}}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(s.CompleteMultipartUpload("mp", *id, {{2, 0, *e2b}, {1, 0, *e1b}}).status().code(),
            Code::kInvalidArgument);
  auto done = s.CompleteMultipartUpload("mp", *id, *parts);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->size, data.size());
  EXPECT_EQ(done->etag.substr(done->etag.size() - 2), "-2");
  EXPECT_TRUE(*s.Object("mp") == data);
  EXPECT_EQ(s.ListParts("mp", *id).status().code(), Code::kNotFound);
  EXPECT_EQ(s.PendingUploads(), 0u);
  EXPECT_TRUE(s.AbortMultipartUpload("mp", *id).ok());  // gone already: OK
  EXPECT_EQ(s.UploadPart("mp", *id, 0, f.get(), 0, 1).status().code(), Code::kInvalidArgument);
}

TEST(MemObjectStore, UploadFileUsesOnePutForSmallFilesAndPartsForLarge) {
  MemFs fs;
  MemObjectStore s;
  std::string small = Bytes(1000, 4), big = Bytes(12 << 20, 5);
  auto fs_small = MemFile(&fs, "/small", small);
  auto fs_big = MemFile(&fs, "/big", big);
  auto a = UploadFile(&s, "s", fs_small.get(), 0, small.size(), SmallParts());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->upload_id.empty());
  EXPECT_EQ(s.calls("PutFile"), 1u);
  std::vector<std::string> ids;
  UploadOptions o = SmallParts();
  o.on_upload_created = [&](const std::string &id) {
    ids.push_back(id);
    return Status::Ok();
  };
  auto b = UploadFile(&s, "b", fs_big.get(), 0, big.size(), o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->parts_sent, 3);  // 5 + 5 + 2 MiB
  EXPECT_EQ(ids, std::vector<std::string>{b->upload_id});
  EXPECT_TRUE(*s.Object("b") == big);
  // A refusal to record the id stops the upload and aborts it.
  o.on_upload_created = [](const std::string &) { return Status(Code::kIo, "catalog full"); };
  auto c = UploadFile(&s, "c", fs_big.get(), 0, big.size(), o);
  EXPECT_EQ(c.status().message(), "catalog full");
  EXPECT_EQ(s.PendingUploads(), 0u);
  EXPECT_FALSE(s.Object("c"));
}

TEST(MemObjectStore, PartSizeGrowsToFitTenThousandParts) {
  UploadOptions o;
  o.part_size = 1;  // below S3's minimum: raised
  EXPECT_EQ(PlanPartSize(1 << 30, o), kMinPartSize);
  o.part_size = 8 << 20;
  uint64_t huge = 200ull << 30;  // 200 GiB at 8 MiB would be 25600 parts
  uint64_t part = PlanPartSize(huge, o);
  EXPECT_LE((huge + part - 1) / part, uint64_t(kMaxParts));
  EXPECT_GT(part, 8u << 20);
}

TEST(MemObjectStore, FailedPartThenResumeSendsOnlyTheMissingParts) {
  MemFs fs;
  MemObjectStore s;
  std::string data = Bytes(23 << 20, 6);  // parts 5,5,5,5,3
  auto f = MemFile(&fs, "/seg", data);
  std::string id;
  UploadOptions o = SmallParts();
  o.on_upload_created = [&](const std::string &u) {
    id = u;
    return Status::Ok();
  };
  ObjectFaults faults;
  faults.op = "UploadPart";
  faults.fail_call_at = 3;
  s.SetFaults(faults);
  auto first = UploadFile(&s, "seg", f.get(), 0, data.size(), o);
  ASSERT_EQ(first.status().code(), Code::kIo);
  EXPECT_NE(first.status().message().find("injected fault"), std::string::npos);
  EXPECT_EQ(s.PendingUploads(), 1u);  // left for a resume, not aborted
  EXPECT_FALSE(s.Object("seg"));
  s.SetFaults(ObjectFaults{});
  s.ResetCounters();
  auto second = UploadFile(&s, "seg", f.get(), 0, data.size(), o, id);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->parts_reused, 2);
  EXPECT_EQ(second->parts_sent, 3);
  EXPECT_EQ(s.calls("UploadPart"), 3u);
  EXPECT_EQ(s.bytes_written(), data.size() - (10u << 20));
  EXPECT_TRUE(*s.Object("seg") == data);
  EXPECT_EQ(s.PendingUploads(), 0u);
}

TEST(MemObjectStore, ResumeOfAGoneUploadStartsAgain) {
  MemFs fs;
  MemObjectStore s;
  std::string data = Bytes(11 << 20, 7);
  auto f = MemFile(&fs, "/seg", data);
  auto id = s.CreateMultipartUpload("seg");
  ASSERT_TRUE(s.AbortMultipartUpload("seg", *id).ok());
  auto up = UploadFile(&s, "seg", f.get(), 0, data.size(), SmallParts(), *id);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_NE(up->upload_id, *id);
  EXPECT_EQ(up->parts_sent, 3);
  // A part of the wrong size (another plan) is sent again, not reused.
  auto id2 = s.CreateMultipartUpload("seg2");
  ASSERT_TRUE(s.UploadPart("seg2", *id2, 1, f.get(), 0, 6 << 20).ok());
  auto up2 = UploadFile(&s, "seg2", f.get(), 0, data.size(), SmallParts(), *id2);
  ASSERT_TRUE(up2.ok());
  EXPECT_EQ(up2->parts_reused, 0);
  EXPECT_TRUE(*s.Object("seg2") == data);
  // An upload id of another key is not this key's upload.
  auto id3 = s.CreateMultipartUpload("other");
  EXPECT_EQ(s.ListParts("seg3", *id3).status().code(), Code::kNotFound);
}

TEST(MemObjectStore, ListMultipartUploadsFindsLostUploadIds) {
  MemObjectStore s;
  auto a = s.CreateMultipartUpload("cam1/0001.frames");
  auto b = s.CreateMultipartUpload("cam1/0002.frames");
  auto c = s.CreateMultipartUpload("cam2/0001.frames");
  auto l = s.ListMultipartUploads("cam1/");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].key, "cam1/0001.frames");
  EXPECT_EQ((*l)[0].upload_id, *a);
  EXPECT_EQ((*l)[1].upload_id, *b);
  EXPECT_EQ(s.ListMultipartUploads("cam1/", 1).status().code(), Code::kCorrupt);
  (void)c;
}

TEST(MemObjectStore, FailTheNthCallWithAChosenCode) {
  MemObjectStore s;
  ObjectFaults f;
  f.fail_call_at = 2;
  f.fail_count = 2;
  f.fail_code = Code::kInvalidArgument;  // as a 403
  s.SetFaults(f);
  EXPECT_TRUE(s.Put("a", "1", 1).ok());
  auto second = s.Put("b", "2", 1);
  EXPECT_EQ(second.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(second.status().err(), EACCES);
  EXPECT_EQ(s.Head("a").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(s.Head("a").ok());
  EXPECT_FALSE(s.Object("b"));  // a failed call changes nothing
  EXPECT_EQ(s.calls(), 4u);
}

TEST(MemObjectStore, ServerDownFailsEveryCallUntilBack) {
  MemObjectStore s;
  s.SetObject("a", "x");
  ObjectFaults f;
  f.down = true;
  s.SetFaults(f);
  auto h = s.Head("a");
  EXPECT_EQ(h.status().code(), Code::kIo);
  EXPECT_EQ(h.status().err(), ECONNREFUSED);
  EXPECT_EQ(s.List("", "").status().code(), Code::kIo);
  EXPECT_EQ(s.Delete("a").code(), Code::kIo);
  s.SetFaults(ObjectFaults{});
  EXPECT_TRUE(s.Head("a").ok());
}

TEST(MemObjectStore, StallWaitsThenTimesOutWithoutBlockingOtherCalls) {
  MemObjectStore s;
  s.SetObject("a", "x");
  ObjectFaults f;
  f.op = "ReadAt";
  f.stall_call_at = 1;
  f.stall_ms = 300;
  s.SetFaults(f);
  std::atomic<bool> done{false};
  Status stalled;
  auto t0 = std::chrono::steady_clock::now();
  std::thread t([&] {
    char c;
    stalled = s.ReadAt("a", 0, &c, 1).status();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(s.Head("a").ok());  // other calls go on meanwhile
  EXPECT_FALSE(done.load());
  t.join();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(stalled.code(), Code::kIo);
  EXPECT_EQ(stalled.err(), ETIMEDOUT);
  EXPECT_GE(took, 0.3);
  char c;
  EXPECT_TRUE(s.ReadAt("a", 0, &c, 1).ok());  // only the Nth call stalls
}

TEST(MemObjectStore, DamageBehindTheClientsBack) {
  MemObjectStore s;
  std::string data = Bytes(1000, 8);
  auto put = s.Put("seg", data.data(), data.size());
  ASSERT_TRUE(s.TruncateObject("seg", 600));
  auto h = s.Head("seg");
  EXPECT_EQ(h->size, 600u);
  EXPECT_EQ(h->etag, put->etag);  // silent damage: the ETag does not tell
  ASSERT_TRUE(s.AlterObject("seg", 10, 0x01));
  std::string got = *s.GetAll("seg", 1000);
  EXPECT_EQ(got[10], char(data[10] ^ 0x01));
  EXPECT_EQ(got.substr(11), data.substr(11, 589));
  EXPECT_FALSE(s.AlterObject("seg", 600));
  EXPECT_FALSE(s.TruncateObject("none", 0));
  s.SetObject("cam1/foreign.bin", "not ours");  // a foreign object under the prefix
  EXPECT_EQ(s.Keys(), (std::vector<std::string>{"cam1/foreign.bin", "seg"}));
}

TEST(MemObjectStore, ConcurrentCallsAreSafe) {
  MemObjectStore s;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&s, t] {
      for (int i = 0; i < 200; i++) {
        std::string k = "t" + std::to_string(t) + "/" + std::to_string(i);
        ASSERT_TRUE(s.Put(k, k.data(), k.size()).ok());
        ASSERT_EQ(*s.GetAll(k, 100), k);
        ASSERT_TRUE(s.List("t", "", 10).ok());
      }
    });
  }
  for (auto &t : ts) t.join();
  EXPECT_EQ(ListAll(&s, "", 10000)->size(), 800u);
}
