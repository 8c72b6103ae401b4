// The dot-product GEMM (kernels/gemm_dot4.h) on baseline AArch64 NEON (e.g.
// Cortex-A53/A57, no sdot): the 4-way dot product is emulated exactly with
// widening multiplies (s8 × s8 → s16, which cannot overflow) and pairwise adds.
// Compiled with -march=armv8-a.
#include <arm_neon.h>

#include <cstdint>

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/arm/neon_traits.h"
#include "kernels/arm/requant_neon.h"

struct Neon : NeonBase {
  static constexpr const char* kIsa = "neon";
  // Per int32 lane: acc + Σ_{j<4} a[j] · b[j], as sdot computes it.
  static Vec Dpbusd(Vec acc, Vec a, Vec b) {
    const int8x16_t a8 = vreinterpretq_s8_s32(a), b8 = vreinterpretq_s8_s32(b);
    const int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a8), vget_low_s8(b8)));  // pair sums, lanes 0-1
    const int32x4_t hi = vpaddlq_s16(vmull_high_s8(a8, b8));                       // pair sums, lanes 2-3
    return vaddq_s32(acc, vpaddq_s32(lo, hi));
  }
};

#include "kernels/gemm_dot4.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmNeon(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmDot4<Neon>(w)) : MakeGemmScalar(w);
}

int64_t PeakMacsNeon(int64_t iters) { return DotPeak<Neon>(iters); }

}  // namespace intedge
