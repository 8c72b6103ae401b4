// The VNNI GEMM (kernels/gemm_dot4.h) for AVX2 CPUs without VNNI: vpdpbusd is
// emulated exactly. (vpmaddubsw would saturate its int16 pair sums, so it
// cannot be used.) Even and odd bytes are widened to int16, and vpmaddwd
// sums the products in int32. Compiled with -mavx2.
#include <immintrin.h>

#include <cstdint>

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/x86/requant_x86.h"

#include "kernels/x86/ymm_traits.h"

struct Ymm : YmmBase {
  static constexpr const char* kIsa = "avx2";
  // Per int32 lane: acc + Σ_{j<4} u8[j] · s8[j], as vpdpbusd computes it.
  static Vec Dpbusd(Vec acc, Vec u8, Vec s8) {
    const __m256i mask = _mm256_set1_epi16(0x00FF);
    const __m256i u_even = _mm256_and_si256(u8, mask), u_odd = _mm256_srli_epi16(u8, 8);
    const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s8, 8), 8), s_odd = _mm256_srai_epi16(s8, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
  }
};

#include "kernels/gemm_dot4.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmAvx2(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmDot4<Ymm>(w)) : MakeGemmScalar(w);
}

int64_t PeakMacsAvx2(int64_t iters) { return DotPeak<Ymm>(iters); }

}  // namespace intedge
