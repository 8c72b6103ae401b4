// A 256-entry int8 → int8 table over a tensor with AVX-512 VBMI: two vpermi2b
// look the byte up in each half of the table and its top bit picks the half,
// 64 elements per step. Compiled with -mavx512f -mavx512bw -mavx512vbmi; run
// only when CPUID reports VBMI (Ice Lake and Zen 4 on; Cascade Lake has VNNI
// without it).
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/kernels.h"

namespace intedge::kernels {

void lookup256_vbmi(const int8_t* x, int64_t n, const int8_t* table, int8_t* y) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t i = 0; i < n; i += 64) {
    const __mmask64 m = n - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - i)) - 1;
    const __m512i u = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), flip);  // x + 128 as a byte
    const __m512i low = _mm512_permutex2var_epi8(t0, u, t1), high = _mm512_permutex2var_epi8(t2, u, t3);
    _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(u), low, high));
  }
}

}  // namespace intedge::kernels
