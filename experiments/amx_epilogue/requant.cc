// The AMX GEMM's int8 epilogue alone (issue 19; docs/benchmarks.md, the ninth session): a 32 × 32
// block of int32 sums → bias, the engine's high-half requant (kernels/x86/requant_x86.h's
// RequantHigh), int8 stores into rows 768 bytes apart, in a loop on data in L1. Two ways to narrow,
// both the engine's own code (kernels/x86/zmm_traits.h): Store8, a vpmovsdb a vector (the way
// before the ninth session), and Store8Rows4, four rows packed by vpackssdw / vpacksswb and put
// back in order by one vpermd (the AMX epilogue's way since). Both must write the same bytes; the
// probe exits 1 if they do not. At K = 192 the tile unit makes a vector's sums in 3 cycles; if a
// vector's requant takes longer, the tiles wait for it however well the two overlap. Not part of
// the engine; run.sh builds and runs it.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// GCC bug 105593, as in the engine's AVX-512 files
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace engine {
#include "../../edge_runtime/kernels/x86/requant_x86.h"

#include "../../edge_runtime/kernels/x86/zmm_traits.h"
}  // namespace engine

namespace {

using engine::Zmm;
constexpr int64_t kWidth = 768;
alignas(64) int32_t g_sums[32 * 32], g_bias[32], g_mult[32], g_round[32], g_shift[32];
alignas(64) int8_t g_out[32 * kWidth];

template <bool kPacked>
__attribute__((noinline)) void Block(int8_t* y) {
  for (int b = 0; b < 2; ++b) {
    const __m512i m = _mm512_load_si512(g_mult + 16 * b), m_odd = _mm512_srli_epi64(m, 32);
    const __m512i round = _mm512_load_si512(g_round + 16 * b), shift = _mm512_load_si512(g_shift + 16 * b);
    const __m512i bias = _mm512_load_si512(g_bias + 16 * b);
    const int32_t* s = g_sums + 16 * b;
    int8_t* out = y + 16 * b;
    auto q = [&](int r) {
      return engine::RequantHigh(_mm512_add_epi32(_mm512_load_si512(s + 32 * r), bias), m, m_odd, round, shift);
    };
    if constexpr (!kPacked) {
      for (int r = 0; r < 32; ++r) Zmm::Store8(out + r * kWidth, 16, q(r));
    } else {
      for (int r = 0; r < 32; r += 4) Zmm::Store8Rows4(out + r * kWidth, kWidth, q(r), q(r + 1), q(r + 2), q(r + 3));
    }
  }
}

// ns a 16-output vector, the best of 9 rounds of 20,000 blocks.
template <bool kPacked>
double NsPerVector() {
  double best = 1e30;
  for (int round = 0; round < 9; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; ++i) {
      Block<kPacked>(g_out);
      asm volatile("" : : : "memory");
    }
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, ns / 20000 / 64);
  }
  return best;
}

}  // namespace

int main() {
  for (int i = 0; i < 32 * 32; ++i) g_sums[i] = rand() % 4000000 - 2000000;
  for (int i = 0; i < 32; ++i) {
    g_bias[i] = rand() % 2000 - 1000;
    g_mult[i] = (1 << 30) | rand() % (1 << 30);
    g_shift[i] = 10 + i % 4;  // s − 32 of the high-half form: outputs over the whole int8 range, some saturated
    g_round[i] = 1 << (g_shift[i] - 1);
  }
  Block<false>(g_out);
  static int8_t one_by_one[sizeof g_out];
  std::memcpy(one_by_one, g_out, sizeof g_out);
  std::memset(g_out, 0, sizeof g_out);
  Block<true>(g_out);
  const bool same = std::memcmp(one_by_one, g_out, sizeof g_out) == 0;
  std::printf("the int8 epilogue of a 32 × 32 block, ns a 16-output vector (best of 9 rounds):\n"
              "  Store8, a vpmovsdb a vector         %.2f\n  Store8Rows4, four rows packed       %.2f\n"
              "  the two ways' bytes %s\n",
              NsPerVector<false>(), NsPerVector<true>(), same ? "match" : "DIFFER");
  return same ? 0 : 1;
}
