// The portable requant loop (kernels/portable_loops.h) compiled with
// AVX-512, where the compiler vectorizes its int64 arithmetic 8 lanes wide,
// and the decoder's loops (RoPE, SwiGLU, attention's scores and P·V) in
// their 32-bit forms, 16 lanes wide. (The residual add and I-LayerNorm have
// their own kernels: qadd_avx512.cc, layernorm_avx512.cc.) Same source as
// the scalar oracle, so the same bits.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq; run only when
// CPUID reports them.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

INTEDGE_DEFINE_PORTABLE_REQUANT(avx512)
INTEDGE_DEFINE_PORTABLE_DECODER(avx512)

}  // namespace intedge::kernels
