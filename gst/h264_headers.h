// H264Headers: remembers the latest SPS/PPS of an H.264 byte-stream so a
// segment that starts at a keyframe without them can be made to decode alone.
//
// Byte-stream (Annex B) only: avc/avc3 streams carry their headers in the
// caps (codec_data), which every segment stores. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vdb {

class H264Headers {
 public:
  // Scans an access unit up to its first slice; remembers its SPS/PPS NAL
  // units (with 4-byte start codes).
  // Returns true if the unit itself carries an SPS and a PPS.
  bool Scan(const uint8_t *data, size_t size);
  // The remembered SPS+PPS, ready to prepend to an access unit; empty if none.
  const std::vector<uint8_t> &headers() const { return headers_; }
  void Clear() { sps_.clear(), pps_.clear(), headers_.clear(); }

 private:
  std::vector<uint8_t> sps_, pps_, headers_;
};

}  // namespace vdb
