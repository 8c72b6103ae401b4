// The dyadic requant of 16 int32 accumulators at once, exactly as
// arith.h's Requantize: sat((z · m + 2^(s−1)) >> s) with a 64-bit product,
// per-lane m and s. AVX-512 has 32×32→64 multiplies only for even lanes, so
// odd lanes go through a 32-bit shift first. Header-only: included by the
// AVX-512 kernels, compiled with their flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace intedge::x86 {

// Per 16 output columns: multipliers, and shifts and rounding terms for the
// even and odd lanes (as 8 int64 each).
struct alignas(64) RequantBlock {
  int32_t mult[16];
  int64_t shift_even[8], shift_odd[8];
  int64_t round_even[8], round_odd[8];

  void Set(int lane, int32_t m, int s) {
    mult[lane] = m;
    (lane % 2 ? shift_odd : shift_even)[lane / 2] = s;
    (lane % 2 ? round_odd : round_even)[lane / 2] = int64_t{1} << (s - 1);
  }
};

// z (int32 lanes) → values clamped to [lo, hi], in int32 lanes.
inline __m512i Requant16(__m512i z, const RequantBlock& q, int64_t lo, int64_t hi) {
  const __m512i m = _mm512_load_si512(q.mult);
  const __m512i vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
  __m512i even = _mm512_mul_epi32(z, m);
  __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(z, 32), _mm512_srli_epi64(m, 32));
  even = _mm512_srav_epi64(_mm512_add_epi64(even, _mm512_load_si512(q.round_even)), _mm512_load_si512(q.shift_even));
  odd = _mm512_srav_epi64(_mm512_add_epi64(odd, _mm512_load_si512(q.round_odd)), _mm512_load_si512(q.shift_odd));
  even = _mm512_max_epi64(_mm512_min_epi64(even, vhi), vlo);
  odd = _mm512_max_epi64(_mm512_min_epi64(odd, vhi), vlo);
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

}  // namespace intedge::x86
