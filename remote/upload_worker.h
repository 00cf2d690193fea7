// UploadWorker: a recorder's uploads, on a thread of their own, so that
// nothing in the streaming path ever waits for the network. A pass
// (StreamUploader::Pass) runs when kicked (a segment was sealed) and every
// `period` anyway; a failed pass is retried after a backoff that doubles up
// to `backoff_max` (the server down for hours costs a request a minute), and
// nothing local is lost meanwhile: segments stay on disk until they are
// confirmed in the bucket (retention with bucket_first).
//
// The bucket is opened on the thread (opening checks it over the network);
// until it opens, every pass tries again, as after any failure.
//
// Callbacks run on the worker's thread, with no lock of the worker held:
// `confirmed` notes a segment in the recorder's catalog
// (Writer::MarkInBucket), `failing` is called once when uploads start
// failing (with why), `recovered` once when they work again, `uploaded`
// after each pass that confirmed segments; `removed` for each segment the
// bucket's retention deleted.
//
// Thread rules: Start/Stop from one thread; Kick, Flush and Interrupt from
// any thread but the worker's (callbacks must not call them) while
// started. Stop cancels a request in flight (ObjectStore::Cancel) and
// returns at once after it: a recorder stops without waiting for timeouts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store_location.h"
#include "uploader.h"

namespace vdb::remote {

class UploadWorker {
 public:
  struct Options {
    std::string location;  // s3://BUCKET/PREFIX
    RemoteArgs args;
    Fs *fs = nullptr;  // the local store's (not owned)
    std::string local_store, stream;
    std::chrono::milliseconds period{30000};
    std::chrono::milliseconds backoff_initial{1000}, backoff_max{60000};
    StreamUploadOptions upload;  // parts; on_confirmed is set from Callbacks
    // The bucket's own retention, applied after each pass (see
    // StreamUploader::ApplyRetention); inactive by default.
    RetentionPolicy bucket_retention;
    // Opens the bucket (tests hand in a MemObjectStore); default: OpenBucket.
    std::function<Result<std::unique_ptr<ObjectStore>>()> open;
  };
  struct Callbacks {
    std::function<Status(uint64_t id)> confirmed;
    std::function<void(const Status &why)> failing;
    std::function<void()> recovered;
    std::function<void(const StreamUploadReport &)> uploaded;
    // For the bucket's retention: the recorder's segments (Writer::segments,
    // once per run: what still has a local copy), and a segment removed
    // from the bucket.
    std::function<std::vector<SegmentInfo>()> local_segments;
    std::function<void(uint64_t id)> removed;
  };

  UploadWorker() = default;
  UploadWorker(const UploadWorker &) = delete;
  UploadWorker &operator=(const UploadWorker &) = delete;
  ~UploadWorker() { Stop(); }

  void Start(Options options, Callbacks callbacks);
  void Stop();
  void Kick();
  // Runs a pass now (at once, also while failing: no backoff) and waits
  // until a pass that started after this call ends, at most `timeout`.
  // Returns that pass's status; kIo when it did not end in time; kEnd when
  // Stop() or Interrupt() ended the wait (or came before it). The pass goes
  // on after a timeout.
  Status Flush(std::chrono::milliseconds timeout);
  // Ends the Flush() waits in progress and refuses new ones (kEnd) until
  // Resume() (a recorder shutting down: an EOS racing the state change
  // never waits); the worker goes on.
  void Interrupt();
  void Resume();
  // Passes finished (successful or not), for tests.
  uint64_t passes() const;

 private:
  void Loop();
  // A pass: its uploads (opening the bucket first if need be), then the
  // bucket's retention.
  Status Upload(std::unique_ptr<StreamUploader> *uploader);
  Status BucketRetention(StreamUploader *uploader);

  Options o_;
  Callbacks cb_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, kick_ = false, flush_ = false;
  uint64_t started_ = 0, passes_ = 0;  // passes started, and ended
  bool interrupted_ = false;
  Status last_;                         // uploads of the last pass ended (not its retention)
  std::unique_ptr<ObjectStore> store_;  // created and used on the thread; Cancel from Stop
};

}  // namespace vdb::remote
