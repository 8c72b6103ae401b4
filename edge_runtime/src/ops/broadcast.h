// Walks a tensor `big` in runs of contiguous elements and finds, for each
// run, the matching elements of `small`, which broadcasts to big's shape
// (numpy rules, right-aligned, size-1 axes repeat).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/tensor_info.h"
#include "engine/thread_pool.h"

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

// Calls f(at, s, n) in parallel over big's elements: s points to the n
// elements of small that go with big's elements [at, at + n). Same shapes
// split the elements in chunks of `grain`; otherwise each call is one run,
// and a repeated small element is copied out to a run of its own.
template <typename S, typename F>
void ForEachRun(const Broadcast& bc, const S* small, ThreadPool& pool, int64_t grain, F&& f) {
  const int64_t len = bc.run_length();
  if (bc.runs() == 1 && bc.small_step()) {
    pool.ParallelFor(len, grain, [&](int64_t e0, int64_t e1) { f(e0, small + e0, e1 - e0); });
    return;
  }
  pool.ParallelFor(bc.runs(), 1, [&](int64_t r0, int64_t r1) {
    std::vector<S> repeated(bc.small_step() ? 0 : static_cast<size_t>(len));
    for (int64_t r = r0; r < r1; ++r) {
      const S* s = small + bc.SmallOffset(r);
      if (!bc.small_step()) {
        std::fill(repeated.begin(), repeated.end(), *s);
        s = repeated.data();
      }
      f(r * len, s, len);
    }
  });
}

}  // namespace intedge
