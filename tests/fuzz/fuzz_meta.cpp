// libFuzzer target: arbitrary bytes as segment metadata JSON and as the
// store marker. Parsers report errors; they never throw, crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mem_fs.h"
#include "segment_info.h"
#include "store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto m = vdb::SegmentMetaFromJson(text);
  if (m.ok()) (void)vdb::SegmentMetaFromJson(vdb::SegmentMetaToJson(m.value()));
  vdb::MemFs fs;
  fs.MakeDirs("/s");
  fs.SetContents("/s/vdb-store.json", text);
  (void)vdb::PrepareStore(&fs, "/s", false);
  return 0;
}
