// Spot checks of the scalar kernels' arithmetic at the edges of its ranges,
// under the sanitizers (the exhaustive comparison with numpy lives in
// tests/test_kernels_cpp.py).
#include <cstdint>
#include <vector>

#include "kernels/arith.h"
#include "kernels/kernels.h"
#include "tests/check.h"

namespace k = intedge::kernels;

int main() {
  CHECK(k::Pow2Neg(0) == 32768);
  CHECK(k::Pow2Neg(1 << 16) == 16384);
  CHECK(k::Pow2Neg(k::kExp2MaxU) == 0);
  CHECK(k::RoundingShift(-5, 1) == -2 && k::RoundingShift(5, 1) == 3);
  CHECK(k::FloorDiv(-7, 2) == -4 && k::FloorDiv(7, -2) == -4 && k::FloorDiv(-8, -2) == 4);
  CHECK(k::Requantize<int8_t>(2147483647, 2147483647, 1) == 127);
  CHECK(k::Requantize<int8_t>(-2147483648LL, 2147483647, 1) == -128);

  // Largest accumulators: K = 1024 of (-128)·(-128) with the largest multiplier.
  const int64_t K = 1024;
  std::vector<int8_t> x(K, -128), w(K, -128);
  const int32_t mult = 2147483647;
  const int8_t shift = 62;
  int16_t y16 = 0;
  k::qgemm_w8a8_scalar<int16_t>(x.data(), w.data(), nullptr, &mult, &shift, 1, 1, K, &y16);
  CHECK(y16 == k::Requantize<int16_t>(int64_t{K} * 16384, mult, shift));

  // Shiftmax: a row of equal values gives equal probabilities; a long row of
  // zeros saturates the sum without overflow.
  std::vector<int32_t> row(65536, 0);
  std::vector<uint8_t> p(row.size());
  k::shiftmax_scalar<int32_t>(row.data(), nullptr, 1, static_cast<int64_t>(row.size()), 1 << 30, 20, p.data());
  CHECK(p[0] == 0 && p[65535] == 0);
  std::vector<int8_t> eq(8, 127);
  std::vector<uint8_t> pe(8);
  k::shiftmax_scalar<int8_t>(eq.data(), nullptr, 1, 8, 1 << 30, 20, pe.data());
  CHECK(pe[0] == 32 && pe[7] == 32);

  // I-LayerNorm on a constant row: zero variance gives the bias alone.
  std::vector<int16_t> flat(16, -32768);
  std::vector<int32_t> m(16, 1 << 30);
  std::vector<int64_t> b(16, int64_t{5} << 40);
  std::vector<int8_t> out(16);
  k::ilayernorm_scalar<int16_t>(flat.data(), 1, 16, m.data(), b.data(), 40, out.data());
  CHECK(out[0] == 5 && out[15] == 5);

  // Index arithmetic: int64 results saturated to int32 (add, sub, mul), 0/1
  // logic, and a running sum saturated per result, not along the way.
  const int32_t hi = 2147483647, lo = -2147483647 - 1;
  const int32_t ia[4] = {hi, lo, lo, hi}, ib[4] = {hi, hi, lo, -1};
  int32_t iy[4];
  k::int_binary_scalar<int32_t, int32_t>(ia, ib, 4, 0, iy);  // add
  CHECK(iy[0] == hi && iy[1] == -1 && iy[2] == lo && iy[3] == hi - 1);
  k::int_binary_scalar<int32_t, int32_t>(ia, ib, 4, 2, iy);  // mul
  CHECK(iy[0] == hi && iy[1] == lo && iy[2] == hi && iy[3] == -hi);
  const uint8_t ua[4] = {0, 0, 255, 7};
  const int8_t sb[4] = {0, -1, 0, -128};
  k::int_binary_scalar<uint8_t, int8_t>(ua, sb, 4, 10, iy);  // or
  CHECK(iy[0] == 0 && iy[1] == 1 && iy[2] == 1 && iy[3] == 1);
  k::int_binary_scalar<uint8_t, int8_t>(ua, sb, 4, 5, iy);  // lt: uint8 255 is not below int8 0
  CHECK(iy[0] == 0 && iy[1] == 0 && iy[2] == 0 && iy[3] == 0);
  k::int_binary_scalar<uint8_t, int8_t>(ua, sb, 4, 11, iy);  // min
  CHECK(iy[0] == 0 && iy[1] == -1 && iy[2] == 0 && iy[3] == -128);
  const int32_t run[4] = {hi, hi, lo, lo};
  int32_t sums[4];
  k::cumsum_scalar<int32_t>(run, 1, 4, 1, sums);
  CHECK(sums[0] == hi && sums[1] == hi && sums[2] == hi - 1 && sums[3] == -2);

  // Mean-pool of uint8 (attention probabilities): 255 and 255 average to 255, then saturate to int8.
  const uint8_t probs[4] = {255, 1, 255, 2};
  int8_t mean[2];
  k::meanpool_scalar<uint8_t, int8_t>(probs, 1, 2, 2, 1 << 30, 31, mean);
  CHECK(mean[0] == 127 && mean[1] == 2);
  return intedge::test::Finish();
}
