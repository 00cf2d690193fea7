// Helpers shared by every Fs implementation.
#include "file.h"

#include <random>

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

Result<TempFile> CreateTemp(Fs *fs, const std::string &path) {
  std::string tmp = path + ".tmp";
  (void)fs->Remove(tmp);  // a leftover (or a planted name): the name, never its target
  auto f = fs->Open(tmp, OpenMode::kCreateExcl);
  std::random_device rd;
  for (int i = 0; i < 8 && !f.ok() && f.status().code() == Code::kExists; i++) {
    tmp = path + ".tmp-" + std::to_string(rd());
    f = fs->Open(tmp, OpenMode::kCreateExcl);
  }
  if (!f.ok()) return f.status();
  return TempFile{std::move(f).value(), tmp};
}

bool IsTempName(const std::string &name) {
  return (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) ||
         name.find(".tmp-") != std::string::npos;
}

Status WriteFileAtomic(Fs *fs, const std::string &path, const std::string &data,
                       Durability durability) {
  VDB_ASSIGN_OR_RETURN(TempFile t, CreateTemp(fs, path));
  Status st = t.file->Append(data.data(), data.size());
  if (st.ok() && durability != Durability::kNone) st = t.file->Sync();
  t.file.reset();
  if (st.ok()) st = fs->Rename(t.path, path);
  if (!st.ok()) {
    (void)fs->Remove(t.path);
    return st;
  }
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
