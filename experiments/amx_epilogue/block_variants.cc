// Three arrangements of the AMX GEMM's block loop beside the engine's (issue 19; docs/benchmarks.md,
// the ninth session), none with an epilogue, on one core, operands in cache:
//   engine     32 × 32 blocks (four sum tiles), column pairs outermost, K whole, sums stored a block
//   no stores  the same with the sums' tile stores left out: what the wait for them costs
//   staggered  two sets of two sum tiles (32 × 16 blocks), the second half a block behind, so one
//              set's stores fall amid the other's products; each set loads its own row tiles
//   chunk C    K in chunks of C (256, 384, 512, 768 where below K), each block's partial sums
//              through memory between chunks; at C = 512 a column pair's weights in a chunk are
//              16 KB, which stays in L1 beside the rows (placement.cc)
// Not part of the engine; run.sh builds and runs it.
#include "probe.h"

namespace {

using probe::BestNs;

struct Gemm {
  int64_t M, K, N, S;  // S: 64-k steps
  uint8_t* rows;       // M × K
  int8_t* w;           // N / 32 pairs of S steps × 16 k-quads × 128 bytes
  int32_t* partial;    // M × 32 partial sums (chunks)
  alignas(64) int32_t sums[32 * 32];

  Gemm(int64_t m, int64_t k, int64_t n) : M(m), K(k), N(n), S(k / 64) {
    rows = static_cast<uint8_t*>(std::aligned_alloc(64, M * K));
    w = static_cast<int8_t*>(std::aligned_alloc(64, N * K));
    partial = static_cast<int32_t*>(std::aligned_alloc(64, M * 32 * 4));
    for (int64_t i = 0; i < M * K; ++i) rows[i] = static_cast<uint8_t>(rand());
    for (int64_t i = 0; i < N * K; ++i) w[i] = static_cast<int8_t>(rand());
  }
  ~Gemm() {
    std::free(rows);
    std::free(w);
    std::free(partial);
  }
  const uint8_t* A(int64_t r, int64_t k) const { return rows + r * K + k * 64; }
  const int8_t* B(int64_t pair, int64_t k) const { return w + pair * 32 * K + k * 16 * 128; }

  // Steps [k0, k1) of the block of rows r and column pair p into sum tiles 0..3.
  void Steps(int64_t r, int64_t p, int64_t k0, int64_t k1) const {
    for (int64_t k = k0; k < k1; ++k) probe::Step(A(r, k), A(r + 16, k), K, B(p, k));
  }

  template <bool kStores>
  void Engine() {
    for (int64_t p = 0; p < N / 32; ++p) {
      for (int64_t r = 0; r < M; r += 32) {
        probe::ZeroSums();
        Steps(r, p, 0, S);
        if constexpr (kStores) probe::StoreSums(sums);
      }
    }
  }

  void Chunked(int64_t chunk_steps) {
    for (int64_t p = 0; p < N / 32; ++p) {
      for (int64_t k0 = 0; k0 < S; k0 += chunk_steps) {
        const int64_t k1 = std::min(S, k0 + chunk_steps);
        for (int64_t r = 0; r < M; r += 32) {
          int32_t* part = partial + r * 32;
          if (k0 == 0) {
            probe::ZeroSums();
          } else {
            _tile_loadd(0, part, 128);
            _tile_loadd(1, part + 16, 128);
            _tile_loadd(2, part + 512, 128);
            _tile_loadd(3, part + 528, 128);
          }
          Steps(r, p, k0, k1);
          probe::StoreSums(k1 == S ? sums : part);
        }
      }
    }
  }

  // Set X (tiles 0, 1) takes even column blocks, set Y (tiles 2, 3) odd ones, S / 2 steps later.
  void Staggered() {
    const int64_t blocks = M / 32, jobs = N / 32 * blocks, half = S / 2;
    probe::ZeroSums();
    for (int64_t t = 0; t < (jobs + 1) * S; ++t) {
      if (t / S < jobs) {
        const int64_t job = t / S, k = t % S, r = job % blocks * 32;
        _tile_loadd(4, A(r, k), K);
        _tile_loadd(5, A(r + 16, k), K);
        _tile_loadd(6, B(job / blocks, k), 128);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 5, 6);
        if (k == S - 1) {
          _tile_stored(0, sums, 128);
          _tile_stored(1, sums + 512, 128);
          _tile_zero(0);
          _tile_zero(1);
        }
      }
      const int64_t ty = t - half;
      if (ty >= 0 && ty / S < jobs) {
        const int64_t job = ty / S, k = ty % S, r = job % blocks * 32;
        _tile_loadd(4, A(r, k), K);
        _tile_loadd(5, A(r + 16, k), K);
        _tile_loadd(7, B(job / blocks, k) + 64, 128);
        _tile_dpbusd(2, 4, 7);
        _tile_dpbusd(3, 5, 7);
        if (k == S - 1) {
          _tile_stored(2, sums + 16, 128);
          _tile_stored(3, sums + 528, 128);
          _tile_zero(2);
          _tile_zero(3);
        }
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  int64_t M, K, N;
  if (!probe::Shape(argc, argv, "block_variants", &M, &K, &N) || !probe::StartTiles("block_variants")) return 2;
  Gemm g(M, K, N);
  const double macs = static_cast<double>(M * K * N), step = probe::StepGmacs();
  const int iters = static_cast<int>(std::max<double>(20, 2e8 / macs));
  std::printf("%ldx%ldx%ld, no epilogue, best of 9 rounds; %% of the step on operands in L1 (%.0f GMAC/s)\n",
              static_cast<long>(M), static_cast<long>(K), static_cast<long>(N), step);
  auto row = [&](const char* name, double ns) {
    std::printf("  %-16s %9.2f µs  %3.0f %%\n", name, ns / 1e3, 100 * macs / ns / step);
  };
  row("engine", BestNs([&] { g.Engine<true>(); }, iters, 9));
  row("no stores", BestNs([&] { g.Engine<false>(); }, iters, 9));
  row("staggered", BestNs([&] { g.Staggered(); }, iters, 9));
  for (int64_t chunk : {256, 384, 512, 768}) {
    if (chunk >= K) break;
    char name[32];
    std::snprintf(name, sizeof name, "chunk %ld", static_cast<long>(chunk));
    row(name, BestNs([&] { g.Chunked(chunk / 64); }, iters, 9));
  }
  _tile_release();
  return 0;
}
