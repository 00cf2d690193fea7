// Recovery and repair: makes a stream's files consistent again after a
// crash (a killed writer, a power loss) or after damage (bit flips, zeroed
// blocks, truncation, a lost catalog). Writer::Open runs the cheap part
// while it holds the stream lock; `vdb repair` (Writer::Repair) also checks
// every sealed segment record by record.
//
// RebuildSegment, for a segment left open or found damaged: keeps every
// valid record (a damaged span costs only its bytes: the scan resynchronises
// at the next valid record), cuts a torn tail, rewrites the frame file
// without the damaged bytes when there were any (temp file + rename; the
// first record after each cut carries kFlagDiscont and the damaged bytes —
// up to 64 MiB, holes skipped — are kept beside the segment in one file,
// <id>.vdbf.damaged-<first offset>, which goes with the segment when it is
// deleted and counts against the quota), rewrites the index and writes the
// metadata as state "recovered".
//
// Thread rules: stateless functions; caller holds the stream lock.
#pragma once

#include <string>
#include <vector>

#include "catalog.h"
#include "file.h"
#include "segment_info.h"

namespace vdb {

struct RecoveryItem {
  uint64_t segment_id = 0;
  uint64_t frames_kept = 0;
  uint64_t bytes_cut = 0;            // torn or damaged bytes removed
  uint64_t damage_offset = kNoTime;  // first damage in the middle, or kNoTime
  bool removed = false;              // nothing usable: the segment was dropped
  std::string message;
};

struct RecoveryReport {
  bool catalog_rebuilt = false;
  std::string catalog_problem;
  std::vector<RecoveryItem> segments;
  std::vector<uint64_t> orphans_removed;  // files of deleted segments cleaned up
  std::vector<std::string> notes;         // leftovers removed, files found missing, ...
  bool empty() const {
    return !catalog_rebuilt && segments.empty() && orphans_removed.empty() && notes.empty();
  }
  std::string ToString() const;
};

// Rebuilds one segment from its frame file (see above). Returns its
// metadata (state recovered); kNotFound when it held no frames (files
// removed, item->removed set); kCorrupt when it cannot be used — its frame
// file is not a regular file, belongs to another segment, or its frames
// have no intact caps anywhere — then its files are kept aside (Quarantine)
// and item->removed is set; kUnsupported for a newer format's file (left as
// it is).
// Renames a segment's files to <name>.unusable: out of the way of the
// stream (never deleted, never followed), kept for inspection.
Status Quarantine(Fs *fs, const std::string &dir, uint64_t id);
Result<SegmentMeta> RebuildSegment(Fs *fs, const std::string &dir, uint64_t id,
                                   const std::string &stream, RecoveryItem *item);

// What the files in `dir` say about segments with id >= min_id, in id
// order (a lost, truncated or damaged catalog): the metadata where it is
// intact, else what the frame file holds, with state `unknown` (kOpen makes
// the writer's recovery rebuild it). Segments whose frame file is damaged
// beyond reading (not a regular file, another segment's) are left out and
// added to *unreadable; other errors (EIO) are returned.
Result<std::vector<SegmentInfo>> ScanSegments(Fs *fs, const std::string &dir, uint64_t min_id,
                                              SegmentState unknown,
                                              std::vector<uint64_t> *unreadable = nullptr);

// The same as a catalog (ops in id order) for Catalog::ApplyAll.
std::vector<std::pair<CatalogOp, SegmentInfo>> AsCatalogRecords(
    const std::vector<SegmentInfo> &segments);

}  // namespace vdb
