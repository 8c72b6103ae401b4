// Walks a tensor `big` in runs of contiguous elements and finds, for each
// run, the matching elements of `small`, which broadcasts to big's shape
// (numpy rules, right-aligned, size-1 axes repeat).
#pragma once

#include <cstdint>

#include "engine/tensor_info.h"

namespace intedge {

class Broadcast {
 public:
  // Requires that small broadcasts to big (the op's checks have seen to it).
  Broadcast(const TensorInfo& big, const TensorInfo& small);

  int64_t runs() const { return runs_; }
  int64_t run_length() const { return inner_; }
  // 1: small's run is contiguous; 0: one small element repeats over the run.
  int64_t small_step() const { return step_; }
  // Offset in small (elements) where run r's partner starts; big's run r starts at r · run_length().
  int64_t SmallOffset(int64_t r) const;
  // SmallOffset(r) depends only on r / repeat_runs(): the trailing outer axes
  // that small broadcasts over. SmallOffset divides once per axis, so row-wise
  // callers compute it once per repeat.
  int64_t repeat_runs() const { return repeat_; }

 private:
  int outer_rank_ = 0;
  int64_t outer_dims_[kIegMaxRank] = {};
  int64_t small_strides_[kIegMaxRank] = {};
  int64_t runs_ = 1, inner_ = 1, step_ = 1, repeat_ = 1;
};

}  // namespace intedge
