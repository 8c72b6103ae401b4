// The integer primitives every kernel shares; each is the C++ spelling of a
// definition in integer_ops/ (cited beside it). Header-only so that SIMD
// kernels of later ISAs inline the same scalar tails. In an anonymous
// namespace because ISA files compile them with their own -m flags
// (kernels/aligned.h says why that needs a private copy per file).
#pragma once

#include <cstdint>
#include <limits>

namespace intedge::kernels {
namespace {  // NOLINT(build/namespaces)

// integer_ops/requant.py (1): (x + 2^(s−1)) >> s, s in [1, 62], arithmetic shift.
inline int64_t RoundingShift(int64_t x, int s) { return (x + (int64_t{1} << (s - 1))) >> s; }

template <typename T>
inline T Saturate(int64_t x) {
  constexpr int64_t lo = std::numeric_limits<T>::min();
  constexpr int64_t hi = std::numeric_limits<T>::max();
  return static_cast<T>(x < lo ? lo : (x > hi ? hi : x));
}

template <typename T>
inline T Requantize(int64_t z, int32_t multiplier, int shift) {
  return Saturate<T>(RoundingShift(z * multiplier, shift));
}

// integer_ops/shiftmax.py and gelu.py SUM_MAX: the cap on exponential sums
// and differences, so the reciprocal kSumMax / sum stays int32.
constexpr int64_t kSumMax = (int64_t{1} << 31) - 1;

// floor(kSumMax / sum) for sum clamped to [1, kSumMax] (the spec's clamp of
// a row's sum: with no kept element it is 0), by a double division: the
// SIMD Shiftmax kernels take one a row, and x86's 64-bit idiv was a tenth
// of their time on 128-long rows (Arm's NEON kernel uses it too, so that
// every SIMD path shares one definition). Exact: with q = kSumMax / sum = n + f,
// n = floor(q), either f = 0 (q < 2^31 is a double, and the quotient is
// correctly rounded) or f ≤ 1 − 1/sum, while the rounding moves q by at
// most half an ulp, q·2^−53 < 2^31/sum·2^−53 < 1/sum: the quotient stays
// in [n, n + 1) and truncates to n. (The scalar oracle divides integers;
// the kernel tests compare the two, and test_kernels_scalar checks this
// against integer division over a spread of sums.)
inline int64_t SumReciprocal(int64_t sum) {
  sum = sum < 1 ? 1 : (sum > kSumMax ? kSumMax : sum);
  return static_cast<int64_t>(static_cast<double>(kSumMax) / static_cast<double>(sum));
}

// integer_ops/exp2.py: 2^(−u/2^16) in Q15, u in [0, kExp2MaxU].
constexpr int kExp2FracBits = 16;
constexpr int kExp2OutBits = 15;
constexpr int32_t kExp2C1 = -21951;
constexpr int32_t kExp2C2 = 5567;
constexpr int64_t kExp2MaxU = (int64_t{32} << kExp2FracBits) - 1;

inline int32_t Pow2Neg(int64_t u) {
  const int q = static_cast<int>(u >> kExp2FracBits);
  if (q > kExp2OutBits) return 0;
  const int32_t f = static_cast<int32_t>(u & ((1 << kExp2FracBits) - 1));
  const int32_t p = (1 << kExp2OutBits) + (((kExp2C1 + ((kExp2C2 * f) >> kExp2FracBits)) * f) >> kExp2FracBits);
  return (p + ((1 << q) >> 1)) >> q;
}

// Floor division (C++ "/" truncates toward zero; Python and numpy floor).
inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace
}  // namespace intedge::kernels
