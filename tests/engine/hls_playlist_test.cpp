// HLS playlists built from a segment list: what a player needs to play the
// archive (one media segment per vdb segment, wall-clock times, gaps) and to
// follow a recording.
#include "hls_playlist.h"

#include <gtest/gtest.h>

using namespace vdb;

namespace {

const uint64_t kSec = 1000000000ull;
const uint64_t kUtc0 = 1795000000ull * kSec;  // 2026-11-18T...

// `n` sealed 10 s segments of continuous recording from PTS `pts0`.
std::vector<SegmentInfo> Segments(size_t n, uint64_t pts0 = 3600000 * kSec) {
  std::vector<SegmentInfo> out;
  for (size_t i = 0; i < n; i++) {
    SegmentInfo s;
    s.id = i + 1;
    s.state = SegmentState::kSealed;
    s.first_pts = pts0 + i * 10 * kSec;
    s.end_pts = s.first_pts + 10 * kSec;
    s.utc_start = kUtc0 + i * 10 * kSec;
    out.push_back(s);
  }
  return out;
}

size_t Count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) n++;
  return n;
}

}  // namespace

TEST(HlsPlaylist, VodListsEachSegmentOfTheRangeWithItsWallClockTime) {
  auto segs = Segments(6);
  HlsOptions o;
  o.from_utc = kUtc0 + 15 * kSec;  // inside segment 2
  o.to_utc = kUtc0 + 35 * kSec;    // inside segment 4
  auto text = BuildHlsPlaylist(segs, o);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(Count(*text, "#EXTINF:10.000,"), 3u);
  EXPECT_NE(text->find("#EXT-X-MEDIA-SEQUENCE:2\n"), std::string::npos);
  EXPECT_NE(text->find("#EXT-X-PROGRAM-DATE-TIME:" + FormatUtc(kUtc0 + 10 * kSec) +
                       "\n#EXTINF:10.000,\nsegments/2.ts"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("segments/4.ts\n#EXT-X-ENDLIST\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("#EXT-X-TARGETDURATION:10\n"), std::string::npos);
  EXPECT_EQ(text->find("DISCONTINUITY"), std::string::npos);
}

TEST(HlsPlaylist, GapIsADiscontinuityWithTheNextWallClockTime) {
  auto segs = Segments(4);
  for (size_t i = 2; i < 4; i++) {  // an hour without recording before segment 3
    segs[i].first_pts += 3600 * kSec;
    segs[i].end_pts += 3600 * kSec;
    segs[i].utc_start += 3600 * kSec;
  }
  auto text = BuildHlsPlaylist(segs, HlsOptions());
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(Count(*text, "#EXT-X-DISCONTINUITY\n"), 1u);
  EXPECT_NE(text->find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:" +
                       FormatUtc(kUtc0 + 3620 * kSec) + "\n"),
            std::string::npos)
      << *text;
}

TEST(HlsPlaylist, SegmentPlaysUntilTheNextStartsWhenItsAudioRanAhead) {
  auto segs = Segments(3);
  segs[0].end_pts += 7 * kSec;  // audio stored 7 s ahead of the video
  EXPECT_EQ(SegmentPlayEnd(segs, 0), segs[1].first_pts);
  EXPECT_EQ(SegmentPlayEnd(segs, 2), segs[2].end_pts);
  auto text = BuildHlsPlaylist(segs, HlsOptions());
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(Count(*text, "#EXTINF:10.000,"), 3u) << *text;
}

TEST(HlsPlaylist, LiveListsTheNewestSealedSegmentsWithoutEnd) {
  auto segs = Segments(10);
  segs.back().state = SegmentState::kOpen;  // being written: not listed
  HlsOptions o;
  o.live = true;
  o.live_window = 3;
  auto text = BuildHlsPlaylist(segs, o);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(Count(*text, "#EXTINF:"), 3u);
  EXPECT_NE(text->find("#EXT-X-MEDIA-SEQUENCE:7\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("segments/9.ts\n"), std::string::npos);
  EXPECT_EQ(text->find("segments/10.ts"), std::string::npos);
  EXPECT_EQ(text->find("ENDLIST"), std::string::npos);
  EXPECT_EQ(text->find("PLAYLIST-TYPE"), std::string::npos);
}

TEST(HlsPlaylist, BadRangesAreRefused) {
  auto segs = Segments(5);
  HlsOptions o;
  o.from_utc = kUtc0 + 30 * kSec;
  o.to_utc = kUtc0 + 20 * kSec;
  EXPECT_EQ(BuildHlsPlaylist(segs, o).status().code(), Code::kInvalidArgument);
  o.from_utc = kUtc0 + 1000 * kSec;
  o.to_utc = kUtc0 + 2000 * kSec;
  EXPECT_EQ(BuildHlsPlaylist(segs, o).status().code(), Code::kNotFound);
  o = HlsOptions();
  o.max_segments = 4;
  auto big = BuildHlsPlaylist(segs, o);
  EXPECT_EQ(big.status().code(), Code::kInvalidArgument);
  EXPECT_NE(big.status().message().find("shorter"), std::string::npos);
  EXPECT_EQ(BuildHlsPlaylist({}, HlsOptions()).status().code(), Code::kNotFound);
}
