// Int8 GEMM with AVX-512 VNNI (vpdpbusd: 64 u8×s8 products into 16 int32
// per instruction). Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni
// and run only when CPUID reports them.
//
// Activations are int8 but vpdpbusd wants one unsigned operand, so rows are
// shifted to u8 (x + 128) and 128·Σ_k w[n, k] is taken out of the bias: the
// int32 result is exactly Σ x·w + bias. Weights are packed once, 16 output
// columns × 4 k per 64-byte vector. W4 weights stay 4-bit in memory: one
// 64-byte vector holds 8 k × 16 columns as nibbles, unpacked in registers;
// each group's int32 sum is multiplied by the group's integer scale.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32() and trip
// -Wmaybe-uninitialized (GCC bug 105593); nothing here reads undefined lanes.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/aligned.h"
#include "kernels/dispatch.h"
#include "kernels/x86/requant_avx512.h"

namespace intedge {
namespace {

using x86::RequantBlock;

constexpr int64_t kNR = 16;      // output columns per vector
constexpr int kMRW8 = 8;         // rows per W8 tile: 8 × 2 accumulators
constexpr int kMRW4 = 4;         // rows per W4 tile: 4 × 2 accumulators + 4 × 2 group sums

int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Rows [m0, m1) of x as u8 (x + 128 when x is int8), each padded to kp bytes
// with the u8 form of 0.
const uint8_t* ShiftedRows(const void* xv, bool x_u8, int64_t K, int64_t kp, int64_t m0, int64_t m1) {
  thread_local AlignedArray<uint8_t> buf;
  const auto need = static_cast<size_t>((m1 - m0) * kp + 64);
  if (buf.size() < need && !buf.Resize(need)) return nullptr;
  uint8_t* out = buf.data();
  const uint8_t flip = x_u8 ? 0 : 0x80;
  const __m512i vflip = _mm512_set1_epi8(static_cast<char>(flip));
  const auto* x = static_cast<const uint8_t*>(xv);
  for (int64_t m = m0; m < m1; ++m) {
    const uint8_t* src = x + m * K;
    uint8_t* dst = out + (m - m0) * kp;
    int64_t k = 0;
    for (; k + 64 <= K; k += 64) {
      _mm512_storeu_si512(dst + k, _mm512_xor_si512(_mm512_loadu_si512(src + k), vflip));
    }
    for (; k < K; ++k) dst[k] = static_cast<uint8_t>(src[k] ^ flip);
    for (; k < kp; ++k) dst[k] = flip;
  }
  return out;
}

inline __m512i Broadcast4(const uint8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

class GemmAvx512Vnni final : public GemmKernel {
 public:
  explicit GemmAvx512Vnni(const GemmWeights& w) : N_(w.N), K_(w.K), out_bits_(w.out_bits), x_u8_(w.x_u8) {
    np_ = RoundUp(N_, 2 * kNR);
    w4_ = w.w8 == nullptr;
    kp_ = w4_ ? K_ : RoundUp(K_, 4);
    group_ = w4_ ? w.group : kp_;
    const int64_t blocks = np_ / kNR;
    AlignedArray<int64_t> colsum;
    colsum.Resize(static_cast<size_t>(np_));
    if (w4_) {
      PackW4(w, &colsum);
    } else {
      packed_.Resize(static_cast<size_t>(blocks * kp_ * kNR));
      for (int64_t n = 0; n < N_; ++n) {
        for (int64_t k = 0; k < K_; ++k) {
          const int8_t v = w.b_kn ? w.w8[k * N_ + n] : w.w8[n * K_ + k];
          packed_[static_cast<size_t>(((n / kNR) * (kp_ / 4) + k / 4) * 64 + (n % kNR) * 4 + k % 4)] = v;
          colsum[static_cast<size_t>(n)] += v;
        }
      }
    }
    bias_.Resize(static_cast<size_t>(np_));
    rq_.Resize(static_cast<size_t>(blocks));
    for (int64_t n = 0; n < np_; ++n) {
      const bool real = n < N_;
      const int64_t correction = x_u8_ ? 0 : 128 * colsum[static_cast<size_t>(n)];
      bias_[static_cast<size_t>(n)] = static_cast<int32_t>((real && w.bias ? w.bias[n] : 0) - correction);
      if (out_bits_ != 32) {
        rq_[static_cast<size_t>(n / kNR)].Set(static_cast<int>(n % kNR), real ? w.mult[n] : 0, real ? w.shift[n] : 1);
      }
    }
  }

  int64_t packed_bytes() const override {
    return static_cast<int64_t>(packed_.size() + gscale_.size() * 4 + bias_.size() * 4 + rq_.size() * sizeof(RequantBlock));
  }

  bool Run(const void* x, int64_t m0, int64_t m1, void* y) const override {
    const uint8_t* xu = ShiftedRows(x, x_u8_, K_, kp_, m0, m1);
    if (!xu) return false;
    const int64_t rows = m1 - m0, mr = w4_ ? kMRW4 : kMRW8;
    for (int64_t nb = 0; nb < np_ / kNR; nb += 2) {
      int64_t r = 0;
      for (; r + mr <= rows; r += mr) Tile(static_cast<int>(mr), xu + r * kp_, nb, m0 + r, y);
      if (r < rows) Tile(static_cast<int>(rows - r), xu + r * kp_, nb, m0 + r, y);
    }
    return true;
  }

 private:
  void PackW4(const GemmWeights& w, AlignedArray<int64_t>* colsum) {
    const int64_t blocks = np_ / kNR, groups = K_ / group_;
    packed_.Resize(static_cast<size_t>(blocks * (K_ / 8) * 64));
    gscale_.Resize(static_cast<size_t>(blocks * groups * kNR));
    for (int64_t n = 0; n < N_; ++n) {
      for (int64_t k = 0; k < K_; ++k) {
        const uint8_t byte = w.w4[(n * K_ + k) / 2];
        const int q = static_cast<int8_t>(static_cast<uint8_t>((k % 2 ? byte >> 4 : byte) << 4)) >> 4;
        const int g = w.group_scales[n * groups + k / group_];
        // vector (n/16, k/8); nibble half: k%8 < 4 low, else high; lane (n%16)*4 + k%4
        uint8_t& dst = reinterpret_cast<uint8_t*>(packed_.data())[((n / kNR) * (K_ / 8) + k / 8) * 64 + (n % kNR) * 4 + k % 4];
        dst = static_cast<uint8_t>(dst | ((q & 0xF) << (k % 8 < 4 ? 0 : 4)));
        (*colsum)[static_cast<size_t>(n)] += q * g;
      }
      for (int64_t gi = 0; gi < groups; ++gi) {
        gscale_[static_cast<size_t>(((n / kNR) * groups + gi) * kNR + n % kNR)] = w.group_scales[n * groups + gi];
      }
    }
  }

  // Rows [row, row + mr) (x rows at xu) × columns of blocks nb, nb + 1.
  void Tile(int mr, const uint8_t* xu, int64_t nb, int64_t row, void* y) const {
    __m512i acc[kMRW8][2];
    for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    if (w4_) {
      AccumulateW4(mr, xu, nb, acc);
    } else {
      AccumulateW8(mr, xu, nb, acc);
    }
    for (int b = 0; b < 2; ++b) {
      const int64_t n0 = (nb + b) * kNR;
      if (n0 >= N_) break;
      const __mmask16 mask = static_cast<__mmask16>(N_ - n0 >= kNR ? 0xFFFF : (1u << (N_ - n0)) - 1);
      const __m512i bias = _mm512_load_si512(bias_.data() + n0);
      const RequantBlock& q = rq_[static_cast<size_t>(nb + b)];
      for (int r = 0; r < mr; ++r) {
        const __m512i z = _mm512_add_epi32(acc[r][b], bias);
        if (out_bits_ == 32) {
          _mm512_mask_storeu_epi32(static_cast<int32_t*>(y) + (row + r) * N_ + n0, mask, z);
        } else if (out_bits_ == 16) {
          _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(y) + (row + r) * N_ + n0, mask,
                                            x86::Requant16(z, q, -32768, 32767));
        } else {
          _mm512_mask_cvtepi32_storeu_epi8(static_cast<int8_t*>(y) + (row + r) * N_ + n0, mask,
                                           x86::Requant16(z, q, -128, 127));
        }
      }
    }
  }

  void AccumulateW8(int mr, const uint8_t* xu, int64_t nb, __m512i (*acc)[2]) const {
    const int64_t kq = kp_ / 4;
    const int8_t* b0 = packed_.data() + nb * kq * 64;
    const int8_t* b1 = b0 + kq * 64;
    for (int64_t k = 0; k < kq; ++k) {
      const __m512i w0 = _mm512_load_si512(b0 + k * 64), w1 = _mm512_load_si512(b1 + k * 64);
      for (int r = 0; r < mr; ++r) {
        const __m512i a = Broadcast4(xu + r * kp_ + k * 4);
        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, w0);
        acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, w1);
      }
    }
  }

  void AccumulateW4(int mr, const uint8_t* xu, int64_t nb, __m512i (*acc)[2]) const {
    const int64_t k8 = K_ / 8, groups = K_ / group_, steps = group_ / 8;
    const uint8_t* b0 = reinterpret_cast<const uint8_t*>(packed_.data()) + nb * k8 * 64;
    const uint8_t* b1 = b0 + k8 * 64;
    const __m512i low = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    // nibble n (0..15) → signed value: (n ^ 8) − 8
    auto sign = [&](__m512i v) { return _mm512_sub_epi8(_mm512_xor_si512(v, eight), eight); };
    for (int64_t gi = 0; gi < groups; ++gi) {
      __m512i sum[kMRW4][2];
      for (int r = 0; r < mr; ++r) sum[r][0] = sum[r][1] = _mm512_setzero_si512();
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t k = gi * steps + s;
        const __m512i p0 = _mm512_load_si512(b0 + k * 64), p1 = _mm512_load_si512(b1 + k * 64);
        const __m512i w0lo = sign(_mm512_and_si512(p0, low)), w0hi = sign(_mm512_and_si512(_mm512_srli_epi16(p0, 4), low));
        const __m512i w1lo = sign(_mm512_and_si512(p1, low)), w1hi = sign(_mm512_and_si512(_mm512_srli_epi16(p1, 4), low));
        for (int r = 0; r < mr; ++r) {
          const __m512i alo = Broadcast4(xu + r * kp_ + k * 8), ahi = Broadcast4(xu + r * kp_ + k * 8 + 4);
          sum[r][0] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sum[r][0], alo, w0lo), ahi, w0hi);
          sum[r][1] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sum[r][1], alo, w1lo), ahi, w1hi);
        }
      }
      const __m512i g0 = _mm512_load_si512(gscale_.data() + (nb * groups + gi) * kNR);
      const __m512i g1 = _mm512_load_si512(gscale_.data() + ((nb + 1) * groups + gi) * kNR);
      for (int r = 0; r < mr; ++r) {
        acc[r][0] = _mm512_add_epi32(acc[r][0], _mm512_mullo_epi32(sum[r][0], g0));
        acc[r][1] = _mm512_add_epi32(acc[r][1], _mm512_mullo_epi32(sum[r][1], g1));
      }
    }
  }

  int64_t N_, K_, np_ = 0, kp_ = 0, group_ = 0;
  int out_bits_;
  bool x_u8_, w4_ = false;
  AlignedArray<int8_t> packed_;
  AlignedArray<int32_t> gscale_, bias_;
  AlignedArray<RequantBlock> rq_;
};

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmAvx512Vnni(const GemmWeights& w) {
  // u8 rows reach 255·128·K before the bias correction: keep that inside int32.
  if (w.K * 255 * 128 >= (int64_t{1} << 31)) return MakeGemmScalar(w);
  return std::make_unique<GemmAvx512Vnni>(w);
}

}  // namespace intedge
