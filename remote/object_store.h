// ObjectStore: a bucket of immutable objects (S3 and what behaves like it),
// the way the engine sees remote storage. No HTTP or libcurl in this header:
// S3Store (s3_store.h) talks to a real server, MemObjectStore
// (mem_object_store.h) keeps objects in memory and injects faults for tests.
//
// Contract:
//  - Every method returns Status/Result; nothing throws across the API.
//  - Thread rules: an ObjectStore is thread-safe. Any method may be called
//    from any thread, concurrently; a call blocks its calling thread until it
//    is done, failed or timed out (never forever: see S3Options' timeouts).
//    Do not call it from a thread that must not block (a streaming thread).
//  - Ownership: the store never keeps a pointer the caller passed in after the
//    call returns (File*, buffers, data). A File passed in is used by this
//    call only, from this call's thread (File's one-thread-at-a-time rule).
//  - Objects are whole: a Put or CompleteMultipartUpload is seen by readers
//    all at once or not at all; a failed one leaves the previous object (or
//    none) in place.
//  - Bounded: nothing allocates more than the caller allows. ReadAt writes at
//    most `size` bytes into the caller's buffer (a server sending more is
//    kCorrupt, not an overflow); GetAll takes max_bytes and refuses a larger
//    object before reading it; listings come in pages of at most 1000 keys.
//  - What is retried: S3Store retries each HTTP request on its own (HTTP 5xx
//    and 429, timeouts, a connection dropped mid-request) with exponential
//    backoff, a bounded number of times (S3Options). A caller sees an error
//    only once those retries ran out, and never has to retry a 4xx (it would
//    fail again). Multipart uploads are resumable across calls, processes
//    and machines by their upload id (UploadFile below). MemObjectStore does
//    not retry: its injected faults are what S3Store returns once its
//    retries ran out.
//
// What each Code means here (a caller decides from the code alone):
//   kNotFound         the object, or the multipart upload, does not exist
//                     (err ENOENT).
//   kInvalidArgument  configuration or caller error; trying again will not
//                     help until someone fixes it: no such bucket, the
//                     server refused the credentials (HTTP 403, err EACCES),
//                     a bad key or endpoint, a part too small.
//   kIo               the store could not be reached or did not answer in
//                     time, after the retries: server down (err
//                     ECONNREFUSED), timeout / stalled server (err
//                     ETIMEDOUT), 5xx. Transient: try again later.
//   kCorrupt          an answer that cannot be right: malformed XML, more
//                     bytes than asked, a range that does not match, a local
//                     file shorter than the length to upload.
//   kUnsupported      the server lacks something needed (e.g. ignores Range).
// Messages name the operation, the bucket and key and the endpoint; they
// never contain credentials (secret or access key) or signatures.
//
// Keys: 1..1024 bytes, no NUL or control characters, no leading '/', no
// empty, "." or ".." path segment (a URL normalizer would change them);
// anything else (spaces, '+', '=', UTF-8) is percent-encoded by S3Store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "file.h"
#include "status.h"

namespace vdb::remote {

// S3 refuses parts smaller than this, except the last (EntityTooSmall).
constexpr uint64_t kMinPartSize = 5ull << 20;
// S3's largest part and largest number of parts of one upload.
constexpr uint64_t kMaxPartSize = 5ull << 30;
constexpr int kMaxParts = 10000;
// The most keys one List page holds.
constexpr int kMaxListKeys = 1000;

struct ObjectMeta {
  uint64_t size = 0;
  std::string etag;  // without quotes; opaque (an MD5 for a plain S3 PUT, "…-N" for N parts)
};

struct ObjectEntry {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes
};

struct ListPage {
  std::vector<ObjectEntry> objects;          // in key order (bytewise)
  std::vector<std::string> common_prefixes;  // with a delimiter: the "directories" below prefix
  std::string next_token;                    // empty: this was the last page
};

struct PartInfo {
  int number = 0;  // 1..10000
  uint64_t size = 0;
  std::string etag;  // without quotes
};

struct UploadEntry {
  std::string key;
  std::string upload_id;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "s3://bucket/key at http://host:port", for messages (never credentials).
  virtual std::string Describe(const std::string &key) const = 0;
  // Makes calls in flight and later ones fail soon (kIo, ECANCELED) instead
  // of running to their timeouts; for shutting down. Cannot be undone. A
  // store without network (MemObjectStore) ignores it.
  virtual void Cancel() {}

  // Writes the whole object `key` (replacing any) from memory. Returns the
  // new object's size and ETag.
  virtual Result<ObjectMeta> Put(const std::string &key, const void *data, size_t size) = 0;
  // Put only if there is no object `key` (If-None-Match: *; Ceph RGW, AWS S3
  // and MinIO honour it): kExists, and nothing written, if there is one. Of
  // two writers, one succeeds. (After a lost answer and a retry, kExists
  // may mean this very write: read the object to tell.)
  virtual Result<ObjectMeta> PutIfAbsent(const std::string &key, const void *data, size_t size) = 0;
  // Writes the whole object `key` from bytes [offset, offset + length) of
  // `file` (read with File::ReadAt, possibly more than once when a request
  // is retried). A file that ends before offset + length is kCorrupt and no
  // object is written. At most kMaxPartSize: larger goes through UploadFile.
  virtual Result<ObjectMeta> PutFile(const std::string &key, File *file, uint64_t offset,
                                     uint64_t length) = 0;

  // Size and ETag of `key`; kNotFound if there is no such object.
  virtual Result<ObjectMeta> Head(const std::string &key) = 0;
  // Reads up to `size` bytes of `key` at `offset` into `buf`; fewer only at
  // the end of the object (0 at or past it). Never writes past buf + size.
  virtual Result<size_t> ReadAt(const std::string &key, uint64_t offset, void *buf,
                                size_t size) = 0;
  // The whole object, if it holds at most max_bytes (kCorrupt, without
  // reading it, if it holds more).
  virtual Result<std::string> GetAll(const std::string &key, uint64_t max_bytes) = 0;

  // One page of the keys that start with `prefix`, in key order, from the
  // start (token empty) or from a previous page's next_token. max_keys:
  // 1..kMaxListKeys. With a delimiter (e.g. "/"), keys that hold it after
  // the prefix are rolled up into common_prefixes.
  virtual Result<ListPage> List(const std::string &prefix, const std::string &token,
                                int max_keys = kMaxListKeys, const std::string &delimiter = "") = 0;

  // Removes `key`. OK if there was no such object (S3 semantics).
  virtual Status Delete(const std::string &key) = 0;

  // Multipart upload, the primitives (UploadFile below drives them).
  // An upload id names an unfinished upload of one key; its parts are
  // invisible until CompleteMultipartUpload makes them one object.
  virtual Result<std::string> CreateMultipartUpload(const std::string &key) = 0;
  // Uploads part `number` (1..kMaxParts) from bytes [offset, offset+length)
  // of `file`; replaces an earlier part of that number. Returns its ETag.
  virtual Result<std::string> UploadPart(const std::string &key, const std::string &upload_id,
                                         int number, File *file, uint64_t offset,
                                         uint64_t length) = 0;
  // Parts uploaded so far, by number; kNotFound if the upload is gone
  // (completed or aborted).
  virtual Result<std::vector<PartInfo>> ListParts(const std::string &key,
                                                  const std::string &upload_id) = 0;
  // Makes the parts (ascending numbers, their ETags) the object `key`. Every
  // part but the last must be >= kMinPartSize (kInvalidArgument otherwise).
  // Returns the object's metadata.
  virtual Result<ObjectMeta> CompleteMultipartUpload(const std::string &key,
                                                     const std::string &upload_id,
                                                     const std::vector<PartInfo> &parts) = 0;
  // Drops an unfinished upload and its parts. OK if it is already gone.
  virtual Status AbortMultipartUpload(const std::string &key, const std::string &upload_id) = 0;
  // Unfinished uploads of keys starting with `prefix` (at most max_uploads):
  // how a process that lost its upload ids finds them again.
  virtual Result<std::vector<UploadEntry>> ListMultipartUploads(const std::string &prefix,
                                                                size_t max_uploads = 10000) = 0;
};

// Checks a key against the rules above: kInvalidArgument naming it if bad.
Status ValidateKey(const std::string &key);

// How UploadFile cuts a file into parts.
struct UploadOptions {
  // Files up to this size go in one PutFile; larger ones in parts.
  uint64_t multipart_threshold = 16ull << 20;
  // Size of every part but the last (>= kMinPartSize; raised if the file
  // would need more than kMaxParts parts).
  uint64_t part_size = 8ull << 20;
  // Called with a new upload id before any part is sent: the caller records
  // it (a catalog, a file) so that a killed process can resume. An error
  // stops the upload (the upload id is aborted).
  std::function<Status(const std::string &upload_id)> on_upload_created;
};

struct UploadResult {
  ObjectMeta meta;
  std::string upload_id;    // empty for a single PutFile
  int parts_reused = 0;     // parts found already uploaded (resume)
  int parts_sent = 0;       // parts (or 1 for a single PutFile) sent by this call
  uint64_t bytes_sent = 0;  // payload bytes sent by this call
};

// Uploads bytes [offset, offset + length) of `file` as object `key`:
// one PutFile up to options.multipart_threshold, else a multipart upload.
// Resumable: with a non-empty `resume_upload_id` (one that on_upload_created
// reported for this same key and file), the parts already uploaded whose
// size matches the plan are kept and only the others are sent; if that
// upload is gone (completed or aborted), a new one starts. An upload id
// belongs to one key and one immutable file: if the file may have changed,
// abort the id instead of resuming it (part contents are not compared, only
// their sizes).
// On error, the upload is left in place for a later resume (not aborted),
// except when on_upload_created fails. Idempotent: running it again after a
// success uploads the object again, with the same result.
Result<UploadResult> UploadFile(ObjectStore *store, const std::string &key, File *file,
                                uint64_t offset, uint64_t length, const UploadOptions &options = {},
                                const std::string &resume_upload_id = "");

// The part size UploadFile uses for `length` bytes (options.part_size,
// raised to fit in kMaxParts).
uint64_t PlanPartSize(uint64_t length, const UploadOptions &options);

// Every key under `prefix`, page after page; kCorrupt if there are more than
// max_objects (a bound on memory) or if the server repeats a page token.
Result<std::vector<ObjectEntry>> ListAll(ObjectStore *store, const std::string &prefix,
                                         size_t max_objects);

}  // namespace vdb::remote
