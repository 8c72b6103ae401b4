#include "ops/broadcast.h"

namespace intedge {

Broadcast::Broadcast(const TensorInfo& big, const TensorInfo& small) {
  // small's dims right-aligned to big's rank; absent leading axes are 1.
  int64_t sdims[kIegMaxRank];
  const int pad = big.rank - small.rank;
  for (int i = 0; i < big.rank; ++i) sdims[i] = i < pad ? 1 : small.dim(i - pad);
  // The run: the longest suffix of axes where small equals big (step 1), or,
  // when the last axis is broadcast, the suffix where small is all 1 (step 0).
  int axis = big.rank;
  const bool last_matches = big.rank == 0 || sdims[big.rank - 1] == big.dim(big.rank - 1);
  step_ = last_matches ? 1 : 0;
  while (axis > 0 && (last_matches ? sdims[axis - 1] == big.dim(axis - 1) : sdims[axis - 1] == 1)) {
    inner_ *= big.dim(axis - 1);
    --axis;
  }
  outer_rank_ = axis;
  int64_t stride = 1;
  for (int i = big.rank - 1; i >= 0; --i) {
    if (i < outer_rank_) {
      outer_dims_[i] = big.dim(i);
      small_strides_[i] = sdims[i] == 1 ? 0 : stride;
    }
    stride *= sdims[i];
  }
  for (int i = 0; i < outer_rank_; ++i) runs_ *= outer_dims_[i];
  for (int i = outer_rank_ - 1; i >= 0 && small_strides_[i] == 0; --i) repeat_ *= outer_dims_[i];
}

int64_t Broadcast::SmallOffset(int64_t r) const {
  int64_t off = 0;
  for (int i = outer_rank_ - 1; i >= 0; --i) {
    const int64_t d = outer_dims_[i];
    off += (r % d) * small_strides_[i];
    r /= d;
  }
  return off;
}

}  // namespace intedge
