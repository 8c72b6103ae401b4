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

template <typename In, typename Out>
void requant_avx512(const In* x, int64_t n, int32_t mult, int shift, Out* y) {
  RequantLoop(x, n, mult, shift, y);
}

template <typename A, typename B, typename Out>
void qadd_avx512(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {
  QAddLoop(a, b, n, mult_a, mult_b, shift, y);
}

#define INTEDGE_INSTANTIATE(In, Out) template void requant_avx512<In, Out>(const In*, int64_t, int32_t, int, Out*);
INTEDGE_REQUANT_TYPES(INTEDGE_INSTANTIATE)
#undef INTEDGE_INSTANTIATE
#define INTEDGE_INSTANTIATE(A, B, Out) \
  template void qadd_avx512<A, B, Out>(const A*, const B*, int64_t, int32_t, int32_t, int, Out*);
INTEDGE_QADD_TYPES(INTEDGE_INSTANTIATE)
#undef INTEDGE_INSTANTIATE

}  // namespace intedge::kernels
