// The dyadic requant of 4 int32 accumulators, exactly as arith.h's
// Requantize: sat((z · m + 2^(s−1)) >> s) with a 64-bit product, per-lane m
// and s. Included by the Arm ISA files inside their anonymous namespaces.

template <int L>
struct alignas(64) RequantBlock {
  int32_t mult[L];
  int64_t neg_shift[L];  // vshlq_s64 shifts right by a negative count (arithmetic)
  int64_t round[L];

  void Set(int lane, int32_t m, int s) {
    mult[lane] = m;
    neg_shift[lane] = -s;
    round[lane] = int64_t{1} << (s - 1);
  }
};

// Saturated to int32; the stores saturate to the output type.
inline int32x4_t Requant(int32x4_t z, const RequantBlock<4>& q) {
  const int32x4_t m = vld1q_s32(q.mult);
  int64x2_t p0 = vmull_s32(vget_low_s32(z), vget_low_s32(m));
  int64x2_t p1 = vmull_high_s32(z, m);
  p0 = vshlq_s64(vaddq_s64(p0, vld1q_s64(q.round)), vld1q_s64(q.neg_shift));
  p1 = vshlq_s64(vaddq_s64(p1, vld1q_s64(q.round + 2)), vld1q_s64(q.neg_shift + 2));
  return vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1));
}
