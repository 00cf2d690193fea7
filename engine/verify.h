// Verification: checks a stream's files against each other and against
// its catalog, record by record, without changing anything. `vdb verify`
// prints what it finds; Writer::Repair rebuilds what it finds damaged.
//
// Checked per segment: the frame file is a regular file with a good header;
// every record's CRC (damage is reported with its offsets, the scan goes on
// past it); the records run to the end of the file (no torn tail in a
// sealed segment); the frame count, byte size and end time agree with the
// catalog; the index holds exactly the records of the frame file; the
// metadata is intact. Per stream: the catalog loads (not damaged, not
// missing), every listed segment has its files, and no segment file is
// missing from the catalog.
//
// Bounded work as everywhere (record_scan.h); reads only. Thread rules:
// stateless functions; safe beside a writer (what it is writing is skipped).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "file.h"
#include "segment_info.h"

namespace vdb {

struct SegmentCheck {
  uint64_t records = 0;               // valid records found
  std::vector<std::string> problems;  // empty: the segment is intact
  std::string Summary() const;
};

SegmentCheck CheckSegment(Fs *fs, const std::string &dir, const SegmentInfo &info);

struct StreamProblem {
  uint64_t segment = 0;  // 0: the stream as a whole (its catalog)
  std::string error;
};

struct StreamCheck {
  uint64_t segments = 0, records = 0;
  std::vector<StreamProblem> problems;
};

// Checks every segment of `stream` (calls progress after each, if given).
// A segment being written is checked only up to what is written.
Result<StreamCheck> VerifyStream(Fs *fs, const std::string &store, const std::string &stream,
                                 const std::function<void(const StreamCheck &)> &progress = {});

}  // namespace vdb
