// The VNNI GEMM (kernels/gemm_dot4.h) on 512-bit vectors: 16 int32 columns per
// vector. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; run
// only when CPUID reports them.
#include <immintrin.h>

#include <cstdint>

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32() and trip
// -Wmaybe-uninitialized (GCC bug 105593); nothing here reads undefined lanes.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/x86/requant_x86.h"

#include "kernels/x86/zmm_traits.h"

#include "kernels/gemm_dot4.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmAvx512Vnni(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmDot4<Zmm>(w)) : MakeGemmScalar(w);
}

int64_t PeakMacsAvx512Vnni(int64_t iters) { return DotPeak<Zmm>(iters); }

}  // namespace intedge
