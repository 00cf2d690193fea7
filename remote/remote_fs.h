// RemoteFs: a store in a bucket, seen through the engine's Fs, read-only.
//
// The bucket holds a store with the same layout as on disk (FORMAT.md,
// "Object storage"): the path "PREFIX/vdb-store.json" is the object of that
// key, "PREFIX/cam1/000000000001.vdbf" another. So the engine's Reader,
// VerifyStream and everything built on them (vdbsrc, vdb info, verify,
// export) read a remote store unchanged, with every record's CRC checked as
// for a local file: open the store "PREFIX" with this Fs instead of
// DefaultFs(). Paths are keys: relative, no leading '/', no "." or "..".
//
// Reading: Open() costs one HEAD (the object's size, fixed for the File's
// life: objects are immutable, and a re-uploaded catalog is seen by opening
// it again). ReadAt() reads through a window of the object held by the File:
// a read outside it fetches one ranged GET of at least the read's size,
// starting at its offset; the window starts at `min_window` bytes and
// doubles while reads go forward through the object (linear playback: few,
// large GETs), up to `max_window`; a read elsewhere (a seek) starts again
// from `min_window`. So a seek costs the index object and about one GOP of
// frames, not the segment. Memory: at most max_window bytes per open File
// (the engine keeps a few segments open: Reader's cache).
// List() lists keys with delimiter '/' (files and the "directories" below);
// TypeOf() is kRegular for an object, kDirectory for a prefix that has
// objects below it. TryLock(kShared) succeeds (there is no writer's lock to
// respect: uploaded segments are sealed); everything that writes is
// kUnsupported ("... is a read-only remote store").
//
// Thread rules: RemoteFs is thread-safe (as its ObjectStore is); each File
// is used by one thread at a time (file.h). The ObjectStore is not owned and
// must outlive the RemoteFs and every File it opened.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "file.h"
#include "object_store.h"

namespace vdb::remote {

struct RemoteFsOptions {
  size_t min_window = 64u << 10;
  size_t max_window = 8u << 20;
};

class RemoteFs : public Fs {
 public:
  explicit RemoteFs(ObjectStore *store, RemoteFsOptions options = {});

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

  struct Stats {
    uint64_t heads = 0, gets = 0, lists = 0;
    uint64_t bytes_fetched = 0;  // object bytes received by GETs
  };
  Stats stats() const;
  void ResetStats();

  // Counted by the Files this Fs opened.
  void CountGet(uint64_t bytes);

 private:
  Status ReadOnly(const char *op, const std::string &path) const;

  ObjectStore *const store_;
  const RemoteFsOptions options_;
  std::atomic<uint64_t> heads_{0}, gets_{0}, lists_{0}, bytes_{0};
};

}  // namespace vdb::remote
