// Helpers shared by every Fs implementation.
#include "file.h"

namespace vdb {

std::string JoinPath(const std::string &a, const std::string &b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

const char *FileTypeName(FileType t) {
  switch (t) {
    case FileType::kRegular:
      return "a regular file";
    case FileType::kDirectory:
      return "a directory";
    case FileType::kSymlink:
      return "a symbolic link";
    case FileType::kOther:
      return "a FIFO, socket or device";
  }
  return "?";
}

Result<std::string> ReadWholeFile(Fs *fs, const std::string &path, uint64_t max_bytes) {
  VDB_ASSIGN_OR_RETURN(auto f, fs->Open(path, OpenMode::kRead));
  VDB_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  if (size > max_bytes)
    return Status(Code::kCorrupt, path + " is " + std::to_string(size) + " bytes, more than the " +
                                      std::to_string(max_bytes) + " such a file may hold");
  std::string data(size_t(size), '\0');
  VDB_ASSIGN_OR_RETURN(size_t n, f->ReadAt(0, data.data(), data.size()));
  data.resize(n);
  return data;
}

Status WriteFileAtomic(Fs *fs, const std::string &path, const std::string &data,
                       Durability durability) {
  std::string tmp = path + ".tmp";
  (void)fs->Remove(tmp);  // a leftover (or a planted name): the name, never its target
  {
    VDB_ASSIGN_OR_RETURN(auto f, fs->Open(tmp, OpenMode::kCreateExcl));
    Status st = f->Append(data.data(), data.size());
    if (st.ok() && durability != Durability::kNone) st = f->Sync();
    if (!st.ok()) {
      f.reset();
      (void)fs->Remove(tmp);
      return st;
    }
  }
  VDB_RETURN_IF_ERROR(fs->Rename(tmp, path));
  if (durability != Durability::kFull) return Status::Ok();
  auto slash = path.rfind('/');
  return fs->SyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

Status CheckDirectory(Fs *fs, const std::string &path) {
  VDB_ASSIGN_OR_RETURN(FileType t, fs->TypeOf(path));
  if (t != FileType::kDirectory)
    return Status(Code::kCorrupt,
                  path + " is " + FileTypeName(t) + ", not a directory: refused (not followed)");
  return Status::Ok();
}

}  // namespace vdb
