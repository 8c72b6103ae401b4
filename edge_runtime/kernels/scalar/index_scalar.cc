// Scalar index ops: embedding gather, argmax, nearest upsampling
// (integer_ops/shape_ops.py).
#include <cstring>

#include "kernels/kernels.h"

namespace intedge::kernels {

template <typename T>
int64_t gather_scalar(const T* table, int64_t V, int64_t D, const int32_t* indices, int64_t n, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    if (indices[i] < 0 || indices[i] >= V) return i;
    std::memcpy(y + i * D, table + int64_t{indices[i]} * D, sizeof(T) * D);
  }
  return -1;
}

template <typename T>
void argmax_scalar(const T* x, int64_t outer, int64_t len, int64_t inner, int32_t* y) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t l = 1; l < len; ++l) {
        if (x[(o * len + l) * inner + i] > x[(o * len + best) * inner + i]) best = l;
      }
      y[o * inner + i] = static_cast<int32_t>(best);
    }
  }
}

template <typename T>
void upsample_nearest_scalar(const T* x, int64_t outer, int64_t H, int64_t W, int64_t fh, int64_t fw, T* y) {
  const int64_t OH = H * fh, OW = W * fw;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < OH; ++i) {
      for (int64_t j = 0; j < OW; ++j) y[(o * OH + i) * OW + j] = x[(o * H + i / fh) * W + j / fw];
    }
  }
}

#define IE_INDEX_OPS(T)                                                                              \
  template int64_t gather_scalar<T>(const T*, int64_t, int64_t, const int32_t*, int64_t, T*);        \
  template void argmax_scalar<T>(const T*, int64_t, int64_t, int64_t, int32_t*);                     \
  template void upsample_nearest_scalar<T>(const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*);
IE_INDEX_OPS(int8_t)
IE_INDEX_OPS(uint8_t)
IE_INDEX_OPS(int16_t)
IE_INDEX_OPS(int32_t)
#undef IE_INDEX_OPS

}  // namespace intedge::kernels
