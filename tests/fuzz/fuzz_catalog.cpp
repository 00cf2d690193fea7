// libFuzzer target: arbitrary bytes as a stream's catalog. Loading, reading
// the stream and a writer's open (which rebuilds a damaged catalog) must
// report, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mem_fs.h"
#include "reader.h"
#include "writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vdb::MemFs fs;
  fs.MakeDirs("/s/cam");
  fs.SetContents("/s/vdb-store.json", "{\"format\":\"vdb-store\",\"version\":1}");
  fs.SetContents("/s/cam/catalog.vdbc", std::string(reinterpret_cast<const char *>(data), size));
  auto c = vdb::Catalog::Load(&fs, "/s/cam");
  if (c.ok()) {
    (void)c->FindByTime(12345);
    auto r = vdb::Reader::Open(&fs, "/s", "cam");
    if (r.ok()) (void)(*r)->FindKeyframe(0, vdb::Snap::kNearest);
  }
  auto w = vdb::Writer::Open(&fs, "/s", "cam", {}, nullptr);
  return 0;
}
