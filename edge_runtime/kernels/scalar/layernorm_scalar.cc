// Scalar I-LayerNorm (integer_ops/layernorm.py): exact isqrt, a 46-bit
// reciprocal per row, one multiply-add per element.
#include <algorithm>

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {

constexpr int kIsqrtSteps = 7;
constexpr int kRecipBits = 46;
constexpr int kNormBits = 30;
constexpr int64_t kMeanScale = 256;
constexpr int kVarBits = 60;

int BitLength(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

// ⌊√v⌋ for v < 2^62: Newton from above, a fixed 7 steps (see layernorm.py).
int64_t Isqrt(int64_t v) {
  int64_t k = int64_t{1} << ((BitLength(static_cast<uint64_t>(v)) + 1) >> 1);
  for (int i = 0; i < kIsqrtSteps; ++i) k = std::min(k, (k + v / std::max<int64_t>(k, 1)) >> 1);
  return k;
}

}  // namespace

template <typename In, typename Out>
void ilayernorm_scalar(const In* x, int64_t rows, int64_t C, const int32_t* mult, const int64_t* bias, int shift,
                       Out* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * C;
    int64_t sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += xr[c];
    const int64_t mean = FloorDiv(2 * kMeanScale * sum + C, 2 * C);
    int64_t var = 0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t d = kMeanScale * xr[c] - mean;
      var += d * d;
    }
    const int j = std::max(0, (kVarBits - BitLength(static_cast<uint64_t>(var))) >> 1);
    const int64_t factor = (int64_t{1} << kRecipBits) / std::max<int64_t>(Isqrt(var << (2 * j)), 1);
    for (int64_t c = 0; c < C; ++c) {
      const int64_t d = (kMeanScale * xr[c] - mean) * (int64_t{1} << j);
      const int64_t n = RoundingShift(d * factor, kRecipBits - kNormBits);
      y[r * C + c] = Saturate<Out>(RoundingShift(n * mult[c] + bias[c], shift));
    }
  }
}

#define INTEDGE_ILAYERNORM(In, Out)                                                                        \
  template void ilayernorm_scalar<In, Out>(const In*, int64_t, int64_t, const int32_t*, const int64_t*, int, Out*);
INTEDGE_ILAYERNORM(int8_t, int8_t)
INTEDGE_ILAYERNORM(int8_t, int16_t)
INTEDGE_ILAYERNORM(int16_t, int8_t)
INTEDGE_ILAYERNORM(int16_t, int16_t)
#undef INTEDGE_ILAYERNORM

}  // namespace intedge::kernels
