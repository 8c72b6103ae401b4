// Scalar decoder kernels (integer_ops/decoder.py): the portable loops in the
// spec's arithmetic (int64 products, kernels/portable_loops.h), with the
// baseline flags. The oracle the ISA builds are tested against.
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"
}  // namespace

int64_t rope_scalar(const int8_t* x, int64_t rows, int64_t D, const int32_t* positions, const int16_t* cos,
                    const int16_t* sin, int64_t P, int8_t* y) {
  return RopeLoop(x, rows, D, positions, cos, sin, P, y);
}

void swiglu_scalar(const int8_t* gate, const int8_t* up, int64_t n, const int16_t* table, int32_t mult, int shift,
                   int8_t* y) {
  SwigluLoop(gate, up, n, table, mult, shift, y);
}

void attention_scores_scalar(const int8_t* q, int64_t rows, const int8_t* keys, int64_t len0, int64_t D,
                             int32_t* scores, int64_t ld) {
  AttentionScoresLoop(q, rows, keys, len0, D, scores, ld);
}

void attention_values_scalar(const uint8_t* probs, int64_t ld, int64_t rows, const int8_t* values, int64_t len0,
                             int64_t D, int32_t mult, int shift, int8_t* y, int64_t ld_y) {
  AttentionValuesLoop(probs, ld, rows, values, len0, D, mult, shift, y, ld_y);
}

}  // namespace intedge::kernels
