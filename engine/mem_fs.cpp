#include "mem_fs.h"

#include <algorithm>
#include <random>

namespace vdb {
namespace {

std::string Parent(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

class MemFile : public File {
 public:
  MemFile(MemFs *fs, std::shared_ptr<MemFs::Inode> node, std::string path)
      : fs_(fs), node_(std::move(node)), path_(std::move(path)) {}

  Status Append(const Slice *parts, int count) override {
    return fs_->DoAppend(node_.get(), path_, parts, count);
  }
  Result<size_t> ReadAt(uint64_t offset, void *buf, size_t size) override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    if (offset >= node_->data.size()) return size_t{0};
    size_t n = std::min<size_t>(size, node_->data.size() - offset);
    std::copy_n(node_->data.data() + offset, n, static_cast<char *>(buf));
    return n;
  }
  Status Sync() override { return fs_->DoSync(node_.get(), path_); }
  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    node_->data.resize(size);
    return Status::Ok();
  }
  Result<uint64_t> Size() override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    return static_cast<uint64_t>(node_->data.size());
  }
  const std::string &path() const override { return path_; }

 private:
  MemFs *fs_;
  std::shared_ptr<MemFs::Inode> node_;
  std::string path_;
};

class MemLock : public Lock {
 public:
  MemLock(MemFs *fs, std::string path, uint64_t gen) : fs_(fs), path_(std::move(path)), gen_(gen) {}
  ~MemLock() override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    if (gen_ != fs_->crashes_) return;  // released by the crash
    int &v = fs_->locks_[path_];
    v = v > 0 ? v - 1 : 0;
  }

 private:
  MemFs *fs_;
  std::string path_;
  uint64_t gen_;
};

MemFs::MemFs() {
  dirs_.insert(".");
  dirs_.insert("/");
}
MemFs::~MemFs() = default;

void MemFs::SetFaults(const Faults &f) {
  std::lock_guard<std::mutex> l(mu_);
  faults_ = f;
  appends_since_faults_ = syncs_since_faults_ = 0;
}

void MemFs::Crash(uint64_t torn_seed) {
  std::lock_guard<std::mutex> l(mu_);
  std::mt19937_64 rng(torn_seed);
  // Fresh inodes: files opened before the crash keep writing to the old ones.
  live_.clear();
  for (auto &kv : durable_) live_[kv.first] = std::make_shared<Inode>(*kv.second);
  for (auto &kv : live_) {
    Inode &n = *kv.second;
    bool appended_only =
        n.data.size() > n.durable.size() && n.data.compare(0, n.durable.size(), n.durable) == 0;
    if (torn_seed != 0 && appended_only) {
      size_t extra = n.data.size() - n.durable.size();
      n.data.resize(n.durable.size() + rng() % (extra + 1));
    } else {
      n.data = n.durable;
    }
    n.durable = n.data;
  }
  durable_ = live_;
  locks_.clear();
  crashes_++;
}

std::string MemFs::Contents(const std::string &path) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(path);
  return it == live_.end() ? std::string() : it->second->data;
}

void MemFs::SetContents(const std::string &path, const std::string &data) {
  std::lock_guard<std::mutex> l(mu_);
  auto &node = live_[path];
  if (!node) node = std::make_shared<Inode>();
  node->data = node->durable = data;
  durable_[path] = node;
}

Status MemFs::DoAppend(Inode *node, const std::string &path, const Slice *parts, int count) {
  std::lock_guard<std::mutex> l(mu_);
  appends_++;
  if (faults_.fail_append_at && ++appends_since_faults_ == faults_.fail_append_at)
    return Status::FromErrno(EIO, "write " + path);
  for (int i = 0; i < count; i++) {
    const char *p = static_cast<const char *>(parts[i].data);
    size_t n = parts[i].size;
    if (faults_.space_left != UINT64_MAX) {
      size_t fit = static_cast<size_t>(std::min<uint64_t>(n, faults_.space_left));
      node->data.append(p, fit);
      faults_.space_left -= fit;
      if (fit < n) return Status::FromErrno(ENOSPC, "write " + path);
    } else {
      node->data.append(p, n);
    }
  }
  return Status::Ok();
}

Status MemFs::DoSync(Inode *node, const std::string &path) {
  std::lock_guard<std::mutex> l(mu_);
  if (faults_.fail_sync_at && ++syncs_since_faults_ == faults_.fail_sync_at)
    return Status::FromErrno(EIO, "sync " + path);
  node->durable = node->data;
  return Status::Ok();
}

Result<std::unique_ptr<File>> MemFs::Open(const std::string &path, OpenMode mode) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(path);
  if (mode == OpenMode::kRead && it == live_.end())
    return Status::FromErrno(ENOENT, "open " + path);
  if (mode == OpenMode::kCreateExcl && it != live_.end())
    return Status::FromErrno(EEXIST, "open " + path);
  if (it == live_.end()) {
    if (!dirs_.count(Parent(path))) return Status::FromErrno(ENOENT, "open " + path);
    it = live_.emplace(path, std::make_shared<Inode>()).first;
  }
  return std::unique_ptr<File>(new MemFile(this, it->second, path));
}

Status MemFs::Rename(const std::string &from, const std::string &to) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(from);
  if (it == live_.end()) return Status::FromErrno(ENOENT, "rename " + from);
  live_[to] = it->second;
  live_.erase(it);
  return Status::Ok();
}

Status MemFs::Remove(const std::string &path) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return Status::FromErrno(ENOENT, "remove " + path);
  // A disk-full budget gets the bytes back (when no other name holds them).
  auto d = durable_.find(path);
  long names = 1 + (d != durable_.end() && d->second == it->second);
  if (faults_.space_left != UINT64_MAX && it->second.use_count() == names)
    faults_.space_left += it->second->data.size();
  live_.erase(it);
  return Status::Ok();
}

Status MemFs::MakeDirs(const std::string &path) {
  std::lock_guard<std::mutex> l(mu_);
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    dirs_.insert(path.substr(0, pos));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> MemFs::List(const std::string &dir) {
  std::lock_guard<std::mutex> l(mu_);
  if (!dirs_.count(dir)) return Status::FromErrno(ENOENT, "list " + dir);
  std::vector<std::string> names;
  for (auto &kv : live_)
    if (Parent(kv.first) == dir) names.push_back(kv.first.substr(dir.size() + 1));
  for (auto &d : dirs_)
    if (d != dir && Parent(d) == dir) names.push_back(d.substr(dir.size() + 1));
  return names;
}

Status MemFs::SyncDir(const std::string &dir) {
  std::lock_guard<std::mutex> l(mu_);
  if (faults_.fail_sync_at && ++syncs_since_faults_ == faults_.fail_sync_at)
    return Status::FromErrno(EIO, "sync directory " + dir);
  for (auto it = durable_.begin(); it != durable_.end();)
    it = (Parent(it->first) == dir && !live_.count(it->first)) ? durable_.erase(it) : ++it;
  for (auto &kv : live_)
    if (Parent(kv.first) == dir) durable_[kv.first] = kv.second;
  return Status::Ok();
}

bool MemFs::Exists(const std::string &path) {
  std::lock_guard<std::mutex> l(mu_);
  return live_.count(path) || dirs_.count(path);
}

Result<FileType> MemFs::TypeOf(const std::string &path) {
  std::lock_guard<std::mutex> l(mu_);
  if (live_.count(path)) return FileType::kRegular;
  if (dirs_.count(path)) return FileType::kDirectory;
  return Status::FromErrno(ENOENT, "stat " + path);
}

Result<std::unique_ptr<Lock>> MemFs::TryLock(const std::string &path, LockMode mode) {
  std::lock_guard<std::mutex> l(mu_);
  int &v = locks_[path];
  if (v < 0 || (mode == LockMode::kExclusive && v > 0))
    return Status(Code::kLocked, path + " is locked by another process");
  v = mode == LockMode::kExclusive ? -1 : v + 1;
  return std::unique_ptr<Lock>(new MemLock(this, path, crashes_));
}

Result<uint64_t> MemFs::FreeSpace(const std::string &) {
  std::lock_guard<std::mutex> l(mu_);
  return faults_.space_left;
}

}  // namespace vdb
