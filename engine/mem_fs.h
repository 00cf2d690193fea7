// MemFs: an in-memory Fs for tests that injects faults and simulates crashes.
//
// Model: each file has its live bytes and its durable bytes (as of the last
// Sync). Each name is durable once SyncDir() of its directory ran after it was
// created, renamed or removed. Crash() throws away what was not durable, the
// way a power loss does; with `torn_seed` it keeps a random prefix of each
// file's unsynced appended tail, the way a disk that wrote part of it does.
//
// Faults (see Faults): a byte budget after which appends fail with ENOSPC
// after writing a partial prefix, EIO on the Nth append or sync.
//
// Every name is a regular file or a directory: the hostile-name cases
// (symlinks, FIFOs) are tested on PosixFs in a temporary directory.
//
// Thread rules: all methods take one internal mutex; safe from many threads.
// Files opened before Crash() write to orphaned inodes after it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "file.h"

namespace vdb {

struct Faults {
  // Appends beyond this many more bytes fail with ENOSPC (the part that fits
  // is written first); removing a file gives its bytes back. UINT64_MAX:
  // unlimited.
  uint64_t space_left = UINT64_MAX;
  // Fail the Nth Append (1-based, counted from when set) with EIO; 0: never.
  uint64_t fail_append_at = 0;
  // Fail the Nth Sync with EIO; 0: never.
  uint64_t fail_sync_at = 0;
};

class MemFs : public Fs {
 public:
  MemFs();
  ~MemFs() override;

  void SetFaults(const Faults &f);
  // Simulated power loss. torn_seed == 0: unsynced data is dropped exactly.
  void Crash(uint64_t torn_seed = 0);
  // Test helpers.
  std::string Contents(const std::string &path);
  void SetContents(const std::string &path, const std::string &data);  // durable
  uint64_t appends() const { return appends_; }

  Result<std::unique_ptr<File>> Open(const std::string &path, OpenMode mode) override;
  Status Rename(const std::string &from, const std::string &to) override;
  Status Remove(const std::string &path) override;
  Status MakeDirs(const std::string &path) override;
  Result<std::vector<std::string>> List(const std::string &dir) override;
  Status SyncDir(const std::string &dir) override;
  bool Exists(const std::string &path) override;
  Result<FileType> TypeOf(const std::string &path) override;
  Result<std::unique_ptr<Lock>> TryLock(const std::string &path, LockMode mode) override;
  Result<uint64_t> FreeSpace(const std::string &path) override;

  struct Inode {
    std::string data;
    std::string durable;
  };

 private:
  friend class MemFile;
  friend class MemLock;
  Status DoAppend(Inode *node, const std::string &path, const Slice *parts, int count);
  Status DoSync(Inode *node, const std::string &path);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Inode>> live_;
  std::map<std::string, std::shared_ptr<Inode>> durable_;
  std::set<std::string> dirs_;
  std::map<std::string, int> locks_;  // >0: shared count, -1: exclusive
  Faults faults_;
  uint64_t crashes_ = 0;
  uint64_t appends_ = 0, appends_since_faults_ = 0, syncs_since_faults_ = 0;
};

}  // namespace vdb
