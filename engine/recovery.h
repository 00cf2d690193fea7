// Crash recovery: repairs what a killed writer or a power loss left behind.
// Run by Writer::Open while it holds the stream lock; `vdb repair` runs the
// same code.
//
// For a segment left open: keeps the valid records up to the first torn or
// damaged one, cuts the rest (damage in the middle is reported with its
// offset and the cut bytes are kept beside the segment as
// <id>.vdbf.damaged-<offset>), rewrites the index from the frame file, and
// writes the metadata as state "recovered".
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
  uint64_t damage_offset = kNoTime;  // damage in the middle, or kNoTime
  bool removed = false;              // nothing usable: the segment was dropped
  std::string message;
};

struct RecoveryReport {
  bool catalog_rebuilt = false;
  std::string catalog_problem;
  std::vector<RecoveryItem> segments;
  std::vector<uint64_t> orphans_removed;  // files of deleted segments cleaned up
  bool empty() const { return !catalog_rebuilt && segments.empty() && orphans_removed.empty(); }
  std::string ToString() const;
};

// Repairs one open segment. Returns its sealed metadata (state recovered), or
// kNotFound when nothing usable was left (files removed, item->removed set).
Result<SegmentMeta> RecoverSegment(Fs *fs, const std::string &dir, uint64_t id,
                                   const std::string &stream, RecoveryItem *item);

// Rebuilds a catalog from the segment files in `dir` when the catalog file is
// damaged: metadata JSON where it is intact, the frame file otherwise.
Result<std::vector<SegmentInfo>> ScanSegments(Fs *fs, const std::string &dir);

}  // namespace vdb
