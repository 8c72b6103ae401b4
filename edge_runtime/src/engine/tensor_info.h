// What the engine knows about one tensor of a loaded graph.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "format/ieg_file.h"

namespace intedge {

using DType = ir::fb::DType;

struct TensorInfo {
  std::string name;
  DType dtype = DType::INT8;
  int rank = 0;
  std::array<int64_t, kIegMaxRank> dims{};
  int64_t numel = 1;
  int64_t bytes = 0;
  double scale = 0;
  const uint8_t* constant = nullptr;  // into the model's data section; null for activations
  uint32_t dynamic_axes = 0;          // bit a: axis a is k·bound (the graph's dynamic dimension)
  bool is_state = false;              // kept from run to run, updated in place by the one op that reads it

  int64_t dim(int axis) const { return dims[static_cast<size_t>(axis)]; }
  // Product of dims[begin, end).
  int64_t Span(int begin, int end) const {
    int64_t n = 1;
    for (int i = begin; i < end; ++i) n *= dims[static_cast<size_t>(i)];
    return n;
  }
  std::string ShapeString() const;
};

const char* DTypeName(DType dtype);
int64_t ElementBytes(DType dtype);  // 0 for INT4 (two per byte)

}  // namespace intedge
