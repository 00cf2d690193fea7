// CodecHeaders: the decoder configuration a stream carries in-band — the
// SPS/PPS of H.264 and the VPS/SPS/PPS of H.265 in byte-stream form, the
// sequence header OBU of AV1 — remembered from the frames that carry it, so
// that a segment, or playback after a jump, that starts at a keyframe
// without it can be made to decode on its own.
//
// Other formats (H.264 avc/avc3, H.265 hvc1/hev1: codec_data in the caps;
// VP9: every keyframe is self-contained) need nothing: kNone.
//
// Only headers are parsed (up to the first slice / frame OBU), so a scan is
// short. Plain value; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vdb {

enum class InbandHeaders { kNone, kH264, kH265, kAv1 };

// What a caps string's frames carry in-band.
InbandHeaders InbandHeadersOfCaps(const std::string &caps);

class CodecHeaders {
 public:
  explicit CodecHeaders(InbandHeaders kind = InbandHeaders::kNone) : kind_(kind) {}
  InbandHeaders kind() const { return kind_; }

  // Scans one access unit (temporal unit for AV1) up to its first slice or
  // frame; remembers the headers it carries. True if it carries a complete
  // set (H.264: SPS and PPS; H.265: VPS, SPS and PPS; AV1: a sequence header).
  bool Scan(const uint8_t *unit, size_t size);
  // The remembered headers, ready to insert; empty if none were seen.
  const std::vector<uint8_t> &headers() const { return headers_; }
  // Where in `unit` the headers go: 0 for H.264/H.265 (before everything),
  // after the leading temporal delimiter OBU for AV1.
  size_t InsertAt(const uint8_t *unit, size_t size) const;
  // `unit` with the remembered headers inserted.
  std::vector<uint8_t> With(const uint8_t *unit, size_t size) const;
  void Clear();

 private:
  InbandHeaders kind_;
  std::vector<std::vector<uint8_t>> sets_;  // one slot per header type, in decode order
  std::vector<uint8_t> headers_;
};

}  // namespace vdb
