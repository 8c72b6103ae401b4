// A 256-entry int8 → int8 table over a tensor with AVX2, 32 elements per
// step, for the CPUs without AVX-512 VBMI's 128-entry byte permutes.
// vpshufb looks a byte up in 16 entries, so the table is 16 rows of 16: row
// k answers for the indices in [16k, 16k + 16). Compiled with -mavx2; run
// only when CPUID reports AVX2.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace intedge::kernels {

void lookup256_avx2(const int8_t* x, int64_t n, const int8_t* table, int8_t* y) {
  __m256i rows[16];
  for (int k = 0; k < 16; ++k) {
    rows[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  }
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80)), sixteen = _mm256_set1_epi8(16);
  const __m256i lift = _mm256_set1_epi8(0x70);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    // v = x + 128 − 16k (mod 256) in row k's turn. Adding 0x70 with unsigned
    // saturation keeps v's low nibble and clears bit 7 exactly when v < 16;
    // vpshufb gives 0 where bit 7 is set, so only row k's indices pick a byte.
    __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), flip);
    __m256i r = _mm256_setzero_si256();
    for (int k = 0; k < 16; ++k) {
      r = _mm256_or_si256(r, _mm256_shuffle_epi8(rows[k], _mm256_adds_epu8(v, lift)));
      v = _mm256_sub_epi8(v, sixteen);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), r);
  }
  lookup256_scalar(x + i, n - i, table, y + i);
}

}  // namespace intedge::kernels
