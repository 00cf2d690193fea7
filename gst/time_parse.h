// Parsing the times users give vdbsrc: ISO 8601 UTC or nanoseconds.
#pragma once

#include <cstdint>
#include <string>

namespace vdb {

// "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.250+01:00", or a plain number
// of nanoseconds since 1970. False if `text` is neither.
bool ParseUtc(const std::string &text, uint64_t *utc_ns);

}  // namespace vdb
