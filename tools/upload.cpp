// `vdb upload`: contract in upload.h.
#include "upload.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "store.h"
#include "uploader.h"
#include "writer.h"

namespace vdbtool {

using vdb::remote::IsS3Url;
using vdb::remote::ParseS3Url;
using vdb::remote::RemoteArgs;
using vdb::remote::StoreLocation;

int Upload(const std::string &store, const std::string &to, const RemoteArgs &args,
           const std::string &only_stream, bool as_json) {
  auto fail = [](const vdb::Status &st) {
    std::fprintf(stderr, "vdb upload: %s\n", st.ToString().c_str());
    return 2;
  };
  if (IsS3Url(store))
    return fail(vdb::Status(vdb::Code::kInvalidArgument,
                            "STORE is the local store to upload from; the "
                            "bucket goes after --to"));
  vdb::Status st = vdb::PrepareStore(vdb::DefaultFs(), store, false);
  if (!st.ok()) return fail(st);
  auto url = ParseS3Url(to);
  if (!url.ok()) return fail(url.status());
  auto names = vdb::ListStreams(vdb::DefaultFs(), store);
  if (!names.ok()) return fail(names.status());
  if (!only_stream.empty()) {
    bool found = false;
    for (const auto &n : names.value()) found |= n == only_stream;
    if (!found)
      return fail(vdb::Status(vdb::Code::kNotFound, "no stream '" + only_stream + "' in " + store));
  }
  auto loc = StoreLocation::Open(to, args);
  if (!loc.ok()) return fail(loc.status());
  vdb::remote::ObjectStore *bucket = (*loc)->object_store();
  st = vdb::remote::EnsureRemoteStore(bucket, url->prefix);
  if (!st.ok()) return fail(st);
  // The store's bucket, noted once it answered.
  st = vdb::remote::BindRemoteConfig(vdb::DefaultFs(), store, {to, args.endpoint, args.region, ""});
  if (!st.ok()) return fail(st);

  auto t0 = std::chrono::steady_clock::now();
  nlohmann::json out = nlohmann::json::array();
  uint64_t total = 0;
  for (const auto &name : names.value()) {
    if (!only_stream.empty() && name != only_stream) continue;
    vdb::remote::StreamUploadOptions o;
    // The stream's catalog notes what is in the bucket (then retention,
    // `vdb prune`, frees only the local copies of those). A stream being
    // recorded is uploaded all the same; its recorder notes it.
    auto writer = vdb::Writer::Open(vdb::DefaultFs(), store, name, {}, nullptr);
    bool busy = !writer.ok() && writer.status().code() == vdb::Code::kLocked;
    if (!writer.ok() && !busy) return fail(writer.status());
    if (writer.ok()) o.on_confirmed = [&](uint64_t id) { return (*writer)->MarkInBucket(id); };
    if (!as_json)
      o.on_segment = [&](uint64_t id, uint64_t bytes) {
        std::fprintf(stderr, "\r%s: segment %" PRIu64 " (%.1f MB) in the bucket   ", name.c_str(),
                     id, bytes / 1e6);
      };
    auto r = vdb::remote::UploadStream(bucket, url->prefix, vdb::DefaultFs(), store, name, o);
    if (!as_json) std::fprintf(stderr, "\n");
    if (!r.ok()) return fail(r.status());
    total += r->bytes_sent;
    out.push_back({{"stream", name},
                   {"busy", busy},
                   {"segments_sent", r->segments_sent},
                   {"segments_present", r->segments_present},
                   {"parts_reused", r->parts_reused},
                   {"bytes_sent", r->bytes_sent},
                   {"remote_segments", r->remote_segments}});
    if (!as_json)
      std::printf("%s: %d segment(s) sent, %d already in the bucket, %" PRIu64
                  " in the bucket's catalog%s\n",
                  name.c_str(), r->segments_sent, r->segments_present, r->remote_segments,
                  r->parts_reused ? " (an interrupted upload resumed)" : "");
    if (busy && !as_json)
      std::printf("%s: being recorded: its catalog was not updated (its recorder does it)\n",
                  name.c_str());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (as_json)
    std::printf("%s\n", nlohmann::json{{"streams", out}, {"bytes_sent", total}, {"seconds", secs}}
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  else
    std::printf("%.1f MB sent to %s in %.1f s\n", total / 1e6, to.c_str(), secs);
  return 0;
}

}  // namespace vdbtool
