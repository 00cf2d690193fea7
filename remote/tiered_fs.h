// TieredFs: a local store whose older segments may live only in its bucket
// (their catalog entries say LOCAL_GONE, FORMAT.md "Catalog"). Reads a file
// from the local store, and when it is not there, the same path below the
// bucket's prefix (RemoteFs); everything else (listing, locks, writes) is
// the local Fs's. So a Reader, and everything built on it, plays a recorder's
// store whole, local and uploaded, while the recorder goes on.
//
// Thread rules: as its two Fs (both thread-safe: TieredFs is). Neither Fs is
// owned; both outlive the TieredFs and every File it opened.
#pragma once

#include <string>

#include "file.h"

namespace vdb::remote {

class TieredFs : public Fs {
 public:
  // Paths below `local_store` map to the same names below `remote_store`.
  TieredFs(Fs *local, Fs *remote, std::string local_store, std::string remote_store);

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

 private:
  // The remote path of a local one below local_store_ ("" if not below it).
  std::string Remote(const std::string &path) const;

  Fs *const local_, *const remote_;
  std::string local_store_;
  const std::string remote_store_;
};

}  // namespace vdb::remote
