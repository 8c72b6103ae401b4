// The decoder's kernels (kernels/portable_loops.h) compiled with
// -march=armv8-a, where the compiler vectorizes their 32-bit forms 4 lanes
// wide in NEON: the _neon kernels the Arm paths run. (The scalar oracle is
// the spec's int64 arithmetic; these are the narrowed loops, falling back to
// it where their plans do not hold.) Same integers as the oracle.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

INTEDGE_DEFINE_PORTABLE_DECODER(neon)

}  // namespace intedge::kernels
