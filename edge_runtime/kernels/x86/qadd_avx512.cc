// The residual add (kernels/portable_loops.h QAddLoop, integer_ops/residual.py)
// y = sat((a·ma + b·mb + 2^(s−1)) >> s) with AVX-512, 32 elements per step in
// 16-bit pairs, exactly. Each multiplier splits as m = mh·2^16 + ml with ml
// the signed low half (|ml| ≤ 2^15) and 0 ≤ mh < 2^15; interleaving a and b
// lets vpmaddwd form both int32 halves of the int64 sum P = 2^16·X + Y:
//   X = a·mh_a + b·mh_b   |X| ≤ 2^31 − 2^16
//   Y = a·ml_a + b·ml_b   |Y| < 2^31 unless a = b = ml_a = ml_b = −2^15
// For s ≥ 17, with Z = X + (Y >> 16) (|Z| < 2^31) and adding a fraction below
// 1 to an integer never changing its floor division by an integer:
//   floor((P + 2^(s−1)) / 2^s) = floor((Z + 2^(s−17)) / 2^(s−16))
//                              = ((Z >> (s − 17)) + 1) >> 1,
// which never leaves int32. vpackssdw then saturates to int16 as the spec
// does. Multipliers or shifts outside those bounds (never written by the
// converter: its multipliers are ≥ 2^30 and its shifts ≥ 20) take the loop.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq.
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"

#include "kernels/x86/lanes_avx512.h"

// The halves (mh, ml) of m, or false where mh would not fit int16.
bool Split(int32_t m, int16_t* high, int16_t* low) {
  *low = static_cast<int16_t>(m & 0xFFFF);
  const int64_t h = (int64_t{m} - *low) >> 16;
  *high = static_cast<int16_t>(h);
  return h >= 0 && h < (1 << 15);
}

// One int32 lane holding the word pair (for a, for b) of vpmaddwd's operand.
__m512i Pair(int16_t for_a, int16_t for_b) {
  return _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint16_t>(for_a) | (uint32_t{static_cast<uint16_t>(for_b)} << 16)));
}

void Store32(int16_t* y, __mmask32 m, __m512i v) { _mm512_mask_storeu_epi16(y, m, v); }
void Store32(int8_t* y, __mmask32 m, __m512i v) { _mm512_mask_cvtsepi16_storeu_epi8(y, m, v); }

}  // namespace

template <typename A, typename B, typename Out>
void qadd_avx512(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {
  int16_t ha, la, hb, lb;
  const bool fits = Split(mult_a, &ha, &la) && Split(mult_b, &hb, &lb) && !(la == INT16_MIN && lb == INT16_MIN);
  if (!fits || shift < 17) return QAddLoop(a, b, n, mult_a, mult_b, shift, y);
  const __m512i high = Pair(ha, hb), low = Pair(la, lb);
  const __m128i down = _mm_cvtsi32_si128(shift - 17);
  const __m512i one = _mm512_set1_epi32(1);
  // int32 results of 16 pairs (a, b), interleaved as vpunpck*wd leaves them
  auto add = [&](__m512i pairs) {
    const __m512i z = _mm512_add_epi32(_mm512_madd_epi16(pairs, high), _mm512_srai_epi32(_mm512_madd_epi16(pairs, low), 16));
    return _mm512_srai_epi32(_mm512_add_epi32(_mm512_sra_epi32(z, down), one), 1);
  };
  for (int64_t i = 0; i < n; i += 32) {
    const __mmask32 m = Tail32(n - i);
    const __m512i va = Load32x16(a + i, m), vb = Load32x16(b + i, m);
    // vpackssdw undoes the unpacks' lane interleaving: the words come back in order
    Store32(y + i, m, _mm512_packs_epi32(add(_mm512_unpacklo_epi16(va, vb)), add(_mm512_unpackhi_epi16(va, vb))));
  }
}

INTEDGE_QADD_TYPES(INTEDGE_INSTANTIATE_QADD, avx512)

}  // namespace intedge::kernels
