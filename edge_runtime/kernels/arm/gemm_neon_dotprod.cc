// The dot-product GEMM (kernels/gemm_dot4.h) with Armv8.2 sdot: 4 int32
// columns per 128-bit vector. Compiled with -march=armv8.2-a+dotprod; run
// only when HWCAP reports asimddp.
#include <arm_neon.h>

#include <cstdint>

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/arm/neon_traits.h"
#include "kernels/arm/requant_neon.h"

struct Neon : NeonBase {
  static constexpr const char* kIsa = "neon-dotprod";
  static Vec Dpbusd(Vec acc, Vec a, Vec b) { return vdotq_s32(acc, vreinterpretq_s8_s32(a), vreinterpretq_s8_s32(b)); }
};

#include "kernels/gemm_dot4.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmNeonDotprod(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmDot4<Neon>(w)) : MakeGemmScalar(w);
}

int64_t PeakMacsNeonDotprod(int64_t iters) { return DotPeak<Neon>(iters); }

}  // namespace intedge
