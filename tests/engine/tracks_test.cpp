// Format 2 tracks: audio recorded beside video in the same segments, each
// track read back on its own, exactly, and version 1 stores still read.
#include <gtest/gtest.h>

#include "mem_fs.h"
#include "recovery.h"
#include "test_util.h"

namespace vdb::test {
namespace {

const char *kAac = "audio/mpeg, mpegversion=(int)4, stream-format=(string)raw";

// AAC-like audio: 1024 samples at 48 kHz per frame, every frame a keyframe.
std::vector<TestFrame> MakeAudio(size_t n, uint64_t start = 0, uint32_t seed = 7) {
  std::vector<TestFrame> out;
  for (size_t i = 0; i < n; i++) {
    uint64_t t = start + i * 1024 * kSecond / 48000,
             next = start + (i + 1) * 1024 * kSecond / 48000;
    std::string d(200 + (i * seed) % 100, char('a' + i % 26));
    out.push_back({d, t, t, next - t, kFlagKey});
  }
  return out;
}

// Appends video and audio interleaved by arrival: audio arrives `skew`
// earlier than video with the same timestamps (negative: later). Audio that
// arrives before the first video keyframe has no segment to go to (as in
// vdbsink, it is dropped): returns the audio frames stored.
std::vector<TestFrame> AppendInterleaved(Writer *w, const std::vector<TestFrame> &video,
                                         const std::vector<TestFrame> &audio, int64_t skew = 0) {
  std::vector<TestFrame> stored;
  size_t a = 0;
  auto put_audio = [&] {
    Frame f = ToFrame(audio[a]);
    f.track = 1;
    Status st = w->Append(f);
    if (w->recording()) {
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    if (st.ok()) stored.push_back(audio[a]);
    a++;
  };
  for (const TestFrame &v : video) {
    while (a < audio.size() && int64_t(audio[a].pts) - skew < int64_t(v.pts)) put_audio();
    EXPECT_TRUE(w->Append(ToFrame(v)).ok());
  }
  while (a < audio.size()) put_audio();
  return stored;
}

std::vector<TestFrame> WithTrackBits(std::vector<TestFrame> frames, uint32_t track) {
  for (TestFrame &f : frames) f.flags = WithTrack(f.flags, track);
  return frames;
}

std::unique_ptr<Reader> OpenTrack(Fs *fs, uint32_t track) {
  auto r = Reader::Open(fs, "/s", "cam", 4, track);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

Played PlayFrom(Reader *r, uint64_t pts) {
  PlayCursor c(r);
  Played p;
  EXPECT_TRUE(c.Seek(pts, Snap::kBefore, PlayOptions{}).ok());
  Status st = Drain(&c, &p);
  EXPECT_EQ(st.code(), Code::kEnd) << st.ToString();
  return p;
}

TEST(Tracks, EachTrackReadsBackExactlyAndSegmentsCutAtVideoKeyframes) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = 2 * kSecond;
  auto w = OpenWriter(&fs, "/s", o);
  auto video = MakeFrames(300, 1000, 30);  // 10 s
  auto audio = MakeAudio(468);             // 9.98 s
  // The audio caps come after the first segment opened: its caps record
  // goes in before its first frame.
  ASSERT_TRUE(w->Append(ToFrame(video[0])).ok());
  ASSERT_TRUE(w->SetTrackCaps(1, "aac", kAac).ok());
  AppendInterleaved(w.get(), {video.begin() + 1, video.end()}, audio);
  ASSERT_TRUE(w->Close().ok());
  auto segs = w->segments();
  ASSERT_EQ(segs.size(), 5u);

  auto rv = OpenTrack(&fs, 0), ra = OpenTrack(&fs, 1);
  EXPECT_TRUE(SameFrames(ReadAll(rv.get()), video));
  EXPECT_TRUE(SameFrames(ReadAll(ra.get()), WithTrackBits(audio, 1)));
  auto tracks = rv->Tracks();
  ASSERT_TRUE(tracks.ok());
  ASSERT_EQ(tracks->size(), 2u);
  EXPECT_EQ((*tracks)[0].codec, "h264");
  EXPECT_EQ((*tracks)[1].codec, "aac");
  EXPECT_EQ((*tracks)[1].caps, kAac);
  for (size_t i = 0; i < segs.size(); i++) {
    auto seg = rv->Segment(i);
    ASSERT_TRUE(seg.ok());
    EXPECT_EQ((*seg)->lead_track(), 0u);
    EXPECT_EQ((*seg)->entry(0).pts, segs[i].first_pts) << "segment starts at a video keyframe";
    EXPECT_TRUE((*seg)->entry(0).flags & kFlagKey);
    auto meta = ReadSegmentMeta(&fs, "/s/cam", segs[i].id);
    ASSERT_TRUE(meta.ok());
    ASSERT_EQ(meta->tracks.size(), 2u) << "segment " << i;
    EXPECT_EQ(meta->tracks[1].codec, "aac");
  }
  // A cursor on the audio track plays every audio frame, across segments.
  Played p = PlayFrom(ra.get(), 0);
  EXPECT_TRUE(SameFrames(p.frames, WithTrackBits(audio, 1)));
}

TEST(Tracks, AudioAtAKeyframeTimeIsFoundWhereverItArrived) {
  for (int64_t skew : {int64_t(1500) * 1000000, int64_t(-700) * 1000000}) {
    MemFs fs;
    WriterOptions o;
    o.max_segment_duration = 2 * kSecond;
    auto w = OpenWriter(&fs, "/s", o);
    ASSERT_TRUE(w->SetTrackCaps(1, "aac", kAac).ok());
    auto video = MakeFrames(300, 1000, 30);
    auto audio = MakeAudio(468);
    audio = AppendInterleaved(w.get(), video, audio, skew);
    ASSERT_TRUE(w->Close().ok());
    auto rv = OpenTrack(&fs, 0), ra = OpenTrack(&fs, 1);
    // Seek to each segment's keyframe: the audio starts with the frame
    // that covers it, whichever segment holds that frame.
    for (const SegmentInfo &s : rv->segments()) {
      SCOPED_TRACE("skew " + std::to_string(skew) + ", segment " + std::to_string(s.id));
      uint64_t key = s.first_pts;
      if (key < audio.front().pts) continue;  // before the first audio stored
      Played p = PlayFrom(ra.get(), key);
      ASSERT_FALSE(p.frames.empty());
      EXPECT_LE(p.frames[0].pts, key);
      EXPECT_GT(p.frames[0].pts + p.frames[0].duration, key);
      // And the rest of the audio follows, none lost.
      size_t first = 0;
      while (audio[first].pts != p.frames[0].pts) first++;
      EXPECT_EQ(p.frames.size(), audio.size() - first);
    }
  }
}

TEST(Tracks, AnAudioOnlyStreamIsCutByTime) {
  MemFs fs;
  WriterOptions o;
  o.max_segment_duration = 2 * kSecond;
  auto w = Writer::Open(&fs, "/s", "cam", o, nullptr);
  ASSERT_TRUE(w.ok());
  (*w)->SetLeadTrack(1);
  ASSERT_TRUE((*w)->SetTrackCaps(1, "opus", "audio/x-opus, channel-mapping-family=(int)0").ok());
  auto audio = MakeAudio(470);
  for (const auto &a : audio) {
    Frame f = ToFrame(a);
    f.track = 1;
    ASSERT_TRUE((*w)->Append(f).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->segments().size(), 5u);
  auto ra = OpenTrack(&fs, 1);
  EXPECT_TRUE(SameFrames(ReadAll(ra.get()), WithTrackBits(audio, 1)));
  auto seg = ra->Segment(1);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ((*seg)->lead_track(), 1u);
  // No video track: the reader of track 0 has nothing to play, and says so.
  auto rv = OpenTrack(&fs, 0);
  PlayCursor c(rv.get());
  EXPECT_FALSE(c.Seek(0, Snap::kBefore, PlayOptions{}).ok());
}

TEST(Tracks, NewAudioCapsTakeEffectAtTheNextSegment) {
  MemFs fs;
  auto w = OpenWriter(&fs, "/s");
  ASSERT_TRUE(w->SetTrackCaps(1, "aac", kAac).ok());
  auto video = MakeFrames(60, 1000, 30);
  auto audio = MakeAudio(20);  // 0.43 s
  AppendInterleaved(w.get(), {video.begin(), video.begin() + 15}, audio);
  std::string rate = std::string(kAac) + ", rate=(int)44100";
  ASSERT_TRUE(w->SetTrackCaps(1, "aac", rate).ok());
  EXPECT_TRUE(w->RotationDue());
  auto late = MakeAudio(1, video[15].pts);
  Frame a = ToFrame(late[0]);
  a.track = 1;
  EXPECT_EQ(w->Append(a).code(), Code::kInvalidArgument) << "old segment, new caps: refused";
  for (size_t i = 15; i < 60; i++) ASSERT_TRUE(w->Append(ToFrame(video[i])).ok());
  a.pts = a.dts = video[59].pts;
  Status st = w->Append(a);
  EXPECT_TRUE(st.ok()) << "the keyframe at 30 started a segment with the new caps: "
                       << st.ToString();
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(w->segments().size(), 2u);
  auto ra = OpenTrack(&fs, 1);
  auto seg = ra->Segment(1);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ((*seg)->caps(), rate);
  // Another codec on the audio track is refused: one codec per track.
  EXPECT_EQ(w->SetTrackCaps(1, "opus", "audio/x-opus").code(), Code::kInvalidArgument);
}

// A track recorded only in the middle of a stream (and one only at its end)
// is listed, from the catalog's track bits, and plays where it was recorded.
TEST(Tracks, ATrackRecordedOnlyInTheMiddleIsListed) {
  MemFs fs;
  std::vector<TestFrame> audio;
  {  // a run with video, then audio beside it
    auto w = OpenWriter(&fs, "/s");
    AppendAll(w.get(), MakeFrames(30, 1000, 30));
    ASSERT_TRUE(w->Close().ok());
    ASSERT_TRUE(w->SetTrackCaps(1, "aac", kAac).ok());
    audio = AppendInterleaved(w.get(), MakeFrames(30, 1000, 30, 30, 2 * kSecond),
                              MakeAudio(40, 2 * kSecond));
    ASSERT_TRUE(w->Close().ok());
  }
  {  // a run with video only, in three segments
    auto w = OpenWriter(&fs, "/s");
    for (int i = 0; i < 3; i++) {
      w->Split();
      AppendAll(w.get(), MakeFrames(30, 1000, 30, 30, (4 + i) * kSecond));
    }
    ASSERT_TRUE(w->Close().ok());
  }
  {  // and one with G.711 on another track
    auto w = OpenWriter(&fs, "/s");
    ASSERT_TRUE(w->SetTrackCaps(2, "alaw", "audio/x-alaw, rate=(int)8000, channels=(int)1").ok());
    AppendAll(w.get(), MakeFrames(30, 1000, 30, 30, 8 * kSecond));
    ASSERT_TRUE(w->Close().ok());
    ASSERT_EQ(w->segments().size(), 6u);
    EXPECT_EQ(w->segments()[1].tracks, 3u) << "video and audio_0";
    EXPECT_EQ(w->segments()[2].tracks, 1u);
    EXPECT_EQ(w->segments()[5].tracks, 5u) << "video and audio_1";
  }
  for (uint32_t track : {0u, 1u}) {  // from the catalog's bits
    auto r = OpenTrack(&fs, track);
    auto tracks = r->Tracks();
    ASSERT_TRUE(tracks.ok());
    ASSERT_EQ(tracks->size(), 3u);
    EXPECT_EQ((*tracks)[1].track, 1u);
    EXPECT_EQ((*tracks)[1].caps, kAac);
    EXPECT_EQ((*tracks)[2].codec, "alaw");
  }
  auto ra = OpenTrack(&fs, 1);
  EXPECT_TRUE(SameFrames(ReadAll(ra.get()), WithTrackBits(audio, 1)));
  Played p = PlayFrom(ra.get(), 0);
  EXPECT_EQ(p.frames.size(), audio.size());
}

TEST(Tracks, RecoveryKeepsEveryTrack) {
  MemFs fs;
  auto video = MakeFrames(90, 1000, 30);
  auto audio = MakeAudio(140);
  {
    auto w = OpenWriter(&fs, "/s");
    ASSERT_TRUE(w->Append(ToFrame(video[0])).ok());
    ASSERT_TRUE(w->SetTrackCaps(1, "aac", kAac).ok());
    AppendInterleaved(w.get(), {video.begin() + 1, video.end()}, audio);
    ASSERT_TRUE(w->Sync().ok());
    fs.Crash();  // never sealed
  }
  // Damage in the middle: the rebuilt file keeps the audio caps record.
  std::string path = FramesPath("/s/cam", 1);
  std::string data = fs.Contents(path);
  data[data.size() / 2] ^= 0x55;
  fs.SetContents(path, data);
  RecoveryReport report;
  auto w = Writer::Open(&fs, "/s", "cam", {}, &report);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(report.segments.size(), 1u);
  auto rv = OpenTrack(&fs, 0), ra = OpenTrack(&fs, 1);
  auto v = ReadAll(rv.get()), a = ReadAll(ra.get());
  EXPECT_GE(v.size() + a.size(), video.size() + audio.size() - 1) << "one record lost at most";
  EXPECT_GE(a.size(), audio.size() - 1);
  auto meta = ReadSegmentMeta(&fs, "/s/cam", 1);
  ASSERT_TRUE(meta.ok());
  ASSERT_EQ(meta->tracks.size(), 2u);
  EXPECT_EQ(meta->tracks[1].caps, kAac);
}

TEST(Tracks, Version1StoresStillRead) {
  MemFs fs;
  auto video = MakeFrames(60, 1000, 30);
  {
    auto w = OpenWriter(&fs, "/s");
    AppendAll(w.get(), video);
    ASSERT_TRUE(w->Close().ok());
  }
  // What version 1 wrote differs only in the headers' version field (and
  // metadata without tracks).
  for (auto [path, kind] : {std::pair{FramesPath("/s/cam", 1), FileKind::kFrames},
                            std::pair{IndexPath("/s/cam", 1), FileKind::kIndex},
                            std::pair{std::string("/s/cam/catalog.vdbc"), FileKind::kCatalog}}) {
    std::string data = fs.Contents(path);
    FileHeader h;
    ASSERT_TRUE(DecodeFileHeader(reinterpret_cast<const uint8_t *>(data.data()), kind, &h).ok());
    h.version = 1;
    uint8_t hdr[kFileHeaderSize];
    EncodeFileHeader(h, hdr);
    data.replace(0, kFileHeaderSize, reinterpret_cast<char *>(hdr), kFileHeaderSize);
    fs.SetContents(path, data);
  }
  std::string meta = fs.Contents(MetaPath("/s/cam", 1));
  auto m = SegmentMetaFromJson(meta);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->tracks.size(), 1u) << "version 1 metadata: the one track, 0";
  auto rv = OpenTrack(&fs, 0);
  EXPECT_TRUE(SameFrames(ReadAll(rv.get()), video));
  // A writer continues a version 1 stream and may add audio.
  auto w = OpenWriter(&fs, "/s");
  ASSERT_TRUE(w->SetTrackCaps(1, "aac", kAac).ok());
  AppendInterleaved(w.get(), MakeFrames(30, 1000, 30, 30, 3 * kSecond), MakeAudio(40, 3 * kSecond));
  ASSERT_TRUE(w->Close().ok());
  auto ra = OpenTrack(&fs, 1);
  EXPECT_EQ(ReadAll(ra.get()).size(), 40u);
}

}  // namespace
}  // namespace vdb::test
