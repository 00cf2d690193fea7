#include "sink_housekeeper.h"

#include <sys/time.h>

void SinkHousekeeper::Start(std::shared_ptr<vdb::Writer> writer, Callbacks cb,
                            std::chrono::milliseconds flush_period,
                            std::chrono::milliseconds retention_period) {
  writer_ = std::move(writer);
  cb_ = std::move(cb);
  flush_period_ = flush_period;
  retention_period_ = retention_period;
  stop_ = false;
  kick_ = true; /* apply retention to what earlier runs left, right away */
  disk_low_ = false;
  thread_ = std::thread(&SinkHousekeeper::Loop, this);
}

void SinkHousekeeper::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  writer_.reset();
}

void SinkHousekeeper::Kick() {
  std::lock_guard<std::mutex> l(mu_);
  kick_ = true;
  cv_.notify_one();
}

void SinkHousekeeper::RunNow() {
  std::unique_lock<std::mutex> l(mu_);
  uint64_t want = started_ + 1;
  kick_ = true;
  cv_.notify_one();
  done_cv_.wait_for(l, std::chrono::seconds(30), [this, want] { return stop_ || done_ >= want; });
}

static uint64_t NowUtc() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  return uint64_t(tv.tv_sec) * 1000000000ull + uint64_t(tv.tv_usec) * 1000ull;
}

void SinkHousekeeper::Retention() {
  vdb::RetentionPolicy p = cb_.policy();
  if (!p.active()) return;
  auto n = writer_->ApplyRetention(p, NowUtc());
  if (!n.ok()) {
    cb_.failed(n.status());
    return;
  }
  if (p.min_free_bytes) {
    auto free_bytes = vdb::DefaultFs()->FreeSpace(writer_->dir());
    bool low = free_bytes.ok() && free_bytes.value() < p.min_free_bytes;
    if (low && !disk_low_) cb_.disk_low(free_bytes.value(), p.min_free_bytes);
    disk_low_ = low;
  }
}

void SinkHousekeeper::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  auto next_retention = std::chrono::steady_clock::now();
  while (true) {
    cv_.wait_for(l, flush_period_, [this] { return stop_ || kick_; });
    if (stop_ && !kick_) break; /* a pass asked for is done before stopping */
    bool retention = kick_ || std::chrono::steady_clock::now() >= next_retention;
    kick_ = false;
    if (retention) started_++;
    l.unlock();
    (void)writer_->Flush(); /* a failure is retried with the next frame or flush */
    if (retention) {
      Retention();
      next_retention = std::chrono::steady_clock::now() + retention_period_;
    }
    l.lock();
    if (retention) {
      done_++;
      done_cv_.notify_all();
    }
    if (stop_) break;
  }
  done_cv_.notify_all();
}
