// The portable loops (kernels/portable_loops.h: requant, residual add)
// compiled with AVX-512, where the compiler vectorizes their int64 arithmetic
// 8 lanes wide. (I-LayerNorm has its own kernel: layernorm_avx512.cc.) Same source as the scalar oracle, so the same
// bits. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq; run only
// when CPUID reports them.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

INTEDGE_DEFINE_PORTABLE_KERNELS(avx512)

}  // namespace intedge::kernels
