// libFuzzer target: arbitrary bytes as a segment's frame file. Scanning,
// opening each track for reading and crash recovery must report, never crash
// or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mem_fs.h"
#include "reader.h"
#include "record_scan.h"
#include "recovery.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vdb::MemFs fs;
  fs.MakeDirs("/s/cam");
  std::string bytes(reinterpret_cast<const char *>(data), size);
  fs.SetContents(vdb::FramesPath("/s/cam", 1), bytes);
  auto f = fs.Open(vdb::FramesPath("/s/cam", 1), vdb::OpenMode::kRead);
  (void)vdb::ScanRecords(f->get(), vdb::kFileHeaderSize, vdb::ScanMode::kResync);
  vdb::SegmentInfo info;
  info.id = 1;
  info.state = vdb::SegmentState::kSealed;
  // Each track of the segment (format 2: the video and an audio track).
  for (uint32_t track : {0u, 1u}) {
    auto seg = vdb::SegmentReader::Open(&fs, "/s/cam", info, track);
    if (!seg.ok()) continue;
    std::vector<uint8_t> buf;
    std::vector<vdb::FrameView> views;
    for (size_t i = 0; i < (*seg)->size(); i++) (void)(*seg)->Read(i, 1, &buf, &views);
    if ((*seg)->size()) (void)(*seg)->Read(0, (*seg)->size(), &buf, &views);
    (void)(*seg)->KeyAtOrBefore(UINT64_MAX / 2);
  }
  vdb::RecoveryItem item;
  (void)vdb::RebuildSegment(&fs, "/s/cam", 1, "cam", &item);
  return 0;
}
