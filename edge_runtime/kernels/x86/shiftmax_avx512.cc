// Shiftmax (kernels/scalar/shiftmax_scalar.cc, integer_ops/shiftmax.py) with
// AVX-512, 16 elements per step in 32-bit lanes. The spec's values fit 32
// bits except two products, which go through 64-bit even/odd halves:
//   d = row_max − x is in [0, 2^32) for kept elements: exact as uint32;
//   u = (min(d, 2^31 − 1) · mult + round) >> shift needs 62 bits;
//   2^−u in Q15 is the scalar int32 arithmetic of arith.h Pow2Neg;
//   y = (e · k + 2^22) >> 23 needs 46 bits.
// Same integers as the scalar oracle. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq.
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/aligned.h"
#include "kernels/arith.h"
#include "kernels/dispatch.h"
#include "kernels/kernels.h"

namespace intedge {
namespace {

using kernels::kExp2C1;
using kernels::kExp2C2;
using kernels::kExp2FracBits;
using kernels::kExp2MaxU;
using kernels::kExp2OutBits;
using kernels::kSumMax;
constexpr __mmask16 kOddLanes = 0xAAAA;

#include "kernels/x86/lanes_avx512.h"

// Lanes whose keep byte is non-zero (all lanes without a mask).
__mmask16 Kept(const uint8_t* keep, __mmask16 m) {
  if (!keep) return m;
  return _mm512_mask_test_epi32_mask(m, _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, keep)), _mm512_set1_epi32(0xFF));
}

// min((a · b + round) >> shift, cap) per uint32 lane a, through 64-bit products
// of the even and the odd lanes. b, round, shift and cap are 64-bit lanes (b
// < 2^32); a · b + round < 2^64 and cap < 2^32.
__m512i MulShiftCap(__m512i a, __m512i b, __m512i round, __m512i shift, __m512i cap) {
  const __m512i even = _mm512_min_epu64(_mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(a, b), round), shift), cap);
  const __m512i odd = _mm512_min_epu64(
      _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(a, 32), b), round), shift), cap);
  return _mm512_mask_blend_epi32(kOddLanes, even, _mm512_slli_epi64(odd, 32));
}

// arith.h Pow2Neg on 16 lanes of u in [0, kExp2MaxU], in its int32 arithmetic.
__m512i Pow2Neg16(__m512i u) {
  const __m512i q = _mm512_srli_epi32(u, kExp2FracBits);
  const __m512i f = _mm512_and_si512(u, _mm512_set1_epi32((1 << kExp2FracBits) - 1));
  const __m512i inner = _mm512_add_epi32(_mm512_set1_epi32(kExp2C1),
                                         _mm512_srai_epi32(_mm512_mullo_epi32(_mm512_set1_epi32(kExp2C2), f), kExp2FracBits));
  const __m512i p = _mm512_add_epi32(_mm512_set1_epi32(1 << kExp2OutBits),
                                     _mm512_srai_epi32(_mm512_mullo_epi32(inner, f), kExp2FracBits));
  const __m512i half = _mm512_srli_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), q), 1);
  const __m512i r = _mm512_srlv_epi32(_mm512_add_epi32(p, half), q);
  return _mm512_maskz_mov_epi32(_mm512_cmple_epu32_mask(q, _mm512_set1_epi32(kExp2OutBits)), r);
}

}  // namespace

template <typename In>
void ShiftmaxAvx512(const In* x, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult, int shift, uint8_t* y) {
  thread_local AlignedArray<int32_t> exps;
  if (exps.size() < static_cast<size_t>(cols) + 16 && !exps.Resize(static_cast<size_t>(cols) + 16)) {
    kernels::shiftmax_scalar(x, keep, rows, cols, mult, shift, y);  // no scratch: the oracle needs none
    return;
  }
  const __m512i vmult = _mm512_set1_epi64(mult), vround = _mm512_set1_epi64(int64_t{1} << (shift - 1));
  const __m512i vshift = _mm512_set1_epi64(shift), max_u = _mm512_set1_epi64(kExp2MaxU);
  const __m512i round23 = _mm512_set1_epi64(int64_t{1} << 22), shift23 = _mm512_set1_epi64(23);
  const __m512i cap255 = _mm512_set1_epi64(255);
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * cols;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    uint8_t* yr = y + r * cols;
    // With no kept element every exponential is masked to 0, whatever row_max is.
    __m512i vmax = _mm512_set1_epi32(INT32_MIN);
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 m = Kept(kr ? kr + c : nullptr, Tail16(cols - c));
      vmax = _mm512_mask_max_epi32(vmax, m, vmax, Load16(xr + c, m));
    }
    const __m512i row_max = _mm512_set1_epi32(_mm512_reduce_max_epi32(vmax));
    __m512i vtotal = _mm512_setzero_si512();
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 tail = Tail16(cols - c), m = Kept(kr ? kr + c : nullptr, tail);
      const __m512i d = _mm512_min_epu32(_mm512_sub_epi32(row_max, Load16(xr + c, tail)), _mm512_set1_epi32(kSumMax));
      const __m512i e = _mm512_maskz_mov_epi32(m, Pow2Neg16(MulShiftCap(d, vmult, vround, vshift, max_u)));
      vtotal = _mm512_add_epi64(vtotal, _mm512_add_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(e)),
                                                         _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(e, 1))));
      _mm512_store_si512(exps.data() + c, e);
    }
    const int64_t total = _mm512_reduce_add_epi64(vtotal);
    const __m512i vk = _mm512_set1_epi64(kSumMax / (total < 1 ? 1 : (total > kSumMax ? kSumMax : total)));
    for (int64_t c = 0; c < cols; c += 16) {
      const __m512i e = _mm512_load_si512(exps.data() + c);
      _mm512_mask_cvtepi32_storeu_epi8(yr + c, Tail16(cols - c), MulShiftCap(e, vk, round23, shift23, cap255));
    }
  }
}

template void ShiftmaxAvx512<int8_t>(const int8_t*, const uint8_t*, int64_t, int64_t, int32_t, int, uint8_t*);
template void ShiftmaxAvx512<int32_t>(const int32_t*, const uint8_t*, int64_t, int64_t, int32_t, int, uint8_t*);

}  // namespace intedge
