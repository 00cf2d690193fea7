// RemoteFs: paths are object keys; files are read through a window of
// ranged GETs. Contract in remote_fs.h.
#include "remote_fs.h"

#include <algorithm>
#include <cstring>

namespace vdb::remote {
namespace {

class NoLock : public Lock {};

class RemoteFile : public File {
 public:
  RemoteFile(RemoteFs *fs, ObjectStore *store, std::string key, uint64_t size,
             const RemoteFsOptions &options)
      : fs_(fs),
        store_(store),
        key_(std::move(key)),
        size_(size),
        options_(options),
        next_window_(options.min_window) {}

  Status Append(const Slice *, int) override { return ReadOnly("append to"); }
  Status Sync() override { return ReadOnly("sync"); }
  Status Truncate(uint64_t) override { return ReadOnly("truncate"); }
  Result<uint64_t> Size() override { return size_; }
  const std::string &path() const override { return key_; }

  Result<size_t> ReadAt(uint64_t offset, void *buf, size_t size) override {
    if (offset >= size_ || size == 0) return size_t{0};
    size = static_cast<size_t>(std::min<uint64_t>(size, size_ - offset));
    uint64_t win_end = window_offset_ + window_.size();
    if (offset < window_offset_ || offset + size > win_end) {
      // Forward from the window's end (or inside it): linear reading, grow.
      bool forward = !window_.empty() && offset >= window_offset_ && offset <= win_end;
      next_window_ =
          forward ? std::min(next_window_ * 2, options_.max_window) : options_.min_window;
      VDB_RETURN_IF_ERROR(Fetch(offset, std::max(size, next_window_)));
    }
    std::memcpy(buf, window_.data() + (offset - window_offset_), size);
    return size;
  }

 private:
  Status Fetch(uint64_t offset, size_t want) {
    want = static_cast<size_t>(std::min<uint64_t>(want, size_ - offset));
    window_.clear();
    window_.shrink_to_fit();  // never two windows at once
    window_.resize(want);
    window_offset_ = offset;
    auto got = store_->ReadAt(key_, offset, window_.data(), want);
    if (!got.ok()) {
      window_.clear();
      return got.status();
    }
    fs_->CountGet(*got);
    if (*got != want) {  // the object is shorter than its HEAD said: replaced or cut
      window_.clear();
      return Status(Code::kCorrupt, store_->Describe(key_) + ": " + std::to_string(*got) +
                                        " bytes at offset " + std::to_string(offset) + ", " +
                                        std::to_string(want) + " expected (the object of " +
                                        std::to_string(size_) + " bytes changed)");
    }
    return Status::Ok();
  }
  Status ReadOnly(const char *op) const {
    return Status(Code::kUnsupported, std::string("cannot ") + op + " " + store_->Describe(key_) +
                                          ": a remote store is read-only");
  }

  RemoteFs *const fs_;
  ObjectStore *const store_;
  const std::string key_;
  const uint64_t size_;
  const RemoteFsOptions options_;
  std::vector<uint8_t> window_;
  uint64_t window_offset_ = 0;
  size_t next_window_;
};

// "a/b/c" -> "c"; "a/b/" -> "b".
std::string LastName(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

}  // namespace

namespace {
RemoteFsOptions Checked(RemoteFsOptions o) {
  o.min_window = std::max<size_t>(o.min_window, 4096);
  o.max_window = std::max(o.max_window, o.min_window);
  return o;
}
}  // namespace

RemoteFs::RemoteFs(ObjectStore *store, RemoteFsOptions options)
    : store_(store), options_(Checked(options)) {}

Status RemoteFs::ReadOnly(const char *op, const std::string &path) const {
  return Status(Code::kUnsupported, std::string("cannot ") + op + " " + store_->Describe(path) +
                                        ": a remote store is read-only");
}

Result<std::unique_ptr<File>> RemoteFs::Open(const std::string &path, OpenMode mode) {
  if (mode != OpenMode::kRead) return ReadOnly("write", path);
  VDB_RETURN_IF_ERROR(ValidateKey(path));
  heads_++;
  VDB_ASSIGN_OR_RETURN(ObjectMeta meta, store_->Head(path));
  return std::unique_ptr<File>(new RemoteFile(this, store_, path, meta.size, options_));
}

Status RemoteFs::Rename(const std::string &from, const std::string &) {
  return ReadOnly("rename", from);
}
Status RemoteFs::Remove(const std::string &path) {
  return ReadOnly("remove", path);
}
Status RemoteFs::MakeDirs(const std::string &path) {
  return ReadOnly("create", path);
}
Status RemoteFs::SyncDir(const std::string &) {
  return Status::Ok();
}

Result<std::vector<std::string>> RemoteFs::List(const std::string &dir) {
  VDB_RETURN_IF_ERROR(ValidateKey(dir));
  std::vector<std::string> names;
  std::string token;
  do {
    lists_++;
    VDB_ASSIGN_OR_RETURN(ListPage page, store_->List(dir + "/", token, kMaxListKeys, "/"));
    for (const ObjectEntry &o : page.objects) names.push_back(LastName(o.key));
    for (const std::string &p : page.common_prefixes) names.push_back(LastName(p));
    if (!page.next_token.empty() && page.next_token == token)
      return Status(Code::kCorrupt, store_->Describe(dir + "/") + ": the listing repeats a page");
    token = page.next_token;
  } while (!token.empty());
  if (names.empty()) {
    // S3 has no empty directories: no key below it means none.
    return Status(Code::kNotFound, store_->Describe(dir + "/") + ": no such directory", ENOENT);
  }
  return names;
}

bool RemoteFs::Exists(const std::string &path) {
  return TypeOf(path).ok();
}

Result<FileType> RemoteFs::TypeOf(const std::string &path) {
  VDB_RETURN_IF_ERROR(ValidateKey(path));
  heads_++;
  auto head = store_->Head(path);
  if (head.ok()) return FileType::kRegular;
  if (head.status().code() != Code::kNotFound) return head.status();
  lists_++;
  VDB_ASSIGN_OR_RETURN(ListPage page, store_->List(path + "/", "", 1));
  if (!page.objects.empty()) return FileType::kDirectory;
  return Status(Code::kNotFound, store_->Describe(path) + ": no such object", ENOENT);
}

Result<std::unique_ptr<Lock>> RemoteFs::TryLock(const std::string &path, LockMode mode) {
  if (mode != LockMode::kShared) return ReadOnly("lock", path);
  return std::unique_ptr<Lock>(new NoLock);
}

Result<uint64_t> RemoteFs::FreeSpace(const std::string &path) {
  return ReadOnly("measure free space of", path);
}

void RemoteFs::CountGet(uint64_t bytes) {
  gets_++;
  bytes_ += bytes;
}

RemoteFs::Stats RemoteFs::stats() const {
  return Stats{heads_.load(), gets_.load(), lists_.load(), bytes_.load()};
}

void RemoteFs::ResetStats() {
  heads_ = gets_ = lists_ = bytes_ = 0;
}

}  // namespace vdb::remote
