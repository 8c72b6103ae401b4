// The AVX2 and AVX-VNNI paths' elementwise, row and decoder kernels: the
// portable loops (kernels/portable_loops.h) compiled with -mavx2, where the
// compiler vectorizes them 8 int32 lanes wide. Shiftmax, the residual add,
// SwiGLU and attention's P·V use the narrowed loops (32-bit arithmetic, 8
// lanes instead of 4 int64), falling back to the oracle's loops where their
// plans do not hold. Same integers as the scalar oracle; run only when CPUID
// reports AVX2.
#include "kernels/aligned.h"
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

INTEDGE_DEFINE_PORTABLE_REQUANT(avx2)

template <typename A, typename B, typename Out>
void qadd_avx2(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {
  if (!QAddNarrowLoop(a, b, n, mult_a, mult_b, shift, y)) QAddLoop(a, b, n, mult_a, mult_b, shift, y);
}
INTEDGE_QADD_TYPES(INTEDGE_INSTANTIATE_QADD, avx2)

INTEDGE_DEFINE_PORTABLE_ILAYERNORM(avx2)
INTEDGE_DEFINE_PORTABLE_DECODER(avx2)

template <typename In>
void shiftmax_avx2(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                   int shift, uint8_t* y) {
  thread_local AlignedArray<uint32_t> exps;
  if (!exps.EnsureSize(static_cast<size_t>(cols)) ||
      !ShiftmaxNarrowLoop(x, x_stride, keep, rows, cols, mult, shift, exps.data(), y)) {
    shiftmax_scalar(x, x_stride, keep, rows, cols, mult, shift, y);
  }
}
template void shiftmax_avx2<int8_t>(const int8_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int, uint8_t*);
template void shiftmax_avx2<int32_t>(const int32_t*, int64_t, const uint8_t*, int64_t, int64_t, int32_t, int,
                                     uint8_t*);

}  // namespace intedge::kernels
