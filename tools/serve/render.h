// Render: what `vdb serve` produces from a store with GStreamer, off the
// HTTP thread: a range remuxed into a file (MP4, Matroska, WebM, MPEG-TS),
// a range streamed as fragmented MP4, a thumbnail. No re-encoding except the
// thumbnail's decode and JPEG encode.
//
// Thread rules: every function blocks until done; call them from worker
// threads, any number at once (each builds its own pipeline).
#pragma once

#include <glib.h>

#include <atomic>
#include <functional>
#include <string>

#include "remux.h"
#include "segment_info.h"

namespace vdbserve {

// Writes the remux of `req` to `path` (req.muxer: mp4mux is made faststart,
// mpegtsmux gets req.offset). Returns "" or the error.
std::string RenderToFile(const vdbtool::RemuxRequest &req, const std::string &path);

// One stored segment as MPEG-TS, for HLS: exactly its frames, every track
// (those in `tracks`), in stored order with their recorded timestamps, so
// consecutive segments continue each other and a B-frame stored after the
// next segment's first keyframe is not lost between them. `dir`: the
// stream's directory on `fs`.
std::string RenderSegmentTs(vdb::Fs *fs, const std::string &dir, const vdb::SegmentInfo &segment,
                            const std::vector<vdb::TrackMeta> &tracks, const std::string &path);

// Streams `req` as fragmented MP4 (1 s fragments): `chunk` is called with
// each piece in order and returns false to stop (client gone). Stops too
// when `*cancel` becomes true. Returns "" at the end or the error.
std::string StreamFragmented(const vdbtool::RemuxRequest &req,
                             const std::function<bool(GBytes *)> &chunk,
                             const std::atomic<bool> *cancel);

// The keyframe at or before `utc` of the stream's video, decoded, scaled to
// `width` (height keeps the aspect ratio) and encoded as JPEG. nullptr with
// *error set on failure.
GBytes *RenderThumbnail(const std::string &store, const std::string &stream, uint64_t utc,
                        int width, std::string *error);

}  // namespace vdbserve
