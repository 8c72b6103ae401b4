// I-LayerNorm (kernels/portable_loops.h ILayerNormLoop, integer_ops/layernorm.py)
// with NEON, 4 elements per step in 32-bit lanes and the 64-bit products in
// halves (vmull); kernels/x86/layernorm_avx512.cc gives the bounds. A row's
// last C % 4 elements take the oracle's scalar steps. Same integers as the
// oracle. Compiled with -march=armv8-a (NEON is baseline on AArch64).
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"

#include "kernels/arm/lanes_neon.h"

// v holds values already clamped to Out's range.
void Store4(int8_t* y, int32x4_t v) {
  const int8x8_t bytes = vmovn_s16(vcombine_s16(vmovn_s32(v), vdup_n_s16(0)));
  vst1_lane_u32(reinterpret_cast<uint32_t*>(y), vreinterpret_u32_s8(bytes), 0);
}
void Store4(int16_t* y, int32x4_t v) { vst1_s16(y, vmovn_s32(v)); }

// sat((n · mult + bias + 2^(s−1)) >> s) on 2 lanes.
int64x2_t Affine(int32x2_t n, int32x2_t mult, int64x2_t bias, int64x2_t round, int64x2_t right, int64x2_t lo,
                 int64x2_t hi) {
  int64x2_t z = vshlq_s64(vaddq_s64(vaddq_s64(vmull_s32(n, mult), bias), round), right);
  z = vbslq_s64(vcgtq_s64(z, hi), hi, z);
  return vbslq_s64(vcltq_s64(z, lo), lo, z);
}

}  // namespace

template <typename In, typename Out>
void ilayernorm_neon(const In* x, int64_t rows, int64_t C, const int32_t* mult, const int64_t* bias, int shift,
                     Out* y) {
  constexpr int kNorm = kLayerNormRecipBits - kLayerNormNormBits;
  const int64x2_t round = vdupq_n_s64(int64_t{1} << (shift - 1)), right = vdupq_n_s64(-shift);
  const int64x2_t lo = vdupq_n_s64(std::numeric_limits<Out>::min()), hi = vdupq_n_s64(std::numeric_limits<Out>::max());
  const int64_t body = C / 4 * 4;
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * C;
    Out* yr = y + r * C;
    int64x2_t vsum = vdupq_n_s64(0);
    for (int64_t c = 0; c < body; c += 4) vsum = vpadalq_s32(vsum, Load4(xr + c));
    int64_t sum = vaddvq_s64(vsum);
    for (int64_t c = body; c < C; ++c) sum += xr[c];
    const int64_t mean = LayerNormMean(sum, C);
    const int32x4_t vmean = vdupq_n_s32(static_cast<int32_t>(mean));  // |mean| ≤ 256 · 2^15
    int64x2_t vvar = vdupq_n_s64(0);
    for (int64_t c = 0; c < body; c += 4) {
      const int32x4_t d = vsubq_s32(vshlq_n_s32(Load4(xr + c), 8), vmean);
      vvar = vaddq_s64(vvar, vaddq_s64(vmull_s32(vget_low_s32(d), vget_low_s32(d)), vmull_high_s32(d, d)));
    }
    int64_t var = vaddvq_s64(vvar);
    for (int64_t c = body; c < C; ++c) {
      const int64_t d = kLayerNormMeanScale * xr[c] - mean;
      var += d * d;
    }
    int j;
    int64_t factor;
    LayerNormScale(var, &j, &factor);
    // factor < 2^32 whenever some d ≠ 0; when all d = 0 its low half times 0 is 0 all the same
    const int32x2_t vfactor = vdup_n_s32(static_cast<int32_t>(factor & 0x7FFFFFFF));
    const int32x4_t vj = vdupq_n_s32(j);
    for (int64_t c = 0; c < body; c += 4) {
      const int32x4_t dj = vshlq_s32(vsubq_s32(vshlq_n_s32(Load4(xr + c), 8), vmean), vj);
      const int64x2_t n_lo = vrshrq_n_s64(vmull_s32(vget_low_s32(dj), vfactor), kNorm);
      const int64x2_t n_hi = vrshrq_n_s64(vmull_s32(vget_high_s32(dj), vfactor), kNorm);
      const int32x4_t m = vld1q_s32(mult + c);
      const int64x2_t z_lo = Affine(vmovn_s64(n_lo), vget_low_s32(m), vld1q_s64(bias + c), round, right, lo, hi);
      const int64x2_t z_hi = Affine(vmovn_s64(n_hi), vget_high_s32(m), vld1q_s64(bias + c + 2), round, right, lo, hi);
      Store4(yr + c, vcombine_s32(vmovn_s64(z_lo), vmovn_s64(z_hi)));
    }
    for (int64_t c = body; c < C; ++c) {  // the oracle's steps
      const int64_t d = (kLayerNormMeanScale * xr[c] - mean) * (int64_t{1} << j);
      const int64_t n = RoundingShift(d * factor, kNorm);
      yr[c] = Saturate<Out>(RoundingShift(n * mult[c] + bias[c], shift));
    }
  }
}

INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_ILAYERNORM, neon)

}  // namespace intedge::kernels
