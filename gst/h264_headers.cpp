#include "h264_headers.h"

namespace vdb {
namespace {

// Position of the next 00 00 01 start code at or after `i`, or `size`.
// Only headers are scanned (up to the first slice), so this stays short.
size_t NextStart(const uint8_t *d, size_t size, size_t i) {
  for (; i + 3 <= size; i++)
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) return i;
  return size;
}

}  // namespace

bool H264Headers::Scan(const uint8_t *d, size_t size) {
  bool has_sps = false, has_pps = false;
  size_t i = NextStart(d, size, 0);
  while (i < size) {
    size_t payload = i + 3;
    size_t next = NextStart(d, size, payload);
    // A 4-byte start code's leading zero belongs to the next unit's prefix.
    size_t end = next;
    while (end > payload && end < size && d[end - 1] == 0) end--;
    if (payload < size) {
      int type = d[payload] & 0x1f;
      if (type >= 1 && type <= 5) break;  // slice data: the headers came before it
      if (type == 7 || type == 8) {
        std::vector<uint8_t> &dst = type == 7 ? sps_ : pps_;
        dst.assign({0, 0, 0, 1});
        dst.insert(dst.end(), d + payload, d + end);
        (type == 7 ? has_sps : has_pps) = true;
      }
    }
    i = next;
  }
  if (has_sps || has_pps) {
    headers_ = sps_;
    headers_.insert(headers_.end(), pps_.begin(), pps_.end());
  }
  return has_sps && has_pps;
}

}  // namespace vdb
