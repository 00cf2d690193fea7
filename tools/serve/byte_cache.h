// ByteCache: what `vdb serve` rendered (MP4 files, HLS segments,
// thumbnails), kept by key and evicted least-recently-used past a byte
// budget. Entries are GBytes: a rendered file is mapped (its pages are the
// kernel's page cache, not the heap) and unlinked when evicted. A response
// holding an evicted entry's bytes keeps them alive until it is sent.
//
// Thread rules: one thread (the server's main context).
#pragma once

#include <glib.h>

#include <list>
#include <string>
#include <unordered_map>

namespace vdbserve {

class ByteCache {
 public:
  explicit ByteCache(uint64_t budget) : budget_(budget) {}
  ~ByteCache();
  ByteCache(const ByteCache &) = delete;
  ByteCache &operator=(const ByteCache &) = delete;

  // A new reference, or nullptr.
  GBytes *Get(const std::string &key);
  // Takes `bytes` (one reference); `path` (may be "") is unlinked on
  // eviction. An entry larger than the budget is not kept.
  void Put(const std::string &key, GBytes *bytes, const std::string &path);
  uint64_t bytes() const { return used_; }

 private:
  struct Entry {
    std::string key, path;
    GBytes *bytes;
  };
  void Evict();
  uint64_t budget_, used_ = 0;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

// The bytes of a file (mapped); nullptr if it cannot be read.
GBytes *MapFile(const std::string &path);

}  // namespace vdbserve
