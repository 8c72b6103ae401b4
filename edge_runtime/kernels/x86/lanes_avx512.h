// Tail masks and widening loads the AVX-512 elementwise and row kernels
// share. Included inside their anonymous namespaces (kernels/aligned.h says
// why); needs <immintrin.h> and AVX-512 F/BW (the loads VL too).

// The first min(left, lanes) lanes.
inline __mmask8 Tail8(int64_t left) { return static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1); }
inline __mmask16 Tail16(int64_t left) { return static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1); }
inline __mmask32 Tail32(int64_t left) { return left >= 32 ? 0xFFFFFFFFu : (1u << left) - 1; }
inline __mmask64 Tail64(int64_t left) { return left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1; }

// 16 values at x as int32 lanes (masked lanes 0).
inline __m512i Load16(const int8_t* x, __mmask16 m) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x)); }
inline __m512i Load16(const int16_t* x, __mmask16 m) { return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, x)); }
inline __m512i Load16(const int32_t* x, __mmask16 m) { return _mm512_maskz_loadu_epi32(m, x); }

// 32 values at x as int16 lanes (masked lanes 0).
inline __m512i Load32x16(const int8_t* x, __mmask32 m) { return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, x)); }
inline __m512i Load32x16(const int16_t* x, __mmask32 m) { return _mm512_maskz_loadu_epi16(m, x); }
