// Elementwise and row kernels written once in plain C++: kernels/scalar/
// compiles them with the baseline flags (the oracle); x86/portable_avx2.cc
// compiles them with AVX2 and x86/portable_avx512.cc the requant loop with
// AVX-512, where the compiler vectorizes them; the hand-written AVX-512
// kernels use the rest for their fallbacks, plans and row statistics.
// Integer arithmetic is exact in any lane width, so every build gives the
// same bits.
//
// Included inside an anonymous namespace by each of those files, for the
// reason kernels/aligned.h gives; uses no standard-library function
// templates (std::min would be one shared symbol across ISA files).
//
// Requires kernels/arith.h.

// integer_ops/requant.py: y = sat(x·m + round >> s).
template <typename In, typename Out>
void RequantLoop(const In* x, int64_t n, int32_t mult, int shift, Out* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = Requantize<Out>(x[i], mult, shift);
}

// integer_ops/residual.py: y = sat(a·ma + b·mb + round >> s).
template <typename A, typename B, typename Out>
void QAddLoop(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = Saturate<Out>(RoundingShift(int64_t{a[i]} * mult_a + int64_t{b[i]} * mult_b, shift));
  }
}

// integer_ops/layernorm.py: exact isqrt, a 46-bit reciprocal per row, one
// multiply-add per element.
constexpr int kLayerNormRecipBits = 46;
constexpr int kLayerNormNormBits = 30;
constexpr int64_t kLayerNormMeanScale = 256;
constexpr int kLayerNormVarBits = 60;

inline int BitLength(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

// ⌊√v⌋ for 0 ≤ v < 2^62. integer_ops/layernorm.py defines it as exact (its
// 7 Newton steps provably reach the floor; tests compare with math.isqrt), so
// any exact method gives its bits. The double square root is within 1 of the
// floor and the two loops settle it, with no division: about 20 cycles where
// Newton's 7 divisions take 300, once per row.
inline int64_t Isqrt(int64_t v) {
  auto s = static_cast<int64_t>(__builtin_sqrt(static_cast<double>(v)));
  while (s * s > v) --s;
  while ((s + 1) * (s + 1) <= v) ++s;
  return s;
}

// The row statistics every I-LayerNorm kernel shares: the mean with 8
// fractional bits from the row sum, and from Σ d² (d = 256·x − mean) the
// normalizing shift j and the reciprocal factor, so that each element is
// n = RoundingShift((d << j) · factor, 16).
inline int64_t LayerNormMean(int64_t sum, int64_t C) { return FloorDiv(2 * kLayerNormMeanScale * sum + C, 2 * C); }

inline void LayerNormScale(int64_t var, int* j, int64_t* factor) {
  const int spare = (kLayerNormVarBits - BitLength(static_cast<uint64_t>(var))) >> 1;
  *j = spare > 0 ? spare : 0;
  const int64_t root = Isqrt(var << (2 * *j));
  *factor = (int64_t{1} << kLayerNormRecipBits) / (root > 1 ? root : 1);
}

// rms: RMSNorm, the same with mean 0 (integer_ops/layernorm.py).
template <typename In, typename Out>
void ILayerNormLoop(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult, const int64_t* bias,
                    int shift, Out* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * C;
    int64_t sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += xr[c];
    const int64_t mean = rms ? 0 : LayerNormMean(sum, C);
    int64_t var = 0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t d = kLayerNormMeanScale * xr[c] - mean;
      var += d * d;
    }
    int j;
    int64_t factor;
    LayerNormScale(var, &j, &factor);
    for (int64_t c = 0; c < C; ++c) {
      const int64_t d = (kLayerNormMeanScale * xr[c] - mean) * (int64_t{1} << j);
      const int64_t n = RoundingShift(d * factor, kLayerNormRecipBits - kLayerNormNormBits);
      y[r * C + c] = Saturate<Out>(RoundingShift(n * mult[c] + bias[c], shift));
    }
  }
}

// --- The same integers in 32- and 16-bit arithmetic --------------------
// The spec computes in int64; where bounds allow, SIMD kernels narrow the
// lanes. The plans below check those bounds for an op's constants; the
// loops after them are the narrowed arithmetic in plain C++, which compilers
// vectorize for ISAs without a hand-written kernel (x86/portable_avx2.cc).

// The high-half form of a requant by a shift s in [1, 62]: with t =
// max(0, 33 − s) and s' = s + t ≥ 33, (v·m + 2^(s−1)) >> s equals
// (H + 2^(s'−33)) >> (s' − 32), H the high half floor(v·2^t·m / 2^32)
// (kernels/x86/requant_x86.h proves it). The plans below add the bounds
// under which that runs in 32-bit lanes for their op.
struct HighHalfShift {
  int pre_shift = 0;   // t
  int32_t round = 0;   // 2^(s' − 33) ≤ 2^29
  int post_shift = 0;  // s' − 32

  void SetShift(int shift) {
    pre_shift = shift < 33 ? 33 - shift : 0;
    round = int32_t{1} << (shift + pre_shift - 33);
    post_shift = shift + pre_shift - 32;
  }
};

// Shiftmax's exponent u = min((min(d, 2^31 − 1)·mult + 2^(s−1)) >> s,
// kExp2MaxU) of d = row_max − x, in uint32. Every u ≥ 2^20 gives 2^−u = 0 in
// Q15, so d may be clamped to D0, the least d whose u reaches 2^20, with no
// other change. Then d·2^t fits 32 bits (unsigned), and u takes the
// high-half form (HighHalfShift). ok is false only for multipliers far
// below 2^30, which the converter never writes (it normalizes them).
struct ShiftmaxExponentPlan : HighHalfShift {
  static constexpr int64_t kZeroU = int64_t{kExp2OutBits + 1} << kExp2FracBits;  // 2^20
  bool ok = false;
  uint32_t d_clamp = 0;  // D0, or 2^31 − 1 if that is smaller

  ShiftmaxExponentPlan(int32_t mult, int shift) {
    if (mult <= 0 || shift < 1 || shift > 62) return;
    int64_t d0 = kSumMax;
    if (shift <= 42) {  // D0 = ceil((2^20·2^s − 2^(s−1)) / mult); beyond, D0 ≥ 2^63 / 2^31 > 2^31 − 1
      const int64_t need = (kZeroU << shift) - (int64_t{1} << (shift - 1));
      d0 = (need + mult - 1) / mult;
    }
    d_clamp = static_cast<uint32_t>(d0 < kSumMax ? d0 : kSumMax);
    SetShift(shift);
    ok = !((uint64_t{d_clamp} << pre_shift) >> 32);
  }
};

// Shiftmax (integer_ops/shiftmax.py) with the exponent in uint32 and 2^−u,
// the row sum and the normalization in 32 bits: e ≤ 2^15, the row's maximum
// has e = 2^15, so the sum is ≥ 2^15 and k = (2^31 − 1) / sum < 2^16 (with no
// kept element every e is 0 and any k gives 0), so e·k < 2^31. e is scratch
// for a row (cols values); x's rows are x_stride elements apart. False,
// computing nothing, where the plan does not hold or cols ≥ 2^16 (the sum
// would need 33 bits).
template <typename In>
bool ShiftmaxNarrowLoop(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                        int shift, uint32_t* e, uint8_t* y) {
  const ShiftmaxExponentPlan plan(mult, shift);
  if (!plan.ok || cols >= (int64_t{1} << 16)) return false;
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * x_stride;
    const uint8_t* kr = keep ? keep + r * cols : nullptr;
    int32_t row_max = INT32_MIN;  // with no kept element every e is masked to 0 whatever it is
    for (int64_t c = 0; c < cols; ++c) {
      const int32_t v = (!kr || kr[c]) ? xr[c] : INT32_MIN;
      row_max = v > row_max ? v : row_max;
    }
    uint32_t total = 0;
    for (int64_t c = 0; c < cols; ++c) {
      uint32_t d = static_cast<uint32_t>(row_max) - static_cast<uint32_t>(xr[c]);
      d = (d < plan.d_clamp ? d : plan.d_clamp) << plan.pre_shift;
      const auto h = static_cast<uint32_t>((uint64_t{d} * static_cast<uint32_t>(mult)) >> 32);
      const uint32_t u = (h + plan.round) >> plan.post_shift;
      const uint32_t q = u >> kExp2FracBits;
      const auto f = static_cast<int32_t>(u & ((1u << kExp2FracBits) - 1));
      const int32_t p = (1 << kExp2OutBits) + (((kExp2C1 + ((kExp2C2 * f) >> kExp2FracBits)) * f) >> kExp2FracBits);
      const uint32_t qs = q < 31 ? q : 31;  // q > 15 gives 0 below; the clamp keeps the shifts defined
      uint32_t v = (static_cast<uint32_t>(p) + ((1u << qs) >> 1)) >> qs;
      v = (q > static_cast<uint32_t>(kExp2OutBits) || (kr && !kr[c])) ? 0 : v;
      e[c] = v;
      total += v;
    }
    const int64_t k64 = SumReciprocal(total);
    const uint32_t k = static_cast<uint32_t>(k64 < 0xFFFF ? k64 : 0xFFFF);
    uint8_t* yr = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const uint32_t v = (e[c] * k + (1u << 22)) >> 23;
      yr[c] = static_cast<uint8_t>(v < 255 ? v : 255);
    }
  }
  return true;
}

// qadd's multipliers split as m = mh·2^16 + ml, ml the signed low half
// (|ml| ≤ 2^15) and 0 ≤ mh < 2^15, so that
//   X = a·mh_a + b·mh_b   |X| ≤ 2^31 − 2^16
//   Y = a·ml_a + b·ml_b   |Y| < 2^31 unless a = b = ml_a = ml_b = −2^15
// are int32 and the int64 sum is P = 2^16·X + Y. For s ≥ 17, with
// Z = X + (Y >> 16) (|Z| < 2^31) and adding a fraction below 1 to an integer
// never changing its floor division by an integer:
//   floor((P + 2^(s−1)) / 2^s) = floor((Z + 2^(s−17)) / 2^(s−16))
//                              = ((Z >> (s − 17)) + 1) >> 1,
// which never leaves int32. ok is false outside those bounds (never for the
// converter's constants: its multipliers are ≥ 2^30 and its shifts ≥ 20).
struct QAddPairPlan {
  bool ok = false;
  int16_t high_a = 0, low_a = 0, high_b = 0, low_b = 0;
  int down = 0;  // s − 17, at most 31 (Z >> 31 is already floor(Z / 2^k) for any k ≥ 31)

  QAddPairPlan(int32_t mult_a, int32_t mult_b, int shift) {
    ok = Split(mult_a, &high_a, &low_a) && Split(mult_b, &high_b, &low_b) &&
         !(low_a == INT16_MIN && low_b == INT16_MIN) && shift >= 17 && shift <= 62;
    down = shift - 17 < 31 ? shift - 17 : 31;
  }

 private:
  static bool Split(int32_t m, int16_t* high, int16_t* low) {
    *low = static_cast<int16_t>(m & 0xFFFF);
    const int64_t h = (int64_t{m} - *low) >> 16;
    *high = static_cast<int16_t>(h);
    return h >= 0 && h < (1 << 15);
  }
};

// qadd (integer_ops/residual.py) in int32 by the pair split above; false,
// computing nothing, where the plan does not hold.
template <typename A, typename B, typename Out>
bool QAddNarrowLoop(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {
  const QAddPairPlan plan(mult_a, mult_b, shift);
  if (!plan.ok) return false;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t va = a[i], vb = b[i];
    const int32_t z = va * plan.high_a + vb * plan.high_b + ((va * plan.low_a + vb * plan.low_b) >> 16);
    y[i] = Saturate<Out>(((z >> plan.down) + 1) >> 1);
  }
  return true;
}

// --- The decoder's kernels (integer_ops/decoder.py) ---------------------

// The requant of int32 values |z| ≤ bound in 32-bit lanes, in the high-half
// form (HighHalfShift): |z·2^t| < 2^31 and 0 ≤ m < 2^31 give |H| < 2^30,
// so int32 throughout, which compilers vectorize as even/odd 32×32→64
// multiplies. ok is false where bound·2^t does not fit int32 (shifts far
// below the converter's, which normalizes multipliers to [2^30, 2^31)).
struct HighRequantPlan : HighHalfShift {
  bool ok = false;

  HighRequantPlan(int32_t mult, int shift, int64_t bound) {
    if (mult < 0 || shift < 1 || shift > 62) return;
    SetShift(shift);
    ok = pre_shift <= 30 && bound <= (int64_t{INT32_MAX} >> pre_shift);
  }
};

inline int32_t HighRequant(int32_t z, int32_t mult, const HighRequantPlan& p) {
  const auto h = static_cast<int32_t>((int64_t{z * (int32_t{1} << p.pre_shift)} * mult) >> 32);
  return (h + p.round) >> p.post_shift;
}

// Saturate<int8_t> on int32, so that vectorized loops stay in 32-bit lanes.
inline int8_t Clamp8(int32_t v) { return static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v)); }

// RoPE: |x·c| + |x·s| ≤ 2^7·2^15, so the spec's int64 arithmetic is exact
// in int32, and this one loop is the oracle and every ISA's kernel.
constexpr int kRopeFracBits = 14;

inline int64_t RopeLoop(const int8_t* x, int64_t rows, int64_t D, const int32_t* positions, const int16_t* cos,
                        const int16_t* sin, int64_t P, int8_t* y) {
  for (int64_t r = 0; r < rows; ++r) {
    if (positions[r] < 0 || positions[r] >= P) return r;
  }
  const int64_t half = D / 2;
  constexpr int32_t round = 1 << (kRopeFracBits - 1);
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* x1 = x + r * D;
    const int8_t* x2 = x1 + half;
    const int16_t* c = cos + positions[r] * half;
    const int16_t* s = sin + positions[r] * half;
    int8_t* y1 = y + r * D;
    int8_t* y2 = y1 + half;
    for (int64_t i = 0; i < half; ++i) {
      const int32_t a = x1[i], b = x2[i];
      y1[i] = Clamp8((a * c[i] - b * s[i] + round) >> kRopeFracBits);
      y2[i] = Clamp8((b * c[i] + a * s[i] + round) >> kRopeFracBits);
    }
  }
  return -1;
}

// SwiGLU as the spec writes it: the product in int64.
inline void SwigluLoop(const int8_t* gate, const int8_t* up, int64_t n, const int16_t* table, int32_t mult, int shift,
                       int8_t* y) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = Requantize<int8_t>(int64_t{table[gate[i] + 128]} * up[i], mult, shift);
  }
}

// SwiGLU in int32: |table · up| ≤ 2^15·2^7 = 2^22, requantized by the high
// half. The table is widened to int32 first: compilers gather 32-bit
// elements, not 16-bit ones. False, computing nothing, where the plan does
// not hold.
inline bool SwigluNarrowLoop(const int8_t* gate, const int8_t* up, int64_t n, const int16_t* table, int32_t mult,
                             int shift, int8_t* y) {
  const HighRequantPlan plan(mult, shift, int64_t{1} << 22);
  if (!plan.ok) return false;
  int32_t wide[256];
  for (int v = 0; v < 256; ++v) wide[v] = table[v];
  for (int64_t i = 0; i < n; ++i) y[i] = Clamp8(HighRequant(wide[gate[i] + 128] * up[i], mult, plan));
  return true;
}

// Causal scores q·kᵀ of one head in int32 (exact: D·2^14 < 2^31). One dot
// product per key over q widened to int16 once (kQueryChunk columns at a
// time, on the stack): int16 × int16 sums are what compilers turn into
// vpmaddwd / smlal, 2–3× the int8 × int8 loop's speed.
constexpr int64_t kQueryChunk = 256;

inline void AttentionScoresLoop(const int8_t* q, int64_t rows, const int8_t* keys, int64_t len0, int64_t D,
                                int32_t* scores, int64_t ld) {
  int16_t q16[kQueryChunk];
  for (int64_t i = 0; i < rows; ++i) {
    int32_t* si = scores + i * ld;
    for (int64_t d0 = 0; d0 < D; d0 += kQueryChunk) {
      const int64_t width = D - d0 < kQueryChunk ? D - d0 : kQueryChunk;
      for (int64_t c = 0; c < width; ++c) q16[c] = q[i * D + d0 + c];
      for (int64_t j = 0; j < len0 + i; ++j) {
        const int8_t* kj = keys + j * D + d0;
        int32_t acc = 0;
        for (int64_t c = 0; c < width; ++c) acc += q16[c] * int16_t{kj[c]};
        si[j] = d0 ? si[j] + acc : acc;
      }
    }
  }
}

// P·V of one head, requant(acc) giving each int8 output: columns in blocks
// of kValueBlock accumulated over the row's keys (ValueColumns), then
// requantized. Keys whose probability is 0 (most of a sharp row's, in
// uint8) add nothing and are skipped. Acc: int64 in the oracle, int32
// (exact by the op's bound) in the narrowed loop.
constexpr int64_t kValueBlock = 64;

// acc[c] = Σ_{j < len} p[j]·v[j·D + c] for c < width ≤ kValueBlock. A whole
// block has a constant trip count, so its sums stay in vector registers.
template <typename Acc>
inline void ValueColumns(const uint8_t* p, int64_t len, const int8_t* v, int64_t D, int64_t width, Acc* acc) {
  if (width == kValueBlock) {
    Acc sums[kValueBlock] = {};
    for (int64_t j = 0; j < len; ++j) {
      const Acc pj = p[j];
      if (pj == 0) continue;
      for (int64_t c = 0; c < kValueBlock; ++c) sums[c] += pj * v[j * D + c];
    }
    for (int64_t c = 0; c < kValueBlock; ++c) acc[c] = sums[c];
    return;
  }
  for (int64_t c = 0; c < width; ++c) acc[c] = 0;
  for (int64_t j = 0; j < len; ++j) {
    const Acc pj = p[j];
    if (pj == 0) continue;
    for (int64_t c = 0; c < width; ++c) acc[c] += pj * v[j * D + c];
  }
}

template <typename Acc, typename Requant>
void AttentionValuesRows(const uint8_t* probs, int64_t ld, int64_t rows, const int8_t* values, int64_t len0, int64_t D,
                         int8_t* y, int64_t ld_y, const Requant& requant) {
  Acc acc[kValueBlock];
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t d0 = 0; d0 < D; d0 += kValueBlock) {
      const int64_t width = D - d0 < kValueBlock ? D - d0 : kValueBlock;
      ValueColumns(probs + i * ld, len0 + i, values + d0, D, width, acc);
      for (int64_t c = 0; c < width; ++c) y[i * ld_y + d0 + c] = requant(acc[c]);
    }
  }
}

inline void AttentionValuesLoop(const uint8_t* probs, int64_t ld, int64_t rows, const int8_t* values, int64_t len0,
                                int64_t D, int32_t mult, int shift, int8_t* y, int64_t ld_y) {
  AttentionValuesRows<int64_t>(probs, ld, rows, values, len0, D, y, ld_y,
                               [&](int64_t acc) { return Requantize<int8_t>(acc, mult, shift); });
}

// The same with int32 accumulators and the high-half requant (|acc| ≤
// keys·255·128); false, computing nothing, where the plan does not hold.
inline bool AttentionValuesNarrowLoop(const uint8_t* probs, int64_t ld, int64_t rows, const int8_t* values,
                                      int64_t len0, int64_t D, int32_t mult, int shift, int8_t* y, int64_t ld_y) {
  const HighRequantPlan plan(mult, shift, (len0 + rows - 1) * 255 * 128);
  if (!plan.ok) return false;
  AttentionValuesRows<int32_t>(probs, ld, rows, values, len0, D, y, ld_y,
                               [&](int32_t acc) { return Clamp8(HighRequant(acc, mult, plan)); });
  return true;
}

// requant_<isa>, qadd_<isa> and ilayernorm_<isa> (kernels.h) from the loops above, for every
// dtype combination; used after the anonymous namespace the loops are in.
#define INTEDGE_DEFINE_PORTABLE_REQUANT(isa)                                    \
  template <typename In, typename Out>                                           \
  void requant_##isa(const In* x, int64_t n, int32_t mult, int shift, Out* y) {  \
    RequantLoop(x, n, mult, shift, y);                                           \
  }                                                                              \
  INTEDGE_REQUANT_TYPES(INTEDGE_INSTANTIATE_REQUANT, isa)
#define INTEDGE_DEFINE_PORTABLE_QADD(isa)                                                                  \
  template <typename A, typename B, typename Out>                                                          \
  void qadd_##isa(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y) {  \
    QAddLoop(a, b, n, mult_a, mult_b, shift, y);                                                           \
  }                                                                                                        \
  INTEDGE_QADD_TYPES(INTEDGE_INSTANTIATE_QADD, isa)
#define INTEDGE_DEFINE_PORTABLE_ILAYERNORM(isa)                                                                  \
  template <typename In, typename Out>                                                                          \
  void ilayernorm_##isa(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult, const int64_t* bias, \
                        int shift, Out* y) {                                                                    \
    ILayerNormLoop(x, rows, C, rms, mult, bias, shift, y);                                                      \
  }                                                                                                             \
  INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_ILAYERNORM, isa)
// The decoder's kernels (kernels.h) from the loops above: the narrowed
// loops where their plans hold, else the oracle's.
#define INTEDGE_DEFINE_PORTABLE_DECODER(isa)                                                                     \
  int64_t rope_##isa(const int8_t* x, int64_t rows, int64_t D, const int32_t* positions, const int16_t* cos,      \
                     const int16_t* sin, int64_t P, int8_t* y) {                                                  \
    return RopeLoop(x, rows, D, positions, cos, sin, P, y);                                                       \
  }                                                                                                               \
  void swiglu_##isa(const int8_t* gate, const int8_t* up, int64_t n, const int16_t* table, int32_t mult,          \
                    int shift, int8_t* y) {                                                                       \
    if (!SwigluNarrowLoop(gate, up, n, table, mult, shift, y)) SwigluLoop(gate, up, n, table, mult, shift, y);    \
  }                                                                                                               \
  void attention_scores_##isa(const int8_t* q, int64_t rows, const int8_t* keys, int64_t len0, int64_t D,        \
                              int32_t* scores, int64_t ld) {                                                      \
    AttentionScoresLoop(q, rows, keys, len0, D, scores, ld);                                                      \
  }                                                                                                               \
  void attention_values_##isa(const uint8_t* probs, int64_t ld, int64_t rows, const int8_t* values, int64_t len0, \
                              int64_t D, int32_t mult, int shift, int8_t* y, int64_t ld_y) {                      \
    if (!AttentionValuesNarrowLoop(probs, ld, rows, values, len0, D, mult, shift, y, ld_y)) {                     \
      AttentionValuesLoop(probs, ld, rows, values, len0, D, mult, shift, y, ld_y);                                \
    }                                                                                                             \
  }
#define INTEDGE_INSTANTIATE_REQUANT(isa, In, Out) \
  template void requant_##isa<In, Out>(const In*, int64_t, int32_t, int, Out*);
#define INTEDGE_INSTANTIATE_QADD(isa, A, B, Out) \
  template void qadd_##isa<A, B, Out>(const A*, const B*, int64_t, int32_t, int32_t, int, Out*);
#define INTEDGE_INSTANTIATE_ILAYERNORM(isa, In, Out) \
  template void ilayernorm_##isa<In, Out>(const In*, int64_t, int64_t, bool, const int32_t*, const int64_t*, int, Out*);

// Every dtype combination the graph allows: M(X, In, Out) for requant and
// I-LayerNorm, M(X, A, B, Out) for qadd.
#define INTEDGE_REQUANT_TYPES(M, X)                                                                           \
  M(X, int8_t, int8_t) M(X, int8_t, int16_t) M(X, int16_t, int8_t) M(X, int16_t, int16_t) M(X, int32_t, int8_t) \
  M(X, int32_t, int16_t)
#define INTEDGE_QADD_TYPES(M, X)                                                                         \
  M(X, int8_t, int8_t, int8_t) M(X, int8_t, int8_t, int16_t) M(X, int8_t, int16_t, int8_t)                \
  M(X, int8_t, int16_t, int16_t) M(X, int16_t, int8_t, int8_t) M(X, int16_t, int8_t, int16_t)             \
  M(X, int16_t, int16_t, int8_t) M(X, int16_t, int16_t, int16_t)
#define INTEDGE_ILAYERNORM_TYPES(M, X) M(X, int8_t, int8_t) M(X, int8_t, int16_t) M(X, int16_t, int8_t) M(X, int16_t, int16_t)
