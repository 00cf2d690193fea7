// ExportPlan: what `vdb export` (and later `vdb serve`) cuts from a stream,
// decided without GStreamer: the container for the output name and codec,
// and the range, starting at the keyframe at or before `from` so that the
// clip's first frame decodes.
//
// Errors (kInvalidArgument, with a message for the user): an unknown or
// missing extension; a codec the container cannot hold (naming what can);
// an empty, reversed or out-of-range request; a range whose codec changes.
//
// Thread rules: uses the Reader (not owned) from the calling thread only.
#pragma once

#include <cstdint>
#include <string>

#include "reader.h"

namespace vdb {

enum class Container { kMp4, kMatroska, kWebm };

struct ExportPlan {
  Container container = Container::kMp4;
  std::string codec;             // "h264", "h265", "av1" or "vp9"
  uint64_t start_pts = kNoTime;  // recorded PTS of the first keyframe exported
  uint64_t stop_pts = kNoTime;   // end (exclusive); kNoTime: to the end
  uint64_t start_utc = 0;        // UTC of start_pts (0 if unknown)
  uint64_t stop_utc = 0;         // UTC of stop_pts (0: to the end)
};

// `from_utc`/`to_utc`: 0 for the start/end of the recording.
Result<ExportPlan> PlanExport(Reader *reader, const std::string &out_name, uint64_t from_utc,
                              uint64_t to_utc);

}  // namespace vdb
