// Shiftmax (kernels/scalar/shiftmax_scalar.cc, integer_ops/shiftmax.py) with
// AVX-512: 8 elements per step in 64-bit lanes, so row_max − x and the
// 62-bit products of the spec need no narrowing tricks. Same integers as
// the scalar oracle. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq.
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

constexpr int64_t kSumMax = (int64_t{1} << 31) - 1;

__mmask8 TailMask(int64_t left) { return static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1); }

// 8 inputs at x as int64 lanes (masked lanes 0).
__m512i Load8(const int8_t* x, __mmask8 m) { return _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(m, x)); }
__m512i Load8(const int32_t* x, __mmask8 m) { return _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, x)); }

// Lanes whose keep byte is non-zero (all lanes without a mask).
__mmask8 Kept(const uint8_t* keep, __mmask8 m) {
  if (!keep) return m;
  return _mm512_mask_test_epi64_mask(m, _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(m, keep)), _mm512_set1_epi64(0xFF));
}

// arith.h Pow2Neg on 8 lanes of u in [0, kExp2MaxU].
__m512i Pow2Neg8(__m512i u) {
  const __m512i q = _mm512_srli_epi64(u, kExp2FracBits);
  const __m512i f = _mm512_and_si512(u, _mm512_set1_epi64((1 << kExp2FracBits) - 1));
  const __m512i inner = _mm512_add_epi64(_mm512_set1_epi64(kExp2C1),
                                         _mm512_srai_epi64(_mm512_mul_epi32(_mm512_set1_epi64(kExp2C2), f), kExp2FracBits));
  const __m512i p = _mm512_add_epi64(_mm512_set1_epi64(1 << kExp2OutBits),
                                     _mm512_srai_epi64(_mm512_mul_epi32(inner, f), kExp2FracBits));
  const __m512i half = _mm512_srli_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(1), q), 1);
  const __m512i r = _mm512_srlv_epi64(_mm512_add_epi64(p, half), q);
  return _mm512_maskz_mov_epi64(_mm512_cmple_epu64_mask(q, _mm512_set1_epi64(kExp2OutBits)), r);
}

template <typename In>
void Rows(const In* x, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult, int shift, uint8_t* y) {
  thread_local AlignedArray<int32_t> exps;
  if (exps.size() < static_cast<size_t>(cols) + 8 && !exps.Resize(static_cast<size_t>(cols) + 8)) {
    kernels::shiftmax_scalar(x, keep, rows, cols, mult, shift, y);  // no scratch: the oracle needs none
    return;
  }
  const __m512i vmult = _mm512_set1_epi64(mult), vround = _mm512_set1_epi64(int64_t{1} << (shift - 1));
  const __m512i vshift = _mm512_set1_epi64(shift);
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * cols;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    uint8_t* yr = y + r * cols;
    __m512i vmax = _mm512_set1_epi64(-(int64_t{1} << 40));
    for (int64_t c = 0; c < cols; c += 8) {
      const __mmask8 m = Kept(kr ? kr + c : nullptr, TailMask(cols - c));
      vmax = _mm512_mask_max_epi64(vmax, m, vmax, Load8(xr + c, m));
    }
    const __m512i row_max = _mm512_set1_epi64(_mm512_reduce_max_epi64(vmax));
    __m512i vtotal = _mm512_setzero_si512();
    for (int64_t c = 0; c < cols; c += 8) {
      const __mmask8 tail = TailMask(cols - c), m = Kept(kr ? kr + c : nullptr, tail);
      __m512i d = _mm512_sub_epi64(row_max, Load8(xr + c, tail));
      d = _mm512_min_epi64(_mm512_max_epi64(d, _mm512_setzero_si512()), _mm512_set1_epi64(kSumMax));
      __m512i u = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(d, vmult), vround), vshift);
      u = _mm512_min_epi64(u, _mm512_set1_epi64(kExp2MaxU));
      const __m512i e = _mm512_maskz_mov_epi64(m, Pow2Neg8(u));
      vtotal = _mm512_add_epi64(vtotal, e);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(exps.data() + c), _mm512_cvtepi64_epi32(e));
    }
    const int64_t total = _mm512_reduce_add_epi64(vtotal);
    const int64_t k = kSumMax / (total < 1 ? 1 : (total > kSumMax ? kSumMax : total));
    const __m512i vk = _mm512_set1_epi64(k), round23 = _mm512_set1_epi64(int64_t{1} << 22);
    for (int64_t c = 0; c < cols; c += 8) {
      const __mmask8 tail = TailMask(cols - c);
      const __m512i e = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(tail, exps.data() + c));
      const __m512i out = _mm512_min_epi64(_mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(e, vk), round23), 23),
                                           _mm512_set1_epi64(255));
      _mm512_mask_cvtepi64_storeu_epi8(yr + c, tail, out);
    }
  }
}

}  // namespace

void ShiftmaxAvx512(const int8_t* x, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult, int shift,
                    uint8_t* y) {
  Rows(x, keep, rows, cols, mult, shift, y);
}

void ShiftmaxAvx512(const int32_t* x, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult, int shift,
                    uint8_t* y) {
  Rows(x, keep, rows, cols, mult, shift, y);
}

}  // namespace intedge
