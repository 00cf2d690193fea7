// Status and Result<T>: how every engine call reports failure.
//
// Contract: no engine function throws across its API. A failed call returns a
// Status with a code, the errno it came from (0 if none) and a human-readable
// message that names the file and what was being done. Status and Result are
// plain values: copy/move freely, no thread rules.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <utility>

namespace vdb {

enum class Code {
  kOk = 0,
  kNotFound,         // store, stream, segment or file does not exist
  kExists,           // something that must be new already exists
  kLocked,           // another writer holds the stream
  kCorrupt,          // checksum or structure mismatch: data is damaged
  kNoSpace,          // ENOSPC / EDQUOT
  kIo,               // any other I/O error
  kInvalidArgument,  // caller error (bad name, bad timestamps, ...)
  kUnsupported,      // e.g. a store written by a newer format version
  kEnd,              // no more data (end of stream / of a live tail)
};

const char *code_name(Code c);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, int err = 0)
      : code_(code), err_(err), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  // Maps an errno to a code (ENOSPC -> kNoSpace, ENOENT -> kNotFound, ...).
  static Status FromErrno(int err, const std::string &what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int err() const { return err_; }
  const std::string &message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  int err_ = 0;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status &status() const { return status_; }
  T &value() & { return *value_; }
  const T &value() const & { return *value_; }
  T &&value() && { return std::move(*value_); }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }
  T &operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace vdb

#define VDB_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::vdb::Status vdb_status_ = (expr);        \
    if (!vdb_status_.ok()) return vdb_status_; \
  } while (0)

#define VDB_CONCAT_INNER(a, b) a##b
#define VDB_CONCAT(a, b) VDB_CONCAT_INNER(a, b)
#define VDB_ASSIGN_OR_RETURN(lhs, expr) \
  VDB_ASSIGN_OR_RETURN_IMPL(VDB_CONCAT(vdb_result_, __LINE__), lhs, expr)
#define VDB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
