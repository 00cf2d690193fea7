// HLS playlists of a stream's archive, built from the catalog's segment list
// alone (no I/O): one HLS media segment per sealed vdb segment (each starts
// at a keyframe and decodes alone), `#EXT-X-PROGRAM-DATE-TIME` on every
// segment, `#EXT-X-DISCONTINUITY` where the recording has a gap (the
// Timeline's gap rule).
//
//   - VOD (`live` false): the sealed segments overlapping [from_utc, to_utc),
//     whole (the first may start before `from_utc`, the last end after
//     `to_utc`), then `#EXT-X-ENDLIST`.
//   - live: the last `live_window` sealed segments, no ENDLIST; a player
//     reloads it and sees new segments as the recorder seals them. The
//     segment being written is not listed (it is not complete).
//
// Media segment URIs are `<uri_prefix><id><uri_suffix>` (default
// "segments/<id>.ts"); MEDIA-SEQUENCE is the first listed segment's id.
//
// Errors: kNotFound when no sealed segment is in the range; kInvalidArgument
// when the range is reversed or would list more than `max_segments`.
// Thread rules: a pure function.
#pragma once

#include <string>
#include <vector>

#include "segment_info.h"
#include "status.h"

namespace vdb {

struct HlsOptions {
  bool live = false;
  uint64_t from_utc = 0, to_utc = UINT64_MAX;  // VOD range
  size_t live_window = 6;
  size_t max_segments = 20000;
  std::string uri_prefix = "segments/", uri_suffix = ".ts";
  uint64_t gap_tolerance = 500000000;
};

Result<std::string> BuildHlsPlaylist(const std::vector<SegmentInfo> &segments,
                                     const HlsOptions &options);

// Where segment `i` stops playing, in recorded PTS: where the next one
// starts when it continues it, else its end_pts (which may lie later than
// the next start: audio is stored as encoders deliver it, often ahead).
uint64_t SegmentPlayEnd(const std::vector<SegmentInfo> &segments, size_t i,
                        uint64_t gap_tolerance = 500000000);

// "2026-11-25T12:00:00.000Z" for a UTC in ns.
std::string FormatUtc(uint64_t utc_ns);

}  // namespace vdb
