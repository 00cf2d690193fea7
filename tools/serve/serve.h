// `vdb serve STORE`: the store over HTTP (libsoup-3), read-only.
//
//   GET /api/streams                          every stream: tracks, ranges and gaps in UTC
//   GET /api/streams/S                        one stream
//   GET /api/streams/S/video.{mp4,mkv,webm}?start=T&end=T[&download=1]
//                                             a range remuxed, Content-Length, byte ranges
//   GET /api/streams/S/video.fmp4?start=T[&end=T] | ?live=1
//                                             fragmented MP4, streamed (chunked)
//   GET /api/streams/S/index.m3u8?start=T&end=T   HLS of the archive
//   GET /api/streams/S/live.m3u8              HLS following the recording
//   GET /api/streams/S/segments/ID.ts         an HLS media segment
//   GET /api/streams/S/thumbnail.jpg?time=T[&width=W]   the keyframe at or before T
//   GET /, /app.js, /style.css                the web page
// T: ISO 8601 UTC or ns since 1970. Errors: 4xx/5xx with {"error", "status"}.
#pragma once

#include <cstdint>
#include <string>

#include "file.h"

namespace vdbserve {

struct ServeOptions {
  std::string store;
  // What the store is read through: set by Serve() (the store's own files,
  // and its bucket for segments only there: StoreLocation).
  vdb::Fs *fs = nullptr;
  std::string listen = "127.0.0.1:8554";             // HOST:PORT (port 0: any free port)
  std::string web_dir;                               // "": where vdb's web page is installed
  std::string cache_dir;                             // "": a new directory under $TMPDIR
  uint64_t cache_bytes = 512ull << 20;               // rendered files kept for repeated requests
  unsigned workers = 2;                              // renders at once
  uint64_t max_range = 6 * 3600ull * 1000000000ull;  // longest range served, ns
  uint64_t max_file_bytes = 4ull << 30;  // a whole-file response (MP4, MKV, WebM) at most this big
  unsigned max_streams = 32;             // fragmented MP4 streams at once
};

// Runs until SIGINT or SIGTERM. Returns a process exit code.
int Serve(const ServeOptions &options);

}  // namespace vdbserve
