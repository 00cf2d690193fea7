// libFuzzer target: a valid frame file (video with an audio track beside it)
// with arbitrary bytes as its index. A damaged index must be ignored or
// rebuilt from the frames, never trusted: each track opens whole.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mem_fs.h"
#include "segment_reader.h"
#include "writer.h"

namespace {
// One small valid segment, written once.
const std::string &ValidFrames() {
  static std::string frames = [] {
    vdb::MemFs fs;
    vdb::WriterOptions o;
    o.flush_interval = 0;
    auto w = vdb::Writer::Open(&fs, "/s", "cam", o, nullptr);
    (void)(*w)->SetCaps("h264", "video/x-h264");
    (void)(*w)->SetTrackCaps(1, "opus", "audio/x-opus");
    std::string payload(100, 'x'), sound(30, 'a');
    for (int i = 0; i < 20; i++) {
      vdb::Frame f;
      f.data = payload.data();
      f.size = payload.size();
      f.pts = f.dts = uint64_t(i) * 33000000;
      f.duration = 33000000;
      f.flags = i % 5 == 0 ? vdb::kFlagKey : 0;
      (void)(*w)->Append(f);
      vdb::Frame a = f;  // one audio frame after each video frame
      a.data = sound.data();
      a.size = sound.size();
      a.track = 1;
      a.flags = vdb::kFlagKey;
      (void)(*w)->Append(a);
    }
    (void)(*w)->Close();
    return fs.Contents(vdb::FramesPath("/s/cam", 1));
  }();
  return frames;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vdb::MemFs fs;
  fs.MakeDirs("/s/cam");
  fs.SetContents(vdb::FramesPath("/s/cam", 1), ValidFrames());
  fs.SetContents(vdb::IndexPath("/s/cam", 1),
                 std::string(reinterpret_cast<const char *>(data), size));
  vdb::SegmentInfo info;
  info.id = 1;
  info.state = vdb::SegmentState::kSealed;
  for (uint32_t track : {0u, 1u}) {
    auto seg = vdb::SegmentReader::Open(&fs, "/s/cam", info, track);
    if (!seg.ok()) __builtin_trap();             // the frames are intact: each track must open
    if ((*seg)->size() != 20) __builtin_trap();  // and hold every frame, whatever the index says
    std::vector<uint8_t> buf;
    std::vector<vdb::FrameView> views;
    if (!(*seg)->Read(0, 20, &buf, &views).ok()) __builtin_trap();
  }
  return 0;
}
