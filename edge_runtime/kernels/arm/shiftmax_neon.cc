// Shiftmax (kernels/scalar/shiftmax_scalar.cc, integer_ops/shiftmax.py) with
// NEON, 4 elements per step in 32-bit lanes, the two 62- and 46-bit
// products in 64-bit halves (vmull); the same reasoning as
// kernels/x86/shiftmax_avx512.cc. A row's last cols % 4 elements take the
// oracle's scalar steps. Same integers as the oracle. Compiled with
// -march=armv8-a (NEON is baseline on AArch64).
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

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

#include "kernels/arm/lanes_neon.h"

// All-ones lanes where the keep byte is non-zero (every lane without a mask).
uint32x4_t Kept4(const uint8_t* keep) {
  if (!keep) return vdupq_n_u32(~0u);
  uint32_t word;
  std::memcpy(&word, keep, 4);
  const uint32x4_t k = vmovl_u16(vget_low_u16(vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(word)))));
  return vtstq_u32(k, k);
}

// 16 masked keys from c on (a padded sequence's tail: 115 of MiniLM's 128
// in `intedge bench`): their exponentials are 0 whatever their scores, so
// the steps over them are skipped.
bool NoneKept16(const uint8_t* keep, int64_t c, int64_t body) {
  return keep && c % 16 == 0 && c + 16 <= body && vmaxvq_u8(vld1q_u8(keep + c)) == 0;
}

// min((a · b + round) >> shift, cap) per uint32 lane, through 64-bit products.
uint32x4_t MulShiftCap(uint32x4_t a, uint32_t b, uint64_t round, int shift, uint64_t cap) {
  const uint64x2_t vround = vdupq_n_u64(round), vcap = vdupq_n_u64(cap);
  const int64x2_t right = vdupq_n_s64(-shift);
  uint64x2_t lo = vshlq_u64(vaddq_u64(vmull_u32(vget_low_u32(a), vdup_n_u32(b)), vround), right);
  uint64x2_t hi = vshlq_u64(vaddq_u64(vmull_high_u32(a, vdupq_n_u32(b)), vround), right);
  lo = vbslq_u64(vcgtq_u64(lo, vcap), vcap, lo);
  hi = vbslq_u64(vcgtq_u64(hi, vcap), vcap, hi);
  return vcombine_u32(vmovn_u64(lo), vmovn_u64(hi));
}

// arith.h Pow2Neg on 4 lanes of u in [0, kExp2MaxU], in its int32 arithmetic.
int32x4_t Pow2Neg4(uint32x4_t u) {
  const int32x4_t q = vreinterpretq_s32_u32(vshrq_n_u32(u, kExp2FracBits));
  const int32x4_t f = vreinterpretq_s32_u32(vandq_u32(u, vdupq_n_u32((1u << kExp2FracBits) - 1)));
  const int32x4_t inner = vaddq_s32(vdupq_n_s32(kExp2C1), vshrq_n_s32(vmulq_s32(vdupq_n_s32(kExp2C2), f), kExp2FracBits));
  const int32x4_t p = vaddq_s32(vdupq_n_s32(1 << kExp2OutBits), vshrq_n_s32(vmulq_s32(inner, f), kExp2FracBits));
  const int32x4_t half = vshrq_n_s32(vshlq_s32(vdupq_n_s32(1), q), 1);
  const int32x4_t r = vshlq_s32(vaddq_s32(p, half), vnegq_s32(q));
  return vbicq_s32(r, vreinterpretq_s32_u32(vcgtq_s32(q, vdupq_n_s32(kExp2OutBits))));
}

}  // namespace

template <typename In>
void ShiftmaxNeon(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                  int shift, uint8_t* y) {
  thread_local AlignedArray<int32_t> exps;
  if (!exps.EnsureSize(static_cast<size_t>(cols))) {
    kernels::shiftmax_scalar(x, x_stride, keep, rows, cols, mult, shift, y);  // no scratch: the oracle needs none
    return;
  }
  int32_t* const e_row = exps.data();  // once: under -fPIC each thread_local use is a call (see shiftmax_avx512.cc)
  const int64_t body = cols / 4 * 4;
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * x_stride;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    uint8_t* yr = y + r * cols;
    int32x4_t vmax = vdupq_n_s32(INT32_MIN);  // with nothing kept every exponential is masked to 0 anyway
    for (int64_t c = 0; c < body; c += 4) {
      if (NoneKept16(kr, c, body)) {
        c += 12;
        continue;
      }
      vmax = vmaxq_s32(vmax, vbslq_s32(Kept4(kr ? kr + c : nullptr), Load4(xr + c), vdupq_n_s32(INT32_MIN)));
    }
    int64_t row_max = vmaxvq_s32(vmax);
    for (int64_t c = body; c < cols; ++c) {
      if ((!kr || kr[c]) && xr[c] > row_max) row_max = xr[c];
    }
    const uint32x4_t vrow_max = vdupq_n_u32(static_cast<uint32_t>(row_max));
    uint64x2_t vtotal = vdupq_n_u64(0);
    for (int64_t c = 0; c < body; c += 4) {
      if (NoneKept16(kr, c, body)) {
        for (int i = 0; i < 16; i += 4) vst1q_s32(e_row + c + i, vdupq_n_s32(0));
        c += 12;
        continue;
      }
      // row_max − x is in [0, 2^32) for kept lanes: exact as uint32
      const uint32x4_t d = vminq_u32(vsubq_u32(vrow_max, vreinterpretq_u32_s32(Load4(xr + c))), vdupq_n_u32(kSumMax));
      const int32x4_t e = vandq_s32(Pow2Neg4(MulShiftCap(d, static_cast<uint32_t>(mult), uint64_t{1} << (shift - 1),
                                                         shift, kExp2MaxU)),
                                    vreinterpretq_s32_u32(Kept4(kr ? kr + c : nullptr)));
      vtotal = vpadalq_u32(vtotal, vreinterpretq_u32_s32(e));
      vst1q_s32(e_row + c, e);
    }
    int64_t total = static_cast<int64_t>(vaddvq_u64(vtotal));
    for (int64_t c = body; c < cols; ++c) {  // the oracle's steps
      int32_t e = 0;
      if (!kr || kr[c]) {
        const int64_t diff = row_max - xr[c];
        const int64_t d = diff < 0 ? 0 : (diff > kSumMax ? kSumMax : diff);
        const int64_t u = kernels::RoundingShift(d * mult, shift);
        e = kernels::Pow2Neg(u < kExp2MaxU ? u : kExp2MaxU);
      }
      e_row[c] = e;
      total += e;
    }
    const int64_t k = kernels::SumReciprocal(total);
    for (int64_t c = 0; c < body; c += 4) {
      const uint32x4_t out = MulShiftCap(vreinterpretq_u32_s32(vld1q_s32(e_row + c)), static_cast<uint32_t>(k),
                                         uint64_t{1} << 22, 23, 255);
      const uint8x8_t bytes = vmovn_u16(vcombine_u16(vmovn_u32(out), vdup_n_u16(0)));
      vst1_lane_u32(reinterpret_cast<uint32_t*>(yr + c), vreinterpret_u32_u8(bytes), 0);
    }
    for (int64_t c = body; c < cols; ++c) {
      const int64_t v = kernels::RoundingShift(e_row[c] * k, 23);
      yr[c] = static_cast<uint8_t>(v < 255 ? v : 255);
    }
  }
}

template void ShiftmaxNeon<int8_t>(const int8_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int, uint8_t*);
template void ShiftmaxNeon<int32_t>(const int32_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int, uint8_t*);

}  // namespace intedge
