#include "crc32c.h"

#include <cstring>

namespace vdb {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

struct Table {
  uint32_t t[8][256];
  Table() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

uint32_t crc_sw(const uint8_t *p, size_t n, uint32_t c) {
  static const Table tab;
  const auto &t = tab.t;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= c;
    c = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
        t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
  return c;
}

#if defined(__x86_64__)
// Three independent crc32 streams hide the instruction's latency; their
// results are joined by shifting a CRC over zero bytes (multiplication by
// x^(8n) modulo the polynomial, done with per-byte tables for n = 8192, 256).
constexpr size_t kLong = 8192, kShort = 256;

uint32_t MatrixTimes(const uint32_t *mat, uint32_t vec) {
  uint32_t sum = 0;
  for (; vec; vec >>= 1, mat++)
    if (vec & 1) sum ^= *mat;
  return sum;
}

void MatrixSquare(uint32_t *square, const uint32_t *mat) {
  for (int n = 0; n < 32; n++) square[n] = MatrixTimes(mat, mat[n]);
}

// Tables that shift a CRC over `len` zero bytes (len a power of two).
struct ShiftTable {
  uint32_t t[4][256];
  explicit ShiftTable(size_t len) {
    uint32_t odd[32], even[32];
    odd[0] = kPoly;  // one zero bit
    for (int n = 1; n < 32; n++) odd[n] = 1u << (n - 1);
    MatrixSquare(even, odd);  // two zero bits
    MatrixSquare(odd, even);  // four zero bits
    const uint32_t *op = nullptr;
    while (true) {  // each square doubles: 1 byte, 2 bytes, ...
      MatrixSquare(even, odd);
      len >>= 1;
      if (len == 0) {
        op = even;
        break;
      }
      MatrixSquare(odd, even);
      len >>= 1;
      if (len == 0) {
        op = odd;
        break;
      }
    }
    for (uint32_t n = 0; n < 256; n++)
      for (int b = 0; b < 4; b++) t[b][n] = MatrixTimes(op, n << (8 * b));
  }
  uint32_t Shift(uint32_t crc) const {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
  }
};

__attribute__((target("sse4.2"))) uint64_t Crc8(uint64_t c, const uint8_t *p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return __builtin_ia32_crc32di(c, w);
}

__attribute__((target("sse4.2"))) uint32_t Crc3Way(const uint8_t *&p, size_t &n, uint32_t c,
                                                   size_t block, const ShiftTable &shift) {
  while (n >= 3 * block) {
    uint64_t c0 = c, c1 = 0, c2 = 0;
    for (size_t i = 0; i < block; i += 8) {
      c0 = Crc8(c0, p + i);
      c1 = Crc8(c1, p + block + i);
      c2 = Crc8(c2, p + 2 * block + i);
    }
    c = shift.Shift(uint32_t(c0)) ^ uint32_t(c1);
    c = shift.Shift(c) ^ uint32_t(c2);
    p += 3 * block;
    n -= 3 * block;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t crc_hw(const uint8_t *p, size_t n, uint32_t c) {
  static const ShiftTable long_shift(kLong), short_shift(kShort);
  c = Crc3Way(p, n, c, kLong, long_shift);
  c = Crc3Way(p, n, c, kShort, short_shift);
  uint64_t c64 = c;
  for (; n >= 8; p += 8, n -= 8) c64 = Crc8(c64, p);
  c = static_cast<uint32_t>(c64);
  while (n--) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}
bool have_hw() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t crc32c(const void *data, size_t len, uint32_t crc) {
  const auto *p = static_cast<const uint8_t *>(data);
  uint32_t c = ~crc;
#if defined(__x86_64__)
  if (have_hw()) return ~crc_hw(p, len, c);
#endif
  return ~crc_sw(p, len, c);
}

}  // namespace vdb
