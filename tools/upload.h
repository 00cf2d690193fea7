// `vdb upload STORE --to s3://BUCKET/PREFIX [--stream S] [--json]`: sends the
// sealed segments of a local store that the bucket lacks (remote/uploader.h:
// idempotent, resumable), every stream or the one named; prints what was
// sent. Notes the bucket in STORE/remote.json (a store has one bucket) and,
// in each stream's catalog not being recorded, which segments are in it, so
// that retention (`vdb prune`) frees only their local copies and readers of
// STORE read those from the bucket. Exit 0 when everything sealed is in the
// bucket, 2 on an error.
#pragma once

#include <string>

#include "store_location.h"

namespace vdbtool {

int Upload(const std::string &store, const std::string &to, const vdb::remote::RemoteArgs &args,
           const std::string &only_stream, bool as_json);

}  // namespace vdbtool
