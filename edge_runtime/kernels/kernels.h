// Kernel signatures, one block per op family. Every ISA implements a family
// with the same signature; the scalar variants in scalar/ are the oracle the
// others are tested against, and match integer_ops/ bit for bit.
//
// Layout: row-major, contiguous. Names: <family>_<types>_<isa>.
#pragma once

#include <cstdint>

namespace intedge::kernels {

// y[m, n] = sat((Σ_k x[m, k]·w[n, k] + bias[n]) · mult[n] + 2^(shift[n]−1) >> shift[n])
//   x [M, K] int8 · w [N, K] int8 · bias [N] int32 or null · mult, shift [N] · y [M, N] Out
template <typename Out>
void qgemm_w8a8_scalar(const int8_t* x, const int8_t* w, const int32_t* bias, const int32_t* mult,
                       const int8_t* shift, int64_t M, int64_t N, int64_t K, Out* y);

// As qgemm_w8a8 with w[n, k] = q4[n, k] · g[n, k / group]:
//   w_packed [N, K/2] (even k low nibble) · g [N, K/group] int8 in [1, 16]
template <typename Out>
void qgemm_w4a8_scalar(const int8_t* x, const uint8_t* w_packed, const int8_t* group_scales, int64_t group,
                       const int32_t* bias, const int32_t* mult, const int8_t* shift, int64_t M, int64_t N,
                       int64_t K, Out* y);

// Batched a·b (or a·bᵀ): a [B, M, K] A · b [B, K, N] or [B, N, K] int8 · y [B, M, N] Out.
// Out = int32 returns the raw accumulator; otherwise requantized by (mult, shift).
template <typename A, typename Out>
void qmatmul_scalar(const A* a, const int8_t* b, bool transpose_b, int64_t B, int64_t M, int64_t N, int64_t K,
                    int32_t mult, int shift, Out* y);

// Shiftmax over rows: x [rows, cols] In, its rows x_stride ≥ cols elements
// apart · keep [rows, cols] or null · y [rows, cols] uint8 (scale 2^-8).
template <typename In>
void shiftmax_scalar(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                     int shift, uint8_t* y);

// I-ViT ShiftGELU over rows (it uses the row maximum): x, y [rows, cols] int8.
void shiftgelu_scalar(const int8_t* x, int64_t rows, int64_t cols, int32_t x0, int32_t mult, int shift, int8_t* y);

// λ-ShiftGELU in two steps, as the engine runs it: its 256 values x·σ(λx)
// (|·| ≤ 2^22), tabulated once; then y = sat(table[x + 128] · m_k + round >> s_k)
// per element, k = c (per channel, n_mult == C) or 0. The second step is the
// lookup_requant op, whose int32 table is a constant (|·| ≤ 2^30); every
// table_requant kernel is exact for any int32 table.
void lambda_shiftgelu_table(int32_t slope_mult, int slope_shift, int32_t* table);
void table_requant_scalar(const int8_t* x, int64_t rows, int64_t C, const int32_t* table, const int32_t* mult,
                          const int8_t* shift, int64_t n_mult, int8_t* y);
void table_requant_avx512(const int8_t* x, int64_t rows, int64_t C, const int32_t* table, const int32_t* mult,
                          const int8_t* shift, int64_t n_mult, int8_t* y);

// With one requant for the tensor, the two steps are one int8 → int8 table,
// as the lookup op is: y = table[x + 128] (x86/lookup_vbmi.cc, arm/lookup_neon.cc).
void lookup256_scalar(const int8_t* x, int64_t n, const int8_t* table, int8_t* y);
void lookup256_avx2(const int8_t* x, int64_t n, const int8_t* table, int8_t* y);  // x86/lookup_avx2.cc
void lookup256_vbmi(const int8_t* x, int64_t n, const int8_t* table, int8_t* y);
void table_requant_vbmi(const int8_t* x, int64_t rows, int64_t C, const int32_t* table, const int32_t* mult,
                        const int8_t* shift, int64_t n_mult, int8_t* y);
void lookup256_neon(const int8_t* x, int64_t n, const int8_t* table, int8_t* y);

// λ-ShiftGELU, elementwise (both steps): x, y [n] int8.
// mult/shift: n_mult == 1 (per tensor) or == C (per channel of x [rows, C]).
void lambda_shiftgelu_scalar(const int8_t* x, int64_t rows, int64_t C, int32_t slope_mult, int slope_shift,
                             const int32_t* mult, const int8_t* shift, int64_t n_mult, int8_t* y);

// The three row families each ISA build provides as name_<isa>:
//   I-LayerNorm over rows: x [rows, C] In · mult [C] · bias [C] · y [rows, C] Out (int8/int16);
//     rms: RMSNorm (no mean subtracted);
//   elementwise: y = sat(x·m + round >> s); y = sat(a·ma + b·mb + round >> s).
#define INTEDGE_DECLARE_ROW_KERNELS(isa)                                                                       \
  template <typename In, typename Out>                                                                          \
  void ilayernorm_##isa(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult, const int64_t* bias, \
                        int shift, Out* y);                                                                     \
  template <typename In, typename Out>                                                                          \
  void requant_##isa(const In* x, int64_t n, int32_t mult, int shift, Out* y);                                  \
  template <typename A, typename B, typename Out>                                                               \
  void qadd_##isa(const A* a, const B* b, int64_t n, int32_t mult_a, int32_t mult_b, int shift, Out* y);
INTEDGE_DECLARE_ROW_KERNELS(scalar)
// x86/layernorm_avx512.cc, portable_avx512.cc, qadd_avx512.cc
INTEDGE_DECLARE_ROW_KERNELS(avx512)
// x86/layernorm_avx512.cc: two I-LayerNorms of one x (the converter's
// smoothed twin) from one pass of statistics.
template <typename In, typename Out1, typename Out2>
void ilayernorm_pair_avx512(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult1, const int64_t* bias1,
                            int shift1, Out1* y1, const int32_t* mult2, const int64_t* bias2, int shift2, Out2* y2);
// x86/portable_avx2.cc, for the AVX2 and AVX-VNNI paths; with Shiftmax
INTEDGE_DECLARE_ROW_KERNELS(avx2)
template <typename In>
void shiftmax_avx2(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                   int shift, uint8_t* y);

template <typename In, typename Out>  // arm/layernorm_neon.cc
void ilayernorm_neon(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult, const int64_t* bias,
                     int shift, Out* y);

// The decoder's kernels (integer_ops/decoder.py), each ISA build as name_<isa>
// from one portable source (kernels/portable_loops.h):
//   rope: x, y [rows, D] int8 (D even), row r rotated by the Q14 tables
//     cos, sin [P, D/2] at positions[r]; returns the first row whose position
//     is outside [0, P), having computed nothing, or −1;
//   swiglu: y = sat8((table[gate + 128] · up · m + 2^(s−1)) >> s), n elements;
//   attention_scores: one head's causal scores, int32: row i of q [rows, D]
//     against keys 0 … len0 + i − 1 of keys [·, D] into scores[i·ld + j]
//     (the rest of the row untouched);
//   attention_values: one head's P·V rows, y[i·ld_y + d] =
//     sat8(Σ_{j < len0 + i} probs[i·ld + j] · values[j, d] requantized by (m, s)),
//     values [·, D].
// The attention kernels take the op's bounds (its rules): D·2^14 < 2^31 and
// (len0 + rows − 1)·255·128 < 2^31, so every sum is an exact int32.
#define INTEDGE_DECLARE_DECODER_KERNELS(isa)                                                                       \
  int64_t rope_##isa(const int8_t* x, int64_t rows, int64_t D, const int32_t* positions, const int16_t* cos,        \
                     const int16_t* sin, int64_t P, int8_t* y);                                                     \
  void swiglu_##isa(const int8_t* gate, const int8_t* up, int64_t n, const int16_t* table, int32_t mult, int shift, \
                    int8_t* y);                                                                                     \
  void attention_scores_##isa(const int8_t* q, int64_t rows, const int8_t* keys, int64_t len0, int64_t D,          \
                              int32_t* scores, int64_t ld);                                                         \
  void attention_values_##isa(const uint8_t* probs, int64_t ld, int64_t rows, const int8_t* values, int64_t len0,  \
                              int64_t D, int32_t mult, int shift, int8_t* y, int64_t ld_y);
INTEDGE_DECLARE_DECODER_KERNELS(scalar)   // scalar/decoder_scalar.cc
INTEDGE_DECLARE_DECODER_KERNELS(avx2)     // x86/portable_avx2.cc
INTEDGE_DECLARE_DECODER_KERNELS(avx512)   // x86/portable_avx512.cc
INTEDGE_DECLARE_DECODER_KERNELS(neon)     // arm/portable_neon.cc

// Mean over the middle axis of x [outer, len, inner] → y [outer, inner] (In: int8, int16 or uint8).
template <typename In, typename Out>
void meanpool_scalar(const In* x, int64_t outer, int64_t len, int64_t inner, int32_t mult, int shift, Out* y);

// The float edges: y = sat(rint(x · inv_scale)) (NaN → 0); y = float(x) · scale.
template <typename Out>
void quantize_scalar(const float* x, int64_t n, float inv_scale, Out* y);
template <typename Out>
void quantize_avx512(const float* x, int64_t n, float inv_scale, Out* y);
template <typename In>
void dequantize_scalar(const In* x, int64_t n, float scale, float* y);

// Index ops. gather returns the first out-of-range position, or -1.
template <typename T>
int64_t gather_scalar(const T* table, int64_t V, int64_t D, const int32_t* indices, int64_t n, T* y);
template <typename T>
void argmax_scalar(const T* x, int64_t outer, int64_t len, int64_t inner, int32_t* y);
template <typename T>
void upsample_nearest_scalar(const T* x, int64_t outer, int64_t H, int64_t W, int64_t fh, int64_t fw, T* y);

// Index arithmetic (integer_ops/index_math.py), in int64 and saturated to
// int32: y = a ∘ b elementwise, op a code of INT_BINARY_OPS (a, b, y [n]);
// the running sum along the middle axis of x [outer, len, inner].
constexpr int kIntBinaryOps = 13;  // codes 0 .. 12, as the op spec numbers them
template <typename A, typename B>
void int_binary_scalar(const A* a, const B* b, int64_t n, int op, int32_t* y);
template <typename T>
void cumsum_scalar(const T* x, int64_t outer, int64_t len, int64_t inner, int32_t* y);

}  // namespace intedge::kernels
