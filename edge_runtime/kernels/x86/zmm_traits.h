// 512-bit vector traits for kernels/gemm_dot4.h: the AVX-512 VNNI GEMM and
// the AMX one's fallback and epilogue (gemm_amx.cc). Included inside their
// anonymous namespaces, after kernels/x86/requant_x86.h.

struct Zmm {
  static constexpr const char* kIsa = "avx512vnni";
  using Vec = __m512i;
  static constexpr int kLanes = 16;
  static constexpr bool kUnsignedA = true;  // vpdpbusd: u8 × s8
  // 32 registers. W8: 8 × 2 accumulators; 12 × 2 fit too, but GCC 12 then
  // spills them around the epilogue; 8 rows was the fastest height measured
  // (docs/benchmarks.md). W4: 6 × 2 accumulators, 6 × 2 group sums and 4
  // unpacked weight vectors: 28 of the 32 registers.
  static constexpr int kRowsW8 = 8, kRowsW4 = 6;
  static Vec Zero() { return _mm512_setzero_si512(); }
  static Vec Load(const void* p) { return _mm512_load_si512(p); }
  static Vec Set1(int32_t v) { return _mm512_set1_epi32(v); }
  static Vec Set1Byte(char v) { return _mm512_set1_epi8(v); }
  static Vec Add(Vec a, Vec b) { return _mm512_add_epi32(a, b); }
  static Vec MulLo32(Vec a, Vec b) { return _mm512_mullo_epi32(a, b); }
  static Vec And(Vec a, Vec b) { return _mm512_and_si512(a, b); }
  static Vec Slli16By4(Vec a) { return _mm512_slli_epi16(a, 4); }
  static Vec SraBy4(Vec a) { return _mm512_srai_epi32(a, 4); }
  static void Store(void* p, Vec v) { _mm512_store_si512(p, v); }
  // Bytes q·g of the 4-bit q (two's complement) in the low (kHigh: high)
  // half of each byte of `packed`, g in [1, 16] the same in both bytes of
  // each word. x86 has no byte multiply, but n = q + 8 = q ^ 8 is in
  // [0, 15], so n·g ≤ 240: one vpmullw by the word g forms both bytes' n·g
  // with no carry between them (the high one at most 240·2^8), and
  // q·g = n·g − 8g is exact as an int8. Three or four µops a vector, where
  // two vpmaddubsw and their masks and shifts were nine.
  struct NibbleScales {
    Vec g_words, eight_g;
  };
  static NibbleScales Scales(Vec g) {
    return {_mm512_and_si512(g, _mm512_set1_epi16(0x00FF)), _mm512_slli_epi16(g, 3)};  // 8g ≤ 128: no carry
  }
  template <bool kHigh>
  static Vec ScaleNibbles(Vec packed, const NibbleScales& s) {
    const Vec bits = kHigh ? _mm512_srli_epi16(packed, 4) : packed;
    const Vec n = _mm512_ternarylogic_epi32(bits, _mm512_set1_epi8(0x0F), _mm512_set1_epi8(0x08), 0x6A);  // (a & b) ^ c
    return _mm512_sub_epi8(_mm512_mullo_epi16(n, s.g_words), s.eight_g);
  }
  // Inline asm because GCC 12 copies the accumulator around the intrinsic
  // (two register moves per vpdpbusd), which halves the GEMM's throughput.
  static Vec Dpbusd(Vec acc, Vec u8, Vec s8) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
    return acc;
  }
  static __mmask16 Mask(int valid) { return static_cast<__mmask16>(valid >= 16 ? 0xFFFF : (1u << valid) - 1); }
  static void Store32(int32_t* p, int valid, Vec v) { _mm512_mask_storeu_epi32(p, Mask(valid), v); }
  static void Store16(int16_t* p, int valid, Vec v) { _mm512_mask_cvtsepi32_storeu_epi16(p, Mask(valid), v); }
  static void Store8(int8_t* p, int valid, Vec v) { _mm512_mask_cvtsepi32_storeu_epi8(p, Mask(valid), v); }
  // Four rows of 16 int32 narrowed to int8 with saturation, each row's 16
  // bytes `stride` bytes after the last's: vpackssdw twice, vpacksswb and
  // one vpermd for all four rows, where a vpmovsdb a row is two port-5 µops
  // (experiments/amx_epilogue/requant.cc: the int8 epilogue in 15–17 % less time).
  // Saturating to int16 and then to int8 is saturating to int8.
  static void Store8Rows4(int8_t* p, int64_t stride, Vec q0, Vec q1, Vec q2, Vec q3) {
    // After the packs, 128-bit lane l holds columns 4l..4l+3 of rows 0, 1, 2, 3 in its four dwords.
    const Vec rows = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15),
                                              _mm512_packs_epi16(_mm512_packs_epi32(q0, q1), _mm512_packs_epi32(q2, q3)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_castsi512_si128(rows));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + stride), _mm512_extracti32x4_epi32(rows, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 2 * stride), _mm512_extracti32x4_epi32(rows, 2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 3 * stride), _mm512_extracti32x4_epi32(rows, 3));
  }
};
