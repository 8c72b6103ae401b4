// Scalar elementwise ops: requant and residual add (the portable loops with
// the baseline flags), mean-pool, and the float edges (integer_ops/requant.py,
// residual.py, pooling.py, quantize.py).
#include <cmath>

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

INTEDGE_DEFINE_PORTABLE_REQUANT(scalar)
INTEDGE_DEFINE_PORTABLE_QADD(scalar)

template <typename In, typename Out>
void meanpool_scalar(const In* x, int64_t outer, int64_t len, int64_t inner, int32_t mult, int shift, Out* y) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t sum = 0;
      for (int64_t l = 0; l < len; ++l) sum += x[(o * len + l) * inner + i];
      y[o * inner + i] = Requantize<Out>(sum, mult, shift);
    }
  }
}

template <typename Out>
void quantize_scalar(const float* x, int64_t n, float inv_scale, Out* y) {
  constexpr float lo = std::numeric_limits<Out>::min();
  constexpr float hi = std::numeric_limits<Out>::max();
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] * inv_scale;  // one IEEE multiply, as in the spec
    if (std::isnan(v)) {
      y[i] = 0;
      continue;
    }
    const float r = std::nearbyint(v);  // round half to even (default FP mode)
    y[i] = static_cast<Out>(r < lo ? lo : (r > hi ? hi : r));
  }
}

template <typename In>
void dequantize_scalar(const In* x, int64_t n, float scale, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i]) * scale;
}

template void meanpool_scalar<int8_t, int8_t>(const int8_t*, int64_t, int64_t, int64_t, int32_t, int, int8_t*);
template void meanpool_scalar<int8_t, int16_t>(const int8_t*, int64_t, int64_t, int64_t, int32_t, int, int16_t*);
template void meanpool_scalar<uint8_t, int8_t>(const uint8_t*, int64_t, int64_t, int64_t, int32_t, int, int8_t*);
template void meanpool_scalar<uint8_t, int16_t>(const uint8_t*, int64_t, int64_t, int64_t, int32_t, int,
                                                int16_t*);
template void meanpool_scalar<int16_t, int8_t>(const int16_t*, int64_t, int64_t, int64_t, int32_t, int, int8_t*);
template void meanpool_scalar<int16_t, int16_t>(const int16_t*, int64_t, int64_t, int64_t, int32_t, int,
                                                int16_t*);
template void quantize_scalar<int8_t>(const float*, int64_t, float, int8_t*);
template void quantize_scalar<int16_t>(const float*, int64_t, float, int16_t*);
template void dequantize_scalar<int8_t>(const int8_t*, int64_t, float, float*);
template void dequantize_scalar<uint8_t>(const uint8_t*, int64_t, float, float*);
template void dequantize_scalar<int16_t>(const int16_t*, int64_t, float, float*);
template void dequantize_scalar<int32_t>(const int32_t*, int64_t, float, float*);

}  // namespace intedge::kernels
