// UploadWorker: contract in upload_worker.h.
#include "upload_worker.h"

#include <algorithm>

namespace vdb::remote {

void UploadWorker::Start(Options options, Callbacks callbacks) {
  Stop();
  o_ = std::move(options);
  cb_ = std::move(callbacks);
  stop_ = interrupted_ = false;
  kick_ = true;  // a first pass at once: what an earlier run left
  thread_ = std::thread([this] { Loop(); });
}

void UploadWorker::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    if (store_) store_->Cancel();
  }
  cv_.notify_all();
  thread_.join();
  store_.reset();
}

void UploadWorker::Kick() {
  {
    std::lock_guard<std::mutex> l(mu_);
    kick_ = true;
  }
  cv_.notify_all();
}

Status UploadWorker::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  if (!thread_.joinable() || stop_ || interrupted_)
    return Status(Code::kEnd, "uploads are stopped");
  const uint64_t target = started_ + 1;
  flush_ = true;
  cv_.notify_all();
  // A timeout beyond ten years is "until done" (and never overflows the clock).
  const std::chrono::milliseconds forever = std::chrono::hours(24 * 365 * 10);
  bool ended = cv_.wait_for(l, std::min(timeout, forever),
                            [&] { return passes_ >= target || stop_ || interrupted_; });
  if (passes_ >= target) return last_;
  if (!ended)
    return Status(Code::kIo,
                  "uploads did not finish within " + std::to_string(timeout.count()) + " ms");
  return Status(Code::kEnd, "stopped while waiting for uploads");
}

void UploadWorker::Interrupt() {
  {
    std::lock_guard<std::mutex> l(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

void UploadWorker::Resume() {
  std::lock_guard<std::mutex> l(mu_);
  interrupted_ = false;
}

uint64_t UploadWorker::passes() const {
  std::lock_guard<std::mutex> l(mu_);
  return passes_;
}

Status UploadWorker::Upload(std::unique_ptr<StreamUploader> *uploader) {
  auto url = ParseS3Url(o_.location);
  if (!url.ok()) return url.status();
  if (!store_) {  // opened once; until it opens, every pass tries again
    auto opened = o_.open ? o_.open() : OpenBucket(url.value(), o_.args);
    if (!opened.ok()) return opened.status();
    std::lock_guard<std::mutex> l(mu_);
    store_ = std::move(opened).value();
    if (stop_) store_->Cancel();
  }
  if (!*uploader) {
    VDB_RETURN_IF_ERROR(EnsureRemoteStore(store_.get(), url->prefix));
    *uploader = std::make_unique<StreamUploader>(store_.get(), url->prefix, o_.fs, o_.local_store,
                                                 o_.stream);
  }
  StreamUploadOptions so = o_.upload;
  so.on_confirmed = cb_.confirmed;
  auto r = (*uploader)->Pass(so);
  if (!r.ok()) return r.status();
  if (!r->confirmed_ids.empty() && cb_.uploaded) cb_.uploaded(r.value());
  return Status::Ok();
}

Status UploadWorker::BucketRetention(StreamUploader *uploader) {
  if (!o_.bucket_retention.active()) return Status::Ok();
  uint64_t now = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  std::vector<SegmentInfo> local;
  if (cb_.local_segments) local = cb_.local_segments();
  auto still_local = [&local](uint64_t id) {
    auto it = std::lower_bound(local.begin(), local.end(), id,
                               [](const SegmentInfo &s, uint64_t v) { return s.id < v; });
    return it != local.end() && it->id == id && it->local();
  };
  return uploader->ApplyRetention(o_.bucket_retention, now, still_local, cb_.removed).status();
}

void UploadWorker::Loop() {
  std::unique_ptr<StreamUploader> uploader;
  bool failing = false;
  auto backoff = o_.backoff_initial;
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      auto wait = failing ? backoff : o_.period;
      // After a failure only the backoff ends the wait (a kick would retry
      // a server that is down at every sealed segment).
      cv_.wait_for(l, wait, [this, failing] { return stop_ || flush_ || (kick_ && !failing); });
      if (stop_) return;
      kick_ = flush_ = false;
      started_++;
    }
    Status upload = Upload(&uploader);
    Status st = upload.ok() ? BucketRetention(uploader.get()) : upload;
    {
      std::lock_guard<std::mutex> l(mu_);
      passes_++;
      last_ = upload;
      if (stop_) return;
    }
    cv_.notify_all();  // a Flush() waits for this pass
    if (st.ok()) {
      if (failing && cb_.recovered) cb_.recovered();
      failing = false;
      backoff = o_.backoff_initial;
    } else {
      if (!failing && cb_.failing) cb_.failing(st);
      if (failing) backoff = std::min(backoff * 2, o_.backoff_max);
      failing = true;  // the uploader keeps what it learned: the next pass goes on
    }
  }
}

}  // namespace vdb::remote
