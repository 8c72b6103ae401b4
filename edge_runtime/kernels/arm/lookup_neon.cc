// A 256-entry int8 → int8 table over a tensor with NEON: tbl/tbx look each
// byte up in four 64-byte quarters of the table, 16 elements per step.
// Compiled with -march=armv8-a (NEON is baseline on AArch64).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace intedge::kernels {

void lookup256_neon(const int8_t* x, int64_t n, const int8_t* table, int8_t* y) {
  const auto* t = reinterpret_cast<const uint8_t*>(table);
  const uint8x16x4_t q0 = vld1q_u8_x4(t), q1 = vld1q_u8_x4(t + 64), q2 = vld1q_u8_x4(t + 128), q3 = vld1q_u8_x4(t + 192);
  const uint8x16_t flip = vdupq_n_u8(0x80), quarter = vdupq_n_u8(64);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // x + 128 as a byte; out-of-range indices leave tbx's destination as it is
    uint8x16_t u = veorq_u8(vld1q_u8(reinterpret_cast<const uint8_t*>(x + i)), flip);
    uint8x16_t r = vqtbl4q_u8(q0, u);
    u = vsubq_u8(u, quarter);
    r = vqtbx4q_u8(r, q1, u);
    u = vsubq_u8(u, quarter);
    r = vqtbx4q_u8(r, q2, u);
    u = vsubq_u8(u, quarter);
    r = vqtbx4q_u8(r, q3, u);
    vst1q_u8(reinterpret_cast<uint8_t*>(y + i), r);
  }
  lookup256_scalar(x + i, n - i, table, y + i);
}

}  // namespace intedge::kernels
