// Uploading sealed segments: contract in uploader.h.
#include "uploader.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "catalog.h"
#include "format.h"
#include "remote_fs.h"
#include "store_location.h"

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

StreamUploader::StreamUploader(ObjectStore *store, std::string prefix, Fs *fs,
                               std::string local_store, std::string stream)
    : store_(store),
      prefix_(std::move(prefix)),
      local_store_(std::move(local_store)),
      stream_(std::move(stream)),
      fs_(fs) {}

Status StreamUploader::Learn() {
  const std::string remote_dir = RemoteKey(prefix_, stream_);
  RemoteFs rfs(store_);
  VDB_ASSIGN_OR_RETURN(Catalog remote, Catalog::Load(&rfs, remote_dir));
  VDB_ASSIGN_OR_RETURN(auto listed, ListAll(store_, remote_dir + "/", kMaxListedObjects));
  VDB_ASSIGN_OR_RETURN(auto uploads, store_->ListMultipartUploads(remote_dir + "/"));
  in_bucket_.clear();
  for (const SegmentInfo &s : remote.segments()) in_bucket_[s.id] = s;
  max_id_ = remote.max_id();
  listed_.clear();
  for (const ObjectEntry &o : listed) listed_[o.key] = o.size;
  unfinished_.clear();
  for (const UploadEntry &u : uploads) unfinished_[u.key] = u.upload_id;
  learned_ = true;
  return Status::Ok();
}

Status StreamUploader::Claim() {
  auto config = ReadRemoteConfig(fs_, local_store_);
  if (!config.ok() || config->store_id.empty()) return Status::Ok();
  const std::string key = RemoteKey(prefix_, stream_ + "/recorder.json");
  // OK if the stream is this store's; kNotFound if it is nobody's yet.
  auto owner = [&]() -> Status {
    VDB_ASSIGN_OR_RETURN(std::string text, store_->GetAll(key, 4096));
    auto j = nlohmann::json::parse(text, nullptr, false);
    auto str = [&](const char *k) {
      return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
    };
    if (str("store_id") == config->store_id) return Status::Ok();
    std::string who = str("store_id").empty()
                          ? "a store that " + store_->Describe(key) + " does not name"
                          : "another store (" + str("store") + " on " + str("host") + ")";
    return Status(Code::kInvalidArgument,
                  "stream '" + stream_ + "' in " + store_->Describe(RemoteKey(prefix_, stream_)) +
                      " is uploaded by " + who +
                      ": a stream in a bucket has one recorder; record this one under another "
                      "stream name, or upload it to another prefix");
  };
  Status st = owner();
  if (st.code() != Code::kNotFound) return st;
  char host[256] = "";
  (void)gethostname(host, sizeof host - 1);
  nlohmann::json j = {{"store_id", config->store_id}, {"host", host}, {"store", local_store_}};
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  auto put = store_->PutIfAbsent(key, text.data(), text.size());
  if (!put.ok() && put.status().code() != Code::kExists) return put.status();
  return owner();  // ours, or the store whose claim came first
}

Result<bool> StreamUploader::UploadSegment(const SegmentInfo &seg,
                                           const StreamUploadOptions &options,
                                           StreamUploadReport *report) {
  bool sent = false;
  const std::string frames = FramesPath(stream_, seg.id), meta = MetaPath(stream_, seg.id);
  // The metadata last: its object says the others are whole.
  for (const std::string &rel : {frames, IndexPath(stream_, seg.id), meta}) {
    auto opened = fs_->Open(JoinPath(local_store_, rel), OpenMode::kRead);
    if (!opened.ok()) {
      // A sealed segment may lack its index (readers scan the frames).
      if (opened.status().code() == Code::kNotFound && rel != frames && rel != meta) continue;
      return opened.status();
    }
    std::unique_ptr<File> file = std::move(opened).value();
    VDB_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    std::string key = RemoteKey(prefix_, rel);
    auto have = listed_.find(key);
    if (have == listed_.end()) {  // not in the first listing: ask
      auto head = store_->Head(key);
      if (head.ok()) have = listed_.emplace(key, head->size).first;
      if (!head.ok() && head.status().code() != Code::kNotFound) return head.status();
    }
    if (have != listed_.end() && have->second == size) continue;
    auto resume = unfinished_.find(key);
    VDB_ASSIGN_OR_RETURN(UploadResult up,
                         UploadFile(store_, key, file.get(), 0, size, options.parts,
                                    resume == unfinished_.end() ? std::string() : resume->second));
    if (resume != unfinished_.end()) unfinished_.erase(resume);
    if (up.meta.size != size)
      return Status(Code::kCorrupt, store_->Describe(key) + " holds " +
                                        std::to_string(up.meta.size) + " bytes after upload, " +
                                        std::to_string(size) + " sent");
    listed_[key] = size;
    report->bytes_sent += up.bytes_sent;
    report->parts_reused += up.parts_reused;
    sent = true;
  }
  return sent;
}

Status StreamUploader::WriteCatalog(StreamUploadReport *report) {
  std::vector<SegmentInfo> segs;
  segs.reserve(in_bucket_.size());
  for (auto &[id, s] : in_bucket_) segs.push_back(s);
  if (segs.empty()) return Status::Ok();
  max_id_ = std::max(max_id_, segs.back().id);
  std::string bytes = CatalogFile::Encode(segs, max_id_);
  std::string key = Catalog::Path(RemoteKey(prefix_, stream_));
  VDB_RETURN_IF_ERROR(store_->Put(key, bytes.data(), bytes.size()).status());
  report->bytes_sent += bytes.size();
  return Status::Ok();
}

// How the bucket's segment `there` differs from the local one of the same id
// ("" if it is the same recording: first PTS, UTC start and size).
static std::string Differences(const SegmentInfo &there, const SegmentInfo &here) {
  std::string out;
  auto field = [&out](const char *name, uint64_t a, uint64_t b) {
    if (a == b) return;
    out += (out.empty() ? "" : "; ") + std::string(name) + " " + std::to_string(a) + " there, " +
           std::to_string(b) + " here";
  };
  field("first PTS", there.first_pts, here.first_pts);
  field("UTC start", there.utc_start, here.utc_start);
  field("bytes", there.bytes, here.bytes);
  return out;
}

Result<StreamUploadReport> StreamUploader::Pass(const StreamUploadOptions &options) {
  StreamUploadReport report;
  report.stream = stream_;
  VDB_RETURN_IF_ERROR(Claim());
  if (!learned_) VDB_RETURN_IF_ERROR(Learn());
  VDB_ASSIGN_OR_RETURN(Catalog local, Catalog::Load(fs_, JoinPath(local_store_, stream_)));

  std::vector<uint64_t> to_mark;  // listed by the bucket, not yet marked here
  Status failed;
  for (const SegmentInfo &seg : local.segments()) {
    if (!seg.sealed() || seg.in_bucket() || !seg.local()) continue;
    if (auto b = in_bucket_.find(seg.id); b != in_bucket_.end()) {
      const SegmentInfo &there = b->second;
      std::string diff = Differences(there, seg);
      if (!diff.empty()) {  // the same id, another recording: never taken as ours
        failed =
            Status(Code::kCorrupt, "segment " + std::to_string(seg.id) + " of stream '" + stream_ +
                                       "' in " + store_->Describe(RemoteKey(prefix_, stream_)) +
                                       " is another recording than this store's segment " +
                                       std::to_string(seg.id) + " (" + diff +
                                       "): it stays in the bucket, and this one on disk");
        break;
      }
      report.segments_present++;
      to_mark.push_back(seg.id);
      continue;
    }
    auto sent = UploadSegment(seg, options, &report);
    if (!sent.ok()) {
      failed = sent.status();
      break;
    }
    (sent.value() ? report.segments_sent : report.segments_present)++;
    SegmentInfo listed = seg;
    listed.placement = 0;  // in the bucket's store, its files are where they belong
    in_bucket_[seg.id] = listed;
    report.confirmed_ids.push_back(seg.id);
    to_mark.push_back(seg.id);
    if (options.on_segment) options.on_segment(seg.id, seg.bytes);
  }
  // What was confirmed before a failure is listed and marked all the same.
  if (!report.confirmed_ids.empty()) {
    Status st = WriteCatalog(&report);
    if (!st.ok()) return failed.ok() ? st : failed;
  }
  report.remote_segments = in_bucket_.size();
  if (options.on_confirmed)
    for (uint64_t id : to_mark) {
      Status st = options.on_confirmed(id);
      if (!st.ok()) return failed.ok() ? st : failed;
    }
  if (!failed.ok()) return failed;
  return report;
}

Result<std::vector<uint64_t>> StreamUploader::ApplyRetention(
    const RetentionPolicy &asked, uint64_t now_utc,
    const std::function<bool(uint64_t)> &still_local,
    const std::function<void(uint64_t)> &removed) {
  std::vector<uint64_t> out;
  RetentionPolicy policy;
  policy.max_total_bytes = asked.max_total_bytes;
  policy.max_age_ns = asked.max_age_ns;
  if (!policy.active()) return out;
  if (!learned_) VDB_RETURN_IF_ERROR(Learn());
  // Oldest first, stopping at the first segment still on local disk.
  std::vector<SegmentInfo> segs;
  bool kept = false;  // still_local asked only up to the first segment it keeps
  for (const auto &[id, s] : in_bucket_) {
    kept = kept || (still_local && still_local(id));
    segs.push_back(s);
    segs.back().placement = kept ? 0 : kInBucket;
  }
  policy.bucket_first = true;
  std::vector<uint64_t> doomed = SelectForDeletion(segs, policy, now_utc, UINT64_MAX);
  if (doomed.empty()) return out;
  for (uint64_t id : doomed) in_bucket_.erase(id);
  StreamUploadReport ignored;
  std::string key = Catalog::Path(RemoteKey(prefix_, stream_));
  if (in_bucket_.empty()) {  // an empty catalog, its tombstone keeping ids unique
    std::string bytes = CatalogFile::Encode({}, max_id_);
    VDB_RETURN_IF_ERROR(store_->Put(key, bytes.data(), bytes.size()).status());
  } else {
    VDB_RETURN_IF_ERROR(WriteCatalog(&ignored));
  }
  for (uint64_t id : doomed) {
    for (const std::string &rel :
         {MetaPath(stream_, id), IndexPath(stream_, id), FramesPath(stream_, id)}) {
      VDB_RETURN_IF_ERROR(store_->Delete(RemoteKey(prefix_, rel)));
      listed_.erase(RemoteKey(prefix_, rel));
    }
    out.push_back(id);
    if (removed) removed(id);
  }
  return out;
}

Result<StreamUploadReport> UploadStream(ObjectStore *store, const std::string &prefix, Fs *fs,
                                        const std::string &local_store, const std::string &stream,
                                        const StreamUploadOptions &options) {
  StreamUploader u(store, prefix, fs, local_store, stream);
  return u.Pass(options);
}

}  // namespace vdb::remote
