// 256-bit vector traits for kernels/gemm_dot4.h, shared by the AVX-VNNI and AVX2
// files (each adds its Dpbusd). Included inside their anonymous namespaces.

struct YmmBase {
  using Vec = __m256i;
  static constexpr int kLanes = 8;
  static constexpr bool kUnsignedA = true;  // vpdpbusd: u8 × s8
  // 16 registers: 6 × 2 accumulators, 2 weight vectors and a broadcast row
  static constexpr int kRowsW8 = 6, kRowsW4 = 2;
  static Vec Zero() { return _mm256_setzero_si256(); }
  static Vec Load(const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); }
  static Vec Set1(int32_t v) { return _mm256_set1_epi32(v); }
  static Vec Set1Byte(char v) { return _mm256_set1_epi8(v); }
  static Vec Add(Vec a, Vec b) { return _mm256_add_epi32(a, b); }
  static Vec MulLo32(Vec a, Vec b) { return _mm256_mullo_epi32(a, b); }
  static Vec And(Vec a, Vec b) { return _mm256_and_si256(a, b); }
  static Vec Slli16By4(Vec a) { return _mm256_slli_epi16(a, 4); }
  static Vec SraBy4(Vec a) { return _mm256_srai_epi32(a, 4); }
  static void Store(void* p, Vec v) { _mm256_store_si256(static_cast<__m256i*>(p), v); }
  // Bytes q·g of the nibbles q, as on AVX-512 (kernels/x86/zmm_traits.h).
  struct NibbleScales {
    Vec g_words, eight_g;
  };
  static NibbleScales Scales(Vec g) {
    return {_mm256_and_si256(g, _mm256_set1_epi16(0x00FF)), _mm256_slli_epi16(g, 3)};
  }
  template <bool kHigh>
  static Vec ScaleNibbles(Vec packed, const NibbleScales& s) {
    const Vec bits = kHigh ? _mm256_srli_epi16(packed, 4) : packed;
    const Vec n = _mm256_xor_si256(_mm256_and_si256(bits, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(0x08));
    return _mm256_sub_epi8(_mm256_mullo_epi16(n, s.g_words), s.eight_g);
  }
  // AVX2 has no narrowing masked stores: clamp in the vector (a scalar clamp
  // a lane serializes the epilogue), then go through a small buffer.
  template <typename T>
  static void StoreAs(T* p, int valid, Vec v) {
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
    for (int i = 0; i < valid; ++i) p[i] = static_cast<T>(lanes[i]);
  }
  static Vec Clamp(Vec v, int32_t lo, int32_t hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
  }
  static void Store32(int32_t* p, int valid, Vec v) { StoreAs(p, valid, v); }
  static void Store16(int16_t* p, int valid, Vec v) { StoreAs(p, valid, Clamp(v, -32768, 32767)); }
  static void Store8(int8_t* p, int valid, Vec v) { StoreAs(p, valid, Clamp(v, -128, 127)); }
};
