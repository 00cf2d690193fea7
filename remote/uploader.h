// Uploading a stream's sealed segments to a bucket, so that the bucket holds
// a store that RemoteFs (remote_fs.h) reads like a local one (FORMAT.md,
// "Object storage"):
//
//   PREFIX/vdb-store.json                 the store marker
//   PREFIX/<stream>/000000000001.vdbf     frame file   } as on disk, byte for
//   PREFIX/<stream>/000000000001.vdbi     index        } byte, uploaded in
//   PREFIX/<stream>/000000000001.json     metadata     } this order
//   PREFIX/<stream>/catalog.vdbc          the segments in the bucket (a
//                                         catalog file as on disk, rewritten
//                                         after each upload pass)
//
// A segment is in the bucket once its metadata object is there (uploaded
// last) and its catalog entry is: a reader never meets half a segment.
// Idempotent and resumable: a file whose object already has its size is not
// sent again; an unfinished multipart upload of a key (a process killed mid
// upload) is resumed, keeping the parts already sent; a repeated pass after a
// success sends nothing but the catalog if it changed. The bucket's catalog
// is the previous one plus what this pass confirmed, so segments that left
// the local disk stay listed. Open (unsealed) segments and damaged-byte
// files are never uploaded.
//
// One store per stream name and prefix: two recorders uploading the same
// stream to one prefix would overwrite each other's segments and catalog
// (different streams, from any number of machines, are fine). The object
//   PREFIX/<stream>/recorder.json   {"store_id", "host", "store"}
// names the store that uploads the stream: written by its first pass with
// a conditional PUT (PutIfAbsent: of two stores, one wins) and read back,
// checked by every pass (one GET), which another store's refuses
// (kInvalidArgument, naming the store that has the stream). A store
// without a store_id in its remote.json (store_location.h) claims nothing.
//
// Thread rules: a function call uses its arguments from the calling thread
// only; it blocks on the network (never call it from a streaming thread).
// The local store may be recording meanwhile: only sealed segments, which no
// writer touches again, are read.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "file.h"
#include "object_store.h"
#include "retention.h"
#include "segment_info.h"

namespace vdb::remote {

struct StreamUploadReport {
  std::string stream;
  int segments_sent = 0;         // segments this pass uploaded (some of their files, at least)
  int segments_present = 0;      // sealed local segments the bucket already held whole
  int parts_reused = 0;          // multipart parts an earlier, interrupted pass had sent
  uint64_t bytes_sent = 0;       // payload bytes sent (catalog included)
  uint64_t remote_segments = 0;  // segments in the bucket's catalog after the pass
  std::vector<uint64_t> confirmed_ids;  // segments newly confirmed in the bucket
};

struct StreamUploadOptions {
  UploadOptions parts;
  // Called with each segment confirmed whole in the bucket and listed by
  // the bucket's catalog, in id order, after that catalog is written: the
  // recorder notes it in its own catalog (Writer::MarkInBucket). An error
  // stops the pass. May be empty.
  std::function<Status(uint64_t id)> on_confirmed;
  // Called after each segment's objects are in the bucket (progress).
  std::function<void(uint64_t id, uint64_t bytes)> on_segment;
};

// The object key of a store-relative path: PREFIX + "/" + path.
std::string RemoteKey(const std::string &prefix, const std::string &relative);

// Writes PREFIX/vdb-store.json if the bucket lacks it.
Status EnsureRemoteStore(ObjectStore *store, const std::string &prefix);

// Uploads one stream, pass after pass. The first pass learns what the bucket
// holds (its catalog, one listing of the stream's objects, unfinished
// multipart uploads); later passes send what was sealed since, a HEAD per
// file making each idempotent. Segments the local catalog already marks
// IN_BUCKET are skipped without a request; segments the bucket's catalog
// lists but the local one does not mark are confirmed again (on_confirmed)
// without being sent, if they are the same recording (first PTS, UTC start
// and size): a segment of that id from another recording (a store that
// lost its catalog and numbers from 1 again) stops the pass with kCorrupt.
class StreamUploader {
 public:
  StreamUploader(ObjectStore *store, std::string prefix, Fs *fs, std::string local_store,
                 std::string stream);
  // Errors: the first failure stops the pass; what was confirmed before it
  // stays confirmed and listed, and the next pass goes on from there.
  Result<StreamUploadReport> Pass(const StreamUploadOptions &options = {});

  // Retention of the bucket (its own quota and age, `policy`: byte quota
  // and max age; min_free_bytes and bucket_first are ignored): the oldest
  // segments of the bucket's catalog go first, and it stops at the first one
  // `still_local(id)` (asked oldest first, up to the first true) says the
  // local store still has a copy of (its objects
  // are what the local catalog counts on when it frees that copy: footage
  // leaves the disk first, then the bucket). A segment leaves the bucket's
  // catalog (rewritten first: a reader never meets a listed segment without
  // its objects), then its objects are deleted; `removed(id)` is called for
  // each (the recorder drops it from its catalog). Returns the ids removed.
  Result<std::vector<uint64_t>> ApplyRetention(const RetentionPolicy &policy, uint64_t now_utc,
                                               const std::function<bool(uint64_t)> &still_local,
                                               const std::function<void(uint64_t)> &removed);

 private:
  Status Learn();
  Status Claim();
  Result<bool> UploadSegment(const SegmentInfo &seg, const StreamUploadOptions &options,
                             StreamUploadReport *report);
  Status WriteCatalog(StreamUploadReport *report);

  ObjectStore *const store_;
  const std::string prefix_, local_store_, stream_;
  Fs *const fs_;
  bool learned_ = false;
  std::map<uint64_t, SegmentInfo> in_bucket_;  // the bucket's catalog
  uint64_t max_id_ = 0;
  std::map<std::string, uint64_t> listed_;         // first pass: key -> size
  std::map<std::string, std::string> unfinished_;  // key -> upload id
};

// One pass of a new StreamUploader (`vdb upload`).
Result<StreamUploadReport> UploadStream(ObjectStore *store, const std::string &prefix, Fs *fs,
                                        const std::string &local_store, const std::string &stream,
                                        const StreamUploadOptions &options = {});

}  // namespace vdb::remote
