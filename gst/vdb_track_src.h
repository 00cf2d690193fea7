/* vdbtracksrc: plays one track of a stream of a vdb store in TIME, the part
 * of vdbsrc that holds one track (not registered: vdbsrc creates them). */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <string>

#include "reader.h"
#include "store_location.h"

G_BEGIN_DECLS

#define GST_TYPE_VDB_TRACK_SRC (gst_vdb_track_src_get_type())
G_DECLARE_FINAL_TYPE(GstVdbTrackSrc, gst_vdb_track_src, GST, VDB_TRACK_SRC, GstPushSrc)

G_END_DECLS

/* What to play: vdbsrc's properties, and the track. Read at start (READY
 * to PAUSED); the element keeps a copy. */
struct VdbTrackConfig {
  std::string location, stream, start_time, stop_time;
  bool follow = false, collapse = false, skip_corrupt = true, live_edge = false;
  uint32_t track = 0; /* 0: video; audio_N: N + 1 */
  uint32_t lead = 0;  /* the track whose keyframes KEY_UNIT seeks snap to */
  /* live_edge: the lead's newest keyframe (recorded PTS), chosen once by
   * vdbsrc so that every track starts there; UINT64_MAX: find it at start. */
  uint64_t live_edge_pts = UINT64_MAX;
  /* Where `location` points, opened once by vdbsrc for every track: a
   * directory, or a bucket (s3://BUCKET/PREFIX). Null if it could not be
   * opened: open_error says why. */
  std::shared_ptr<vdb::remote::StoreLocation> where;
  std::string open_error;
  vdb::Fs *fs() const { return where ? where->fs() : vdb::DefaultFs(); }
  const std::string &store() const { return where ? where->path() : location; }
};

/* `reader` (optional): the stream opened on config.track by vdbsrc when it
 * listed the tracks, used by the next start instead of opening it again. */
void gst_vdb_track_src_configure(GstVdbTrackSrc *src, const VdbTrackConfig &config,
                                 std::unique_ptr<vdb::Reader> reader = nullptr);
/* vdbsrc's action signals, answered by its lead track (see gstvdbsrc.cpp). */
GstStructure *gst_vdb_track_src_get_ranges(GstVdbTrackSrc *src);
guint64 gst_vdb_track_src_utc_to_stream_time(GstVdbTrackSrc *src, guint64 utc);
guint64 gst_vdb_track_src_stream_time_to_utc(GstVdbTrackSrc *src, guint64 time);
