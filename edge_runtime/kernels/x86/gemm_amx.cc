// The AMX GEMM (kernels/x86/gemm_amx.h) on the hardware's tiles. Compiled
// with AVX-512 (its epilogue and small calls are GemmDot4<Zmm>'s) and
// -mamx-tile -mamx-int8; offered only where CPUID reports AMX-INT8 and the
// kernel grants the process the tile data state (dispatch.cc).
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/x86/requant_x86.h"

#include "kernels/x86/zmm_traits.h"

#include "kernels/gemm_dot4.h"

#include "kernels/x86/amx_tiles.h"
#include "kernels/x86/gemm_amx.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmAmx(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmAmx<AmxTiles>(w)) : MakeGemmScalar(w);
}

int64_t PeakMacsAmx(int64_t iters) { return AmxTiles::Peak(iters); }
int64_t StepPeakMacsAmx(int64_t iters) { return AmxTiles::StepPeak(iters); }

}  // namespace intedge
