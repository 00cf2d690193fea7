// S3Store against a real S3 server: a single-node Ceph RGW that this test
// starts on free ports (tests/s3/ceph-s3-start.sh) and stops at the end.
// Without radosgw installed the test is skipped (exit 77) with the reason
// printed and appended to $VDB_SKIP_LOG.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "../engine/test_util.h"
#include "file.h"
#include "remote_fs.h"
#include "rgw_server.h"
#include "s3_store.h"
#include "uploader.h"

using namespace vdb;
using namespace vdb::remote;
using Clock = std::chrono::steady_clock;

namespace {

test::RgwServer *g_rgw = nullptr;
const char kBucket[] = "vdbtest";

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(4, n - i));
  }
  return s;
}

Credentials TestCredentials() {
  return Credentials{g_rgw->access_key(), g_rgw->secret_key(), "us-east-1",
                     "the test's credentials"};
}

S3Options Options(const std::string &bucket = kBucket) {
  S3Options o;
  o.endpoint = g_rgw->endpoint();
  o.bucket = bucket;
  o.stall_timeout_s = 10;
  return o;
}

std::unique_ptr<S3Store> OpenStore(const S3Options &o, Credentials c) {
  auto s = S3Store::Open(o, std::move(c));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::unique_ptr<S3Store> OpenStore(const S3Options &o = Options()) {
  return OpenStore(o, TestCredentials());
}

// A temporary directory with one file holding `data`, written through the
// engine's Fs.
class DataFile {
 public:
  explicit DataFile(const std::string &data) {
    char tmpl[] = "/tmp/vdb-s3-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/data";
    auto f = DefaultFs()->Open(path_, OpenMode::kCreateExcl);
    EXPECT_TRUE(f.ok());
    EXPECT_TRUE((*f)->Append(data.data(), data.size()).ok());
    EXPECT_TRUE((*f)->Sync().ok());
  }
  ~DataFile() {
    (void)DefaultFs()->Remove(path_);
    rmdir(dir_.c_str());
  }
  std::unique_ptr<File> Open() {
    auto f = DefaultFs()->Open(path_, OpenMode::kRead);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return std::move(f).value();
  }
  const std::string &dir() const { return dir_; }

 private:
  std::string dir_, path_;
};

// A port nothing listens on (bound, then closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A listening socket that never accepts: the kernel completes the TCP
// handshake (the backlog), the request is sent, no answer ever comes.
class StalledServer {
 public:
  StalledServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~StalledServer() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1, port_ = 0;
};

// A minimal scripted HTTP responder for the retry tests: answers the Nth
// connection with answers[N] (the last one repeats), one request per
// connection, then closes it.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void Run() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      int n = connections_++;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t got = recv(c, buf, sizeof buf, 0);
        if (got <= 0) break;
        req.append(buf, size_t(got));
      }
      const std::string &a = answers_[std::min<size_t>(size_t(n), answers_.size() - 1)];
      (void)send(c, a.data(), a.size(), MSG_NOSIGNAL);
      close(c);
    }
  }
  std::vector<std::string> answers_;
  int fd_ = -1, port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string Answer503() {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
      "<Message>Please reduce your request rate.</Message></Error>";
  return "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

TEST(S3Store, PutThenGetIsByteExact) {
  auto s = OpenStore();
  std::string data = RandomBytes(1 << 20, 1);
  auto put = s->Put("put/one.bin", data.data(), data.size());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, data.size());
  EXPECT_EQ(put->etag.size(), 32u) << put->etag;  // RGW: the MD5
  auto got = s->GetAll("put/one.bin", 2 << 20);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);

  // Empty objects, and keys that need percent-encoding (signed as sent).
  ASSERT_TRUE(s->Put("put/empty", "", 0).ok());
  auto empty = s->GetAll("put/empty", 10);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, "");
  const std::string odd = "put/odd key+a=b&c~d,é (1).bin";
  auto put_odd = s->Put(odd, "odd", 3);
  ASSERT_TRUE(put_odd.ok()) << put_odd.status().ToString();
  auto got_odd = s->GetAll(odd, 10);
  ASSERT_TRUE(got_odd.ok()) << got_odd.status().ToString();
  EXPECT_EQ(*got_odd, "odd");
  auto list = ListAll(s.get(), "put/", 100);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> keys;
  for (auto &e : *list) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"put/empty", odd, "put/one.bin"}));

  // A second Put replaces the object.
  ASSERT_TRUE(s->Put("put/one.bin", "short", 5).ok());
  EXPECT_EQ(*s->GetAll("put/one.bin", 100), "short");
}

// A conditional write (If-None-Match: *): the first writes, the second is
// kExists and changes nothing. What a stream's claim (recorder.json) rests on.
TEST(S3Store, PutIfAbsentWritesOnlyTheFirst) {
  auto s = OpenStore();
  auto first = s->PutIfAbsent("cond/claim.json", "first", 5);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = s->PutIfAbsent("cond/claim.json", "second", 6);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kExists) << second.status().ToString();
  auto got = s->GetAll("cond/claim.json", 100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "first");
}

TEST(S3Store, PutFileSendsTheEngineFileRange) {
  auto s = OpenStore();
  std::string data = RandomBytes(3 << 20, 2);
  DataFile tf(data);
  auto f = tf.Open();
  auto put = s->PutFile("putfile/range", f.get(), 1000, 2000000);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto got = s->GetAll("putfile/range", 4 << 20);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data.substr(1000, 2000000));

  // A file shorter than the range: an error, and no object.
  auto short_put = s->PutFile("putfile/short", f.get(), data.size() - 10, 100);
  EXPECT_EQ(short_put.status().code(), Code::kCorrupt) << short_put.status().ToString();
  EXPECT_NE(short_put.status().message().find("ends at"), std::string::npos)
      << short_put.status().message();
  EXPECT_EQ(s->Head("putfile/short").status().code(), Code::kNotFound);
}

TEST(S3Store, RangedReadsGiveExactBytesAndNeverMoreThanAsked) {
  auto s = OpenStore();
  std::string data = RandomBytes(3000000, 3);
  ASSERT_TRUE(s->Put("range/obj", data.data(), data.size()).ok());
  std::vector<char> buf(70000 + 16, '\x5a');  // 16 guard bytes after the 70000 asked
  for (uint64_t off : {0ull, 1ull, 1234567ull, 2999999ull - 69999ull}) {
    auto n = s->ReadAt("range/obj", off, buf.data(), 70000);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, 70000u);
    EXPECT_EQ(std::string(buf.data(), 70000), data.substr(size_t(off), 70000)) << off;
  }
  // Across the end: the bytes there are; at or past it: none.
  auto tail = s->ReadAt("range/obj", data.size() - 100, buf.data(), 70000);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(*tail, 100u);
  EXPECT_EQ(std::string(buf.data(), 100), data.substr(data.size() - 100));
  EXPECT_EQ(*s->ReadAt("range/obj", data.size(), buf.data(), 100), 0u);
  EXPECT_EQ(*s->ReadAt("range/obj", data.size() + 5000, buf.data(), 100), 0u);
  for (size_t i = 70000; i < buf.size(); i++) ASSERT_EQ(buf[i], '\x5a') << "guard byte " << i;

  // GetAll's cap: a larger object is refused, the allocation never made.
  auto capped = s->GetAll("range/obj", 1000000);
  EXPECT_EQ(capped.status().code(), Code::kCorrupt) << capped.status().ToString();
  EXPECT_NE(capped.status().message().find("more than the 1000000"), std::string::npos)
      << capped.status().message();
  auto missing = s->ReadAt("range/none", 0, buf.data(), 10);
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().ToString();
}

TEST(S3Store, HeadGivesSizeAndETag) {
  auto s = OpenStore();
  std::string data = RandomBytes(123457, 4);
  auto put = s->Put("head/obj", data.data(), data.size());
  ASSERT_TRUE(put.ok());
  auto h = s->Head("head/obj");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->size, 123457u);
  EXPECT_EQ(h->etag, put->etag);
  auto missing = s->Head("head/none");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().err(), ENOENT);
  EXPECT_NE(missing.status().message().find("no such object"), std::string::npos)
      << missing.status().message();
}

TEST(S3Store, ListPagesWithPrefixAndContinuation) {
  auto s = OpenStore();
  std::vector<std::string> want;
  for (int i = 0; i < 23; i++) {
    char key[64];
    std::snprintf(key, sizeof key, "list/cam1/%04d.frames", i * 7);
    want.push_back(key);
    ASSERT_TRUE(s->Put(key, key, std::strlen(key)).ok());
  }
  for (const char *k : {"list/cam2/0000.frames", "list/cam2/0001.frames", "listing-other", "lis"})
    ASSERT_TRUE(s->Put(k, "x", 1).ok());

  std::vector<std::string> got;
  std::string token;
  int pages = 0;
  do {
    auto page = s->List("list/cam1/", token, 5);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->objects.size(), 5u);
    for (auto &o : page->objects) {
      got.push_back(o.key);
      EXPECT_EQ(o.size, o.key.size());
      EXPECT_FALSE(o.etag.empty());
    }
    token = page->next_token;
    pages++;
  } while (!token.empty() && pages < 100);
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 5);

  auto all = ListAll(s.get(), "list/", 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 25u);
  auto bounded = ListAll(s.get(), "list/", 10);
  EXPECT_EQ(bounded.status().code(), Code::kCorrupt);

  // With a delimiter: the streams under the prefix.
  auto dirs = s->List("list/", "", 1000, "/");
  ASSERT_TRUE(dirs.ok()) << dirs.status().ToString();
  EXPECT_TRUE(dirs->objects.empty());
  EXPECT_EQ(dirs->common_prefixes, (std::vector<std::string>{"list/cam1/", "list/cam2/"}));
  auto none = s->List("nothing/here/", "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->objects.empty());
  EXPECT_TRUE(none->next_token.empty());
}

TEST(S3Store, DeleteRemovesAndIsIdempotent) {
  auto s = OpenStore();
  ASSERT_TRUE(s->Put("delete/obj", "abc", 3).ok());
  ASSERT_TRUE(s->Delete("delete/obj").ok());
  EXPECT_EQ(s->Head("delete/obj").status().code(), Code::kNotFound);
  auto get = s->GetAll("delete/obj", 10);
  EXPECT_EQ(get.status().code(), Code::kNotFound);
  EXPECT_NE(get.status().message().find("NoSuchKey"), std::string::npos) << get.status().message();
  EXPECT_TRUE(s->Delete("delete/obj").ok());
}

TEST(S3Store, MultipartUploadOf12MiBIsByteExact) {
  auto s = OpenStore();
  std::string data = RandomBytes(12 << 20, 5);
  DataFile tf(data);
  auto f = tf.Open();
  UploadOptions o;
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;
  std::string recorded;
  o.on_upload_created = [&](const std::string &id) {
    recorded = id;
    return Status::Ok();
  };
  auto up = UploadFile(s.get(), "mp/seg.frames", f.get(), 0, data.size(), o);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->parts_sent, 3);
  EXPECT_EQ(up->parts_reused, 0);
  EXPECT_EQ(up->upload_id, recorded);
  EXPECT_EQ(up->meta.size, data.size());
  EXPECT_EQ(up->meta.etag.substr(up->meta.etag.size() - 2), "-3") << up->meta.etag;
  auto got = s->GetAll("mp/seg.frames", 13 << 20);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  // A range across the boundary of parts 1 and 2.
  char buf[20];
  ASSERT_EQ(*s->ReadAt("mp/seg.frames", (5 << 20) - 10, buf, 20), 20u);
  EXPECT_EQ(std::string(buf, 20), data.substr((5 << 20) - 10, 20));
  auto pending = s->ListMultipartUploads("mp/");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty());

  // Parts below 5 MiB but the last: the server's EntityTooSmall, clearly.
  UploadOptions small = o;
  small.multipart_threshold = 1 << 20;
  small.part_size = 1 << 20;
  EXPECT_EQ(PlanPartSize(data.size(), small), kMinPartSize);  // raised to S3's minimum
  auto id = s->CreateMultipartUpload("mp/small");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto p1 = s->UploadPart("mp/small", *id, 1, f.get(), 0, 1 << 20);
  auto p2 = s->UploadPart("mp/small", *id, 2, f.get(), 1 << 20, 1 << 20);
  ASSERT_TRUE(p1.ok() && p2.ok());
  auto done = s->CompleteMultipartUpload("mp/small", *id, {{1, 1 << 20, *p1}, {2, 1 << 20, *p2}});
  EXPECT_EQ(done.status().code(), Code::kInvalidArgument) << done.status().ToString();
  EXPECT_NE(done.status().message().find("EntityTooSmall"), std::string::npos)
      << done.status().message();
  EXPECT_TRUE(s->AbortMultipartUpload("mp/small", *id).ok());
  EXPECT_TRUE(s->AbortMultipartUpload("mp/small", *id).ok());  // already gone: OK
  EXPECT_EQ(s->ListParts("mp/small", *id).status().code(), Code::kNotFound);
}

TEST(S3Store, MultipartResumesWithANewClientAfterTheFirstIsDropped) {
  std::string data = RandomBytes(12 << 20, 6);
  DataFile tf(data);
  const std::string key = "resume/dropped.frames";
  {
    auto first = OpenStore();
    auto f = tf.Open();
    auto id = first->CreateMultipartUpload(key);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(first->UploadPart(key, *id, 1, f.get(), 0, 5 << 20).ok());
  }  // the client is gone; its upload id is not even kept
  auto second = OpenStore();
  auto pending = second->ListMultipartUploads("resume/");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].key, key);
  UploadOptions o;
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;
  auto f = tf.Open();
  auto up = UploadFile(second.get(), key, f.get(), 0, data.size(), o, (*pending)[0].upload_id);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->parts_reused, 1);
  EXPECT_EQ(up->parts_sent, 2);
  EXPECT_EQ(up->bytes_sent, data.size() - (5 << 20));
  auto got = second->GetAll(key, 13 << 20);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
  EXPECT_TRUE(second->ListMultipartUploads("resume/")->empty());

  // Resuming an id that is gone (completed) starts a new upload.
  auto again = UploadFile(second.get(), key, f.get(), 0, data.size(), o, up->upload_id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(again->upload_id, up->upload_id);
  EXPECT_EQ(again->parts_sent, 3);
}

namespace {
// A File that kills its own process (SIGKILL) when asked for bytes at or
// beyond `kill_at`: a kill -9 in the middle of an upload.
class KillingFile : public File {
 public:
  KillingFile(std::unique_ptr<File> f, uint64_t kill_at) : f_(std::move(f)), kill_at_(kill_at) {}
  Status Append(const Slice *, int) override { return Status(Code::kIo, "read only"); }
  Result<size_t> ReadAt(uint64_t offset, void *buf, size_t size) override {
    if (offset + size > kill_at_) kill(getpid(), SIGKILL);
    return f_->ReadAt(offset, buf, size);
  }
  Status Sync() override { return Status::Ok(); }
  Status Truncate(uint64_t) override { return Status(Code::kIo, "read only"); }
  Result<uint64_t> Size() override { return f_->Size(); }
  const std::string &path() const override { return f_->path(); }

 private:
  std::unique_ptr<File> f_;
  uint64_t kill_at_;
};

// An Fs whose one file kills the process when read past `kill_at` (the
// rest is the real file system): a recorder killed mid-upload.
class KillingFs : public Fs {
 public:
  KillingFs(std::string victim, uint64_t kill_at) : victim_(std::move(victim)), kill_at_(kill_at) {}
  Result<std::unique_ptr<File>> Open(const std::string &path, OpenMode mode) override {
    VDB_ASSIGN_OR_RETURN(auto f, fs_->Open(path, mode));
    if (path != victim_) return f;
    return std::unique_ptr<File>(new KillingFile(std::move(f), kill_at_));
  }
  Status Rename(const std::string &a, const std::string &b) override { return fs_->Rename(a, b); }
  Status Remove(const std::string &p) override { return fs_->Remove(p); }
  Status MakeDirs(const std::string &p) override { return fs_->MakeDirs(p); }
  Result<std::vector<std::string>> List(const std::string &d) override { return fs_->List(d); }
  Status SyncDir(const std::string &d) override { return fs_->SyncDir(d); }
  bool Exists(const std::string &p) override { return fs_->Exists(p); }
  Result<FileType> TypeOf(const std::string &p) override { return fs_->TypeOf(p); }
  Result<std::unique_ptr<Lock>> TryLock(const std::string &p, LockMode m) override {
    return fs_->TryLock(p, m);
  }
  Result<uint64_t> FreeSpace(const std::string &p) override { return fs_->FreeSpace(p); }

 private:
  Fs *fs_ = DefaultFs();
  std::string victim_;
  uint64_t kill_at_;
};
}  // namespace

// `vdb upload` (StreamUploader) killed with -9 in the middle of a segment's
// multipart upload: the bucket shows only whole segments meanwhile, and the
// next run resumes that upload, keeping its parts, to a store identical to
// the local one.
TEST(S3Store, AStreamUploadKilledMidSegmentResumesKeepingItsParts) {
  test::TempDir dir;
  const std::string store = dir.path() + "/store";
  std::vector<test::TestFrame> frames;
  {
    WriterOptions wo;
    wo.max_segment_duration = test::kSecond;
    auto w = test::OpenWriter(DefaultFs(), store, wo);
    ASSERT_TRUE(w);
    frames = test::MakeFrames(90, 400000);  // 3 segments of ~12 MB
    test::AppendAll(w.get(), frames);
    ASSERT_TRUE(w->Close().ok());
  }
  auto bucket = OpenStore();
  StreamUploadOptions o;
  o.parts.multipart_threshold = kMinPartSize;
  o.parts.part_size = kMinPartSize;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = S3Store::Open(Options(), TestCredentials());
    if (!s.ok() || !EnsureRemoteStore(s->get(), "killed").ok()) _exit(2);
    KillingFs fs(store + "/cam/000000000002.vdbf", (5 << 20) + (2 << 20));  // in its part 2
    (void)UploadStream(s->get(), "killed", &fs, store, "cam", o);
    _exit(3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  RemoteFs rfs(bucket.get());
  {  // Meanwhile: segment 1, whole; nothing of segment 2 is visible.
    auto r = Reader::Open(&rfs, "killed", "cam");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto got = test::ReadAll(r->get());
    ASSERT_EQ(got.size(), 30u);
    EXPECT_TRUE(
        test::SameFrames(got, std::vector<test::TestFrame>(frames.begin(), frames.begin() + 30)));
  }
  auto up = UploadStream(bucket.get(), "killed", DefaultFs(), store, "cam", o);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->parts_reused, 1);
  EXPECT_EQ(up->segments_present + up->segments_sent, 3);
  auto r = Reader::Open(&rfs, "killed", "cam");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->problem().empty()) << (*r)->problem();
  EXPECT_TRUE(test::SameFrames(test::ReadAll(r->get()), frames));
  auto pending = bucket->ListMultipartUploads("killed/");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST(S3Store, MultipartResumesAfterKill9MidUpload) {
  std::string data = RandomBytes(12 << 20, 7);
  DataFile tf(data);
  const std::string key = "resume/killed.frames";
  const std::string id_file = tf.dir() + "/upload-id";  // stands for the catalog
  UploadOptions o;
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = S3Store::Open(Options(), TestCredentials());
    if (!s.ok()) _exit(2);
    KillingFile f(tf.Open(), (5 << 20) + (2 << 20));  // 2 MiB into part 2
    UploadOptions co = o;
    co.on_upload_created = [&](const std::string &id) {
      return WriteFileAtomic(DefaultFs(), id_file, id);
    };
    (void)UploadFile(s->get(), key, &f, 0, data.size(), co);
    _exit(3);  // not reached: killed in part 2
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  auto s = OpenStore();
  auto id = ReadWholeFile(DefaultFs(), id_file, 4096);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto parts = s->ListParts(key, *id);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);  // part 1 went through, part 2 died with the process
  EXPECT_EQ((*parts)[0].number, 1);
  EXPECT_EQ((*parts)[0].size, 5u << 20);
  EXPECT_EQ(s->Head(key).status().code(), Code::kNotFound);  // nothing visible yet
  auto f = tf.Open();
  auto up = UploadFile(s.get(), key, f.get(), 0, data.size(), o, *id);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->upload_id, *id);
  EXPECT_EQ(up->parts_reused, 1);
  EXPECT_EQ(up->parts_sent, 2);
  auto got = s->GetAll(key, 13 << 20);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
}

TEST(S3Store, WrongCredentialsAre403WithAClearMessage) {
  Credentials bad = TestCredentials();
  bad.secret_key = "not-the-secret-0123456789";
  auto s = OpenStore(Options(), bad);
  auto put = s->Put("auth/x", "x", 1);
  ASSERT_EQ(put.status().code(), Code::kInvalidArgument) << put.status().ToString();
  EXPECT_EQ(put.status().err(), EACCES);
  const std::string &m = put.status().message();
  EXPECT_NE(m.find("403"), std::string::npos) << m;
  EXPECT_NE(m.find("SignatureDoesNotMatch"), std::string::npos) << m;
  EXPECT_NE(m.find("secret key from the test's credentials is wrong"), std::string::npos) << m;
  EXPECT_EQ(m.find(bad.secret_key), std::string::npos) << "the secret is in the message";
  EXPECT_EQ(m.find(bad.access_key), std::string::npos) << "the access key is in the message";
  // HEAD has no error body: still a clear 403.
  auto head = s->Head("auth/x");
  EXPECT_EQ(head.status().code(), Code::kInvalidArgument) << head.status().ToString();
  EXPECT_NE(head.status().message().find("access denied"), std::string::npos);
  EXPECT_EQ(s->stats().retries, 0u);  // a 403 is not retried

  Credentials unknown = TestCredentials();
  unknown.access_key = "NOSUCHACCESSKEY";
  auto s2 = OpenStore(Options(), unknown);
  auto list = s2->List("", "");
  ASSERT_EQ(list.status().code(), Code::kInvalidArgument) << list.status().ToString();
  EXPECT_NE(list.status().message().find("does not know the access key"), std::string::npos)
      << list.status().message();
}

TEST(S3Store, CredentialsComeFromAnAwsCredentialsFile) {
  DataFile tf("");
  const std::string path = tf.dir() + "/credentials";
  ASSERT_TRUE(
      WriteFileAtomic(DefaultFs(), path,
                      "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n"
                      "[vdbtest]\naws_access_key_id = " +
                          g_rgw->access_key() + "\naws_secret_access_key = " + g_rgw->secret_key() +
                          "\n")
          .ok());
  auto env = [&](const char *name) -> const char * {
    if (std::string(name) == "AWS_SHARED_CREDENTIALS_FILE") return path.c_str();
    if (std::string(name) == "AWS_PROFILE") return "vdbtest";
    return nullptr;
  };
  auto c = LoadCredentials(env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source, path + " [vdbtest]");
  auto s = OpenStore(Options(), *c);
  auto put = s->Put("creds/file", "ok", 2);
  EXPECT_TRUE(put.ok()) << put.status().ToString();
}

TEST(S3Store, MissingBucketIsNamed) {
  auto s = OpenStore(Options("vdb-no-such-bucket"));
  auto check = [](const Status &st, const char *op) {
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << op << ": " << st.ToString();
    EXPECT_NE(st.message().find("bucket \"vdb-no-such-bucket\" does not exist"), std::string::npos)
        << op << ": " << st.message();
  };
  check(s->Put("a", "x", 1).status(), "Put");
  check(s->Head("a").status(), "Head");
  check(s->GetAll("a", 10).status(), "GetAll");
  char buf[4];
  check(s->ReadAt("a", 0, buf, 4).status(), "ReadAt");
  check(s->List("", "").status(), "List");
  check(s->CreateMultipartUpload("a").status(), "CreateMultipartUpload");
  check(s->CheckBucket(), "CheckBucket");
  EXPECT_TRUE(OpenStore()->CheckBucket().ok());
  EXPECT_TRUE(OpenStore()->CreateBucket().ok());  // exists already, ours: OK
}

TEST(S3Store, ServerDownIsAClearErrorAtOnce) {
  S3Options o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(ClosedPort());
  auto s = OpenStore(o);
  auto t0 = Clock::now();
  auto put = s->Put("down/x", "x", 1);
  double took = Since(t0);
  ASSERT_EQ(put.status().code(), Code::kIo) << put.status().ToString();
  EXPECT_EQ(put.status().err(), ECONNREFUSED);
  EXPECT_NE(put.status().message().find("cannot connect to the server"), std::string::npos)
      << put.status().message();
  EXPECT_LT(took, 1.0);
}

TEST(S3Store, ServerStoppedWhileInUse) {
  // A second RGW beside the first (its own ports), stopped under a client.
  test::RgwServer other;
  std::string err;
  ASSERT_TRUE(other.Start(&err)) << err;
  S3Options o = Options();
  o.endpoint = other.endpoint();
  auto s = OpenStore(o, Credentials{other.access_key(), other.secret_key(), "", "test"});
  ASSERT_TRUE(s->CreateBucket().ok());
  ASSERT_TRUE(s->Put("stop/x", "x", 1).ok());
  ASSERT_NE(other.endpoint(), g_rgw->endpoint());
  other.Stop();
  auto t0 = Clock::now();
  auto head = s->Head("stop/x");
  double took = Since(t0);
  ASSERT_EQ(head.status().code(), Code::kIo) << head.status().ToString();
  EXPECT_EQ(head.status().err(), ECONNREFUSED);
  EXPECT_LT(took, 2.0);
  // The first server is untouched.
  EXPECT_TRUE(OpenStore()->CheckBucket().ok());
}

TEST(S3Store, StalledServerTimesOutInsteadOfHanging) {
  StalledServer stalled;
  S3Options o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(stalled.port());
  o.stall_timeout_s = 1;
  o.max_attempts = 2;
  o.backoff_initial_ms = 100;
  auto s = OpenStore(o);
  auto t0 = Clock::now();
  auto head = s->Head("stall/x");
  double took = Since(t0);
  ASSERT_EQ(head.status().code(), Code::kIo) << head.status().ToString();
  EXPECT_EQ(head.status().err(), ETIMEDOUT);
  EXPECT_NE(head.status().message().find("stalled"), std::string::npos) << head.status().message();
  EXPECT_NE(head.status().message().find("after 2 attempts"), std::string::npos)
      << head.status().message();
  EXPECT_GE(took, 2.0);
  EXPECT_LT(took, 5.0);
  EXPECT_EQ(s->stats().retries, 1u);

  // An upload into the stall (the socket buffers fill, then nothing moves).
  std::string data = RandomBytes(8 << 20, 8);
  t0 = Clock::now();
  auto put = s->Put("stall/y", data.data(), data.size());
  took = Since(t0);
  EXPECT_EQ(put.status().code(), Code::kIo) << put.status().ToString();
  EXPECT_EQ(put.status().err(), ETIMEDOUT);
  EXPECT_LT(took, 8.0);
}

TEST(S3Store, CancelEndsACallStuckOnAStalledServerAtOnce) {
  StalledServer stalled;
  S3Options o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(stalled.port());
  o.stall_timeout_s = 30;  // would take 2 minutes with the retries
  auto s = OpenStore(o);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    s->Cancel();
  });
  auto t0 = Clock::now();
  auto head = s->Head("stall/x");
  double took = Since(t0);
  canceller.join();
  ASSERT_EQ(head.status().code(), Code::kIo) << head.status().ToString();
  EXPECT_EQ(head.status().err(), ECANCELED) << head.status().ToString();
  EXPECT_LT(took, 5.0);
  // Later calls fail without a request.
  uint64_t before = s->stats().requests;
  EXPECT_EQ(s->Head("stall/y").status().err(), ECANCELED);
  EXPECT_EQ(s->stats().requests, before);
}

TEST(S3Store, ServerErrorsAreRetriedWithBackoff) {
  // Two 503 SlowDown answers, then a HEAD answer: the call succeeds.
  ScriptedServer server({Answer503(), Answer503(),
                         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"abc\"\r\n"
                         "Connection: close\r\n\r\n"});
  S3Options o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  o.backoff_initial_ms = 50;
  auto s = OpenStore(o);
  auto t0 = Clock::now();
  auto head = s->Head("retry/x");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->etag, "abc");
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(s->stats().retries, 2u);
  EXPECT_GE(Since(t0), 0.075);  // 50 ms then 100 ms, each at least halved by jitter

  // Always 503: the error once the attempts ran out, with the server's words.
  ScriptedServer always({Answer503()});
  o.endpoint = "http://127.0.0.1:" + std::to_string(always.port());
  o.max_attempts = 3;
  auto s2 = OpenStore(o);
  auto list = s2->List("", "");
  ASSERT_EQ(list.status().code(), Code::kIo) << list.status().ToString();
  EXPECT_NE(list.status().message().find("503 SlowDown"), std::string::npos)
      << list.status().message();
  EXPECT_NE(list.status().message().find("after 3 attempts"), std::string::npos)
      << list.status().message();
  EXPECT_EQ(always.connections(), 3);
}

TEST(S3Store, ConcurrentCallsFromManyThreads) {
  auto s = OpenStore();
  std::string data = RandomBytes(4 << 20, 9);
  ASSERT_TRUE(s->Put("threads/obj", data.data(), data.size()).ok());
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&, t] {
      std::mt19937 rng{uint32_t(t)};
      std::vector<char> buf(65536);
      for (int i = 0; i < 25; i++) {
        uint64_t off = rng() % (data.size() - buf.size());
        auto n = s->ReadAt("threads/obj", off, buf.data(), buf.size());
        if (!n.ok() || *n != buf.size() || std::memcmp(buf.data(), data.data() + off, buf.size()))
          bad++;
      }
      std::string key = "threads/put" + std::to_string(t);
      if (!s->Put(key, key.data(), key.size()).ok()) bad++;
    });
  }
  for (auto &t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
}

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!test::RadosgwInstalled()) return test::SkipNoRadosgw("s3_store_test");
  test::RgwServer rgw;
  std::string err;
  if (!rgw.Start(&err)) {
    std::fprintf(stderr, "cannot start the test S3 server: %s\n", err.c_str());
    return 1;
  }
  std::printf("RGW at %s, started in %.2f s\n", rgw.endpoint().c_str(), rgw.start_seconds());
  g_rgw = &rgw;
  {
    auto s = S3Store::Open(Options(), TestCredentials());
    Status st = s.ok() ? (*s)->CreateBucket() : s.status();
    if (!st.ok()) {
      std::fprintf(stderr, "cannot create the test bucket: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  int rc = RUN_ALL_TESTS();
  rgw.Stop();
  return rc;
}
