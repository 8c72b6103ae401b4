// Shiftmax (kernels/scalar/shiftmax_scalar.cc, integer_ops/shiftmax.py) with
// AVX-512, 32 elements per step (64 in the normalization). The spec's int64
// arithmetic narrows to 32- and 16-bit lanes, exactly, by bounding each value:
//
//  * The exponent u in 32-bit lanes (kernels/portable_loops.h
//    ShiftmaxExponentPlan derives it); multipliers far below 2^30, which the
//    converter never writes, take the scalar oracle.
//  * 2^−u in Q15 (arith.h Pow2Neg): f = u mod 2^16 and q = u >> 16 are
//    16-bit, and so is every term of the polynomial, in 32 lanes.
//  * The normalization (e·k + 2^22) >> 23 = (H16 + 2^6) >> 7 with
//    H16 = floor(e·k / 2^16), e ≤ 2^15 and k < 2^16 (ShiftmaxNarrowLoop
//    says why), by the high-half identity of kernels/x86/requant_x86.h.
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
namespace kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace
}  // namespace kernels
namespace {

using kernels::kExp2C1;
using kernels::kExp2C2;
using kernels::kExp2FracBits;
using kernels::kExp2OutBits;

#include "kernels/x86/lanes_avx512.h"

// 32 values at x as two vectors of int32 lanes (masked lanes 0).
template <typename In>
void Load32(const In* x, __mmask32 m, __m512i* lo, __m512i* hi) {
  *lo = Load16(x, static_cast<__mmask16>(m));
  *hi = Load16(x + 16, static_cast<__mmask16>(m >> 16));
}

// Lanes whose keep byte is non-zero (all lanes without a mask).
__mmask32 Kept(const uint8_t* keep, __mmask32 m) {
  if (!keep) return m;
  const __m256i k = _mm256_maskz_loadu_epi8(m, keep);
  return _mm256_mask_test_epi8_mask(m, k, k);
}

// The high half of the 32×32→64 unsigned products of 16 lanes by one
// multiplier b in every lane. vpmuludq reads each 64-bit lane's low half, so
// the odd lanes are moved there and the even products' high halves back by
// vpshufd (port 5) rather than 64-bit shifts (port 0, where the multiplies
// and the rest of the exponent's shifts already queue); the odd products'
// high halves are in place, and a masked vpshufd writes the even lanes over
// them (one µop where a shuffle and a blend were two).
__m512i MulHighU32(__m512i a, __m512i b) {
  constexpr _MM_PERM_ENUM kOddToEven = _MM_PERM_DDBB;  // dwords 1, 1, 3, 3 of each 128 bits
  const __m512i odd = _mm512_mul_epu32(_mm512_shuffle_epi32(a, kOddToEven), b);
  return _mm512_mask_shuffle_epi32(odd, 0x5555, _mm512_mul_epu32(a, b), kOddToEven);
}

// 2^−u in Q15 for the 32 u whose low (f) and high (q) 16-bit halves are
// given; arith.h Pow2Neg in 16-bit lanes. (C2·f) >> 16 is an unsigned high
// product; (inner·f) >> 16 with inner < 0 is the signed high product of
// inner and f − 2^16·[f ≥ 2^15], plus inner where f ≥ 2^15. Shifts by
// q ≥ 16 give 0, which is Pow2Neg's 0 for q > 15.
__m512i Pow2Neg32(__m512i f, __m512i q) {
  const __m512i inner = _mm512_add_epi16(_mm512_mulhi_epu16(f, _mm512_set1_epi16(kExp2C2)), _mm512_set1_epi16(kExp2C1));
  __m512i t = _mm512_mulhi_epi16(inner, f);
  t = _mm512_mask_add_epi16(t, _mm512_movepi16_mask(f), t, inner);
  const __m512i p = _mm512_add_epi16(t, _mm512_set1_epi16(static_cast<int16_t>(1 << kExp2OutBits)));
  const __m512i half = _mm512_srli_epi16(_mm512_sllv_epi16(_mm512_set1_epi16(1), q), 1);
  return _mm512_srlv_epi16(_mm512_add_epi16(p, half), q);
}

}  // namespace

constexpr int64_t kRowBlock = 8;  // rows per pass

template <typename In>
void ShiftmaxAvx512(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                    int shift, uint8_t* y) {
  const kernels::ShiftmaxExponentPlan plan(mult, shift);
  // Sums of (e − 2^15) per 32-bit lane stay above −2^31 while cols < 2^20.
  // A block of rows of exponentials: see the row loop.
  const int64_t e_stride = (cols + 31) / 32 * 32;
  thread_local AlignedArray<uint16_t> exps;
  const auto need = static_cast<size_t>(kRowBlock * e_stride);
  if (!plan.ok || cols >= (int64_t{1} << 20) || !exps.EnsureSize(need)) {
    kernels::shiftmax_scalar(x, x_stride, keep, rows, cols, mult, shift, y);
    return;
  }
  // Once: under -fPIC every use of a thread_local is a __tls_get_addr call (a quarter of the run time in the loops).
  uint16_t* const e_rows = exps.data();
  const __m512i d_clamp = _mm512_set1_epi32(static_cast<int32_t>(plan.d_clamp));
  // Shift counts as vectors: vpsllvd/vpsrlvd are one µop, vpslld/vpsrld by an xmm count two.
  const __m512i pre = _mm512_set1_epi32(plan.pre_shift), post = _mm512_set1_epi32(plan.post_shift);
  const __m512i vmult = _mm512_set1_epi32(mult), vround = _mm512_set1_epi32(static_cast<int32_t>(plan.round));
  const __m512i ones16 = _mm512_set1_epi16(1), sign16 = _mm512_set1_epi16(static_cast<int16_t>(0x8000));
  const __m512i round7 = _mm512_set1_epi16(1 << 6);
  // Word i of the pair (a, b) as 64 words: the low halves of 32 int32 lanes, then the high halves.
  alignas(64) int16_t low_idx[32], high_idx[32];
  for (int i = 0; i < 32; ++i) low_idx[i] = static_cast<int16_t>(2 * i), high_idx[i] = static_cast<int16_t>(2 * i + 1);
  const __m512i lows = _mm512_load_si512(low_idx), highs = _mm512_load_si512(high_idx);

  // Row r's maximum over its kept elements, in every lane. With no kept
  // element every exponential is masked to 0, whatever it is.
  auto row_max = [&](int64_t r) {
    const In* xr = x + r * x_stride;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    __m512i vmax = _mm512_set1_epi32(INT32_MIN);
    for (int64_t c = 0; c < cols; c += 32) {
      const __mmask32 m = Kept(kr ? kr + c : nullptr, Tail32(cols - c));
      if (!m) continue;  // see the skipped steps below
      __m512i lo, hi;
      Load32(xr + c, m, &lo, &hi);
      vmax = _mm512_mask_max_epi32(vmax, static_cast<__mmask16>(m), vmax, lo);
      vmax = _mm512_mask_max_epi32(vmax, static_cast<__mmask16>(m >> 16), vmax, hi);
    }
    return _mm512_set1_epi32(_mm512_reduce_max_epi32(vmax));
  };
  // Row r's exponentials into e, returning the reciprocal k (< 2^16) that normalizes them.
  auto exponentials = [&](int64_t r, __m512i max, uint16_t* e) -> int64_t {
    const In* xr = x + r * x_stride;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    auto exponent = [&](__m512i v) {  // u of 16 lanes
      const __m512i d = _mm512_sllv_epi32(_mm512_min_epu32(_mm512_sub_epi32(max, v), d_clamp), pre);
      return _mm512_srlv_epi32(_mm512_add_epi32(MulHighU32(d, vmult), vround), post);
    };
    __m512i vtotal = _mm512_setzero_si512();  // Σ (e − 2^15) over every lane of the steps taken
    int64_t taken = 0;
    for (int64_t c = 0; c < cols; c += 32) {
      const __mmask32 tail = Tail32(cols - c), kept = Kept(kr ? kr + c : nullptr, tail);
      // 32 masked keys (a padded sequence's tail: 115 of MiniLM's 128 in
      // `intedge bench`) have e = 0 whatever their scores: the step is skipped.
      if (!kept) {
        _mm512_store_si512(e + c, _mm512_setzero_si512());
        continue;
      }
      __m512i lo, hi;
      Load32(xr + c, tail, &lo, &hi);
      const __m512i ulo = exponent(lo), uhi = exponent(hi);
      const __m512i f = _mm512_permutex2var_epi16(ulo, lows, uhi), q = _mm512_permutex2var_epi16(ulo, highs, uhi);
      const __m512i ev = _mm512_maskz_mov_epi16(kept, Pow2Neg32(f, q));
      vtotal = _mm512_add_epi32(vtotal, _mm512_madd_epi16(_mm512_xor_si512(ev, sign16), ones16));
      _mm512_store_si512(e + c, ev);
      ++taken;
    }
    const int64_t total = _mm512_reduce_add_epi64(_mm512_add_epi64(
                              _mm512_cvtepi32_epi64(_mm512_castsi512_si256(vtotal)),
                              _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(vtotal, 1)))) +
                          (int64_t{1} << kExp2OutBits) * 32 * taken;
    const int64_t k = kernels::SumReciprocal(total);
    return k < 0xFFFF ? k : 0xFFFF;
  };
  // 64 outputs a step where the row's exponentials fill two vectors: a
  // vpackuswb and a vpermq, fewer µops than two narrowing masked stores
  // (vpmovuswb) of 32. e ≤ 2^15 and k ≤ 0xFFFF, so each output word is at
  // most 256 (one kept element: e = 2^15, k = 0xFFFF): positive as vpackuswb's
  // signed view reads it, so both saturate it to 255 alike.
  const __m512i pack_order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
  auto normalize = [&](int64_t r, const uint16_t* e, int64_t k) {
    const __m512i vk = _mm512_set1_epi16(static_cast<int16_t>(k));
    auto words = [&](int64_t c) {
      const __m512i h = _mm512_mulhi_epu16(_mm512_load_si512(e + c), vk);
      return _mm512_srli_epi16(_mm512_add_epi16(h, round7), 7);
    };
    uint8_t* yr = y + r * cols;
    int64_t c = 0;
    for (; c + 64 <= e_stride; c += 64) {
      const __m512i bytes = _mm512_permutexvar_epi64(pack_order, _mm512_packus_epi16(words(c), words(c + 32)));
      _mm512_mask_storeu_epi8(yr + c, Tail64(cols - c), bytes);
    }
    if (c < cols) _mm512_mask_cvtusepi16_storeu_epi8(yr + c, Tail32(cols - c), words(c));
  };
  // Each pass over a block of rows before the next: a row's reductions and
  // division are serial chains, and rows side by side let them overlap
  // (more than overlapping one row's normalization with the next row's
  // exponentials can).
  for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
    const int64_t n = rows - r0 < kRowBlock ? rows - r0 : kRowBlock;
    __m512i max[kRowBlock];
    int64_t k[kRowBlock];
    for (int64_t i = 0; i < n; ++i) max[i] = row_max(r0 + i);
    for (int64_t i = 0; i < n; ++i) k[i] = exponentials(r0 + i, max[i], e_rows + i * e_stride);
    for (int64_t i = 0; i < n; ++i) normalize(r0 + i, e_rows + i * e_stride, k[i]);
  }
}

template void ShiftmaxAvx512<int8_t>(const int8_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int,
                                     uint8_t*);
template void ShiftmaxAvx512<int32_t>(const int32_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int,
                                      uint8_t*);

}  // namespace intedge
