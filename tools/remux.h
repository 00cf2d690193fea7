// Remux: a time range of a stream as a GStreamer pipeline, without
// re-encoding: vdbsrc's pad of each track ! parser ! muxer ! `sink`. Built
// from elements: nothing a user typed is ever parsed as a pipeline
// description. Shared by `vdb export` and `vdb serve`.
//
// Thread rules: any thread; the pipeline returned is the caller's (unref it).
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "export_plan.h"
#include "segment_info.h"

namespace vdbtool {

struct RemuxRequest {
  std::string store, stream;           // store: a directory or s3://BUCKET/PREFIX
  std::string endpoint, region;        // for s3:// (vdbsrc's properties; empty: its defaults)
  std::vector<vdb::TrackMeta> tracks;  // the tracks to link, the lead first
  uint64_t start_utc = 0;              // 0: from the start
  uint64_t stop_utc = 0;               // 0: to the end
  bool live = false;                   // follow the recording from its newest keyframe
  std::string muxer;                   // factory name: mp4mux, matroskamux, webmmux, mpegtsmux
  // Added to every track's running time (HLS segments keep the recorded
  // timeline this way, so consecutive segments continue each other).
  gint64 offset = 0;
};

// gst_init, and vdb's own plugin (vdbsrc) made findable: installed, on
// GST_PLUGIN_PATH, or else the build tree this `vdb` was built in. False
// (with *error telling how to fix it) when vdbsrc cannot be found.
bool InitGstWithVdb(std::string *error);

// The muxer's factory name for a container.
const char *MuxerFor(vdb::Container c);

// The parser that readies a stored track for a muxer ("" when none is needed).
const char *ParserFor(const std::string &codec);

// The pipeline, with `sink` (taken: floating or not, the pipeline owns it)
// linked after the muxer, which is named "mux" for the caller to configure.
// nullptr with *error set when an element is missing or a pad cannot link.
GstElement *BuildRemux(const RemuxRequest &req, GstElement *sink, std::string *error);

}  // namespace vdbtool
