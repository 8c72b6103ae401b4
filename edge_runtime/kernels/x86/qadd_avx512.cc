// The residual add (kernels/portable_loops.h QAddLoop, integer_ops/residual.py)
// with AVX-512, 32 elements per step in 16-bit pairs, exactly: interleaving a
// and b lets vpmaddwd form both int32 halves X and Y of the int64 sum, by the
// split of kernels/portable_loops.h QAddPairPlan (which derives the bounds),
// and vpackssdw then saturates to int16 as the spec does. Constants outside
// the plan's bounds take the loop. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq.
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"

#include "kernels/x86/lanes_avx512.h"

// One int32 lane holding the word pair (for a, for b) of vpmaddwd's operand.
__m512i Pair(int16_t for_a, int16_t for_b) {
  return _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint16_t>(for_a) | (uint32_t{static_cast<uint16_t>(for_b)} << 16)));
}

void Store32(int16_t* y, __mmask32 m, __m512i v) { _mm512_mask_storeu_epi16(y, m, v); }
void Store32(int8_t* y, __mmask32 m, __m512i v) { _mm512_mask_cvtsepi16_storeu_epi8(y, m, v); }

}  // namespace

template <typename A, typename B, typename Out>
void qadd_avx512(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {
  const QAddPairPlan plan(mult_a, mult_b, shift);
  if (!plan.ok) return QAddLoop(a, b, n, mult_a, mult_b, shift, y);
  const __m512i high = Pair(plan.high_a, plan.high_b), low = Pair(plan.low_a, plan.low_b);
  const __m512i down = _mm512_set1_epi32(plan.down);  // vpsravd: one µop, vpsrad by an xmm count two
  const __m512i one = _mm512_set1_epi32(1);
  // int32 results of 16 pairs (a, b), interleaved as vpunpck*wd leaves them
  auto add = [&](__m512i pairs) {
    const __m512i z = _mm512_add_epi32(_mm512_madd_epi16(pairs, high), _mm512_srai_epi32(_mm512_madd_epi16(pairs, low), 16));
    return _mm512_srai_epi32(_mm512_add_epi32(_mm512_srav_epi32(z, down), one), 1);
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
