// Scanning a frame file record by record: the basis of index rebuild,
// crash recovery, live-tail reading and verification.
//
// Thread rules: stateless functions; the File must not be used concurrently.
#pragma once

#include <string>
#include <vector>

#include "file.h"
#include "format.h"

namespace vdb {

struct ScanResult {
  std::vector<IndexEntry> entries;  // valid records, in file order
  uint64_t end = 0;                 // offset just past the last valid record
  // Bytes after `end` that are not a valid record: a torn tail if no valid
  // record follows, else damage in the middle (see damaged()).
  uint64_t trailing = 0;
  // Offset of the first valid record found after the damage, or kNoTime.
  uint64_t resync_offset = kNoTime;
  uint64_t end_pts = kNoTime;  // max(pts + duration) over media records
  std::string config;          // payload of the first config record seen (the caps)
  bool damaged() const { return resync_offset != kNoTime; }
};

// Scans records in [from, file size), checking each CRC, stopping at the
// first invalid one. With look_past_damage, searches the rest of the file for
// a valid record to tell a torn tail from damage in the middle.
Result<ScanResult> ScanRecords(File *f, uint64_t from, bool look_past_damage);

// Checks the 32-byte file header of a frame or index file.
Status CheckFileHeader(File *f, FileKind kind, uint64_t segment_id);

}  // namespace vdb
