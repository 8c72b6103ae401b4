// Three arrangements of the AMX GEMM's block loop beside the engine's (issue 19; docs/benchmarks.md,
// the ninth session), none with an epilogue, on one core, operands in cache:
//   engine     32 × 32 blocks (four sum tiles), column pairs outermost, K whole, sums stored a block
//   no stores  the same with the sums' tile stores left out: what the wait for them costs
//   staggered  two sets of two sum tiles (32 × 16 blocks), the second half a block behind, so one
//              set's stores fall amid the other's products; each set loads its own row tiles
//   chunk C    K in chunks of C, each block's partial sums through memory between chunks, so a
//              column pair's weights in a chunk stay within 16 KB of L1 (C = 512)
// Not part of the engine; run.sh builds and runs it.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;

void Configure() {
  alignas(64) uint8_t config[64] = {};
  config[0] = 1;
  for (int t = 0; t < 8; ++t) {
    config[16 + 2 * t] = 64;
    config[48 + t] = 16;
  }
  asm volatile("" : : "r"(config) : "memory");  // see placement.cc
  _tile_loadconfig(config);
}

template <typename F>
double BestNs(F f, int iters) {
  double best = 1e30;
  for (int round = 0; round < 9; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) f();
    best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / iters);
  }
  return best;
}

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
    for (int64_t k = k0; k < k1; ++k) {
      _tile_loadd(4, A(r, k), K);
      _tile_loadd(6, B(p, k), 128);
      _tile_dpbusd(0, 4, 6);
      _tile_loadd(7, B(p, k) + 64, 128);
      _tile_dpbusd(1, 4, 7);
      _tile_loadd(5, A(r + 16, k), K);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
  }
  static void Store(int32_t* c) {
    _tile_stored(0, c, 128);
    _tile_stored(1, c + 16, 128);
    _tile_stored(2, c + 512, 128);
    _tile_stored(3, c + 528, 128);
  }
  static void Zero() {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }

  template <bool kStores>
  void Engine() {
    for (int64_t p = 0; p < N / 32; ++p) {
      for (int64_t r = 0; r < M; r += 32) {
        Zero();
        Steps(r, p, 0, S);
        if (kStores) Store(sums);
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
            Zero();
          } else {
            _tile_loadd(0, part, 128);
            _tile_loadd(1, part + 16, 128);
            _tile_loadd(2, part + 512, 128);
            _tile_loadd(3, part + 528, 128);
          }
          Steps(r, p, k0, k1);
          Store(k1 == S ? sums : part);
        }
      }
    }
  }

  // Set X (tiles 0, 1) takes even column blocks, set Y (tiles 2, 3) odd ones, S / 2 steps later.
  void Staggered() {
    const int64_t blocks = M / 32, jobs = N / 32 * blocks, half = S / 2;
    Zero();
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

alignas(64) uint8_t g_step[4096];
void Step() {
  _tile_loadd(4, g_step, 64);
  _tile_loadd(6, g_step + 1024, 128);
  _tile_dpbusd(0, 4, 6);
  _tile_loadd(7, g_step + 1088, 128);
  _tile_dpbusd(1, 4, 7);
  _tile_loadd(5, g_step + 2048, 64);
  _tile_dpbusd(2, 5, 6);
  _tile_dpbusd(3, 5, 7);
}

}  // namespace

int main(int argc, char** argv) {
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    std::fprintf(stderr, "block_variants: the kernel refused AMX tile data (no AMX here?)\n");
    return 2;
  }
  const bool given = argc > 3;
  const int64_t M = given ? atoll(argv[1]) : 128, K = given ? atoll(argv[2]) : 384, N = given ? atoll(argv[3]) : 384;
  if (M <= 0 || K <= 0 || N <= 0 || M % 32 || K % 64 || N % 32) {
    std::fprintf(stderr, "usage: block_variants [M K N]: M and N multiples of 32, K of 64 (default 128 384 384)\n");
    return 2;
  }
  Gemm g(M, K, N);
  Configure();
  const double macs = static_cast<double>(M * K * N);
  const double step = 4 * 16 * 16 * 64 / BestNs(Step, 100000);
  const int iters = static_cast<int>(std::max<double>(20, 2e8 / macs));
  std::printf("%ldx%ldx%ld, no epilogue, best of 9 rounds; %% of the step on operands in L1 (%.0f GMAC/s)\n",
              static_cast<long>(M), static_cast<long>(K), static_cast<long>(N), step);
  auto row = [&](const char* name, double ns) {
    std::printf("  %-16s %9.2f µs  %3.0f %%\n", name, ns / 1e3, 100 * macs / ns / step);
  };
  row("engine", BestNs([&] { g.Engine<true>(); }, iters));
  row("no stores", BestNs([&] { g.Engine<false>(); }, iters));
  row("staggered", BestNs([&] { g.Staggered(); }, iters));
  for (int64_t chunk : {256, 384, 512, 768}) {
    if (chunk >= K) break;
    char name[32];
    std::snprintf(name, sizeof name, "chunk %ld", static_cast<long>(chunk));
    row(name, BestNs([&] { g.Chunked(chunk / 64); }, iters));
  }
  _tile_release();
  return 0;
}
