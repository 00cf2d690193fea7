// `vdb upload STORE --to s3://BUCKET/PREFIX [--stream S] [--json]`: sends the
// sealed segments of a local store that the bucket lacks (remote/uploader.h:
// idempotent, resumable), every stream or the one named; prints what was
// sent. Exit 0 when everything sealed is in the bucket, 2 on an error.
#pragma once

#include <string>

#include "store_location.h"

namespace vdbtool {

int Upload(const std::string &store, const std::string &to, const vdb::remote::RemoteArgs &args,
           const std::string &only_stream, bool as_json);

}  // namespace vdbtool
