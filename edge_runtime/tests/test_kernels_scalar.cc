// Spot checks of the scalar kernels' arithmetic at the edges of its ranges,
// under the sanitizers (the exhaustive comparison with numpy lives in
// tests/test_kernels_cpp.py, the decoder's in tests/test_decoder_ops.py).
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
  const auto n = static_cast<int64_t>(row.size());
  k::shiftmax_scalar<int32_t>(row.data(), n, nullptr, 1, n, 1 << 30, 20, p.data());
  CHECK(p[0] == 0 && p[65535] == 0);
  std::vector<int8_t> eq(8, 127);
  std::vector<uint8_t> pe(8);
  k::shiftmax_scalar<int8_t>(eq.data(), 8, nullptr, 1, 8, 1 << 30, 20, pe.data());
  CHECK(pe[0] == 32 && pe[7] == 32);

  // SumReciprocal against integer division: every sum below 2^21 and in the
  // top 2^20, and a spread of sums between (every 997th).
  int64_t wrong = 0;
  auto check_sum = [&](int64_t sum) { wrong += k::SumReciprocal(sum) != k::kSumMax / sum; };
  for (int64_t sum = 1; sum < (int64_t{1} << 21); ++sum) check_sum(sum);
  for (int64_t sum = k::kSumMax - (int64_t{1} << 20); sum <= k::kSumMax; ++sum) check_sum(sum);
  for (int64_t sum = int64_t{1} << 21; sum < k::kSumMax; sum += 997) check_sum(sum);
  CHECK(wrong == 0);

  // I-LayerNorm on a constant row: zero variance gives the bias alone.
  std::vector<int16_t> flat(16, -32768);
  std::vector<int32_t> m(16, 1 << 30);
  std::vector<int64_t> b(16, int64_t{5} << 40);
  std::vector<int8_t> out(16);
  k::ilayernorm_scalar<int16_t>(flat.data(), 1, 16, false, m.data(), b.data(), 40, out.data());
  CHECK(out[0] == 5 && out[15] == 5);
  // RMSNorm of the same row: x / rms(x) = −1 at every channel, n = −2^30 / √16.
  k::ilayernorm_scalar<int16_t>(flat.data(), 1, 16, true, m.data(), b.data(), 40, out.data());
  CHECK(out[0] == k::Saturate<int8_t>(k::RoundingShift(-(int64_t{1} << 28) * (1 << 30) + b[0], 40)) &&
        out[0] == out[15]);

  // RoPE: position 0 (cos 2^14, sin 0) is the identity, −128 included;
  // at cos = sin = 2^14 the pair (−128, −128) gives (0, −256 → −128); a
  // position outside the tables is reported and nothing is written.
  const int16_t cos[4] = {16384, 16384, 16384, 16384}, sin[4] = {0, 0, 16384, 16384};
  const int8_t rx[8] = {-128, 127, -128, 5, -128, -1, -128, 7};
  const int32_t at[2] = {0, 1};
  int8_t ry[8] = {};
  CHECK(k::rope_scalar(rx, 2, 4, at, cos, sin, 2, ry) == -1);
  CHECK(ry[0] == -128 && ry[1] == 127 && ry[2] == -128 && ry[3] == 5);
  CHECK(ry[4] == 0 && ry[5] == -8 && ry[6] == -128 && ry[7] == 6);
  const int32_t outside[2] = {0, 2};
  int8_t untouched[8] = {};
  CHECK(k::rope_scalar(rx, 2, 4, outside, cos, sin, 2, untouched) == 1 && untouched[0] == 0);

  // SwiGLU at the product's extremes: table −2^15 · up −128 = 2^22.
  std::vector<int16_t> silu(256, -32768);
  const int8_t gate[2] = {-128, 127}, up[2] = {-128, 127};
  int8_t act[2];
  k::swiglu_scalar(gate, up, 2, silu.data(), 1 << 30, 46, act);
  CHECK(act[0] == 64 && act[1] == -63);  // 2^22 · 2^30 / 2^46; −63.5 rounds up

  // Attention, one query over one key: probability 255, y = requant(255·v).
  const int8_t q1[2] = {-128, -128}, k1[2] = {-128, -128}, v1[2] = {-128, 127};
  int32_t score = 0;
  uint8_t prob = 0;
  int8_t att[2];
  k::attention_scores_scalar(q1, 1, k1, 1, 2, &score, 1);
  CHECK(score == 32768);
  k::shiftmax_scalar<int32_t>(&score, 1, nullptr, 1, 1, 1 << 30, 30, &prob);
  CHECK(prob == 255);
  k::attention_values_scalar(&prob, 1, 1, v1, 1, 2, 1 << 30, 38, att, 2);
  CHECK(att[0] == k::Requantize<int8_t>(255 * -128, 1 << 30, 38) && att[1] == k::Requantize<int8_t>(255 * 127, 1 << 30, 38));

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
