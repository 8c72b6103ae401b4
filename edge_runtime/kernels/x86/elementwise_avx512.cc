// Elementwise kernels hand-written for AVX-512, 16 elements per step: the
// tabulated λ-ShiftGELU's requant and the float → int edge.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq; run only when
// CPUID reports them.
#include <immintrin.h>

#include <cstdint>
#include <limits>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {

#include "kernels/x86/lanes_avx512.h"

}  // namespace

// table_requant_scalar: one vpgatherdd of the 16 table values, then the
// per-channel requant in 64-bit even/odd halves (any int32 table, mult < 2^31).
void table_requant_avx512(const int8_t* x, int64_t rows, int64_t C, const int32_t* table, const int32_t* mult,
                          const int8_t* shift, int64_t n_mult, int8_t* y) {
  const __m512i bias = _mm512_set1_epi32(128), low_half = _mm512_set1_epi64(0xFFFFFFFF), one = _mm512_set1_epi64(1);
  const __m512i lo = _mm512_set1_epi64(-128), hi = _mm512_set1_epi64(127);
  // sat((v · m + 2^(s−1)) >> s) on 8 int64 lanes (v, m, s in each lane's low 32 bits)
  auto requant = [&](__m512i v, __m512i m, __m512i s) {
    const __m512i z = _mm512_add_epi64(_mm512_mul_epi32(v, m), _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one)));
    return _mm512_min_epi64(_mm512_max_epi64(_mm512_srav_epi64(z, s), lo), hi);
  };
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = Tail16(C - c);
      const __m512i index = _mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x + r * C + c)), bias);
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, index, table, 4);
      const __m512i vm = n_mult > 1 ? _mm512_maskz_loadu_epi32(m, mult + c) : _mm512_set1_epi32(mult[0]);
      const __m512i vs = n_mult > 1 ? _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, shift + c)) : _mm512_set1_epi32(shift[0]);
      const __m512i even = requant(v, vm, _mm512_and_si512(vs, low_half));
      const __m512i odd = requant(_mm512_srli_epi64(v, 32), _mm512_srli_epi64(vm, 32), _mm512_srli_epi64(vs, 32));
      _mm512_mask_cvtepi32_storeu_epi8(y + r * C + c, m,
                                       _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)));
    }
  }
}

// quantize_scalar's y = sat(rint(x · inv_scale)), NaN → 0: the multiply is one
// IEEE multiply either way, and vrndscaleps rounds half to even as nearbyint does.
template <typename Out>
void quantize_avx512(const float* x, int64_t n, float inv_scale, Out* y) {
  const __m512 inv = _mm512_set1_ps(inv_scale);
  const __m512 lo = _mm512_set1_ps(std::numeric_limits<Out>::min()), hi = _mm512_set1_ps(std::numeric_limits<Out>::max());
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = Tail16(n - i);
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv);
    const __mmask16 number = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    const __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i q = _mm512_maskz_cvtps_epi32(number, _mm512_min_ps(_mm512_max_ps(r, lo), hi));
    if constexpr (sizeof(Out) == 1) {
      _mm512_mask_cvtepi32_storeu_epi8(y + i, m, q);
    } else {
      _mm512_mask_cvtepi32_storeu_epi16(y + i, m, q);
    }
  }
}

template void quantize_avx512<int8_t>(const float*, int64_t, float, int8_t*);
template void quantize_avx512<int16_t>(const float*, int64_t, float, int16_t*);

}  // namespace intedge::kernels
