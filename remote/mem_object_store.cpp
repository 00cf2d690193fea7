#include "mem_object_store.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "crc32c.h"

namespace vdb::remote {

namespace {

std::string Hex(const void *data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  auto *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < n; i++) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

bool Unhex(const std::string &s, std::string *out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    auto v = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = v(s[i]), lo = v(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *out += char(hi * 16 + lo);
  }
  return true;
}

// An opaque, content-derived tag (not an MD5): CRC32C, FNV-1a and the size.
std::string ContentTag(const std::string &data) {
  uint64_t fnv = 1469598103934665603ull;
  for (unsigned char c : data) fnv = (fnv ^ c) * 1099511628211ull;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08x%016llx%08llx", vdb::crc32c(data.data(), data.size()),
                (unsigned long long)fnv, (unsigned long long)(data.size() & 0xffffffffu));
  return buf;
}

}  // namespace

MemObjectStore::MemObjectStore(std::string bucket) : bucket_(std::move(bucket)) {}
MemObjectStore::~MemObjectStore() = default;

void MemObjectStore::SetFaults(const ObjectFaults &f) {
  std::lock_guard<std::mutex> l(mu_);
  faults_ = f;
  counted_since_faults_ = 0;
}

std::string MemObjectStore::Describe(const std::string &key) const {
  return "mem://" + bucket_ + "/" + key;
}

Status MemObjectStore::Enter(const char *op, const std::string &key) {
  uint64_t stall_ms = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    calls_++;
    calls_by_op_[op]++;
    const ObjectFaults &f = faults_;
    if (f.down)
      return Status(Code::kIo,
                    std::string(op) + " " + Describe(key) +
                        ": cannot connect to the server (connection refused, simulated)",
                    ECONNREFUSED);
    if (!f.op.empty() && f.op != op) return Status::Ok();
    uint64_t n = ++counted_since_faults_;
    if (f.fail_call_at != 0 && n >= f.fail_call_at && n < f.fail_call_at + f.fail_count)
      return Status(f.fail_code,
                    std::string(op) + " " + Describe(key) + ": injected fault (call " +
                        std::to_string(n) + ")",
                    f.fail_code == Code::kInvalidArgument ? EACCES : EIO);
    if (f.stall_call_at != 0 && n == f.stall_call_at)
      stall_ms = f.stall_ms;
    else
      return Status::Ok();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
  return Status(Code::kIo,
                std::string(op) + " " + Describe(key) + ": no answer within " +
                    std::to_string(stall_ms) + " ms (stalled server, simulated)",
                ETIMEDOUT);
}

Result<std::string> MemObjectStore::ReadRange(File *file, uint64_t offset, uint64_t length,
                                              const std::string &what) {
  std::string data(size_t(length), '\0');
  size_t got = 0;
  while (got < data.size()) {
    VDB_ASSIGN_OR_RETURN(size_t n, file->ReadAt(offset + got, &data[got], data.size() - got));
    if (n == 0)
      return Status(Code::kCorrupt, what + ": " + file->path() + " ends at " +
                                        std::to_string(offset + got) + ", before the " +
                                        std::to_string(length) + " bytes to upload from " +
                                        std::to_string(offset));
    got += n;
  }
  return data;
}

Result<ObjectMeta> MemObjectStore::Put(const std::string &key, const void *data, size_t size) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("Put", key));
  Obj o{std::string(static_cast<const char *>(data), size), ""};
  o.etag = ContentTag(o.data);
  std::lock_guard<std::mutex> l(mu_);
  bytes_written_ += size;
  ObjectMeta meta{size, o.etag};
  objects_[key] = std::move(o);
  return meta;
}

Result<ObjectMeta> MemObjectStore::PutIfAbsent(const std::string &key, const void *data,
                                               size_t size) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("Put", key));
  Obj o{std::string(static_cast<const char *>(data), size), ""};
  o.etag = ContentTag(o.data);
  std::lock_guard<std::mutex> l(mu_);
  if (objects_.count(key))
    return Status(Code::kExists, Describe(key) + ": the object exists already");
  bytes_written_ += size;
  ObjectMeta meta{size, o.etag};
  objects_[key] = std::move(o);
  return meta;
}

Result<ObjectMeta> MemObjectStore::PutFile(const std::string &key, File *file, uint64_t offset,
                                           uint64_t length) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  if (length > kMaxPartSize)
    return Status(Code::kInvalidArgument,
                  "PutFile " + Describe(key) + ": more than 5 GiB in one request (use UploadFile)");
  VDB_RETURN_IF_ERROR(Enter("PutFile", key));
  VDB_ASSIGN_OR_RETURN(std::string data,
                       ReadRange(file, offset, length, "PutFile " + Describe(key)));
  Obj o{std::move(data), ""};
  o.etag = ContentTag(o.data);
  std::lock_guard<std::mutex> l(mu_);
  bytes_written_ += length;
  ObjectMeta meta{length, o.etag};
  objects_[key] = std::move(o);
  return meta;
}

Result<ObjectMeta> MemObjectStore::Head(const std::string &key) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("Head", key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end())
    return Status(Code::kNotFound, "Head " + Describe(key) + ": no such object", ENOENT);
  return ObjectMeta{it->second.data.size(), it->second.etag};
}

Result<size_t> MemObjectStore::ReadAt(const std::string &key, uint64_t offset, void *buf,
                                      size_t size) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("ReadAt", key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end())
    return Status(Code::kNotFound, "ReadAt " + Describe(key) + ": no such object", ENOENT);
  const std::string &d = it->second.data;
  if (offset >= d.size()) return size_t(0);
  size_t n = size_t(std::min<uint64_t>(size, d.size() - offset));
  std::memcpy(buf, d.data() + offset, n);
  bytes_read_ += n;
  return n;
}

Result<std::string> MemObjectStore::GetAll(const std::string &key, uint64_t max_bytes) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("GetAll", key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end())
    return Status(Code::kNotFound, "GetAll " + Describe(key) + ": no such object", ENOENT);
  if (it->second.data.size() > max_bytes)
    return Status(Code::kCorrupt, "GetAll " + Describe(key) + ": the object is " +
                                      std::to_string(it->second.data.size()) +
                                      " bytes, more than the " + std::to_string(max_bytes) +
                                      " allowed");
  bytes_read_ += it->second.data.size();
  return it->second.data;
}

Result<ListPage> MemObjectStore::List(const std::string &prefix, const std::string &token,
                                      int max_keys, const std::string &delimiter) {
  if (max_keys < 1 || max_keys > kMaxListKeys)
    return Status(Code::kInvalidArgument, "List " + Describe(prefix) + ": max_keys must be 1.." +
                                              std::to_string(kMaxListKeys) + ", not " +
                                              std::to_string(max_keys));
  std::string after;
  if (!token.empty() && (token.compare(0, 3, "m1:") != 0 || !Unhex(token.substr(3), &after)))
    return Status(Code::kInvalidArgument,
                  "List " + Describe(prefix) + ": not a continuation token of this store");
  VDB_RETURN_IF_ERROR(Enter("List", prefix));
  std::lock_guard<std::mutex> l(mu_);
  ListPage page;
  std::string last;
  int n = 0;
  auto it =
      token.empty() || after < prefix ? objects_.lower_bound(prefix) : objects_.upper_bound(after);
  for (; it != objects_.end(); ++it) {
    const std::string &k = it->first;
    if (k.compare(0, prefix.size(), prefix) != 0) break;
    std::string common;
    if (!delimiter.empty()) {
      size_t d = k.find(delimiter, prefix.size());
      if (d != std::string::npos) common = k.substr(0, d + delimiter.size());
    }
    // Keys rolled up into the common prefix the previous page ended with.
    if (!common.empty() && common == after) continue;
    if (!common.empty() && !page.common_prefixes.empty() && page.common_prefixes.back() == common)
      continue;
    if (n == max_keys) {
      page.next_token = "m1:" + Hex(last.data(), last.size());
      break;
    }
    if (!common.empty()) {
      page.common_prefixes.push_back(common);
      last = common;
    } else {
      page.objects.push_back(ObjectEntry{k, it->second.data.size(), it->second.etag});
      last = k;
    }
    n++;
  }
  return page;
}

Status MemObjectStore::Delete(const std::string &key) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("Delete", key));
  std::lock_guard<std::mutex> l(mu_);
  objects_.erase(key);
  return Status::Ok();
}

Result<std::string> MemObjectStore::CreateMultipartUpload(const std::string &key) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("CreateMultipartUpload", key));
  std::lock_guard<std::mutex> l(mu_);
  // Characters an S3 upload id may hold and a URL must encode.
  std::string id = "2~mem/" + std::to_string(next_upload_++) + "+x=";
  uploads_[id].key = key;
  return id;
}

Result<std::string> MemObjectStore::UploadPart(const std::string &key, const std::string &upload_id,
                                               int number, File *file, uint64_t offset,
                                               uint64_t length) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  const std::string what = "UploadPart " + Describe(key) + " part " + std::to_string(number);
  if (number < 1 || number > kMaxParts)
    return Status(Code::kInvalidArgument, what + ": part numbers are 1..10000");
  if (length > kMaxPartSize)
    return Status(Code::kInvalidArgument, what + ": a part holds at most 5 GiB");
  VDB_RETURN_IF_ERROR(Enter("UploadPart", key));
  VDB_ASSIGN_OR_RETURN(std::string data, ReadRange(file, offset, length, what));
  std::lock_guard<std::mutex> l(mu_);
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key)
    return Status(Code::kNotFound, what + ": no such upload (completed or aborted)", ENOENT);
  Obj &p = it->second.parts[number];
  p.data = std::move(data);
  p.etag = ContentTag(p.data);
  bytes_written_ += length;
  return p.etag;
}

Result<std::vector<PartInfo>> MemObjectStore::ListParts(const std::string &key,
                                                        const std::string &upload_id) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("ListParts", key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key)
    return Status(Code::kNotFound,
                  "ListParts " + Describe(key) + ": no such upload (completed or aborted)", ENOENT);
  std::vector<PartInfo> out;
  for (auto &[n, p] : it->second.parts) out.push_back(PartInfo{n, p.data.size(), p.etag});
  return out;
}

Result<ObjectMeta> MemObjectStore::CompleteMultipartUpload(const std::string &key,
                                                           const std::string &upload_id,
                                                           const std::vector<PartInfo> &parts) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  const std::string what = "CompleteMultipartUpload " + Describe(key);
  VDB_RETURN_IF_ERROR(Enter("CompleteMultipartUpload", key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key)
    return Status(Code::kNotFound, what + ": no such upload (completed or aborted)", ENOENT);
  if (parts.empty()) return Status(Code::kInvalidArgument, what + ": no parts");
  Obj o;
  std::string tags;
  for (size_t i = 0; i < parts.size(); i++) {
    const PartInfo &want = parts[i];
    if (i > 0 && want.number <= parts[i - 1].number)
      return Status(Code::kInvalidArgument,
                    what + ": part numbers not ascending (InvalidPartOrder)");
    auto p = it->second.parts.find(want.number);
    if (p == it->second.parts.end() || p->second.etag != want.etag)
      return Status(Code::kInvalidArgument, what + ": part " + std::to_string(want.number) +
                                                " was not uploaded with that ETag (InvalidPart)");
    if (i + 1 < parts.size() && p->second.data.size() < faults_.min_part_size)
      return Status(Code::kInvalidArgument,
                    what + ": part " + std::to_string(want.number) + " is " +
                        std::to_string(p->second.data.size()) +
                        " bytes, less than the smallest part (EntityTooSmall)");
    tags += p->second.etag;
  }
  for (auto &want : parts) o.data += it->second.parts[want.number].data;
  o.etag = ContentTag(tags) + "-" + std::to_string(parts.size());
  ObjectMeta meta{o.data.size(), o.etag};
  objects_[key] = std::move(o);
  uploads_.erase(it);
  return meta;
}

Status MemObjectStore::AbortMultipartUpload(const std::string &key, const std::string &upload_id) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  VDB_RETURN_IF_ERROR(Enter("AbortMultipartUpload", key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = uploads_.find(upload_id);
  if (it != uploads_.end() && it->second.key == key) uploads_.erase(it);
  return Status::Ok();
}

Result<std::vector<UploadEntry>> MemObjectStore::ListMultipartUploads(const std::string &prefix,
                                                                      size_t max_uploads) {
  VDB_RETURN_IF_ERROR(Enter("ListMultipartUploads", prefix));
  std::lock_guard<std::mutex> l(mu_);
  std::vector<UploadEntry> out;
  for (auto &[id, u] : uploads_) {
    if (u.key.compare(0, prefix.size(), prefix) != 0) continue;
    if (out.size() == max_uploads)
      return Status(Code::kCorrupt, "ListMultipartUploads " + Describe(prefix) + ": more than " +
                                        std::to_string(max_uploads) + " unfinished uploads");
    out.push_back(UploadEntry{u.key, id});
  }
  std::sort(out.begin(), out.end(), [](const UploadEntry &a, const UploadEntry &b) {
    return a.key != b.key ? a.key < b.key : a.upload_id < b.upload_id;
  });
  return out;
}

std::optional<std::string> MemObjectStore::Object(const std::string &key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second.data;
}

void MemObjectStore::SetObject(const std::string &key, const std::string &data) {
  std::lock_guard<std::mutex> l(mu_);
  objects_[key] = Obj{data, ContentTag(data)};
}

bool MemObjectStore::TruncateObject(const std::string &key, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end() || size > it->second.data.size()) return false;
  it->second.data.resize(size_t(size));
  return true;
}

bool MemObjectStore::AlterObject(const std::string &key, uint64_t offset, uint8_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end() || offset >= it->second.data.size()) return false;
  it->second.data[size_t(offset)] = char(uint8_t(it->second.data[size_t(offset)]) ^ mask);
  return true;
}

std::vector<std::string> MemObjectStore::Keys() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (auto &[k, o] : objects_) out.push_back(k);
  return out;
}

size_t MemObjectStore::PendingUploads() const {
  std::lock_guard<std::mutex> l(mu_);
  return uploads_.size();
}

uint64_t MemObjectStore::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

uint64_t MemObjectStore::calls(const std::string &op) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = calls_by_op_.find(op);
  return it == calls_by_op_.end() ? 0 : it->second;
}

uint64_t MemObjectStore::bytes_read() const {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_read_;
}

uint64_t MemObjectStore::bytes_written() const {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_written_;
}

void MemObjectStore::ResetCounters() {
  std::lock_guard<std::mutex> l(mu_);
  calls_ = bytes_read_ = bytes_written_ = 0;
  calls_by_op_.clear();
}

}  // namespace vdb::remote
