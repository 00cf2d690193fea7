// Retention policy: which sealed segments to delete, oldest first, so that a
// stream stays within a byte quota, an age limit and a free-space floor.
//
// Pure function; thread-safe. Always the oldest footage first: it stops at
// the first segment it may not delete (the open one) rather than skip it for
// a newer one, and stops as soon as every limit is met: it never deletes more
// than asked. Readers need no protection: a segment being read stays
// readable after it is deleted (POSIX unlink).
#pragma once

#include <cstdint>
#include <vector>

#include "segment_info.h"

namespace vdb {

struct RetentionPolicy {
  uint64_t max_total_bytes = 0;  // 0: no quota
  uint64_t max_age_ns = 0;       // 0: keep forever; by UTC end of segment
  uint64_t min_free_bytes = 0;   // 0: no floor
  bool active() const { return max_total_bytes || max_age_ns || min_free_bytes; }
};

// Bytes a segment occupies on disk (frame file + index + metadata, approx.).
uint64_t SegmentDiskBytes(const SegmentInfo &s);

std::vector<uint64_t> SelectForDeletion(const std::vector<SegmentInfo> &segments,
                                        const RetentionPolicy &policy, uint64_t now_utc,
                                        uint64_t free_bytes);

}  // namespace vdb
