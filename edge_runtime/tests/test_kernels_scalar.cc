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
  return intedge::test::Finish();
}
