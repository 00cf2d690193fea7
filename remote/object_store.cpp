// What every ObjectStore shares: key rules and the resumable upload driver.
#include "object_store.h"

#include <algorithm>
#include <map>
#include <set>

namespace vdb::remote {

Status ValidateKey(const std::string &key) {
  auto bad = [&](const std::string &why) {
    std::string shown = key.size() > 200 ? key.substr(0, 200) + "..." : key;
    for (char &c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return Status(Code::kInvalidArgument, "object key \"" + shown + "\" refused: " + why);
  };
  if (key.empty()) return bad("empty");
  if (key.size() > 1024) return bad("longer than 1024 bytes");
  for (char c : key)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return bad("holds a control character");
  if (key.front() == '/') return bad("starts with '/'");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string seg = key.substr(start, end - start);
    if (seg.empty()) return bad("has an empty path segment (\"//\" or a trailing '/')");
    if (seg == "." || seg == "..") return bad("has a \".\" or \"..\" path segment");
    start = end + 1;
  }
  return Status::Ok();
}

uint64_t PlanPartSize(uint64_t length, const UploadOptions &options) {
  uint64_t part = std::max(options.part_size, kMinPartSize);
  // Enough parts of `part` bytes to hold the file, within kMaxParts.
  if (length > part * kMaxParts) part = (length + kMaxParts - 1) / kMaxParts;
  return std::min(part, kMaxPartSize);
}

Result<UploadResult> UploadFile(ObjectStore *store, const std::string &key, File *file,
                                uint64_t offset, uint64_t length, const UploadOptions &options,
                                const std::string &resume_upload_id) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  UploadResult out;
  if (length <= options.multipart_threshold && length <= kMaxPartSize) {
    VDB_ASSIGN_OR_RETURN(out.meta, store->PutFile(key, file, offset, length));
    out.parts_sent = 1;
    out.bytes_sent = length;
    return out;
  }
  const uint64_t part = PlanPartSize(length, options);
  const uint64_t nparts = (length + part - 1) / part;
  if (part * kMaxParts < length)
    return Status(Code::kInvalidArgument, store->Describe(key) + ": " + std::to_string(length) +
                                              " bytes is more than one object may hold");

  std::map<int, PartInfo> have;
  std::string id = resume_upload_id;
  if (!id.empty()) {
    auto listed = store->ListParts(key, id);
    if (listed.ok()) {
      for (auto &p : *listed) have[p.number] = p;
    } else if (listed.status().code() == Code::kNotFound) {
      id.clear();  // completed or aborted meanwhile: start again
    } else {
      return listed.status();
    }
  }
  if (id.empty()) {
    VDB_ASSIGN_OR_RETURN(id, store->CreateMultipartUpload(key));
    if (options.on_upload_created) {
      Status st = options.on_upload_created(id);
      if (!st.ok()) {
        (void)store->AbortMultipartUpload(key, id);
        return st;
      }
    }
  }
  out.upload_id = id;

  std::vector<PartInfo> parts;
  parts.reserve(size_t(nparts));
  for (uint64_t i = 0; i < nparts; i++) {
    const int number = int(i + 1);
    const uint64_t at = i * part, size = std::min(part, length - at);
    auto it = have.find(number);
    if (it != have.end() && it->second.size == size && !it->second.etag.empty()) {
      parts.push_back(it->second);
      out.parts_reused++;
      continue;
    }
    VDB_ASSIGN_OR_RETURN(std::string etag,
                         store->UploadPart(key, id, number, file, offset + at, size));
    parts.push_back(PartInfo{number, size, etag});
    out.parts_sent++;
    out.bytes_sent += size;
  }
  VDB_ASSIGN_OR_RETURN(out.meta, store->CompleteMultipartUpload(key, id, parts));
  if (out.meta.size != length)
    return Status(Code::kCorrupt, store->Describe(key) + ": the completed upload holds " +
                                      std::to_string(out.meta.size) + " bytes, not " +
                                      std::to_string(length));
  return out;
}

Result<std::vector<ObjectEntry>> ListAll(ObjectStore *store, const std::string &prefix,
                                         size_t max_objects) {
  std::vector<ObjectEntry> all;
  std::set<std::string> tokens;
  std::string token;
  do {
    VDB_ASSIGN_OR_RETURN(ListPage page, store->List(prefix, token));
    if (all.size() + page.objects.size() > max_objects)
      return Status(Code::kCorrupt, store->Describe(prefix) + ": more than " +
                                        std::to_string(max_objects) + " objects under the prefix");
    for (auto &o : page.objects) all.push_back(std::move(o));
    token = page.next_token;
    if (!token.empty() && !tokens.insert(token).second)
      return Status(Code::kCorrupt,
                    store->Describe(prefix) + ": the listing repeats a continuation token");
  } while (!token.empty());
  return all;
}

}  // namespace vdb::remote
