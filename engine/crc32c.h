// CRC32C (Castagnoli), the checksum of every record in the store.
//
// Pure function, thread-safe. Uses the SSE4.2 crc32 instruction when the CPU
// has it (checked once at first use) and a table otherwise; both give the
// same values. Chain calls by passing the previous result as `crc`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vdb {

uint32_t crc32c(const void *data, size_t len, uint32_t crc = 0);

}  // namespace vdb
