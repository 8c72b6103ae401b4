// Scalar I-LayerNorm (integer_ops/layernorm.py): the portable loop with the
// baseline flags.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

INTEDGE_DEFINE_PORTABLE_ILAYERNORM(scalar)

}  // namespace intedge::kernels
