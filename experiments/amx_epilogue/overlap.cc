// Why the AMX GEMM's int8 epilogue does not hide under its tile products
// (issue 19's "GEMM ≥ 80 % of the measured peak"; docs/benchmarks.md, the
// eighth session). Two probes on one core, operands in L1 or L2:
//
//  1. Vector µops beside tdpbusd: a loop of four tile loads and four
//     tdpbusd (the GEMM's 64-k step) with 64 AVX-512 instructions of one
//     kind beside it. Where "both" is close to "tiles alone", that kind runs
//     on the vector ports while the tile unit works.
//  2. The GEMM's block loop (32 × 32 blocks, four sum tiles, a column pair
//     of weights in vpdpbusd's layout, rows in place) at M × K × N, with the
//     requant epilogue (bias, 32 × 32 → high half, shift, int8 store)
//     a) left out, b) run at once after the next block's products are
//     issued (the engine's way), c) a slice of rows after each of the next
//     block's k-steps. b and c must write the same bytes, and do.
//
// Not part of the engine; run.sh builds and runs it.
#include <vector>

#include "probe.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, as in the engine's AVX-512 files

namespace {

using probe::BestNs;

// ---- 1. vector µops beside the tile step ----

#define REGS "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8"
#define EIGHT(ins)                                                                                       \
  ins " %%zmm20, %%zmm1, %%zmm1\n\t" ins " %%zmm20, %%zmm2, %%zmm2\n\t" ins " %%zmm20, %%zmm3, %%zmm3\n\t" \
  ins " %%zmm20, %%zmm4, %%zmm4\n\t" ins " %%zmm20, %%zmm5, %%zmm5\n\t" ins " %%zmm20, %%zmm6, %%zmm6\n\t" \
  ins " %%zmm20, %%zmm7, %%zmm7\n\t" ins " %%zmm20, %%zmm8, %%zmm8\n\t"
#define SIXTY_FOUR(ins) EIGHT(ins) EIGHT(ins) EIGHT(ins) EIGHT(ins) EIGHT(ins) EIGHT(ins) EIGHT(ins) EIGHT(ins)

template <int kKind>
void VectorOps() {
  if constexpr (kKind == 0) asm volatile(SIXTY_FOUR("vpmuldq") ::: REGS);
  if constexpr (kKind == 1) asm volatile(SIXTY_FOUR("vpsravd") ::: REGS);
  if constexpr (kKind == 2) asm volatile(SIXTY_FOUR("vpaddd") ::: REGS);
  if constexpr (kKind == 3) asm volatile(SIXTY_FOUR("vpermd") ::: REGS);
  if constexpr (kKind == 4) asm volatile(SIXTY_FOUR("vpmulld") ::: REGS);
}

template <int kKind>
void PortRow(const char* name) {
  const double tiles = BestNs(probe::StepInL1, 100000);
  const double vec = BestNs(VectorOps<kKind>, 100000);
  const double both = BestNs([] { probe::StepInL1(); VectorOps<kKind>(); }, 100000);
  std::printf("  64 × %-8s  tiles alone %5.1f ns   vector alone %5.1f ns   both %5.1f ns\n", name, tiles, vec, both);
}

// ---- 2. the block loop ----

struct Gemm {
  int64_t M, K, N;
  std::vector<uint8_t> rows_storage, weights_storage;
  uint8_t* rows;      // M × K, row-major (tdpbusd's u8)
  int8_t* weights;    // N / 32 pairs of K / 4 × 128 bytes
  std::vector<int8_t> out;
  alignas(64) int32_t sums[2][32 * 32];

  Gemm(int64_t m, int64_t k, int64_t n) : M(m), K(k), N(n), out(static_cast<size_t>(m * n)) {
    rows_storage.resize(static_cast<size_t>(M * K + 64));
    weights_storage.resize(static_cast<size_t>(N * K + 64));
    rows = Align(rows_storage.data());
    weights = reinterpret_cast<int8_t*>(Align(weights_storage.data()));
    for (int64_t i = 0; i < M * K; ++i) rows[i] = static_cast<uint8_t>(rand());
    for (int64_t i = 0; i < N * K; ++i) weights[i] = static_cast<int8_t>(rand());
  }
  static uint8_t* Align(uint8_t* p) { return p + (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64; }

  // The requant of rows [r0, r1) of a block's sums into columns [n0, n0 + 32) of row `row` on.
  void Epilogue(const int32_t* s, int64_t r0, int64_t r1, int64_t row, int64_t n0) {
    const __m512i bias = _mm512_set1_epi32(-4093), m = _mm512_set1_epi32(1518500250);
    const __m512i m_odd = _mm512_srli_epi64(m, 32), round = _mm512_set1_epi32(1 << 5), shift = _mm512_set1_epi32(6);
    for (int b = 0; b < 2; ++b) {
      for (int64_t r = r0; r < r1; ++r) {
        const __m512i z = _mm512_add_epi32(_mm512_load_si512(s + r * 32 + b * 16), bias);
        const __m512i h = _mm512_mask_shuffle_epi32(_mm512_mul_epi32(_mm512_shuffle_epi32(z, _MM_PERM_DDBB), m_odd),
                                                    0x5555, _mm512_mul_epi32(z, m), _MM_PERM_DDBB);
        const __m512i q = _mm512_srav_epi32(_mm512_add_epi32(h, round), shift);
        _mm512_mask_cvtsepi32_storeu_epi8(out.data() + (row + r) * N + n0 + b * 16, 0xFFFF, q);
      }
    }
  }

  // kMode 0: no epilogue; 1: at once after the next block's products; 2: sliced over its steps.
  template <int kMode>
  void Run() {
    const int64_t steps = K / 64, blocks = M / 32;
    int cur = 0;
    int64_t pending_row = -1, pending_n0 = 0, done = 0;
    for (int64_t n0 = 0; n0 < N; n0 += 32) {
      const int8_t* pair = weights + n0 * K;
      for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* a = rows + i * 32 * K;
        probe::ZeroSums();
        for (int64_t k = 0; k < steps; ++k) {
          probe::Step(a + k * 64, a + 16 * K + k * 64, K, pair + k * 16 * 128);
          if (kMode == 2 && pending_row >= 0) {
            const int64_t upto = 32 * (k + 1) / steps;
            Epilogue(sums[cur ^ 1], done, upto, pending_row, pending_n0);
            done = upto;
          }
        }
        if (kMode != 0 && pending_row >= 0) Epilogue(sums[cur ^ 1], done, 32, pending_row, pending_n0);
        probe::StoreSums(sums[cur]);
        pending_row = i * 32;
        pending_n0 = n0;
        done = 0;
        cur ^= 1;
      }
    }
    if (kMode != 0) Epilogue(sums[cur ^ 1], 0, 32, pending_row, pending_n0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  int64_t M, K, N;
  if (!probe::Shape(argc, argv, "overlap", &M, &K, &N) || !probe::StartTiles("overlap")) return 2;
  std::printf("1. the GEMM's 64-k step (4 tile loads, 4 tdpbusd) beside 64 AVX-512 instructions, best of 7 rounds:\n");
  PortRow<0>("vpmuldq");
  PortRow<1>("vpsravd");
  PortRow<2>("vpaddd");
  PortRow<3>("vpermd");
  PortRow<4>("vpmulld");

  Gemm g(M, K, N);
  const double macs = static_cast<double>(M * K * N), peak_gmacs = probe::StepGmacs();
  std::printf("2. %ldx%ldx%ld in 32 × 32 blocks (the step alone: %.0f GMAC/s), best of 7 rounds:\n",
              static_cast<long>(M), static_cast<long>(K), static_cast<long>(N), peak_gmacs);
  const int iters = static_cast<int>(std::max<double>(20, 2e8 / macs));
  const char* names[] = {"no epilogue", "epilogue at once", "epilogue sliced"};
  double ns[3];
  ns[0] = BestNs([&] { g.Run<0>(); }, iters);
  ns[1] = BestNs([&] { g.Run<1>(); }, iters);
  const std::vector<int8_t> at_once = g.out;
  std::fill(g.out.begin(), g.out.end(), 0);
  ns[2] = BestNs([&] { g.Run<2>(); }, iters);
  for (int i = 0; i < 3; ++i) {
    std::printf("  %-17s %8.2f µs  %6.0f GMAC/s  %3.0f %% of the step\n", names[i], ns[i] / 1e3, macs / ns[i],
                100 * macs / ns[i] / peak_gmacs);
  }
  const bool same = g.out == at_once;
  std::printf("  the sliced epilogue's output %s the one at once\n", same ? "matches" : "DIFFERS FROM");
  _tile_release();
  return same ? 0 : 1;
}
