// CodecHeaders: in-band headers of H.264, H.265 and AV1 found, remembered
// and inserted where each codec wants them.
#include "codec_headers.h"

#include <gtest/gtest.h>

#include "mem_fs.h"
#include "test_util.h"

namespace vdb {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto &p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A NAL unit with a 4-byte start code.
Bytes Nal(std::initializer_list<uint8_t> header, size_t body = 6) {
  Bytes b = {0, 0, 0, 1};
  for (uint8_t x : header) b.push_back(x);
  for (size_t i = 0; i < body; i++) b.push_back(uint8_t(0x40 + i));
  return b;
}

// An AV1 OBU with a size field.
Bytes Obu(int type, size_t body) {
  Bytes b = {uint8_t((type << 3) | 0x02), uint8_t(body)};
  for (size_t i = 0; i < body; i++) b.push_back(uint8_t(0x11 * type + i));
  return b;
}

TEST(CodecHeaders, CapsTellWhatIsCarriedInBand) {
  EXPECT_EQ(InbandHeadersOfCaps("video/x-h264, stream-format=(string)byte-stream"),
            InbandHeaders::kH264);
  EXPECT_EQ(InbandHeadersOfCaps("video/x-h264, stream-format=(string)avc"), InbandHeaders::kNone);
  EXPECT_EQ(InbandHeadersOfCaps("video/x-h265, stream-format=(string)byte-stream"),
            InbandHeaders::kH265);
  EXPECT_EQ(InbandHeadersOfCaps("video/x-h265, stream-format=(string)hvc1"), InbandHeaders::kNone);
  EXPECT_EQ(InbandHeadersOfCaps("video/x-av1, stream-format=(string)obu-stream"),
            InbandHeaders::kAv1);
  EXPECT_EQ(InbandHeadersOfCaps("video/x-vp9"), InbandHeaders::kNone);
}

TEST(CodecHeaders, H264SpsPpsAreRememberedAndPrepended) {
  Bytes sps = Nal({0x67}), pps = Nal({0x68}), idr = Nal({0x65}, 40), p = Nal({0x41}, 20);
  CodecHeaders h(InbandHeaders::kH264);
  EXPECT_TRUE(h.Scan(Cat({sps, pps, idr}).data(), Cat({sps, pps, idr}).size()));
  EXPECT_EQ(h.headers(), Cat({sps, pps}));
  EXPECT_FALSE(CodecHeaders(InbandHeaders::kH264).Scan(idr.data(), idr.size()));
  EXPECT_EQ(h.With(idr.data(), idr.size()), Cat({sps, pps, idr}));
  EXPECT_FALSE(h.Scan(p.data(), p.size()));
  EXPECT_EQ(h.headers(), Cat({sps, pps}));  // kept
}

TEST(CodecHeaders, H265NeedsVpsSpsAndPps) {
  // NAL type in bits 1..6 of the first header byte: VPS 32, SPS 33, PPS 34, IDR_W_RADL 19.
  Bytes vps = Nal({32 << 1, 1}), sps = Nal({33 << 1, 1}), pps = Nal({34 << 1, 1});
  Bytes idr = Nal({19 << 1, 1}, 40), sei = Nal({39 << 1, 1});
  CodecHeaders h(InbandHeaders::kH265);
  Bytes partial = Cat({sps, pps, idr});
  EXPECT_FALSE(h.Scan(partial.data(), partial.size()));  // no VPS
  Bytes full = Cat({vps, sps, pps, sei, idr});
  EXPECT_TRUE(h.Scan(full.data(), full.size()));
  EXPECT_EQ(h.headers(), Cat({vps, sps, pps}));
  EXPECT_EQ(h.With(idr.data(), idr.size()), Cat({vps, sps, pps, idr}));
}

TEST(CodecHeaders, Av1SequenceHeaderGoesAfterTheTemporalDelimiter) {
  Bytes td = Obu(2, 0), seq = Obu(1, 12), frame = Obu(6, 100);
  CodecHeaders h(InbandHeaders::kAv1);
  Bytes key = Cat({td, seq, frame});
  EXPECT_TRUE(h.Scan(key.data(), key.size()));
  EXPECT_EQ(h.headers(), seq);
  Bytes bare = Cat({td, frame});
  EXPECT_FALSE(CodecHeaders(InbandHeaders::kAv1).Scan(bare.data(), bare.size()));
  EXPECT_EQ(h.InsertAt(bare.data(), bare.size()), td.size());
  EXPECT_EQ(h.With(bare.data(), bare.size()), key);
}

TEST(CodecHeaders, TruncatedOrGarbageUnitsAreSafe) {
  for (auto kind : {InbandHeaders::kH264, InbandHeaders::kH265, InbandHeaders::kAv1}) {
    CodecHeaders h(kind);
    Bytes junk = {0, 0, 1, 0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0a};
    for (size_t n = 0; n <= junk.size(); n++) (void)h.Scan(junk.data(), n);
    Bytes obu = {0x0a, 0xff};  // a sequence header claiming more than there is
    EXPECT_FALSE(h.Scan(obu.data(), obu.size()));
  }
}

// The writer gives every segment the headers it needs: a segment whose
// first keyframe lacks them (an encoder that sends SPS/PPS once) starts
// with the last ones seen, flagged; other keyframes are stored as they
// came, flagged by what their bytes carry.
TEST(CodecHeaders, TheWriterStartsEverySegmentWithTheHeadersLastSeen) {
  Bytes sps = Nal({0x67}), pps = Nal({0x68}), idr = Nal({0x65}, 40), p = Nal({0x41}, 20);
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = test::kSecond;
  auto w = test::OpenWriter(&fs, "/s", o);  // H.264 byte-stream
  struct In {
    Bytes data;
    uint64_t pts;
    uint32_t flags;
  };
  const uint64_t half = test::kSecond / 2;
  std::vector<In> in = {{Cat({sps, pps, idr}), 0, kFlagKey},
                        {p, half / 2, 0},
                        {idr, half, kFlagKey | kFlagHeader},  // a stale flag
                        {idr, 2 * half, kFlagKey},            // starts segment 2
                        {p, 3 * half, 0}};
  for (const In &f : in) {
    Frame fr;
    fr.data = f.data.data();
    fr.size = f.data.size();
    fr.pts = fr.dts = f.pts;
    fr.flags = f.flags;
    ASSERT_TRUE(w->Append(fr).ok());
  }
  EXPECT_EQ(w->headerless_segments(), 0u);
  ASSERT_TRUE(w->Close().ok());
  auto r = test::OpenReader(&fs, "/s");
  ASSERT_EQ(r->segments().size(), 2u);
  auto out = test::ReadAll(r.get());
  ASSERT_EQ(out.size(), 5u);
  auto bytes = [](const Bytes &b) { return std::string(b.begin(), b.end()); };
  EXPECT_EQ(out[0].data, bytes(Cat({sps, pps, idr})));
  EXPECT_TRUE(out[0].flags & kFlagHeader);
  EXPECT_EQ(out[2].data, bytes(idr));
  EXPECT_FALSE(out[2].flags & kFlagHeader);
  EXPECT_EQ(out[3].data, bytes(Cat({sps, pps, idr})));
  EXPECT_TRUE(out[3].flags & kFlagHeader);
  EXPECT_EQ(out[4].data, bytes(p));
  // What a player re-sends after a jump into either segment.
  for (size_t i = 0; i < 2; i++) {
    auto seg = r->Segment(i);
    ASSERT_TRUE(seg.ok());
    EXPECT_EQ((*seg)->InbandHeaders().headers(), Cat({sps, pps})) << "segment " << i;
  }
}

// A stream whose keyframes never carried headers: the writer stores it as
// it came and counts the segments that cannot be decoded alone.
TEST(CodecHeaders, TheWriterCountsSegmentsStartedWithoutAnyHeaders) {
  Bytes idr = Nal({0x65}, 40);
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = test::kSecond;
  auto w = test::OpenWriter(&fs, "/s", o);
  for (uint64_t i = 0; i < 3; i++) {
    Frame fr;
    fr.data = idr.data();
    fr.size = idr.size();
    fr.pts = fr.dts = i * test::kSecond;
    fr.flags = kFlagKey;
    ASSERT_TRUE(w->Append(fr).ok());
  }
  EXPECT_EQ(w->headerless_segments(), 3u);
}

}  // namespace
}  // namespace vdb
