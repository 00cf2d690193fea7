// `vdb export`: remux a time range of a stream through GStreamer: to MP4
// (.mp4, H.264), Matroska (.mkv) or WebM (.webm, VP9), by OUT's extension.
#pragma once

#include <string>

#include "store_location.h"

namespace vdbtool {

// FROM/TO: ISO 8601 UTC or ns since 1970, empty for the start/end. Prints
// progress to stderr unless `quiet`. STORE may be s3://BUCKET/PREFIX
// (`remote`: its endpoint and region). Returns a process exit code.
int Export(const std::string &store, const std::string &stream, const std::string &from,
           const std::string &to, const std::string &out, bool quiet,
           const vdb::remote::RemoteArgs &remote = {});

}  // namespace vdbtool
