// ExportPlan: what `vdb export` (and later `vdb serve`) cuts from a stream,
// decided without GStreamer: the container for the output name and codec,
// and the range, starting at the keyframe at or before `from` so that the
// clip's first frame decodes.
//
// Every track is exported: the video and each audio track (a container that
// cannot hold one of them is an error naming one that can: never a silent
// drop). MP4 holds H.264/H.265 with AAC/Opus, WebM VP9/AV1 with Opus,
// Matroska all of them.
//
// Errors (kInvalidArgument, with a message for the user): an unknown or
// missing extension; a codec the container cannot hold (naming what can);
// an empty, reversed or out-of-range request; a range whose codec changes.
//
// Thread rules: uses the Reader (not owned) from the calling thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reader.h"

namespace vdb {

enum class Container { kMp4, kMatroska, kWebm };

struct ExportPlan {
  Container container = Container::kMp4;
  std::string codec;              // the lead track's: "h264", "h265", "av1", "vp9" (or audio)
  std::vector<TrackMeta> tracks;  // every track, the lead first
  uint64_t start_pts = kNoTime;   // recorded PTS of the first keyframe exported
  uint64_t stop_pts = kNoTime;    // end (exclusive); kNoTime: to the end
  uint64_t start_utc = 0;         // UTC of start_pts (0 if unknown)
  uint64_t stop_utc = 0;          // UTC of stop_pts (0: to the end)
};

// `from_utc`/`to_utc`: 0 for the start/end of the recording. `reader` shows
// the lead track (Reader::Tracks().front()); `tracks` are the stream's.
Result<ExportPlan> PlanExport(Reader *reader, const std::vector<TrackMeta> &tracks,
                              const std::string &out_name, uint64_t from_utc, uint64_t to_utc);

}  // namespace vdb
