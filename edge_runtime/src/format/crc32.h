// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) — the value zlib.crc32
// computes, which the Python writer stores in every .ieg header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace intedge {

// Continues a CRC over more bytes; start with crc = 0.
uint32_t Crc32(uint32_t crc, const uint8_t* data, size_t size);

}  // namespace intedge
