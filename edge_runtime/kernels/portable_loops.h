// Elementwise and row kernels written once in plain C++: kernels/scalar/
// compiles them with the baseline flags (the oracle); the AVX-512 files
// compile the requant loop with AVX-512 (the compiler turns its int64
// arithmetic into 8-lane vectors: vpmullq, vpsraq, vpminsq), and use the rest
// for their fallbacks and row statistics. Integer arithmetic is exact in any
// lane width, so every build gives the same bits.
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

template <typename In, typename Out>
void ILayerNormLoop(const In* x, int64_t rows, int64_t C, const int32_t* mult, const int64_t* bias, int shift,
                    Out* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const In* xr = x + r * C;
    int64_t sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += xr[c];
    const int64_t mean = LayerNormMean(sum, C);
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

// requant_<isa> and qadd_<isa> (kernels.h) from the loops above, for every
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
#define INTEDGE_INSTANTIATE_REQUANT(isa, In, Out) \
  template void requant_##isa<In, Out>(const In*, int64_t, int32_t, int, Out*);
#define INTEDGE_INSTANTIATE_QADD(isa, A, B, Out) \
  template void qadd_##isa<A, B, Out>(const A*, const B*, int64_t, int32_t, int32_t, int, Out*);
#define INTEDGE_INSTANTIATE_ILAYERNORM(isa, In, Out) \
  template void ilayernorm_##isa<In, Out>(const In*, int64_t, int64_t, const int32_t*, const int64_t*, int, Out*);

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
