// Uploading sealed segments: contract in uploader.h.
#include "uploader.h"

#include <algorithm>
#include <map>
#include <set>

#include "catalog.h"
#include "format.h"
#include "remote_fs.h"

namespace vdb::remote {
namespace {

// Objects below PREFIX/<stream>/ can be many: a month of 1-minute segments
// is 130 000 of them; ten times that is a bound on the listing's memory.
constexpr size_t kMaxListedObjects = 2000000;

}  // namespace

std::string RemoteKey(const std::string &prefix, const std::string &relative) {
  return prefix.empty() ? relative : prefix + "/" + relative;
}

Status EnsureRemoteStore(ObjectStore *store, const std::string &prefix) {
  std::string key = RemoteKey(prefix, "vdb-store.json");
  auto head = store->Head(key);
  if (head.ok()) return Status::Ok();
  if (head.status().code() != Code::kNotFound) return head.status();
  // The local marker's text (PrepareStore in store.cpp).
  std::string marker =
      "{\"format\":\"vdb-store\",\"version\":" + std::to_string(kFormatVersion) + "}\n";
  return store->Put(key, marker.data(), marker.size()).status();
}

Result<StreamUploadReport> UploadStream(ObjectStore *store, const std::string &prefix, Fs *fs,
                                        const std::string &local_store, const std::string &stream,
                                        const StreamUploadOptions &options) {
  StreamUploadReport report;
  report.stream = stream;
  const std::string dir = JoinPath(local_store, stream);
  const std::string remote_dir = RemoteKey(prefix, stream);
  VDB_ASSIGN_OR_RETURN(Catalog local, Catalog::Load(fs, dir));

  RemoteFs rfs(store);
  VDB_ASSIGN_OR_RETURN(Catalog remote, Catalog::Load(&rfs, remote_dir));
  std::map<std::string, uint64_t> sizes;  // key -> size of what the bucket holds
  VDB_ASSIGN_OR_RETURN(auto listed, ListAll(store, remote_dir + "/", kMaxListedObjects));
  for (const ObjectEntry &o : listed) sizes[o.key] = o.size;
  std::map<std::string, std::string> unfinished;  // key -> upload id of a killed pass
  VDB_ASSIGN_OR_RETURN(auto uploads, store->ListMultipartUploads(remote_dir + "/"));
  for (const UploadEntry &u : uploads) unfinished[u.key] = u.upload_id;

  std::map<uint64_t, SegmentInfo> in_bucket;
  for (const SegmentInfo &s : remote.segments()) in_bucket[s.id] = s;
  const size_t listed_before = in_bucket.size();

  for (const SegmentInfo &seg : local.segments()) {
    if (!seg.sealed()) continue;
    bool sent = false;
    // The metadata last: its object says the others are whole.
    for (const std::string &rel :
         {FramesPath(stream, seg.id), IndexPath(stream, seg.id), MetaPath(stream, seg.id)}) {
      std::string path = JoinPath(local_store, rel);
      auto opened = fs->Open(path, OpenMode::kRead);
      if (!opened.ok()) {
        // A sealed segment may lack its index (readers scan the frames).
        if (opened.status().code() == Code::kNotFound && rel != FramesPath(stream, seg.id) &&
            rel != MetaPath(stream, seg.id))
          continue;
        return opened.status();
      }
      std::unique_ptr<File> file = std::move(opened).value();
      VDB_ASSIGN_OR_RETURN(uint64_t size, file->Size());
      std::string key = RemoteKey(prefix, rel);
      auto have = sizes.find(key);
      if (have != sizes.end() && have->second == size) continue;
      auto resume = unfinished.find(key);
      VDB_ASSIGN_OR_RETURN(UploadResult up,
                           UploadFile(store, key, file.get(), 0, size, options.parts,
                                      resume == unfinished.end() ? std::string() : resume->second));
      if (up.meta.size != size)
        return Status(Code::kCorrupt, store->Describe(key) + " holds " +
                                          std::to_string(up.meta.size) + " bytes after upload, " +
                                          std::to_string(size) + " sent");
      sizes[key] = size;
      report.bytes_sent += up.bytes_sent;
      report.parts_reused += up.parts_reused;
      sent = true;
    }
    if (sent)
      report.segments_sent++;
    else
      report.segments_present++;
    if (sent || !in_bucket.count(seg.id)) report.uploaded_ids.push_back(seg.id);
    in_bucket[seg.id] = seg;
    if (options.on_segment) options.on_segment(seg.id, seg.bytes);
  }

  report.remote_segments = in_bucket.size();
  bool changed =
      in_bucket.size() != listed_before || !report.uploaded_ids.empty() || remote.valid_size() == 0;
  if (changed && !in_bucket.empty()) {
    std::vector<SegmentInfo> segs;
    segs.reserve(in_bucket.size());
    for (auto &[id, s] : in_bucket) segs.push_back(s);
    std::string bytes = CatalogFile::Encode(segs, std::max(remote.max_id(), segs.back().id));
    VDB_RETURN_IF_ERROR(store->Put(Catalog::Path(remote_dir), bytes.data(), bytes.size()).status());
    report.bytes_sent += bytes.size();
  }
  return report;
}

}  // namespace vdb::remote
