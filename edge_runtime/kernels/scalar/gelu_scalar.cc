// Scalar ShiftGELU (I-ViT) and λ-ShiftGELU (integer_ops/gelu.py).
#include <algorithm>
#include <cstdlib>

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {

constexpr int kIvitN = 23;

// I-ViT's shift exponential, exact in int64 (gelu._ivit_exp).
int64_t IvitExp(int64_t x, int64_t x0) {
  int64_t t = x + (x >> 1) - (x >> 4);
  t = std::max(t, kIvitN * x0);
  const int64_t q = FloorDiv(t, x0);
  const int64_t r = t - x0 * q;
  const int64_t sh = kIvitN - q;
  if (sh > 40) return kSumMax;
  return ((r - 2 * x0) << sh) >> 1;
}

}  // namespace

void shiftgelu_scalar(const int8_t* x, int64_t rows, int64_t cols, int32_t x0, int32_t mult, int shift, int8_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* xr = x + r * cols;
    const int64_t row_max = *std::max_element(xr, xr + cols);
    const int64_t e_max = IvitExp(-row_max, x0);
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t e = IvitExp(xr[c] - row_max, x0);
      const int64_t factor = kSumMax / std::min(e + e_max, kSumMax);
      const int64_t sigma = (e * factor) >> 24;
      y[r * cols + c] = Requantize<int8_t>(xr[c] * sigma, mult, shift);
    }
  }
}

void lambda_shiftgelu_table(int32_t slope_mult, int slope_shift, int32_t* table) {
  for (int v = -128; v < 128; ++v) {
    const int64_t u = std::min(RoundingShift(int64_t{std::abs(v)} * slope_mult, slope_shift), kExp2MaxU);
    const int64_t e = Pow2Neg(u);
    const int64_t one = int64_t{1} << kExp2OutBits;
    const int64_t den = one + e;
    const int64_t num = v >= 0 ? one : e;
    const int64_t sigma = ((num << kExp2OutBits) + (den >> 1)) / den;  // both ≥ 0: '/' is floor
    table[v + 128] = static_cast<int32_t>(v * sigma);                  // |v · σ| ≤ 2^7 · 2^15
  }
}

void table_requant_scalar(const int8_t* x, int64_t rows, int64_t C, const int32_t* table, const int32_t* mult,
                          const int8_t* shift, int64_t n_mult, int8_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = n_mult == 1 ? 0 : c;
      y[r * C + c] = Requantize<int8_t>(table[x[r * C + c] + 128], mult[k], shift[k]);
    }
  }
}

void lookup256_scalar(const int8_t* x, int64_t n, const int8_t* table, int8_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = table[x[i] + 128];
}

void lambda_shiftgelu_scalar(const int8_t* x, int64_t rows, int64_t C, int32_t slope_mult, int slope_shift,
                             const int32_t* mult, const int8_t* shift, int64_t n_mult, int8_t* y) {
  // x·σ(λx) is a pure function of one int8: tabulate its 256 values, then requantize per channel.
  int32_t table[256];
  lambda_shiftgelu_table(slope_mult, slope_shift, table);
  table_requant_scalar(x, rows, C, table, mult, shift, n_mult, y);
}

}  // namespace intedge::kernels
