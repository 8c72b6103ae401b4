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

constexpr int64_t kStatsBlock = 8;  // rows whose statistics are taken together (see layernorm_avx512.cc)

// A row's statistics: the mean, and j and factor (portable_loops.h LayerNormScale).
struct RowStats {
  int64_t mean;
  int j;
  int64_t factor;
};

template <typename In>
RowStats Statistics(const In* xr, int64_t C, bool rms) {
  const int64_t body = C / 4 * 4;
  int64x2_t vsum = vdupq_n_s64(0);
  for (int64_t c = 0; c < body; c += 4) vsum = vpadalq_s32(vsum, Load4(xr + c));
  int64_t sum = vaddvq_s64(vsum);
  for (int64_t c = body; c < C; ++c) sum += xr[c];
  RowStats s;
  s.mean = rms ? 0 : LayerNormMean(sum, C);  // RMSNorm
  const int32x4_t vmean = vdupq_n_s32(static_cast<int32_t>(s.mean));  // |mean| ≤ 256 · 2^15
  int64x2_t vvar = vdupq_n_s64(0);
  for (int64_t c = 0; c < body; c += 4) {
    const int32x4_t d = vsubq_s32(vshlq_n_s32(Load4(xr + c), 8), vmean);
    vvar = vaddq_s64(vvar, vaddq_s64(vmull_s32(vget_low_s32(d), vget_low_s32(d)), vmull_high_s32(d, d)));
  }
  int64_t var = vaddvq_s64(vvar);
  for (int64_t c = body; c < C; ++c) {
    const int64_t d = kLayerNormMeanScale * xr[c] - s.mean;
    var += d * d;
  }
  LayerNormScale(var, &s.j, &s.factor);
  return s;
}

}  // namespace

template <typename In, typename Out>
void ilayernorm_neon(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult, const int64_t* bias,
                     int shift, Out* y) {
  constexpr int kNorm = kLayerNormRecipBits - kLayerNormNormBits;
  const int64x2_t round = vdupq_n_s64(int64_t{1} << (shift - 1)), right = vdupq_n_s64(-shift);
  const int64x2_t lo = vdupq_n_s64(std::numeric_limits<Out>::min()), hi = vdupq_n_s64(std::numeric_limits<Out>::max());
  const int64_t body = C / 4 * 4;
  // The statistics of a block of rows first, then their outputs, so that
  // the rows' serial chains (reductions, division, square root) overlap.
  for (int64_t r0 = 0; r0 < rows; r0 += kStatsBlock) {
    const int64_t r1 = r0 + kStatsBlock < rows ? r0 + kStatsBlock : rows;
    RowStats stats[kStatsBlock];
    for (int64_t r = r0; r < r1; ++r) stats[r - r0] = Statistics(x + r * C, C, rms);
    for (int64_t r = r0; r < r1; ++r) {
      const In* xr = x + r * C;
      Out* yr = y + r * C;
      const RowStats& st = stats[r - r0];
      const int32x4_t vmean = vdupq_n_s32(static_cast<int32_t>(st.mean));
      // factor < 2^32 whenever some d ≠ 0; when all d = 0 its low half times 0 is 0 all the same
      const int32x2_t vfactor = vdup_n_s32(static_cast<int32_t>(st.factor & 0x7FFFFFFF));
      const int32x4_t vj = vdupq_n_s32(st.j);
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
        const int64_t d = (kLayerNormMeanScale * xr[c] - st.mean) * (int64_t{1} << st.j);
        const int64_t n = RoundingShift(d * st.factor, kNorm);
        yr[c] = Saturate<Out>(RoundingShift(n * mult[c] + bias[c], shift));
      }
    }
  }
}

INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_ILAYERNORM, neon)

}  // namespace intedge::kernels
