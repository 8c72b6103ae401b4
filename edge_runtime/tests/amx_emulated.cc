// The AMX GEMM (kernels/x86/gemm_amx.h) on a scalar twin of the AMX tile
// instructions, so that its blocking, padding and epilogue are checked
// against the scalar oracle on any CPU with AVX-512, not only on the Xeons
// that have AMX (test_kernels_simd.cc runs both where it can). Compiled with
// the AVX-512 flags of the GEMM it stands in for.
#include <immintrin.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/aligned.h"
#include "kernels/dispatch.h"
#include "tests/amx_emulated.h"

namespace intedge {
namespace {

#include "kernels/x86/requant_x86.h"

#include "kernels/x86/zmm_traits.h"

#include "kernels/gemm_dot4.h"

// Intel's pseudocode for the tile loads, stores, tdpbusd and tdpbssd, over 8 tiles of
// 16 rows × 64 bytes (the configuration amx_tiles.h loads) per thread.
struct EmulatedTiles {
  static constexpr const char* kIsa = "amx-emulated";
  static constexpr int kRows = 16, kRowBytes = 64;
  struct State {
    bool configured = false;
    uint8_t tile[8][kRows][kRowBytes];
  };
  static State& state() {
    thread_local State s;
    return s;
  }
  static uint8_t (&Tile(int t))[kRows][kRowBytes] {
    if (!state().configured) {  // on the hardware, a tile instruction before the configuration faults
      std::fprintf(stderr, "amx_emulated: tile %d used outside Configure .. Release\n", t);
      std::abort();
    }
    return state().tile[t];
  }

  static void Configure() { state().configured = true; }
  static void Release() { state().configured = false; }
  static void Load(int t, const void* p, int64_t stride) {
    for (int r = 0; r < kRows; ++r) std::memcpy(Tile(t)[r], static_cast<const uint8_t*>(p) + r * stride, kRowBytes);
  }
  static void Store(int t, void* p, int64_t stride) {
    for (int r = 0; r < kRows; ++r) std::memcpy(static_cast<uint8_t*>(p) + r * stride, Tile(t)[r], kRowBytes);
  }
  // tdpbusd c, a, b (kSigned: tdpbssd): C[m][n] += Σ A[m][4k + j] · s8 B[k][4n + j] over k < 16, j < 4,
  // A's bytes u8 (s8 for tdpbssd).
  template <bool kSigned>
  static void Dot(int c, int a, int b) {
    for (int m = 0; m < kRows; ++m) {
      for (int n = 0; n < kRows; ++n) {
        int32_t sum;
        std::memcpy(&sum, &Tile(c)[m][4 * n], 4);
        for (int k = 0; k < kRows; ++k) {
          for (int j = 0; j < 4; ++j) {
            const uint8_t av = Tile(a)[m][4 * k + j];
            sum += (kSigned ? static_cast<int8_t>(av) : av) * static_cast<int8_t>(Tile(b)[k][4 * n + j]);
          }
        }
        std::memcpy(&Tile(c)[m][4 * n], &sum, 4);
      }
    }
  }

  // amx_tiles.h's interface, in its register plan.
  static void ZeroSums() {
    for (int t = 0; t < 4; ++t) std::memset(Tile(t), 0, sizeof(Tile(t)));
  }
  template <bool kSigned>
  static void Step(const uint8_t* a0, const uint8_t* a1, int64_t a_stride, const int8_t* b, int64_t b_stride) {
    Load(4, a0, a_stride);
    Load(5, a1, a_stride);
    Load(6, b, b_stride);
    Load(7, b + 64, b_stride);
    Dot<kSigned>(0, 4, 6);
    Dot<kSigned>(1, 4, 7);
    Dot<kSigned>(2, 5, 6);
    Dot<kSigned>(3, 5, 7);
  }
  static void LoadRight(const int8_t* b, int64_t b_stride) {
    Load(6, b, b_stride);
    Load(7, b + 64, b_stride);
  }
  template <bool kSigned, int kHalf>
  static void HalfProducts(const uint8_t* a, int64_t a_stride) {
    for (int t = 2 * kHalf; t < 2 * kHalf + 2; ++t) std::memset(Tile(t), 0, sizeof(Tile(t)));
    Load(4 + kHalf, a, a_stride);
    Dot<kSigned>(2 * kHalf, 4 + kHalf, 6);
    Dot<kSigned>(2 * kHalf + 1, 4 + kHalf, 7);
  }
  template <int kHalf>
  static void StoreHalf(int32_t* c, int64_t stride) {
    Store(2 * kHalf, c, stride);
    Store(2 * kHalf + 1, c + 16, stride);
  }
  static void StoreSums(int32_t* c, int64_t stride) {
    auto* bytes = reinterpret_cast<uint8_t*>(c);
    Store(0, bytes, stride);
    Store(1, bytes + 64, stride);
    Store(2, bytes + 16 * stride, stride);
    Store(3, bytes + 16 * stride + 64, stride);
  }
  static void LoadSums(const int32_t* c, int64_t stride) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(c);
    Load(0, bytes, stride);
    Load(1, bytes + 64, stride);
    Load(2, bytes + 16 * stride, stride);
    Load(3, bytes + 16 * stride + 64, stride);
  }
};

#include "kernels/x86/gemm_amx.h"

}  // namespace

std::unique_ptr<GemmKernel> MakeGemmAmxEmulated(const GemmWeights& w) {
  return Dot4Fits(w) ? std::unique_ptr<GemmKernel>(new GemmAmx<EmulatedTiles>(w)) : nullptr;
}

}  // namespace intedge
