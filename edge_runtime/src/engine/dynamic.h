// A graph with a dynamic dimension (format 2.1) at one actual length s in
// [1, bound]: every dynamic axis k·bound becomes k·s, and constants keep
// their first k·s entries along it (compacted copies, 64-byte aligned).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "engine/model.h"

namespace intedge {

struct LengthTensors {
  int64_t length = 0;
  std::vector<TensorInfo> tensors;
  std::vector<std::unique_ptr<uint8_t[]>> storage;  // the compacted constants
};

// t at length s of a dynamic dimension of `bound`: each dynamic axis k·bound becomes k·s, and numel and
// bytes follow (t's data pointer is left as it is).
void ScaleToLength(TensorInfo* t, int64_t bound, int64_t s);

// The tensor table of `model` at length s (the caller has checked 1 <= s <= bound).
Status ResolveAtLength(const Model& model, int64_t s, LengthTensors* out);

// Every op's checks (the op spec) on the tensors at length s; a failure's message starts "at <name> = <s>: ".
Status CheckOpsAtLength(const Model& model, const LengthTensors& at);

}  // namespace intedge
