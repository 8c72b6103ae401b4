// 128-bit vector traits for kernels/gemm_dot4.h, shared by the NEON files
// (each adds its Dpbusd: sdot, or its emulation). Included inside their
// anonymous namespaces.

struct NeonBase {
  using Vec = int32x4_t;
  static constexpr int kLanes = 4;
  static constexpr bool kUnsignedA = false;  // sdot: s8 × s8
  static constexpr int kRowsW8 = 8, kRowsW4 = 4;  // of 32 registers
  static Vec Zero() { return vdupq_n_s32(0); }
  static Vec Load(const void* p) { return vld1q_s32(static_cast<const int32_t*>(p)); }
  static Vec Set1(int32_t v) { return vdupq_n_s32(v); }
  static Vec Set1Byte(char v) { return vreinterpretq_s32_s8(vdupq_n_s8(static_cast<int8_t>(v))); }
  static Vec Add(Vec a, Vec b) { return vaddq_s32(a, b); }
  static Vec MulLo32(Vec a, Vec b) { return vmulq_s32(a, b); }
  static Vec And(Vec a, Vec b) { return vandq_s32(a, b); }
  static Vec Slli16By4(Vec a) { return vreinterpretq_s32_u16(vshlq_n_u16(vreinterpretq_u16_s32(a), 4)); }
  static Vec SraBy4(Vec a) { return vshrq_n_s32(a, 4); }
  static void Store(void* p, Vec v) { vst1q_s32(static_cast<int32_t*>(p), v); }
  // Bytes q·g of the 4-bit q (two's complement) in the low (kHigh: high)
  // half of each byte of `packed`, g in [1, 16]: NEON multiplies bytes.
  struct NibbleScales {
    int8x16_t g;
  };
  static NibbleScales Scales(Vec g) { return {vreinterpretq_s8_s32(g)}; }
  template <bool kHigh>
  static Vec ScaleNibbles(Vec packed, const NibbleScales& s) {
    const int8x16_t bytes = vreinterpretq_s8_s32(packed);
    const int8x16_t q = kHigh ? vshrq_n_s8(bytes, 4) : vshrq_n_s8(vshlq_n_s8(bytes, 4), 4);
    return vreinterpretq_s32_s8(vmulq_s8(q, s.g));
  }
  template <typename T>
  static void StoreAs(T* p, int valid, Vec v) {
    int32_t lanes[4];
    vst1q_s32(lanes, v);
    for (int i = 0; i < valid; ++i) p[i] = static_cast<T>(lanes[i]);
  }
  // Clamped in the vector, as on x86 (kernels/x86/ymm_traits.h).
  static Vec Clamp(Vec v, int32_t lo, int32_t hi) { return vminq_s32(vmaxq_s32(v, vdupq_n_s32(lo)), vdupq_n_s32(hi)); }
  static void Store32(int32_t* p, int valid, Vec v) { StoreAs(p, valid, v); }
  static void Store16(int16_t* p, int valid, Vec v) { StoreAs(p, valid, Clamp(v, -32768, 32767)); }
  static void Store8(int8_t* p, int valid, Vec v) { StoreAs(p, valid, Clamp(v, -128, 127)); }
};
