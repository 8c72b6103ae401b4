// 16 int32 lanes: the tail mask and the widening loads the AVX-512
// elementwise kernels share. Included inside their anonymous namespaces
// (kernels/aligned.h says why); needs <immintrin.h> and AVX-512 F/BW/VL.

// The first min(left, 16) lanes.
inline __mmask16 Tail16(int64_t left) { return static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1); }

// 16 values at x as int32 lanes (masked lanes 0).
inline __m512i Load16(const int8_t* x, __mmask16 m) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x)); }
inline __m512i Load16(const int16_t* x, __mmask16 m) { return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, x)); }
inline __m512i Load16(const int32_t* x, __mmask16 m) { return _mm512_maskz_loadu_epi32(m, x); }
