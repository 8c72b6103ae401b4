// Scalar W4A8 GEMM: unpacks each nibble and multiplies by its integer group
// scale, so the product is the same int8 × int8 → int32 as W8A8
// (integer_ops/quantize.py, "W4").
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {

template <typename Out>
void qgemm_w4a8_scalar(const int8_t* x, const uint8_t* w_packed, const int8_t* group_scales, int64_t group,
                       const int32_t* bias, const int32_t* mult, const int8_t* shift, int64_t M, int64_t N,
                       int64_t K, Out* y) {
  const int64_t groups = K / group;
  for (int64_t m = 0; m < M; ++m) {
    const int8_t* xr = x + m * K;
    for (int64_t n = 0; n < N; ++n) {
      const uint8_t* wr = w_packed + n * (K / 2);
      const int8_t* gr = group_scales + n * groups;
      int32_t acc = bias ? bias[n] : 0;
      for (int64_t k = 0; k < K; ++k) {
        const int nibble = (wr[k / 2] >> ((k & 1) * 4)) & 0xF;
        const int32_t q4 = nibble >= 8 ? nibble - 16 : nibble;
        acc += int32_t{xr[k]} * (q4 * int32_t{gr[k / group]});
      }
      y[m * N + n] = Requantize<Out>(acc, mult[n], shift[n]);
    }
  }
}

template void qgemm_w4a8_scalar<int8_t>(const int8_t*, const uint8_t*, const int8_t*, int64_t, const int32_t*,
                                        const int32_t*, const int8_t*, int64_t, int64_t, int64_t, int8_t*);
template void qgemm_w4a8_scalar<int16_t>(const int8_t*, const uint8_t*, const int8_t*, int64_t, const int32_t*,
                                         const int32_t*, const int8_t*, int64_t, int64_t, int64_t, int16_t*);

}  // namespace intedge::kernels
