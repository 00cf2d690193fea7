#include "codec_headers.h"

#include <algorithm>

namespace vdb {
namespace {

// Position of the next 00 00 01 start code at or after `i`, or `size`.
size_t NextStart(const uint8_t *d, size_t size, size_t i) {
  for (; i + 3 <= size; i++)
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) return i;
  return size;
}

bool Has(const std::string &caps, const char *media, const char *format) {
  return caps.rfind(media, 0) == 0 && caps.find(format) != std::string::npos;
}

// One AV1 OBU at `i`: its type and end (size field required, as in
// obu-stream); false if it does not parse.
bool NextObu(const uint8_t *d, size_t size, size_t i, int *type, size_t *end) {
  if (i >= size) return false;
  uint8_t h = d[i];
  *type = (h >> 3) & 0xf;
  size_t p = i + 1 + ((h & 0x04) ? 1 : 0);  // extension header
  if (!(h & 0x02)) {                        // no size field: the OBU runs to the end
    *end = size;
    return p <= size;
  }
  uint64_t len = 0;
  for (int k = 0; k < 8; k++, p++) {
    if (p >= size) return false;
    len |= uint64_t(d[p] & 0x7f) << (7 * k);
    if (!(d[p] & 0x80)) {
      p++;
      break;
    }
  }
  if (len > size - std::min(p, size)) return false;
  *end = p + size_t(len);
  return true;
}

}  // namespace

InbandHeaders InbandHeadersOfCaps(const std::string &caps) {
  if (Has(caps, "video/x-h264", "byte-stream")) return InbandHeaders::kH264;
  if (Has(caps, "video/x-h265", "byte-stream")) return InbandHeaders::kH265;
  if (caps.rfind("video/x-av1", 0) == 0) return InbandHeaders::kAv1;
  return InbandHeaders::kNone;
}

void CodecHeaders::Clear() {
  sets_.clear();
  headers_.clear();
}

bool CodecHeaders::Scan(const uint8_t *d, size_t size) {
  if (kind_ == InbandHeaders::kNone) return true;
  size_t kinds = kind_ == InbandHeaders::kH265 ? 3 : kind_ == InbandHeaders::kH264 ? 2 : 1;
  sets_.resize(kinds);
  std::vector<bool> seen(kinds, false);
  if (kind_ == InbandHeaders::kAv1) {
    int type;
    size_t end;
    for (size_t i = 0; NextObu(d, size, i, &type, &end); i = end) {
      if (type == 3 || type == 6) break;  // a frame header or frame: headers came before
      if (type == 1) {                    // OBU_SEQUENCE_HEADER
        sets_[0].assign(d + i, d + end);
        seen[0] = true;
      }
    }
  } else {
    size_t i = NextStart(d, size, 0);
    while (i < size) {
      size_t payload = i + 3;
      size_t next = NextStart(d, size, payload);
      // A 4-byte start code's leading zero belongs to the next unit's prefix.
      size_t end = next;
      while (end > payload && end < size && d[end - 1] == 0) end--;
      if (payload < size) {
        int slot = -1;
        if (kind_ == InbandHeaders::kH264) {
          int type = d[payload] & 0x1f;
          if (type >= 1 && type <= 5) break;  // slice data
          slot = type == 7 ? 0 : type == 8 ? 1 : -1;
        } else {
          int type = (d[payload] >> 1) & 0x3f;
          if (type <= 31) break;  // VCL: slice data
          slot = type >= 32 && type <= 34 ? type - 32 : -1;
        }
        if (slot >= 0) {
          sets_[size_t(slot)].assign({0, 0, 0, 1});
          sets_[size_t(slot)].insert(sets_[size_t(slot)].end(), d + payload, d + end);
          seen[size_t(slot)] = true;
        }
      }
      i = next;
    }
  }
  bool any = false, all = true;
  for (bool b : seen) any |= b, all &= b;
  if (any) {
    headers_.clear();
    for (const auto &s : sets_) headers_.insert(headers_.end(), s.begin(), s.end());
  }
  return all;
}

size_t CodecHeaders::InsertAt(const uint8_t *d, size_t size) const {
  int type;
  size_t end;
  if (kind_ == InbandHeaders::kAv1 && NextObu(d, size, 0, &type, &end) && type == 2) return end;
  return 0;
}

std::vector<uint8_t> CodecHeaders::With(const uint8_t *d, size_t size) const {
  size_t at = InsertAt(d, size);
  std::vector<uint8_t> out(d, d + at);
  out.insert(out.end(), headers_.begin(), headers_.end());
  out.insert(out.end(), d + at, d + size);
  return out;
}

}  // namespace vdb
