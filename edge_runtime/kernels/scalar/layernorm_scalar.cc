// Scalar I-LayerNorm (integer_ops/layernorm.py): the portable loop with the
// baseline flags.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

template <typename In, typename Out>
void ilayernorm_scalar(const In* x, int64_t rows, int64_t C, const int32_t* mult, const int64_t* bias, int shift,
                       Out* y) {
  ILayerNormLoop(x, rows, C, mult, bias, shift, y);
}

INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_ILAYERNORM, scalar)

}  // namespace intedge::kernels
