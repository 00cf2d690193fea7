// TieredFs: contract in tiered_fs.h.
#include "tiered_fs.h"

namespace vdb::remote {

TieredFs::TieredFs(Fs *local, Fs *remote, std::string local_store, std::string remote_store)
    : local_(local),
      remote_(remote),
      local_store_(std::move(local_store)),
      remote_store_(std::move(remote_store)) {
  while (local_store_.size() > 1 && local_store_.back() == '/') local_store_.pop_back();
}

std::string TieredFs::Remote(const std::string &path) const {
  if (path.size() <= local_store_.size() + 1 ||
      path.compare(0, local_store_.size(), local_store_) || path[local_store_.size()] != '/')
    return "";
  return remote_store_ + path.substr(local_store_.size());
}

Result<std::unique_ptr<File>> TieredFs::Open(const std::string &path, OpenMode mode) {
  auto f = local_->Open(path, mode);
  if (f.ok() || mode != OpenMode::kRead || f.status().code() != Code::kNotFound) return f;
  std::string r = Remote(path);
  if (r.empty()) return f;
  auto rf = remote_->Open(r, mode);
  // Not in the bucket either: say so about the local name.
  if (!rf.ok() && rf.status().code() == Code::kNotFound) return f;
  return rf;
}

bool TieredFs::Exists(const std::string &path) {
  if (local_->Exists(path)) return true;
  std::string r = Remote(path);
  return !r.empty() && remote_->Exists(r);
}

Result<FileType> TieredFs::TypeOf(const std::string &path) {
  auto t = local_->TypeOf(path);
  if (t.ok() || t.status().code() != Code::kNotFound) return t;
  std::string r = Remote(path);
  if (r.empty()) return t;
  auto rt = remote_->TypeOf(r);
  return rt.ok() ? rt : t;
}

Status TieredFs::Rename(const std::string &from, const std::string &to) {
  return local_->Rename(from, to);
}
Status TieredFs::Remove(const std::string &path) {
  return local_->Remove(path);
}
Status TieredFs::MakeDirs(const std::string &path) {
  return local_->MakeDirs(path);
}
Result<std::vector<std::string>> TieredFs::List(const std::string &dir) {
  return local_->List(dir);
}
Status TieredFs::SyncDir(const std::string &dir) {
  return local_->SyncDir(dir);
}
Result<std::unique_ptr<Lock>> TieredFs::TryLock(const std::string &path, LockMode mode) {
  return local_->TryLock(path, mode);
}
Result<uint64_t> TieredFs::FreeSpace(const std::string &path) {
  return local_->FreeSpace(path);
}

}  // namespace vdb::remote
