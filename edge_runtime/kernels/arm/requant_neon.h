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

// A block's constants loaded once for a run of output vectors of the same
// columns (see kernels/x86/requant_x86.h). Saturated to int32; the stores
// saturate to the output type.
template <int L>
class BlockRequant;

template <>
class BlockRequant<4> {
 public:
  explicit BlockRequant(const RequantBlock<4>& q)
      : m_(vld1q_s32(q.mult)),
        round0_(vld1q_s64(q.round)),
        round1_(vld1q_s64(q.round + 2)),
        shift0_(vld1q_s64(q.neg_shift)),
        shift1_(vld1q_s64(q.neg_shift + 2)) {}

  int32x4_t operator()(int32x4_t z) const {
    const int64x2_t p0 = vshlq_s64(vaddq_s64(vmull_s32(vget_low_s32(z), vget_low_s32(m_)), round0_), shift0_);
    const int64x2_t p1 = vshlq_s64(vaddq_s64(vmull_high_s32(z, m_), round1_), shift1_);
    return vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1));
  }

 private:
  int32x4_t m_;
  int64x2_t round0_, round1_, shift0_, shift1_;
};
