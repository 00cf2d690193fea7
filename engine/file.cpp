// Helpers shared by every Fs implementation.
#include "file.h"

namespace vdb {

std::string JoinPath(const std::string &a, const std::string &b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

Result<std::string> ReadWholeFile(Fs *fs, const std::string &path) {
  VDB_ASSIGN_OR_RETURN(auto f, fs->Open(path, OpenMode::kRead));
  VDB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::string data(size, '\0');
  VDB_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, data.data(), data.size()));
  data.resize(n);
  return data;
}

Status WriteFileAtomic(Fs *fs, const std::string &path, const std::string &data,
                       Durability durability) {
  std::string tmp = path + ".tmp";
  {
    VDB_ASSIGN_OR_RETURN(auto f, fs->Open(tmp, OpenMode::kCreateTrunc));
    VDB_RETURN_IF_ERROR(f->Append(data.data(), data.size()));
    if (durability != Durability::kNone) VDB_RETURN_IF_ERROR(f->Sync());
  }
  VDB_RETURN_IF_ERROR(fs->Rename(tmp, path));
  if (durability != Durability::kFull) return Status::Ok();
  auto slash = path.rfind('/');
  return fs->SyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace vdb
