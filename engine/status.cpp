#include "status.h"

#include <cstring>

namespace vdb {

const char *code_name(Code c) {
  switch (c) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not found";
    case Code::kExists:
      return "exists";
    case Code::kLocked:
      return "locked";
    case Code::kCorrupt:
      return "corrupt";
    case Code::kNoSpace:
      return "no space";
    case Code::kIo:
      return "I/O error";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kEnd:
      return "end";
  }
  return "unknown";
}

Status Status::FromErrno(int err, const std::string &what) {
  Code code = Code::kIo;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      code = Code::kNoSpace;
      break;
    case ENOENT:
      code = Code::kNotFound;
      break;
    case EEXIST:
      code = Code::kExists;
      break;
    case EWOULDBLOCK:
      code = Code::kLocked;
      break;
    case EINVAL:
      code = Code::kInvalidArgument;
      break;
    default:
      break;
  }
  return Status(code, what + ": " + std::strerror(err), err);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace vdb
