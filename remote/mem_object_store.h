// MemObjectStore: an in-memory ObjectStore for tests, with S3's semantics
// and injected faults, in the spirit of the engine's MemFs.
//
// Semantics kept from S3 (what S3Store gives against a real server):
// whole-object Put, ranged reads (0 bytes at or past the end), listings in
// bytewise key order in pages with an opaque continuation token and an
// optional delimiter, Delete of a missing key is OK, multipart uploads with
// parts >= min_part_size except the last (kInvalidArgument, as S3's
// EntityTooSmall), parts replaced by number, ListParts of a finished or
// aborted upload is kNotFound, Complete checks part numbers and ETags. Keys
// are checked by ValidateKey. ETags are opaque hex strings (not MD5s);
// multipart ETags end in "-N" as on S3.
//
// Faults (see ObjectFaults): fail the Nth call (optionally of one operation)
// with a chosen code, a stalled call (waits, then fails as a client timeout
// does), the server down (every call fails, as connection refused), and,
// through the test helpers, objects truncated, altered (damage that keeps
// the ETag, as bit rot in the bucket would) or replaced/planted behind the
// client's back. An injected fault is what S3Store returns once its own
// retries ran out: MemObjectStore itself never retries.
//
// Thread rules: every method takes one internal mutex (a stall waits
// without it); safe from many threads. Counters are totals since
// construction, or since ResetCounters().
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "object_store.h"

namespace vdb::remote {

struct ObjectFaults {
  // Only calls of this operation count toward fail_call_at and
  // stall_call_at ("Put", "PutFile", "Head", "ReadAt", "GetAll", "List",
  // "Delete", "CreateMultipartUpload", "UploadPart", "ListParts",
  // "CompleteMultipartUpload", "AbortMultipartUpload",
  // "ListMultipartUploads"); empty: every call counts.
  std::string op;
  // The Nth counted call (1-based, counted from SetFaults) and the
  // fail_count - 1 after it fail with fail_code, changing nothing. 0: never.
  uint64_t fail_call_at = 0;
  uint64_t fail_count = 1;
  Code fail_code = Code::kIo;  // kIo: transient; kInvalidArgument: as a 403; ...
  // The Nth counted call waits stall_ms, then fails with kIo / ETIMEDOUT,
  // changing nothing (a client's stall timeout firing). 0: never.
  uint64_t stall_call_at = 0;
  uint64_t stall_ms = 0;
  // While true, every call fails with kIo / ECONNREFUSED (server down).
  bool down = false;
  // Smallest part (but the last) that CompleteMultipartUpload accepts.
  uint64_t min_part_size = kMinPartSize;
};

class MemObjectStore : public ObjectStore {
 public:
  explicit MemObjectStore(std::string bucket = "mem");
  ~MemObjectStore() override;

  void SetFaults(const ObjectFaults &f);

  // Test helpers; none of them counts as a call or is subject to faults.
  // The object's bytes, or nullopt.
  std::optional<std::string> Object(const std::string &key) const;
  // Creates or replaces an object behind the client's back (new ETag).
  void SetObject(const std::string &key, const std::string &data);
  // Damage that keeps the ETag: cut to `size` bytes; XOR one byte with mask.
  bool TruncateObject(const std::string &key, uint64_t size);
  bool AlterObject(const std::string &key, uint64_t offset, uint8_t mask = 0xff);
  std::vector<std::string> Keys() const;
  // Unfinished multipart uploads.
  size_t PendingUploads() const;

  // Counters.
  // Calls that passed the argument checks (a refused key is not a call),
  // faulty ones included.
  uint64_t calls() const;
  uint64_t calls(const std::string &op) const;  // calls of one operation
  uint64_t bytes_read() const;                  // payload bytes returned by ReadAt / GetAll
  uint64_t bytes_written() const;  // payload bytes accepted by Put / PutFile / UploadPart
  void ResetCounters();

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

 private:
  struct Obj {
    std::string data;
    std::string etag;
  };
  struct Upload {
    std::string key;
    std::map<int, Obj> parts;
  };
  // Counts the call and applies the faults; OK if the call may go on.
  // Called without mu_ held (a stall sleeps).
  Status Enter(const char *op, const std::string &key);
  static Result<std::string> ReadRange(File *file, uint64_t offset, uint64_t length,
                                       const std::string &what);

  const std::string bucket_;
  mutable std::mutex mu_;
  std::map<std::string, Obj> objects_;
  std::map<std::string, Upload> uploads_;
  ObjectFaults faults_;
  uint64_t counted_since_faults_ = 0;
  uint64_t next_upload_ = 1;
  std::map<std::string, uint64_t> calls_by_op_;
  uint64_t calls_ = 0, bytes_read_ = 0, bytes_written_ = 0;
};

}  // namespace vdb::remote
