// 4 int32 lanes: the widening loads the NEON row kernels share. Included
// inside their anonymous namespaces (kernels/aligned.h says why); needs
// <arm_neon.h> and <cstring>.

inline int32x4_t Load4(const int8_t* x) {
  uint32_t word;
  std::memcpy(&word, x, 4);
  return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u32(vdup_n_u32(word)))));
}
inline int32x4_t Load4(const int16_t* x) { return vmovl_s16(vld1_s16(x)); }
inline int32x4_t Load4(const int32_t* x) { return vld1q_s32(x); }
