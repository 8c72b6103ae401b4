// Scalar int8 → int8 table lookup: the form in which tabulated elementwise ops
// (λ-ShiftGELU) run.
#include "kernels/kernels.h"

namespace intedge::kernels {

void lookup_scalar(const int8_t* x, int64_t rows, int64_t C, const int8_t* table, bool per_channel, int8_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* xr = x + r * C;
    int8_t* yr = y + r * C;
    if (per_channel) {
      for (int64_t c = 0; c < C; ++c) yr[c] = table[(xr[c] + 128) * C + c];
    } else {
      for (int64_t c = 0; c < C; ++c) yr[c] = table[xr[c] + 128];
    }
  }
}

}  // namespace intedge::kernels
