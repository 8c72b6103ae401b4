// Scalar W8A8 GEMM and the activation×activation matmul: the oracle for
// every SIMD variant (integer_ops/matmul.py). The validator bounds K and the
// bias so that the int32 accumulator never wraps.
#include <type_traits>

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {

template <typename Out>
void qgemm_w8a8_scalar(const int8_t* x, const int8_t* w, const int32_t* bias, const int32_t* mult,
                       const int8_t* shift, int64_t M, int64_t N, int64_t K, Out* y) {
  for (int64_t m = 0; m < M; ++m) {
    const int8_t* xr = x + m * K;
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* wr = w + n * K;
      int32_t acc = bias ? bias[n] : 0;
      for (int64_t k = 0; k < K; ++k) acc += int32_t{xr[k]} * int32_t{wr[k]};
      y[m * N + n] = Requantize<Out>(acc, mult[n], shift[n]);
    }
  }
}

template <typename A, typename Out>
void qmatmul_scalar(const A* a, const int8_t* b, bool transpose_b, int64_t B, int64_t M, int64_t N, int64_t K,
                    int32_t mult, int shift, Out* y) {
  for (int64_t bi = 0; bi < B; ++bi) {
    const A* ab = a + bi * M * K;
    const int8_t* bb = b + bi * K * N;
    Out* yb = y + bi * M * N;
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        int32_t acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          const int8_t bv = transpose_b ? bb[n * K + k] : bb[k * N + n];
          acc += int32_t{ab[m * K + k]} * int32_t{bv};
        }
        if constexpr (std::is_same_v<Out, int32_t>) {
          yb[m * N + n] = acc;
        } else {
          yb[m * N + n] = Requantize<Out>(acc, mult, shift);
        }
      }
    }
  }
}

template void qgemm_w8a8_scalar<int8_t>(const int8_t*, const int8_t*, const int32_t*, const int32_t*,
                                        const int8_t*, int64_t, int64_t, int64_t, int8_t*);
template void qgemm_w8a8_scalar<int16_t>(const int8_t*, const int8_t*, const int32_t*, const int32_t*,
                                         const int8_t*, int64_t, int64_t, int64_t, int16_t*);
#define IE_QMATMUL(A, Out)                                                                              \
  template void qmatmul_scalar<A, Out>(const A*, const int8_t*, bool, int64_t, int64_t, int64_t, int64_t, \
                                       int32_t, int, Out*);
IE_QMATMUL(int8_t, int8_t)
IE_QMATMUL(int8_t, int16_t)
IE_QMATMUL(int8_t, int32_t)
IE_QMATMUL(uint8_t, int8_t)
IE_QMATMUL(uint8_t, int16_t)
IE_QMATMUL(uint8_t, int32_t)
#undef IE_QMATMUL

}  // namespace intedge::kernels
