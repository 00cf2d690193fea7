// Scanning a frame file record by record: the basis of index rebuild,
// crash recovery, repair, live-tail reading and verification.
//
// Bounded work on hostile files: memory stays at a 1 MiB window whatever a
// record header claims (a payload's CRC is computed in chunks), a claimed
// length past the end of the file is rejected without reading. While
// resynchronising, a candidate record longer than 64 KiB must be followed by
// another record's magic or the end of the file before its CRC is computed,
// CRC work on candidates is capped at four times the file's size (past that
// the rest is damage), and the search skips the holes of a sparse file
// (File::NextData): a 50 GB sparse frame file costs what it really holds.
//
// Thread rules: stateless functions; the File must not be used concurrently.
#pragma once

#include <string>
#include <vector>

#include "file.h"
#include "format.h"
#include "segment_info.h"

namespace vdb {

// Bytes [offset, offset + size) of a frame file that are not valid records,
// followed by a valid one: `before` is the index in ScanResult::entries of
// the first record after them.
struct DamageSpan {
  uint64_t offset = 0;
  uint64_t size = 0;
  size_t before = 0;
};

struct ScanResult {
  std::vector<IndexEntry> entries;  // valid records, in file order
  uint64_t end = 0;                 // offset just past the last valid record
  // Bytes after `end` that are not a valid record (a torn tail, a truncated
  // record or garbage), with no valid record after them.
  uint64_t trailing = 0;
  std::vector<DamageSpan> damage;  // kResync: damage with valid records after it
  uint64_t end_pts = kNoTime;      // max(pts + duration) over media records
  std::string config;              // payload of the first config record seen (the caps)
  std::vector<TrackMeta> tracks;   // each track's first config record, in file order
  bool damaged() const { return !damage.empty(); }
};

enum class ScanMode {
  kStopAtDamage,  // stop at the first invalid record (a live tail: the writer may be mid-record)
  kResync,        // skip invalid bytes to the next valid record (magic + CRC) and go on
};

// Scans records in [from, file size), checking each CRC.
Result<ScanResult> ScanRecords(File *f, uint64_t from, ScanMode mode);

// Checks the 32-byte file header of a frame or index file. *damaged (if
// given) tells a header that is unreadable (bad magic or CRC: its records
// may still be intact) from one that is readable but wrong (another segment's
// file, a newer version).
Status CheckFileHeader(File *f, FileKind kind, uint64_t segment_id, bool *damaged = nullptr);

}  // namespace vdb
