// The .ieg container: a 64-byte header, the Graph FlatBuffer, and a 64-byte
// aligned data section. Layout and rules: edge_runtime/schema/README.md.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "ieg_generated.h"

namespace intedge {

constexpr uint8_t kIegMagic[8] = {0x89, 'I', 'E', 'G', '\r', '\n', 0x1A, '\n'};
constexpr uint16_t kIegVersionMajor = 2;
constexpr uint16_t kIegVersionMinor = 2;  // 2.1: dynamic dimensions; 2.2: state tensors
constexpr size_t kIegHeaderSize = 64;
constexpr size_t kIegAlignment = 64;
constexpr size_t kIegCrcOffset = 56;
constexpr int kIegMaxRank = 8;
constexpr int64_t kIegMaxElements = int64_t{1} << 40;  // per tensor

struct IegHeader {
  uint16_t version_major, version_minor;
  uint64_t graph_offset, graph_size;
  uint64_t data_offset, data_size;
  uint64_t file_size;
  uint32_t crc32;
};

// A verified file: views into the caller's buffer, valid while it lives.
struct IegView {
  IegHeader header;
  const ir::fb::Graph* graph = nullptr;
  const uint8_t* data = nullptr;  // the data section
};

// Bytes a tensor of this dtype and shape occupies in the data section, or
// -1 if the dtype is unknown or the count overflows.
int64_t StorageBytes(ir::fb::DType dtype, const int64_t* dims, size_t rank);

// Verifies everything about the container that memory safety depends on.
// `data` must be 8-byte aligned (mmap gives page alignment).
Status VerifyIeg(const uint8_t* data, size_t size, IegView* view);

}  // namespace intedge
