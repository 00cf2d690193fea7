// A stream's summary as `vdb info --json` prints it and `vdb serve` lists
// it: segments, tracks, frames, bytes, whether the last segment is open, the
// recorded ranges (runs of the same timeline vdbsrc plays) with their UTC.
//
// Cost: the catalog (already loaded by the Reader), one metadata read per
// track and for the first and last segment, and one index read when the
// last segment is open. Thread rules: the Reader's (one thread at a time).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "reader.h"

namespace vdbtool {

nlohmann::json StreamInfo(vdb::Reader *reader, const std::string &name);
// The same, opening the stream (on `fs`: local or a bucket); *err set on failure.
nlohmann::json StreamInfo(vdb::Fs *fs, const std::string &store, const std::string &name,
                          vdb::Status *err);

}  // namespace vdbtool
