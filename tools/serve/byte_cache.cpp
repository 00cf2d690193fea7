#include "byte_cache.h"

#include <glib/gstdio.h>

namespace vdbserve {

ByteCache::~ByteCache() {
  budget_ = 0;
  Evict();
}

GBytes *ByteCache::Get(const std::string &key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return g_bytes_ref(it->second->bytes);
}

void ByteCache::Put(const std::string &key, GBytes *bytes, const std::string &path) {
  auto it = index_.find(key);
  if (it != index_.end()) {  // rendered twice: keep the first
    g_bytes_unref(bytes);
    if (!path.empty() && path != it->second->path) g_unlink(path.c_str());
    return;
  }
  lru_.push_front(Entry{key, path, bytes});
  index_[key] = lru_.begin();
  used_ += g_bytes_get_size(bytes);
  Evict();
}

void ByteCache::Evict() {
  while (used_ > budget_ && !lru_.empty()) {
    Entry &e = lru_.back();
    used_ -= g_bytes_get_size(e.bytes);
    g_bytes_unref(e.bytes);
    if (!e.path.empty()) g_unlink(e.path.c_str());
    index_.erase(e.key);
    lru_.pop_back();
  }
}

GBytes *MapFile(const std::string &path) {
  GMappedFile *f = g_mapped_file_new(path.c_str(), FALSE, nullptr);
  if (!f) return nullptr;
  GBytes *b = g_mapped_file_get_bytes(f);
  g_mapped_file_unref(f);
  return b;
}

}  // namespace vdbserve
