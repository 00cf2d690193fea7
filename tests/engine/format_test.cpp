// Record, index and header encodings, and the checksum they rely on.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "crc32c.h"
#include "format.h"

using namespace vdb;

TEST(Crc32c, KnownValues) {
  // RFC 3720 test vectors.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  uint8_t zeros[32] = {0};
  EXPECT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
  uint8_t ones[32];
  std::memset(ones, 0xff, 32);
  EXPECT_EQ(crc32c(ones, 32), 0x62A8AB43u);
}

TEST(Crc32c, ChainingEqualsWhole) {
  std::string s(1000, 'x');
  for (size_t i = 0; i < s.size(); i++) s[i] = char(i * 31);
  EXPECT_EQ(crc32c(s.data() + 400, 600, crc32c(s.data(), 400)), crc32c(s.data(), s.size()));
}

TEST(Format, RecordRoundTripAndEveryBitFlipDetected) {
  std::string payload = "frame payload bytes";
  RecordHeader h;
  h.payload_size = uint32_t(payload.size());
  h.pts = 123456789;
  h.dts = 123000000;
  h.duration = 33333333;
  h.flags = kFlagKey | kFlagHeader;
  uint8_t buf[kRecordHeaderSize];
  EncodeRecordHeader(&h, payload.data(), buf);
  RecordHeader d;
  ASSERT_TRUE(DecodeRecordHeader(buf, &d));
  EXPECT_EQ(d.pts, h.pts);
  EXPECT_EQ(d.dts, h.dts);
  EXPECT_EQ(d.duration, h.duration);
  EXPECT_EQ(d.flags, h.flags);
  EXPECT_TRUE(RecordCrcMatches(buf, d, payload.data()));
  for (size_t bit = 0; bit < (sizeof buf + payload.size()) * 8; bit++) {
    uint8_t b[kRecordHeaderSize];
    std::memcpy(b, buf, sizeof b);
    std::string p = payload;
    if (bit < sizeof b * 8)
      b[bit / 8] ^= uint8_t(1 << (bit % 8));
    else
      p[bit / 8 - sizeof b] ^= char(1 << (bit % 8));
    RecordHeader x;
    bool valid = DecodeRecordHeader(b, &x) && x.payload_size == payload.size() &&
                 RecordCrcMatches(b, x, p.data());
    EXPECT_FALSE(valid) << "bit " << bit;
  }
}

TEST(Format, IndexEntryRoundTripAndChecksum) {
  IndexEntry e{(1ull << 40) + 17, kFlagKey | kFlagDiscont, 5 * 1000000000ull, kNoTime, 4242};
  uint8_t buf[kIndexEntrySize];
  EncodeIndexEntry(e, buf);
  IndexEntry d;
  ASSERT_TRUE(DecodeIndexEntry(buf, &d));
  EXPECT_EQ(d.offset, e.offset);
  EXPECT_EQ(d.flags, e.flags);
  EXPECT_EQ(d.pts, e.pts);
  EXPECT_EQ(d.dts, e.dts);
  EXPECT_EQ(d.size, e.size);
  buf[9] ^= 4;
  EXPECT_FALSE(DecodeIndexEntry(buf, &d));
}

TEST(Format, FileHeaderRejectsWrongKindAndNewerVersion) {
  uint8_t buf[kFileHeaderSize];
  EncodeFileHeader(FileHeader{FileKind::kFrames, kFormatVersion, 42}, buf);
  FileHeader h;
  ASSERT_TRUE(DecodeFileHeader(buf, FileKind::kFrames, &h).ok());
  EXPECT_EQ(h.segment_id, 42u);
  EXPECT_EQ(DecodeFileHeader(buf, FileKind::kIndex, &h).code(), Code::kCorrupt);
  EncodeFileHeader(FileHeader{FileKind::kFrames, kFormatVersion + 1, 42}, buf);
  EXPECT_EQ(DecodeFileHeader(buf, FileKind::kFrames, &h).code(), Code::kUnsupported);
}

// The fast paths (three interleaved streams over 8 KiB and 256 B blocks) give
// the same values as a bit-at-a-time reference, at every length and offset.
TEST(Crc32c, FastPathsMatchBitwiseReference) {
  auto reference = [](const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    while (n--) {
      c ^= *p++;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
  };
  std::vector<uint8_t> data(3 * 8192 * 2 + 3 * 256 + 77);
  uint32_t x = 12345;
  for (auto &b : data) b = uint8_t((x = x * 1103515245u + 12345u) >> 16);
  for (size_t len : {size_t(0), size_t(1), size_t(7), size_t(255), size_t(768), size_t(769),
                     size_t(3 * 8192), size_t(3 * 8192 + 5), data.size()}) {
    for (size_t off : {size_t(0), size_t(3)}) {
      if (off + len > data.size()) continue;
      EXPECT_EQ(crc32c(data.data() + off, len), reference(data.data() + off, len))
          << "len " << len << " off " << off;
    }
  }
}
