// The dyadic requant of a vector of int32 accumulators, exactly as arith.h's
// Requantize: sat((z · m + 2^(s−1)) >> s) with a 64-bit product, per-lane m
// and s, saturated to int32 here; the GEMM's stores saturate to the output
// type (vpmovsdb / vpmovsdw saturate as they narrow: no min and max per
// vector). x86 has 32×32→64 multiplies only for even lanes, so odd
// lanes go through a 32-bit shift first. Included by the ISA files inside
// their anonymous namespaces (see kernels/aligned.h); the 512-bit form
// exists only where AVX-512 is enabled.
//
// When every shift of a block is ≥ 33 (the usual case: a layer's output
// scale is far below 2^−2 of its accumulator's), only the product's high
// half H = floor(z·m / 2^32) matters. With z·m = H·2^32 + L, 0 ≤ L < 2^32:
//   floor((z·m + 2^(s−1)) / 2^s) = floor((H + 2^(s−33) + L/2^32) / 2^(s−32))
//                                = (H + 2^(s−33)) >> (s − 32),
// because adding a fraction below 1 to an integer never changes its floor
// division by an integer. |H| < 2^30, so all of that is int32 arithmetic,
// 16 lanes at a time instead of 2 × 8, and the result needs no clamp.

// Per L output columns: multipliers, and shifts and rounding terms for the
// even and odd lanes (as L/2 int64 each).
template <int L>
struct alignas(64) RequantBlock {
  int32_t mult[L];
  int64_t shift_even[L / 2], shift_odd[L / 2];
  int64_t round_even[L / 2], round_odd[L / 2];
  int32_t round_high[L], shift_high[L];  // 2^(s−33) and s − 32, for the high-half form
  bool low_shift;                        // some lane's s < 33: the 64-bit form (zero-filled: false)

  void Set(int lane, int32_t m, int s) {
    mult[lane] = m;
    low_shift = low_shift || s < 33;
    round_high[lane] = s >= 33 ? int32_t{1} << (s - 33) : 0;
    shift_high[lane] = s - 32;
    const int half = lane / 2;
    const int64_t round = int64_t{1} << (s - 1);
    if (lane % 2) {
      shift_odd[half] = s;
      round_odd[half] = round;
    } else {
      shift_even[half] = s;
      round_even[half] = round;
    }
  }
};

// A block's constants loaded once for a run of output vectors of the same
// columns. A local object: the GEMM's int8 stores may alias anything in
// memory, so constants read through the block were loaded again for every
// vector (8 loads a vector), and a local's registers cannot be aliased.
template <int L>
class BlockRequant;

// AVX2 has no 64-bit arithmetic shift or min/max: shift the sign-flipped
// value logically (floor division for negatives), compare and blend to clamp.
inline __m256i RequantWide(__m256i z, const RequantBlock<8>& q) {
  const __m256i m = _mm256_load_si256(reinterpret_cast<const __m256i*>(q.mult));
  const __m256i zero = _mm256_setzero_si256(), vlo = _mm256_set1_epi64x(INT32_MIN), vhi = _mm256_set1_epi64x(INT32_MAX);
  auto finish = [&](__m256i p, const int64_t* round, const int64_t* shift) {
    p = _mm256_add_epi64(p, _mm256_load_si256(reinterpret_cast<const __m256i*>(round)));
    const __m256i sign = _mm256_cmpgt_epi64(zero, p);
    p = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(p, sign), _mm256_load_si256(reinterpret_cast<const __m256i*>(shift))), sign);
    p = _mm256_blendv_epi8(p, vhi, _mm256_cmpgt_epi64(p, vhi));
    return _mm256_blendv_epi8(p, vlo, _mm256_cmpgt_epi64(vlo, p));
  };
  const __m256i even = finish(_mm256_mul_epi32(z, m), q.round_even, q.shift_even);
  const __m256i odd = finish(_mm256_mul_epi32(_mm256_srli_epi64(z, 32), _mm256_srli_epi64(m, 32)), q.round_odd, q.shift_odd);
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

template <>
class BlockRequant<8> {
 public:
  explicit BlockRequant(const RequantBlock<8>& q)
      : q_(&q),
        m_(_mm256_load_si256(reinterpret_cast<const __m256i*>(q.mult))),
        m_odd_(_mm256_srli_epi64(m_, 32)),
        round_(_mm256_load_si256(reinterpret_cast<const __m256i*>(q.round_high))),
        shift_(_mm256_load_si256(reinterpret_cast<const __m256i*>(q.shift_high))),
        wide_(q.low_shift) {}

  __m256i operator()(__m256i z) const {
    if (wide_) return RequantWide(z, *q_);
    const __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(_mm256_mul_epi32(z, m_), 32),
                                         _mm256_mul_epi32(_mm256_srli_epi64(z, 32), m_odd_), 0xAA);
    return _mm256_srav_epi32(_mm256_add_epi32(h, round_), shift_);
  }

 private:
  const RequantBlock<8>* q_;
  __m256i m_, m_odd_, round_, shift_;
  bool wide_;
};

#if defined(__AVX512F__)
inline __m512i RequantWide(__m512i z, const RequantBlock<16>& q) {
  const __m512i m = _mm512_load_si512(q.mult);
  const __m512i vlo = _mm512_set1_epi64(INT32_MIN), vhi = _mm512_set1_epi64(INT32_MAX);
  __m512i even = _mm512_mul_epi32(z, m);
  __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(z, 32), _mm512_srli_epi64(m, 32));
  even = _mm512_srav_epi64(_mm512_add_epi64(even, _mm512_load_si512(q.round_even)), _mm512_load_si512(q.shift_even));
  odd = _mm512_srav_epi64(_mm512_add_epi64(odd, _mm512_load_si512(q.round_odd)), _mm512_load_si512(q.shift_odd));
  even = _mm512_max_epi64(_mm512_min_epi64(even, vhi), vlo);
  odd = _mm512_max_epi64(_mm512_min_epi64(odd, vhi), vlo);
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// The high-half form on 16 lanes, constants in registers: m_odd is m >> 32
// per 64-bit lane, round 2^(s−33) and shift s − 32 per lane. The odd lanes'
// high halves are in place in their products; a masked vpshufd moves the
// even products' over the rest (one µop where a shift and a blend were two,
// and port 5's where the shifts queue on port 0 with the multiplies).
inline __m512i RequantHigh(__m512i z, __m512i m, __m512i m_odd, __m512i round, __m512i shift) {
  const __m512i h = _mm512_mask_shuffle_epi32(_mm512_mul_epi32(_mm512_shuffle_epi32(z, _MM_PERM_DDBB), m_odd), 0x5555,
                                              _mm512_mul_epi32(z, m), _MM_PERM_DDBB);
  return _mm512_srav_epi32(_mm512_add_epi32(h, round), shift);
}

template <>
class BlockRequant<16> {
 public:
  explicit BlockRequant(const RequantBlock<16>& q)
      : q_(&q),
        m_(_mm512_load_si512(q.mult)),
        m_odd_(_mm512_srli_epi64(m_, 32)),
        round_(_mm512_load_si512(q.round_high)),
        shift_(_mm512_load_si512(q.shift_high)),
        wide_(q.low_shift) {}

  __m512i operator()(__m512i z) const { return wide_ ? RequantWide(z, *q_) : RequantHigh(z, m_, m_odd_, round_, shift_); }

 private:
  const RequantBlock<16>* q_;
  __m512i m_, m_odd_, round_, shift_;
  bool wide_;
};
#endif
