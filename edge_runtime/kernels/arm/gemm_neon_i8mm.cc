// The int8 GEMM with Armv8.6 matrix multiply-accumulate: smmla (s8 × s8) and
// usmmla (u8 × s8, for Shiftmax's uint8 rows) each add a 2×8 by 8×2 product
// into a 2×2 int32 tile, 32 MACs per instruction against sdot's 16. Neither
// operand is shifted, so no bias correction is needed.
//
// Layout: weights are packed once into column pairs, 8 k per pair-row
// (16 bytes: column n's 8 bytes, then column n+1's); each Run packs its x
// rows the same way in row pairs. A tile is 8 rows × 8 columns: 4 × 4
// accumulators of 2×2, 4 + 4 operand registers.
//
// W4 weights stay 4-bit in the same layout, two 8-k blocks to a vector (the
// first in the low nibbles). q·g fits in an int8, so each Run expands one
// 8-column block at a time to int8 in a per-thread panel and runs the tiles
// over it, as the dot-product kernels do (kernels/gemm_dot4.h).
//
// Compiled with -march=armv8.2-a+dotprod+i8mm; run only when HWCAP2 reports i8mm.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace intedge {
namespace {

#include "kernels/arm/neon_traits.h"  // the clamped stores
#include "kernels/arm/requant_neon.h"

constexpr int64_t kRows = 8, kCols = 8;  // tile
constexpr int64_t kPairBytes = 16;       // 2 rows (or columns) × 8 k

inline int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Rows [0, rows) of `src` (row stride `stride` bytes, K bytes each) as row
// pairs × 8-k blocks: out[(pair · kp/8 + k/8) · 16 + (row % 2) · 8 + k % 8].
// Missing rows and k are `pad` (the zero of the operand's type).
void PackPairs(const uint8_t* src, int64_t rows, int64_t stride, int64_t step, int64_t K, int64_t kp,
               uint8_t* out) {
  const int64_t blocks = kp / 8;
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* dst = out + (r / 2) * blocks * kPairBytes + (r % 2) * 8;
    const uint8_t* s = src + r * stride;
    for (int64_t k = 0; k < K; ++k) dst[(k >> 3) * kPairBytes + (k & 7)] = s[k * step];
  }
}

class GemmMmla final : public GemmKernel {
 public:
  explicit GemmMmla(const GemmWeights& w)
      : N_(w.N), K_(w.K), out_bits_(w.out_bits), x_u8_(w.x_u8), b_kn_(w.b_kn), w4_(w.w8 == nullptr) {
    kp_ = RoundUp(K_, 8);
    np_ = RoundUp(N_, kCols);
    if (w4_) {
      PackW4(w);
      live_ = N_;
    } else {
      packed_.Resize(static_cast<size_t>(np_ * kp_));  // its padding stays zero across SetRight
      SetRight(w.w8, N_);
    }
    bias_.Resize(static_cast<size_t>(np_));
    rq_.Resize(static_cast<size_t>(np_ / 4));
    for (int64_t n = 0; n < np_; ++n) {
      const bool real = n < N_;
      bias_[static_cast<size_t>(n)] = real && w.bias ? w.bias[n] : 0;
      if (out_bits_ != 32) rq_[static_cast<size_t>(n / 4)].Set(static_cast<int>(n % 4), real ? w.mult[n] : 0, real ? w.shift[n] : 1);
    }
  }

  // Column n of the product is w8[n·K + k] ([N, K]) or w8[k·N + n] (b_kn).
  // Only the column blocks that hold the first `columns` are packed and run.
  void SetRight(const int8_t* w8, int64_t columns) override {
    const int64_t blocks = RoundUp(columns > 0 ? columns : 0, kCols);
    live_ = blocks < N_ ? blocks : N_;
    PackPairs(reinterpret_cast<const uint8_t*>(w8), live_, b_kn_ ? 1 : K_, b_kn_ ? N_ : 1, K_, kp_,
              reinterpret_cast<uint8_t*>(packed_.data()));
  }

  std::string name() const override { return w4_ ? "gemm_w4a8_neon-i8mm" : "gemm_w8a8_neon-i8mm"; }

  bool SetOutputStride(int64_t stride) override {
    if (stride < N_) return false;
    row_stride_ = stride;
    return true;
  }

  int64_t packed_bytes() const override {
    return static_cast<int64_t>(packed_.size() + gbytes_.size() + bias_.size() * 4 +
                                rq_.size() * sizeof(RequantBlock<4>));
  }

  bool Run(const void* x, int64_t m0, int64_t m1, void* y) const override {
    thread_local AlignedArray<uint8_t> rows;
    const int64_t M = m1 - m0, mp = RoundUp(M, kRows);
    const auto need = static_cast<size_t>(mp * kp_);
    if (!rows.EnsureSize(need)) return false;
    std::memset(rows.data(), 0, need);  // padded rows and k contribute 0 (u8 0 and s8 0 alike)
    uint8_t* const packed_rows = rows.data();  // once: under -fPIC each thread_local use is a call
    PackPairs(static_cast<const uint8_t*>(x) + m0 * K_, M, K_, 1, K_, kp_, packed_rows);
    thread_local AlignedArray<int8_t> panel;
    const auto panel_bytes = static_cast<size_t>(kCols * kp_);
    if (w4_ && !panel.EnsureSize(panel_bytes)) return false;
    int8_t* const columns = w4_ ? panel.data() : nullptr;
    for (int64_t n0 = 0; n0 < live_; n0 += kCols) {
      const int8_t* wb = packed_.data() + n0 * kp_;
      if (w4_) {
        ExpandColumns(n0, columns);
        wb = columns;
      }
      for (int64_t r = 0; r < M; r += kRows) {
        if (x_u8_) {
          Tile<true>(packed_rows + r * kp_, wb, n0, m0 + r, M - r, y);
        } else {
          Tile<false>(packed_rows + r * kp_, wb, n0, m0 + r, M - r, y);
        }
      }
    }
    return true;
  }

 private:
  // Nibbles of weight pair p for 8-k blocks b and b + 1 (b even) at vector
  // p·kp/16 + b/2: byte j holds column 2p + j/8 at k = 8b + j%8 (low nibble)
  // and at k + 8 (high). gbytes_ holds each pair's group scales the same way,
  // a vector per group: column 2p's g in bytes 0-7, column 2p + 1's in 8-15.
  void PackW4(const GemmWeights& w) {
    const int64_t groups = K_ / w.group;
    packed_.Resize(static_cast<size_t>(np_ * kp_ / 2));
    gbytes_.Resize(static_cast<size_t>(np_ / 2 * groups * kPairBytes));
    auto* nibbles = reinterpret_cast<uint8_t*>(packed_.data());
    for (int64_t n = 0; n < N_; ++n) {
      const int64_t pair = n / 2, j0 = (n % 2) * 8;
      for (int64_t k = 0; k < K_; ++k) {
        const uint8_t byte = w.w4[(n * K_ + k) / 2];
        const uint8_t q = (k % 2 ? byte >> 4 : byte) & 0xF;
        uint8_t& dst = nibbles[(pair * (kp_ / 16) + k / 16) * kPairBytes + j0 + k % 8];
        dst = static_cast<uint8_t>(dst | (k % 16 < 8 ? q : q << 4));
      }
      for (int64_t gi = 0; gi < groups; ++gi) {
        std::memset(gbytes_.data() + (pair * groups + gi) * kPairBytes + j0, w.group_scales[n * groups + gi], 8);
      }
    }
    group_ = w.group;
  }

  // Columns [n0, n0 + 8) as int8 q·g in `out`, in the W8 layout.
  void ExpandColumns(int64_t n0, int8_t* out) const {
    const int64_t groups = K_ / group_, vectors = kp_ / 16, blocks = kp_ / 8;
    for (int64_t p = 0; p < kCols / 2; ++p) {
      const int64_t pair = n0 / 2 + p;
      const int8_t* src = packed_.data() + pair * vectors * kPairBytes;
      int8_t* dst = out + p * blocks * kPairBytes;
      for (int64_t v = 0; v < vectors; ++v) {
        const int8x16_t g = vld1q_s8(gbytes_.data() + (pair * groups + v * 16 / group_) * kPairBytes);
        const int8x16_t nib = vld1q_s8(src + v * kPairBytes);
        // arithmetic shifts sign-extend each nibble
        vst1q_s8(dst + 2 * v * kPairBytes, vmulq_s8(vshrq_n_s8(vshlq_n_s8(nib, 4), 4), g));
        vst1q_s8(dst + (2 * v + 1) * kPairBytes, vmulq_s8(vshrq_n_s8(nib, 4), g));
      }
    }
  }

  // Rows [row, row + min(left, 8)) × columns [n0, n0 + 8); xr: the tile's
  // packed row pairs; wb: its weight pairs.
  template <bool kU8>
  void Tile(const uint8_t* xr, const int8_t* wb, int64_t n0, int64_t row, int64_t left, void* y) const {
    int32x4_t acc[4][4];
    for (auto& a : acc) {
      for (auto& v : a) v = vdupq_n_s32(0);
    }
    const int64_t blocks = kp_ / 8, pair_stride = blocks * kPairBytes;
    for (int64_t kb = 0; kb < blocks; ++kb) {
      int8x16_t b[4];
      for (int j = 0; j < 4; ++j) b[j] = vld1q_s8(wb + j * pair_stride + kb * kPairBytes);
      for (int i = 0; i < 4; ++i) {
        const uint8_t* a = xr + i * pair_stride + kb * kPairBytes;
        for (int j = 0; j < 4; ++j) {
          if constexpr (kU8) {
            acc[i][j] = vusmmlaq_s32(acc[i][j], vld1q_u8(a), b[j]);
          } else {
            acc[i][j] = vmmlaq_s32(acc[i][j], vld1q_s8(reinterpret_cast<const int8_t*>(a)), b[j]);
          }
        }
      }
    }
    // acc[i][j] = [c(2i, 2j), c(2i, 2j+1), c(2i+1, 2j), c(2i+1, 2j+1)]: regroup into rows of 4 columns.
    for (int i = 0; i < 4; ++i) {
      for (int half = 0; half < 2; ++half) {
        const int64_t n = n0 + half * 4;
        if (n >= N_) break;
        const int valid = static_cast<int>(N_ - n >= 4 ? 4 : N_ - n);
        const int64x2_t lo = vreinterpretq_s64_s32(acc[i][2 * half]), hi = vreinterpretq_s64_s32(acc[i][2 * half + 1]);
        const int32x4_t bias = vld1q_s32(bias_.data() + n);
        const int32x4_t even = vaddq_s32(vreinterpretq_s32_s64(vzip1q_s64(lo, hi)), bias);
        const int32x4_t odd = vaddq_s32(vreinterpretq_s32_s64(vzip2q_s64(lo, hi)), bias);
        for (int r = 0; r < 2; ++r) {
          if (2 * i + r >= left) continue;
          Store((row + 2 * i + r) * row_stride_ + n, valid, r ? odd : even, rq_[static_cast<size_t>(n / 4)], y);
        }
      }
    }
  }

  void Store(int64_t at, int valid, int32x4_t z, const RequantBlock<4>& q, void* y) const {
    if (out_bits_ == 32) return NeonBase::Store32(static_cast<int32_t*>(y) + at, valid, z);
    const int32x4_t r = BlockRequant<4>(q)(z);
    if (out_bits_ == 16) return NeonBase::Store16(static_cast<int16_t*>(y) + at, valid, r);
    NeonBase::Store8(static_cast<int8_t*>(y) + at, valid, r);
  }

  int64_t N_, K_, np_ = 0, kp_ = 0, group_ = 0;
  int64_t live_ = 0;  // columns Run computes: N_, or (SetRight) those holding the first ones asked for
  int64_t row_stride_ = N_;  // y's row stride (SetOutputStride)
  int out_bits_;
  bool x_u8_, b_kn_, w4_;
  AlignedArray<int8_t> packed_;  // W8 pairs, or W4 nibbles (PackW4)
  AlignedArray<int8_t> gbytes_;  // W4 group scales (PackW4)
  AlignedArray<int32_t> bias_;
  AlignedArray<RequantBlock<4>> rq_;
};

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmNeonI8mm(const GemmWeights& w) {
  // |Σ x·w| ≤ 255 · 128 · K must fit int32, as for the dot-product kernels.
  if (w.K * 255 * 128 >= (int64_t{1} << 31)) return MakeGemmScalar(w);
  return std::unique_ptr<GemmKernel>(new GemmMmla(w));
}

// smmla's own throughput (dispatch.h's PeakMacs): as many independent 2 × 2
// sums as a tile keeps, on operands the compiler cannot fold.
int64_t PeakMacsNeonI8mm(int64_t iters) {
  constexpr int kChains = 16;
  static volatile int8_t seed = 1;
  const int8x16_t a = vdupq_n_s8(seed);
  int32x4_t acc[kChains];
  for (auto& s : acc) s = vdupq_n_s32(0);
  for (int64_t i = 0; i < iters; ++i) {
    for (auto& s : acc) s = vmmlaq_s32(s, a, a);
  }
  int32x4_t total = acc[0];
  for (int c = 1; c < kChains; ++c) total = vaddq_s32(total, acc[c]);
  seed = static_cast<int8_t>(vgetq_lane_s32(total, 0));  // the sums are used: the loop is not dead code
  return iters * kChains * 2 * 2 * 8;
}

}  // namespace intedge
