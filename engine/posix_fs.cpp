// PosixFs: the real file system behind the Fs interface.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "file.h"

namespace vdb {
namespace {

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixFile() override { ::close(fd_); }

  Status Append(const Slice *parts, int count) override {
    iovec iov[8];
    if (count > 8) return Status(Code::kInvalidArgument, "too many slices");
    size_t total = 0;
    for (int i = 0; i < count; i++) {
      iov[i].iov_base = const_cast<void *>(parts[i].data);
      iov[i].iov_len = parts[i].size;
      total += parts[i].size;
    }
    int first = 0;
    while (total > 0) {
      ssize_t n = ::pwritev(fd_, iov + first, count - first, static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "write " + path_);
      }
      size_ += static_cast<uint64_t>(n);
      total -= static_cast<size_t>(n);
      // Advance past what was written (short writes are retried).
      size_t left = static_cast<size_t>(n);
      while (first < count && left >= iov[first].iov_len) left -= iov[first++].iov_len;
      if (first < count) {
        iov[first].iov_base = static_cast<char *>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, void *buf, size_t size) override {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, static_cast<char *>(buf) + done, size - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "read " + path_);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "sync " + path_);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return Status::FromErrno(errno, "truncate " + path_);
    size_ = size;
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, "stat " + path_);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<uint64_t> NextData(uint64_t offset) override {
    off_t r = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
    if (r >= 0) return static_cast<uint64_t>(r);
    if (errno == ENXIO) return Size();  // only a hole (or nothing) follows
    return offset;                      // SEEK_DATA not supported here
  }

  const std::string &path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;  // append position
};

FileType TypeOfMode(mode_t m) {
  return S_ISREG(m)   ? FileType::kRegular
         : S_ISDIR(m) ? FileType::kDirectory
         : S_ISLNK(m) ? FileType::kSymlink
                      : FileType::kOther;
}

Status NotRegular(const std::string &path, FileType t) {
  return Status(Code::kCorrupt,
                path + " is " + FileTypeName(t) + ", not a regular file: refused (not followed)");
}

// open(2) under the store rule (file.h): no symlink followed, no blocking on
// a FIFO, only a regular file accepted. Returns the fd and fills *st.
Result<int> OpenRegular(const std::string &path, int flags, struct stat *st) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) {
    int e = errno;
    // ELOOP: the name is a symlink. EISDIR: a directory opened for writing.
    if (e == ELOOP) return NotRegular(path, FileType::kSymlink);
    if (e == EISDIR) return NotRegular(path, FileType::kDirectory);
    if (e == ENXIO) return NotRegular(path, FileType::kOther);
    return Status::FromErrno(e, "open " + path);
  }
  if (::fstat(fd, st) != 0) {
    int e = errno;
    ::close(fd);
    return Status::FromErrno(e, "stat " + path);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    return NotRegular(path, TypeOfMode(st->st_mode));
  }
  // A regular file: blocking mode as usual (O_NONBLOCK was only for the open).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

class PosixLock : public Lock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override { ::close(fd_); }  // closing releases the flock

 private:
  int fd_;
};

class PosixFs : public Fs {
 public:
  Result<std::unique_ptr<File>> Open(const std::string &path, OpenMode mode) override {
    int flags = 0;
    switch (mode) {
      case OpenMode::kRead:
        flags = O_RDONLY;
        break;
      case OpenMode::kAppend:
        flags = O_RDWR | O_CREAT;
        break;
      case OpenMode::kCreateExcl:
        flags = O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    struct stat st;
    VDB_ASSIGN_OR_RETURN(int fd, OpenRegular(path, flags, &st));
    return std::unique_ptr<File>(new PosixFile(fd, path, static_cast<uint64_t>(st.st_size)));
  }

  Status Rename(const std::string &from, const std::string &to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return Status::FromErrno(errno, "rename " + from + " to " + to);
    return Status::Ok();
  }

  Status Remove(const std::string &path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "remove " + path);
    return Status::Ok();
  }

  Status MakeDirs(const std::string &path) override {
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      cur = path.substr(0, pos);
      if (cur.empty()) continue;
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        return Status::FromErrno(errno, "create directory " + cur);
    }
    struct stat st;  // followed: the store itself may be reached through a symlink
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
    if (!S_ISDIR(st.st_mode)) return Status(Code::kInvalidArgument, path + " is not a directory");
    return Status::Ok();
  }

  Result<std::vector<std::string>> List(const std::string &dir) override {
    DIR *d = ::opendir(dir.c_str());
    if (!d) return Status::FromErrno(errno, "list " + dir);
    std::vector<std::string> names;
    while (dirent *e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    ::closedir(d);
    return names;
  }

  Status SyncDir(const std::string &dir) override {
    // Followed: fsync of a directory writes nothing, and the store itself
    // may be reached through a symlink.
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open directory " + dir);
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno(e, "sync directory " + dir);
    return Status::Ok();
  }

  bool Exists(const std::string &path) override {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }

  Result<FileType> TypeOf(const std::string &path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
    return TypeOfMode(st.st_mode);
  }

  Result<std::unique_ptr<Lock>> TryLock(const std::string &path, LockMode mode) override {
    struct stat st;
    auto opened = OpenRegular(path, O_RDWR | O_CREAT, &st);
    if (!opened.ok() && opened.status().err() == EACCES)
      opened = OpenRegular(path, O_RDONLY, &st);  // a read-only store: shared locks still work
    if (!opened.ok()) return opened.status();
    int fd = opened.value();
    int op = (mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
    if (::flock(fd, op) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK) return Status(Code::kLocked, path + " is locked by another process");
      return Status::FromErrno(e, "lock " + path);
    }
    return std::unique_ptr<Lock>(new PosixLock(fd));
  }

  Result<uint64_t> FreeSpace(const std::string &path) override {
    struct statvfs sv;
    if (::statvfs(path.c_str(), &sv) != 0) return Status::FromErrno(errno, "statvfs " + path);
    return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
  }
};

}  // namespace

Fs *DefaultFs() {
  static PosixFs fs;
  return &fs;
}

}  // namespace vdb
