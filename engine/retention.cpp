#include "retention.h"

namespace vdb {

uint64_t SegmentDiskBytes(const SegmentInfo &s) {
  if (!s.local()) return 0;
  return s.bytes + kFileHeaderSize + (s.frames + 1) * kIndexEntrySize + 1024;
}

std::vector<uint64_t> SelectForDeletion(const std::vector<SegmentInfo> &segments,
                                        const RetentionPolicy &policy, uint64_t now_utc,
                                        uint64_t free_bytes) {
  std::vector<uint64_t> out;
  if (!policy.active()) return out;
  uint64_t total = 0;
  for (const auto &s : segments) total += SegmentDiskBytes(s);
  for (const auto &s : segments) {
    if (!s.local()) continue;
    bool over_quota = policy.max_total_bytes && total > policy.max_total_bytes;
    bool low_space = policy.min_free_bytes && free_bytes < policy.min_free_bytes;
    uint64_t end_utc = s.UtcAt(s.end_pts);
    bool too_old =
        policy.max_age_ns && end_utc && now_utc > end_utc && now_utc - end_utc > policy.max_age_ns;
    if (!over_quota && !low_space && !too_old) {
      // Segments are in time order: once one is young enough and the space
      // limits hold, no later one needs to go.
      break;
    }
    if (!s.sealed()) break;  // being written: nothing newer may go before it
    if (policy.bucket_first && !s.in_bucket()) break;  // waits for its upload
    out.push_back(s.id);
    total -= SegmentDiskBytes(s);
    free_bytes += SegmentDiskBytes(s);
  }
  return out;
}

}  // namespace vdb
