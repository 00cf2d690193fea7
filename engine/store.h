// Store layout: a store is a directory holding one directory per stream.
//
//   STORE/vdb-store.json     marker: {"format": "vdb-store", "version": 1};
//                            flock(LOCK_EX) on it while a store-wide file
//                            (remote.json) is read and rewritten
//   STORE/<stream>/LOCK      the writer's exclusive lock
//   STORE/<stream>/catalog.vdbc, <id>.vdbf, <id>.vdbi, <id>.json
//
// Stateless functions; thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "file.h"

namespace vdb {

// Stream names: 1-64 characters of [A-Za-z0-9_.-], not starting with '.'.
bool ValidStreamName(const std::string &name);
// Checks the store marker (kNotFound if absent and !create; kUnsupported if
// written by a newer version; kCorrupt if it is not a regular file or is
// larger than 4 KiB); with create, makes the directory and marker. A marker
// whose content is damaged is no obstacle (every file header carries its
// version): readers go on and a writer (create) writes it again.
Status PrepareStore(Fs *fs, const std::string &store, bool create);
// Excludes other processes (and threads) from read-modify-writes of
// store-wide files: an exclusive lock on the marker, waited for up to
// `wait` (kLocked after it). The store must exist (PrepareStore).
Result<std::unique_ptr<Lock>> LockStore(Fs *fs, const std::string &store,
                                        std::chrono::milliseconds wait);
// Path of a stream's directory; kInvalidArgument for a bad name.
Result<std::string> StreamDir(const std::string &store, const std::string &stream);
// True if `dir` holds a segment's frame file (<id>.vdbf).
bool HasSegmentFiles(Fs *fs, const std::string &dir);
// Names of the streams in a store, sorted: directories (not symlinks) with
// a catalog or segment files.
Result<std::vector<std::string>> ListStreams(Fs *fs, const std::string &store);

}  // namespace vdb
