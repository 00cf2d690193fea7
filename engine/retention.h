// Retention policy: which sealed segments to delete, oldest first, so that a
// stream stays within a byte quota, an age limit and a free-space floor.
//
// Pure function; thread-safe. Always the oldest footage first: it stops at
// the first segment it may not delete (the open one; with bucket_first, one
// not yet in the bucket) rather than skip it for a newer one, and stops as
// soon as every limit is met: it never deletes more than asked. Segments
// whose local copy is gone are skipped: nothing local is left to remove. Readers need no
// protection: a segment being read stays readable after it is deleted (POSIX unlink).
#pragma once

#include <cstdint>
#include <vector>

#include "segment_info.h"

namespace vdb {

struct RetentionPolicy {
  uint64_t max_total_bytes = 0;  // 0: no quota
  uint64_t max_age_ns = 0;       // 0: keep forever; by UTC end of segment
  uint64_t min_free_bytes = 0;   // 0: no floor
  // A store with a bucket: only segments already in it lose their local
  // copy; retention waits at the first one not yet uploaded.
  bool bucket_first = false;
  bool active() const { return max_total_bytes || max_age_ns || min_free_bytes; }
};

// Bytes a segment occupies on disk (frame file + index + metadata, approx.);
// 0 once its local copy is gone (it plays from the bucket).
uint64_t SegmentDiskBytes(const SegmentInfo &s);

std::vector<uint64_t> SelectForDeletion(const std::vector<SegmentInfo> &segments,
                                        const RetentionPolicy &policy, uint64_t now_utc,
                                        uint64_t free_bytes);

}  // namespace vdb
