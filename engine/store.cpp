#include "store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog.h"
#include "format.h"
#include "segment_info.h"

namespace vdb {
namespace {
const char kMarker[] = "vdb-store.json";
}

bool ValidStreamName(const std::string &name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Status PrepareStore(Fs *fs, const std::string &store, bool create) {
  std::string marker = JoinPath(store, kMarker);
  auto data = ReadWholeFile(fs, marker, kMaxMarkerFileSize);
  if (data.ok()) {
    auto j = nlohmann::json::parse(data.value(), nullptr, false);
    // Checked field by field: nlohmann's value() throws on a wrong type.
    bool intact = !j.is_discarded() && j.is_object() && j.contains("format") &&
                  j["format"].is_string() && j["format"].get<std::string>() == "vdb-store" &&
                  j.contains("version") && j["version"].is_number_unsigned();
    if (intact) {
      uint64_t v = j["version"].get<uint64_t>();
      if (v > kFormatVersion)
        return Status(Code::kUnsupported, store + " was written by vdb format version " +
                                              std::to_string(v) + "; this build reads up to " +
                                              std::to_string(kFormatVersion));
      // A writer of a newer version marks the store as such: older readers
      // then refuse it with a clear message instead of meeting newer files.
      if (!create || v == kFormatVersion) return Status::Ok();
    } else if (!create) {
      // Damaged. Every file header carries its own version, so readers go on;
      // a writer writes the marker again.
      return Status::Ok();
    }
  } else if (data.status().code() == Code::kCorrupt) {
    return data.status();  // not a regular file, or huge: not ours to replace
  } else if (data.status().code() != Code::kNotFound) {
    return data.status();
  } else if (!create) {
    if (fs->Exists(store)) return Status(Code::kNotFound, store + " is not a vdb store");
    return Status(Code::kNotFound, "store " + store + " does not exist");
  }
  VDB_RETURN_IF_ERROR(fs->MakeDirs(store));
  nlohmann::json j = {{"format", "vdb-store"}, {"version", kFormatVersion}};
  return WriteFileAtomic(fs, marker, j.dump() + "\n");
}

Result<std::string> StreamDir(const std::string &store, const std::string &stream) {
  if (!ValidStreamName(stream))
    return Status(Code::kInvalidArgument,
                  "invalid stream name '" + stream + "' (use 1-64 of A-Z a-z 0-9 _ . -)");
  return JoinPath(store, stream);
}

bool HasSegmentFiles(Fs *fs, const std::string &dir) {
  auto names = fs->List(dir);
  if (!names.ok()) return false;
  uint64_t id;
  std::string ext;
  for (const auto &n : names.value())
    if (ParseSegmentFileName(n, &id, &ext) && ext == "vdbf") return true;
  return false;
}

Result<std::vector<std::string>> ListStreams(Fs *fs, const std::string &store) {
  VDB_ASSIGN_OR_RETURN(auto names, fs->List(store));
  std::vector<std::string> out;
  for (const auto &n : names) {
    if (!ValidStreamName(n)) continue;
    std::string dir = JoinPath(store, n);
    auto type = fs->TypeOf(dir);  // a symlink in place of a stream is not followed
    if (!type.ok() || type.value() != FileType::kDirectory) continue;
    // A stream whose catalog was lost is still a stream: its files are the truth.
    if (fs->Exists(Catalog::Path(dir)) || HasSegmentFiles(fs, dir)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::unique_ptr<Lock>> LockStore(Fs *fs, const std::string &store,
                                        std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto lock = fs->TryLock(JoinPath(store, kMarker), LockMode::kExclusive);
    if (lock.ok() || lock.status().code() != Code::kLocked ||
        std::chrono::steady_clock::now() >= until)
      return lock;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace vdb
