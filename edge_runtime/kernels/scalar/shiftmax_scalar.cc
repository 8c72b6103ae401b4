// Scalar Shiftmax (integer_ops/shiftmax.py): one division per row.
#include <algorithm>

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {

template <typename In>
void shiftmax_scalar(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                     int shift, uint8_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * x_stride;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    uint8_t* yr = y + r * cols;
    int64_t row_max = -(int64_t{1} << 40);
    for (int64_t c = 0; c < cols; ++c) {
      if (!kr || kr[c]) row_max = std::max<int64_t>(row_max, xr[c]);
    }
    // The exponential is recomputed in the second pass rather than stored:
    // it needs 16 bits and the output row has 8.
    auto exp_at = [&](int64_t c) -> int32_t {
      if (kr && !kr[c]) return 0;
      const int64_t d = std::min(std::max<int64_t>(row_max - xr[c], 0), kSumMax);
      return Pow2Neg(std::min(RoundingShift(d * mult, shift), kExp2MaxU));
    };
    int64_t total = 0;
    for (int64_t c = 0; c < cols; ++c) total += exp_at(c);
    const int64_t k = kSumMax / std::max<int64_t>(std::min(total, kSumMax), 1);
    for (int64_t c = 0; c < cols; ++c) {
      yr[c] = static_cast<uint8_t>(std::min<int64_t>(RoundingShift(exp_at(c) * k, 23), 255));
    }
  }
}

template void shiftmax_scalar<int8_t>(const int8_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int, uint8_t*);
template void shiftmax_scalar<int32_t>(const int32_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int,
                                       uint8_t*);

}  // namespace intedge::kernels
