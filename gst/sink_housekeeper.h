/* SinkHousekeeper: vdbsink's background thread. It hands buffered frames to
 * the OS every flush period of wall-clock time (when the input stalls they
 * would otherwise wait for the next frame) and applies retention every
 * retention period, when kicked (a segment closed, a property changed), or
 * when the streaming thread finds the disk full (RunNow: it waits for one
 * pass, holding no lock of its own).
 *
 * Ownership: the Writer is shared with the element and must outlive Stop().
 * Thread rules: Start/Stop from one thread (the element's state changes);
 * Kick and RunNow from any thread while started. The callbacks run on the
 * housekeeping thread with no lock held.
 */
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "writer.h"

struct SinkHousekeeper {
  struct Callbacks {
    std::function<vdb::RetentionPolicy()> policy;
    /* Retention failed to delete. */
    std::function<void(const vdb::Status &)> failed;
    /* Free space fell below min-free-space (called once per crossing). */
    std::function<void(uint64_t free_bytes, uint64_t min_free)> disk_low;
  };

  void Start(std::shared_ptr<vdb::Writer> writer, Callbacks cb,
             std::chrono::milliseconds flush_period, std::chrono::milliseconds retention_period);
  void Stop();
  /* A retention pass soon (and a flush). */
  void Kick();
  /* A retention pass now; returns when it is done (at most 30 s). */
  void RunNow();

 private:
  void Loop();
  void Retention();

  std::shared_ptr<vdb::Writer> writer_;
  Callbacks cb_;
  std::chrono::milliseconds flush_period_{10}, retention_period_{10000};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  bool stop_ = false, kick_ = false, disk_low_ = false;
  uint64_t started_ = 0, done_ = 0; /* retention passes */
};
