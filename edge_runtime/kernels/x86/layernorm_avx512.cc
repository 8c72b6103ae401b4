// I-LayerNorm (kernels/portable_loops.h ILayerNormLoop, integer_ops/layernorm.py)
// with AVX-512: one pass for the row's statistics, one for the outputs.
//
// Statistics, 32 elements per step in 16-bit lanes: vpmaddwd gives x·x and x
// pairwise summed (each pair sum of squares ≤ 2^31 is exact as uint32), and
// the spec's Σ d² over d = 256·x − μ follows exactly from the sums:
//   Σ d² = 2^16·Σx² − 2^9·μ·Σx + C·μ²    (each term < 2^60 for C ≤ 4096)
// so the rows are read once for the mean and the variance, not twice.
//
// Outputs, 8 elements per step in 64-bit lanes, the oracle's arithmetic:
//   d << j = (x << (8 + j)) − (μ << j), |d << j| < 2^31 (see the spec);
//   n = ((d << j) · factor + 2^15) >> 16, factor ≤ 2^17: 48-bit products;
//   out = sat((n · mult + bias + 2^(s−1)) >> s), saturated by the store,
//   with mult widened and bias + 2^(s−1) summed once per call.
// Same integers as the scalar oracle. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq.
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/aligned.h"
#include "kernels/arith.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {
#include "kernels/portable_loops.h"

#include "kernels/x86/lanes_avx512.h"

// 8 values as int64 lanes (masked lanes 0).
__m512i Load8x64(const int8_t* x, __mmask8 m) { return _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(m, x)); }
__m512i Load8x64(const int16_t* x, __mmask8 m) { return _mm512_cvtepi16_epi64(_mm_maskz_loadu_epi16(m, x)); }

void Store8x64(int8_t* y, __mmask8 m, __m512i v) { _mm512_mask_cvtsepi64_storeu_epi8(y, m, v); }
void Store8x64(int16_t* y, __mmask8 m, __m512i v) { _mm512_mask_cvtsepi64_storeu_epi16(y, m, v); }

constexpr int64_t kStatsBlock = 8;  // rows whose statistics are taken together

// One output's constants: per channel the multiplier in 64-bit lanes and
// bias + 2^(s−1) (|bias| ≤ 2^61, so < 2^62), widened once a call into
// `channel` (2·C values).
template <typename Out>
struct Output {
  Output(int64_t* channel, int64_t C, const int32_t* mult, const int64_t* bias, int shift, Out* out)
      : mult64(channel), bias_round(channel + C), shift(_mm512_set1_epi64(shift)), y(out) {
    for (int64_t c = 0; c < C; ++c) channel[c] = mult[c], channel[C + c] = bias[c] + (int64_t{1} << (shift - 1));
  }
  const int64_t* mult64;
  const int64_t* bias_round;
  __m512i shift;  // a vector: vpsravq is one µop, vpsraq by an xmm count two
  Out* y;
};

// One output's 8 values at channel c from their normalized n.
template <typename Out>
void Emit8(__m512i n, int64_t at, int64_t c, __mmask8 m, const Output<Out>& o) {
  const __m512i z = _mm512_add_epi64(_mm512_mul_epi32(n, _mm512_maskz_loadu_epi64(m, o.mult64 + c)),
                                     _mm512_maskz_loadu_epi64(m, o.bias_round + c));
  Store8x64(o.y + at, m, _mm512_srav_epi64(z, o.shift));
}

// A row's constants for its n = ((d << j)·factor + 2^15) >> 16, computed as
// ((x·factor) << (8 + j) − offset) >> 16 (see LayerNormRows).
struct RowScale {
  int64_t factor, offset;
  int lshift;
};

// Row r of every output from its statistics, n computed once for all of
// them (the pair's outputs each computed it, a quarter of its time).
// x·factor is one vpmuldq (x int16, 0 ≤ factor ≤ 2^17: int32 operands, as
// it takes), where x·(factor << (8 + j)) took a vpmullq, three µops.
template <typename In, typename... Out>
void EmitRow(const In* xr, int64_t r, int64_t C, const RowScale& rs, const Output<Out>&... outs) {
  const __m512i lshift = _mm512_set1_epi64(rs.lshift);
  const __m512i factor = _mm512_set1_epi64(rs.factor), offset = _mm512_set1_epi64(rs.offset);
  for (int64_t c = 0; c < C; c += 8) {
    const __mmask8 m = Tail8(C - c);
    const __m512i xs = _mm512_sllv_epi64(_mm512_mul_epi32(Load8x64(xr + c, m), factor), lshift);
    const __m512i n = _mm512_srai_epi64(_mm512_sub_epi64(xs, offset), kLayerNormRecipBits - kLayerNormNormBits);
    (Emit8(n, r * C + c, c, m, outs), ...);
  }
}

// The rows' statistics once, and from them every output given.
template <typename In, typename... Out>
void LayerNormRows(const In* x, int64_t rows, int64_t C, bool rms, const Output<Out>&... outs) {
  const __m512i ones = _mm512_set1_epi16(1);
  // Row r's statistics as the output step's constants.
  auto statistics = [&](int64_t r) {
    const In* xr = x + r * C;
    __m512i vsum = _mm512_setzero_si512(), vsq = _mm512_setzero_si512();  // int32 and int64 lanes
    for (int64_t c = 0; c < C; c += 32) {
      const __m512i v = Load32x16(xr + c, Tail32(C - c));
      vsum = _mm512_add_epi32(vsum, _mm512_madd_epi16(v, ones));
      const __m512i sq = _mm512_madd_epi16(v, v);
      vsq = _mm512_add_epi64(vsq, _mm512_add_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(sq)),
                                                   _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(sq, 1))));
    }
    const int64_t sum = _mm512_reduce_add_epi32(vsum), squares = _mm512_reduce_add_epi64(vsq);
    const int64_t mean = rms ? 0 : LayerNormMean(sum, C);  // RMSNorm: Σ d² below is then 2^16·Σx²
    const int64_t var = (squares << 16) - 2 * kLayerNormMeanScale * mean * sum + C * mean * mean;
    int j;
    int64_t factor;
    LayerNormScale(var, &j, &factor);
    // (d << j)·factor + 2^15 = (x·factor << (8 + j)) − ((mean << j)·factor − 2^15). The two terms may
    // wrap int64, their difference (< 2^48) does not, and wrapping is exact mod 2^64. factor ≤ 2^17
    // unless var = 0 (factor 2^46), where every d, so every n, is 0: factor 0 gives that.
    if (var == 0) factor = 0;
    const auto offset = (static_cast<uint64_t>(mean) << j) * static_cast<uint64_t>(factor) - (uint64_t{1} << 15);
    return RowScale{factor, static_cast<int64_t>(offset), 8 + j};
  };
  // The statistics of a block of rows first, then their outputs: each row's
  // chain of reductions, division and square root is serial, and rows side
  // by side let them overlap, which one row after another cannot.
  for (int64_t r0 = 0; r0 < rows; r0 += kStatsBlock) {
    const int64_t r1 = r0 + kStatsBlock < rows ? r0 + kStatsBlock : rows;
    RowScale scale[kStatsBlock];
    for (int64_t r = r0; r < r1; ++r) scale[r - r0] = statistics(r);
    for (int64_t r = r0; r < r1; ++r) EmitRow(x + r * C, r, C, scale[r - r0], outs...);
  }
}

// Scratch for the widened constants of `outputs` outputs, or null.
int64_t* ChannelScratch(int64_t C, int outputs) {
  thread_local AlignedArray<int64_t> channel;
  const auto need = static_cast<size_t>(2 * outputs * C);
  return channel.EnsureSize(need) ? channel.data() : nullptr;
}

}  // namespace

template <typename In, typename Out>
void ilayernorm_avx512(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult, const int64_t* bias,
                       int shift, Out* y) {
  int64_t* channel = ChannelScratch(C, 1);
  if (!channel) return ILayerNormLoop(x, rows, C, rms, mult, bias, shift, y);
  LayerNormRows(x, rows, C, rms, Output<Out>(channel, C, mult, bias, shift, y));
}

template <typename In, typename Out1, typename Out2>
void ilayernorm_pair_avx512(const In* x, int64_t rows, int64_t C, bool rms, const int32_t* mult1,
                            const int64_t* bias1, int shift1, Out1* y1, const int32_t* mult2, const int64_t* bias2,
                            int shift2, Out2* y2) {
  int64_t* channel = ChannelScratch(C, 2);
  if (!channel) {
    ILayerNormLoop(x, rows, C, rms, mult1, bias1, shift1, y1);
    return ILayerNormLoop(x, rows, C, rms, mult2, bias2, shift2, y2);
  }
  LayerNormRows(x, rows, C, rms, Output<Out1>(channel, C, mult1, bias1, shift1, y1),
                Output<Out2>(channel + 2 * C, C, mult2, bias2, shift2, y2));
}

INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_ILAYERNORM, avx512)
#define INTEDGE_INSTANTIATE_PAIR(Out2, In, Out1)                                                                \
  template void ilayernorm_pair_avx512<In, Out1, Out2>(const In*, int64_t, int64_t, bool, const int32_t*, const int64_t*, \
                                                       int, Out1*, const int32_t*, const int64_t*, int, Out2*);
INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_PAIR, int8_t)
INTEDGE_ILAYERNORM_TYPES(INTEDGE_INSTANTIATE_PAIR, int16_t)

}  // namespace intedge::kernels
