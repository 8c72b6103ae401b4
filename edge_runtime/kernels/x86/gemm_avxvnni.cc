// The VNNI GEMM (kernels/gemm_dot4.h) on 256-bit vectors: 8 int32 columns per vector,
// for CPUs with AVX-VNNI but no AVX-512 (Alder Lake and later client cores).
// Compiled with -mavx2 -mavxvnni; run only when CPUID reports them.
#include <immintrin.h>

#include <cstdint>

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/x86/requant_x86.h"

#include "kernels/x86/ymm_traits.h"

struct Ymm : YmmBase {
  static constexpr const char* kIsa = "avxvnni";
  // Inline asm for the reason gemm_avx512vnni.cc gives.
  static Vec Dpbusd(Vec acc, Vec u8, Vec s8) {
    asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u8), "x"(s8));
    return acc;
  }
};

#include "kernels/gemm_dot4.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmAvxVnni(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmDot4<Ymm>(w)) : MakeGemmScalar(w);
}

int64_t PeakMacsAvxVnni(int64_t iters) { return DotPeak<Ymm>(iters); }

}  // namespace intedge
