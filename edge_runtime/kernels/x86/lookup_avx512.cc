// Table lookups and the float → int edge with AVX-512: 16 elements per step.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq; run only when
// CPUID reports them.
#include <immintrin.h>

#include <cstdint>
#include <limits>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {

__mmask16 Tail(int64_t left) { return static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1); }

}  // namespace

// One vpgatherdd per 16 elements, each reading 4 bytes at its table entry and
// keeping the first: the table needs kLookupPad bytes of slack at its end.
void lookup_avx512(const int8_t* x, int64_t rows, int64_t C, const int8_t* table, bool per_channel, int8_t* y) {
  const __m512i bias = _mm512_set1_epi32(128), lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                                          13, 14, 15);
  const __m512i width = _mm512_set1_epi32(per_channel ? static_cast<int32_t>(C) : 1);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = Tail(C - c);
      __m512i index = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x + r * C + c)),
                                                          bias), width);
      if (per_channel) index = _mm512_add_epi32(index, _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int32_t>(c))));
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, index, table, 1);
      _mm512_mask_cvtepi32_storeu_epi8(y + r * C + c, m, v);
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
    const __mmask16 m = Tail(n - i);
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
