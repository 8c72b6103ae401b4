// I-LayerNorm (kernels/portable_loops.h ILayerNormLoop, integer_ops/layernorm.py)
// with AVX-512, 16 elements per step in 32-bit lanes. Every per-element value
// fits 32 bits except three 64-bit ones, computed in even/odd halves:
//   d = 256·x − mean: |d| < 2^24;  Σ d² needs 64 bits;
//   d << j: |d| ≤ √Σd² and Σd²·4^j < 2^61, so |d << j| < 2^31;
//   p = (d << j) · factor: factor ≤ 2^17 once Σd² ≥ 1 (d = 0 otherwise): 48 bits;
//   n = p >> 16 rounded: ≤ 2^30;  z = n · mult + bias: int64.
// Same integers as the scalar oracle. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq.
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"

constexpr __mmask16 kOddLanes = 0xAAAA;

#include "kernels/x86/lanes_avx512.h"

void Store16(int8_t* y, __mmask16 m, __m512i v) { _mm512_mask_cvtepi32_storeu_epi8(y, m, v); }
void Store16(int16_t* y, __mmask16 m, __m512i v) { _mm512_mask_cvtepi32_storeu_epi16(y, m, v); }

// Σ of 16 int32 lanes into 8 int64 lanes.
__m512i Widen(__m512i v) {
  return _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)),
                          _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
}

// sat((n · mult + bias + 2^(s−1)) >> s) on the 8 int64 lanes of one half (n and
// mult in the low 32 bits of each lane).
__m512i Affine(__m512i n, __m512i mult, __m512i bias, __m512i round, __m128i shift, __m512i lo, __m512i hi) {
  const __m512i z = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epi32(n, mult), bias), round);
  return _mm512_min_epi64(_mm512_max_epi64(_mm512_sra_epi64(z, shift), lo), hi);
}

}  // namespace

template <typename In, typename Out>
void ilayernorm_avx512(const In* x, int64_t rows, int64_t C, const int32_t* mult, const int64_t* bias, int shift,
                       Out* y) {
  const __m512i even_idx = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), odd_idx = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  const __m512i round_n = _mm512_set1_epi64(int64_t{1} << (kLayerNormRecipBits - kLayerNormNormBits - 1));
  const __m512i round = _mm512_set1_epi64(int64_t{1} << (shift - 1));
  const __m128i norm_shift = _mm_cvtsi32_si128(kLayerNormRecipBits - kLayerNormNormBits), out_shift = _mm_cvtsi32_si128(shift);
  const __m512i lo = _mm512_set1_epi64(std::numeric_limits<Out>::min()), hi = _mm512_set1_epi64(std::numeric_limits<Out>::max());
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * C;
    __m512i vsum = _mm512_setzero_si512();
    for (int64_t c = 0; c < C; c += 16) vsum = _mm512_add_epi64(vsum, Widen(Load16(xr + c, Tail16(C - c))));
    const int64_t mean = LayerNormMean(_mm512_reduce_add_epi64(vsum), C);
    const __m512i vmean = _mm512_set1_epi32(static_cast<int32_t>(mean));  // |mean| ≤ 256 · 2^15
    __m512i vvar = _mm512_setzero_si512();
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = Tail16(C - c);
      const __m512i d = _mm512_maskz_sub_epi32(m, _mm512_slli_epi32(Load16(xr + c, m), 8), vmean);
      vvar = _mm512_add_epi64(vvar, _mm512_add_epi64(_mm512_mul_epi32(d, d),
                                                     _mm512_mul_epi32(_mm512_srli_epi64(d, 32), _mm512_srli_epi64(d, 32))));
    }
    int j;
    int64_t factor;
    LayerNormScale(_mm512_reduce_add_epi64(vvar), &j, &factor);
    // factor < 2^32 whenever some d ≠ 0; when all d = 0 its low half times 0 is 0 all the same
    const __m512i vfactor = _mm512_set1_epi64(factor & 0xFFFFFFFF);
    const __m128i vj = _mm_cvtsi32_si128(j);
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = Tail16(C - c);
      const __m512i dj = _mm512_sll_epi32(_mm512_sub_epi32(_mm512_slli_epi32(Load16(xr + c, m), 8), vmean), vj);
      const __m512i n_even = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(dj, vfactor), round_n), norm_shift);
      const __m512i n_odd =
          _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(dj, 32), vfactor), round_n), norm_shift);
      const __m512i vm = _mm512_maskz_loadu_epi32(m, mult + c);
      const __m512i b0 = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m), bias + c);
      const __m512i b1 = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m >> 8), bias + c + 8);
      const __m512i y_even = Affine(n_even, vm, _mm512_permutex2var_epi64(b0, even_idx, b1), round, out_shift, lo, hi);
      const __m512i y_odd = Affine(n_odd, _mm512_srli_epi64(vm, 32), _mm512_permutex2var_epi64(b0, odd_idx, b1), round,
                                   out_shift, lo, hi);
      Store16(y + r * C + c, m, _mm512_mask_blend_epi32(kOddLanes, y_even, _mm512_slli_epi64(y_odd, 32)));
    }
  }
}

INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_ILAYERNORM, avx512)

}  // namespace intedge::kernels
