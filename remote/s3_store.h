// S3Store: an ObjectStore on an S3-compatible server (AWS S3, Ceph RGW,
// MinIO, ...) through libcurl: path-style URLs endpoint/bucket/key, SigV4
// signing by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"), the payload
// sent unsigned (x-amz-content-sha256: UNSIGNED-PAYLOAD, the header sent
// exactly once); no HTTP or signing written here. What libcurl 7.88 needs
// from the caller (canonical query strings, the upload size): s3_protocol.h.
//
// Contract (on top of object_store.h's):
//  - Thread-safe: calls from many threads run at once, each on its own curl
//    handle; idle handles (and their open connections) are kept in a small
//    pool and reused. libcurl is initialised once, on the first Open.
//  - Credentials are taken once, at Open, from LoadCredentials()
//    (credentials.h: the environment or an AWS credentials file), never from
//    the endpoint URL; they are never logged or put into a message.
//  - Timeouts: no call hangs. Connecting takes at most connect_timeout_ms;
//    a transfer moving fewer than stall_min_bytes_per_s for stall_timeout_s
//    (a stalled or dead server) fails with ETIMEDOUT; request_timeout_ms, if
//    set, bounds a whole request.
//  - Retries: a request that fails with HTTP 5xx (but 501), 429, 400
//    RequestTimeout, a timeout, or a connection dropped mid-request is tried
//    again, up to max_attempts in all, after backoff_initial_ms, doubling up
//    to backoff_max_ms, with jitter (so a call may take about
//    max_attempts * (stall_timeout_s + backoff) before it fails). Every
//    request vdb sends is safe to repeat: PUTs replace, DELETEs are
//    idempotent, a repeated CreateMultipartUpload leaves an orphan upload
//    (cleaned by AbortMultipartUpload / the bucket's lifecycle rule), and a
//    CompleteMultipartUpload that succeeded before its answer was lost is
//    recognised (NoSuchUpload on a retry, then the object found with the
//    right size). Not retried: connection refused (server down, kIo /
//    ECONNREFUSED, at once), name resolution and TLS failures, and 4xx.
//  - Redirects are not followed (a 301/307 is a wrong endpoint or region).
//  - Bounded: XML answers up to max_xml_bytes, error bodies up to 64 KiB;
//    ReadAt and GetAll as object_store.h says, checked against the
//    Content-Range/Content-Length the server sends.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "credentials.h"
#include "object_store.h"

namespace vdb::remote {

struct S3Options {
  std::string endpoint;  // "http(s)://host[:port]"
  std::string bucket;
  std::string region;  // empty: the credentials' region (credentials.h), else us-east-1
  int connect_timeout_ms = 5000;
  int stall_timeout_s = 20;
  int stall_min_bytes_per_s = 1024;
  int request_timeout_ms = 0;  // 0: none (a big part takes as long as it takes)
  int max_attempts = 4;        // 1 = no retries
  int backoff_initial_ms = 200;
  int backoff_max_ms = 5000;
  size_t max_xml_bytes = 8u << 20;
  bool verify_tls = true;
};

class S3Store : public ObjectStore {
 public:
  // Credentials from LoadCredentials() (the process environment).
  static Result<std::unique_ptr<S3Store>> Open(const S3Options &options);
  // With credentials the caller loaded (LoadCredentials with its own
  // environment, tests).
  static Result<std::unique_ptr<S3Store>> Open(const S3Options &options, Credentials credentials);
  ~S3Store() override;

  // Creates the bucket; OK if it exists already and is this user's.
  Status CreateBucket();
  // Checks that the bucket exists and the credentials are accepted (HEAD
  // bucket): a clear error at start-up instead of at the first upload.
  Status CheckBucket();

  struct Stats {
    uint64_t requests = 0;  // HTTP requests sent, retries included
    uint64_t retries = 0;
    uint64_t bytes_sent = 0;      // request bodies
    uint64_t bytes_received = 0;  // response bodies
  };
  Stats stats() const;
  // Makes every request in flight fail at once, and every later one without
  // being sent (kIo, ECANCELED): how a recorder stops its uploads without
  // waiting for timeouts. Thread-safe; cannot be undone.
  void Cancel() override { cancelled_ = true; }

  std::string Describe(const std::string &key) const override;
  Result<ObjectMeta> Put(const std::string &key, const void *data, size_t size) override;
  Result<ObjectMeta> PutIfAbsent(const std::string &key, const void *data, size_t size) override;
  Result<ObjectMeta> PutFile(const std::string &key, File *file, uint64_t offset,
                             uint64_t length) override;
  Result<ObjectMeta> Head(const std::string &key) override;
  Result<size_t> ReadAt(const std::string &key, uint64_t offset, void *buf, size_t size) override;
  Result<std::string> GetAll(const std::string &key, uint64_t max_bytes) override;
  Result<ListPage> List(const std::string &prefix, const std::string &token, int max_keys = 1000,
                        const std::string &delimiter = "") override;
  Status Delete(const std::string &key) override;
  Result<std::string> CreateMultipartUpload(const std::string &key) override;
  Result<std::string> UploadPart(const std::string &key, const std::string &upload_id, int number,
                                 File *file, uint64_t offset, uint64_t length) override;
  Result<std::vector<PartInfo>> ListParts(const std::string &key,
                                          const std::string &upload_id) override;
  Result<ObjectMeta> CompleteMultipartUpload(const std::string &key, const std::string &upload_id,
                                             const std::vector<PartInfo> &parts) override;
  Status AbortMultipartUpload(const std::string &key, const std::string &upload_id) override;
  Result<std::vector<UploadEntry>> ListMultipartUploads(const std::string &prefix,
                                                        size_t max_uploads = 10000) override;

  struct Request;  // s3_store.cpp
  struct Reply;

 private:
  S3Store(S3Options options, Credentials credentials);
  // Sends the request, with the retries above; transport failures come back
  // as a Status, HTTP answers (any status) as a Reply.
  Result<Reply> Perform(const Request &req);
  // Perform, with a non-2xx answer as a Status (Failed).
  Result<Reply> PerformOk(const Request &req);
  // A non-2xx Reply as a Status.
  Status Failed(const Request &req, const Reply &reply);
  void *AcquireHandle();
  void ReleaseHandle(void *handle);
  std::string What(const char *op, const std::string &key) const;
  Result<ObjectMeta> PutMem(const std::string &key, const void *data, size_t size, bool if_absent);
  // HEAD bucket, the message naming `op` and `key` (CheckBucket, and Head's
  // 404, whose answer has no body to tell a missing key from a missing bucket).
  Status CheckBucketFor(const char *op, const std::string &key);

  const S3Options options_;
  const Credentials credentials_;
  const std::string sigv4_;  // "aws:amz:REGION:s3"
  std::mutex pool_mu_;
  std::vector<void *> idle_;  // CURL*, not declared here: no libcurl in this header
  std::atomic<bool> cancelled_{false};
  std::atomic<uint64_t> requests_{0}, retries_{0}, bytes_sent_{0}, bytes_received_{0};
};

}  // namespace vdb::remote
