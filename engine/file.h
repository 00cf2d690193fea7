// The file abstraction: every byte the engine reads or writes goes through Fs
// and File, so tests can swap the real file system (PosixFs) for one that
// injects faults and simulates crashes (MemFs).
//
// Contract:
//  - A File is used by one thread at a time. Different Files may be used from
//    different threads, also on the same path (a reader beside a writer).
//  - Append writes all bytes or returns an error; after an error some prefix
//    of the bytes may be in the file (a torn write), and the caller truncates.
//  - Data is durable only after Sync() returns OK; a new or renamed name is
//    durable only after SyncDir() of its directory.
//  - Locks are advisory, per open lock object (flock semantics): a second
//    exclusive lock on the same path fails with kLocked, also within one
//    process. Dropping the Lock object releases it.
//
// The one rule for files inside a store (a store is hostile input: any of
// its names may have been replaced by a symlink, a FIFO, a directory or a
// device node, on purpose or by a broken backup):
//  - Open() and TryLock() never follow a symlink (O_NOFOLLOW) and open
//    without blocking (O_NONBLOCK, so a FIFO cannot hang the open), then
//    check with fstat that what they opened is a regular file before any
//    read or write. Anything else is kCorrupt with a message naming the path
//    and what it is ("... is a symbolic link, not a regular file").
//  - New files are created exclusively (kCreateExcl, O_EXCL: never through a
//    name planted in advance); WriteFileAtomic removes a stale temporary
//    name, never what it points to, before creating it exclusively.
//  - Rename() and Remove() act on the name itself (rename(2) and unlink(2)
//    do not follow a symlink in the last component).
//  - Whole-file reads take the most the caller accepts (ReadWholeFile's
//    max_bytes): a 50 GB sparse file is refused by its size, never read.
// The store's own directory may be reached through a symlink (a user's
// mount layout); every name below it obeys the rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "status.h"

namespace vdb {

struct Slice {
  const void *data;
  size_t size;
};

class File {
 public:
  virtual ~File() = default;
  // Appends the slices, in order, at the end of the file.
  virtual Status Append(const Slice *parts, int count) = 0;
  Status Append(const void *data, size_t size) {
    Slice s{data, size};
    return Append(&s, 1);
  }
  // Reads up to `size` bytes at `offset`; fewer only at end of file.
  virtual Result<size_t> ReadAt(uint64_t offset, void *buf, size_t size) = 0;
  virtual Status Sync() = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() = 0;
  // The first offset >= `offset` that holds data, skipping holes of a sparse
  // file (SEEK_DATA); the file size if only a hole follows. A file system
  // that cannot tell returns `offset`. Lets scans cost what the file really
  // holds, not its apparent size.
  virtual Result<uint64_t> NextData(uint64_t offset) { return offset; }
  virtual const std::string &path() const = 0;
};

enum class OpenMode {
  kRead,        // existing file, read only
  kAppend,      // existing or new file, read + append
  kCreateExcl,  // new file (fails with kExists, also for a dangling symlink), read + append
};

// What a name in a directory is, without following it.
enum class FileType { kRegular, kDirectory, kSymlink, kOther };
const char *FileTypeName(FileType t);

enum class LockMode { kShared, kExclusive };

class Lock {
 public:
  virtual ~Lock() = default;
};

class Fs {
 public:
  virtual ~Fs() = default;
  virtual Result<std::unique_ptr<File>> Open(const std::string &path, OpenMode mode) = 0;
  virtual Status Rename(const std::string &from, const std::string &to) = 0;
  virtual Status Remove(const std::string &path) = 0;
  // Creates the directory and missing parents; OK if it exists.
  virtual Status MakeDirs(const std::string &path) = 0;
  // Names (not paths) of the entries of a directory, unsorted.
  virtual Result<std::vector<std::string>> List(const std::string &dir) = 0;
  virtual Status SyncDir(const std::string &dir) = 0;
  // True if the name exists (a symlink exists, whatever it points to).
  virtual bool Exists(const std::string &path) = 0;
  // The type of the name itself (lstat); kNotFound if there is none.
  virtual Result<FileType> TypeOf(const std::string &path) = 0;
  // Non-blocking: kLocked if a conflicting lock is held.
  virtual Result<std::unique_ptr<Lock>> TryLock(const std::string &path, LockMode mode) = 0;
  // Bytes available to an unprivileged writer on the file system of `path`.
  virtual Result<uint64_t> FreeSpace(const std::string &path) = 0;
};

// The real file system (POSIX calls). Thread-safe; one shared instance.
Fs *DefaultFs();

std::string JoinPath(const std::string &a, const std::string &b);

// Reads a whole (small) file: kCorrupt, without reading it, if it holds more
// than max_bytes (a metadata file is small; a huge one is damage).
Result<std::string> ReadWholeFile(Fs *fs, const std::string &path, uint64_t max_bytes);
// kCorrupt naming the path unless the name is a directory (not a symlink).
Status CheckDirectory(Fs *fs, const std::string &path);
enum class Durability {
  kNone,  // readers see the old or the new file; a power loss may leave either
  kData,  // the new file's data is synced before the rename (the caller syncs the directory)
  kFull,  // data and rename are synced: the new file survives a power loss
};
// A new temporary file beside `path`, created exclusively: path.tmp (after
// removing a stale one), or path.tmp-<random> when something that cannot be
// removed (a directory) holds that name. Returns the file and its name.
struct TempFile {
  std::unique_ptr<File> file;
  std::string path;
};
Result<TempFile> CreateTemp(Fs *fs, const std::string &path);
// True for the names CreateTemp makes: leftovers of an interrupted write.
bool IsTempName(const std::string &name);

// Writes `data` to a temporary (CreateTemp) and renames it over `path`:
// readers see the old or the new file, whole, never a part of one. On
// failure the temporary is removed.
Status WriteFileAtomic(Fs *fs, const std::string &path, const std::string &data,
                       Durability durability = Durability::kFull);

}  // namespace vdb
