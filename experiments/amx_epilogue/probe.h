// What the AMX probes here share: the kernel's permission for tile data, the tile configuration
// (the engine's: eight tiles of 16 rows × 64 bytes), the best-of-rounds timer, the M K N
// arguments, and the GEMM's 64-k step on operands in L1 (the rate the probes measure against).
#pragma once

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace probe {

// Asks Linux (≥ 5.16) for AMX tile data and configures the tiles; says why not on stderr.
inline bool StartTiles(const char* probe) {
  constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    std::fprintf(stderr, "%s: the kernel refused AMX tile data (no AMX here?)\n", probe);
    return false;
  }
  alignas(64) uint8_t config[64] = {};
  config[0] = 1;  // palette 1
  for (int t = 0; t < 8; ++t) {
    config[16 + 2 * t] = 64;  // bytes a row
    config[48 + t] = 16;      // rows
  }
  // GCC 12 dropped the stores above as dead where this was inlined: the builtin does not say that
  // it reads the configuration.
  asm volatile("" : : "r"(config) : "memory");
  _tile_loadconfig(config);
  return true;
}

// The best of `rounds` rounds of `iters` calls, in ns a call.
template <typename F>
double BestNs(F f, int iters, int rounds = 7) {
  double best = 1e30;
  for (int round = 0; round < rounds; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) f();
    best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / iters);
  }
  return best;
}

// M K N from argv (default 128 384 384: MiniLM's Q, K, V): M and N whole 32-row and 32-column
// blocks, K whole 64-k steps.
inline bool Shape(int argc, char** argv, const char* probe, int64_t* m, int64_t* k, int64_t* n) {
  const bool given = argc > 3;
  *m = given ? atoll(argv[1]) : 128;
  *k = given ? atoll(argv[2]) : 384;
  *n = given ? atoll(argv[3]) : 384;
  if (*m > 0 && *k > 0 && *n > 0 && *m % 32 == 0 && *k % 64 == 0 && *n % 32 == 0) return true;
  std::fprintf(stderr, "usage: %s [M K N]: M and N multiples of 32, K of 64 (default 128 384 384)\n", probe);
  return false;
}

// The GEMM's 64-k step, in the engine's order (kernels/x86/amx_tiles.h): the two 16-row tiles of
// rows at a0 and a1 (rows a_stride bytes apart), the two column blocks' weight tiles at b and b + 64
// (16 k-quads 128 bytes apart, vpdpbusd's layout), four tdpbusd into sum tiles 0..3. Leaves the
// operands in tiles 4..7.
inline void Step(const uint8_t* a0, const uint8_t* a1, int64_t a_stride, const void* b) {
  const auto* w = static_cast<const uint8_t*>(b);
  _tile_loadd(4, a0, a_stride);
  _tile_loadd(6, w, 128);
  _tile_dpbusd(0, 4, 6);
  _tile_loadd(7, w + 64, 128);
  _tile_dpbusd(1, 4, 7);
  _tile_loadd(5, a1, a_stride);
  _tile_dpbusd(2, 5, 6);
  _tile_dpbusd(3, 5, 7);
}

// The step on 4 KB at `operands`: rows at 0 and 2048 (64-byte rows), weights from 1024.
inline void Step(const uint8_t* operands) { Step(operands, operands + 2048, 64, operands + 1024); }

// A block's four sum tiles zeroed, ...
inline void ZeroSums() {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

// ... and stored as 32 rows of 32 int32 at c.
inline void StoreSums(int32_t* c) {
  _tile_stored(0, c, 128);
  _tile_stored(1, c + 16, 128);
  _tile_stored(2, c + 512, 128);
  _tile_stored(3, c + 528, 128);
}

// The step's four tdpbusd alone, on the tiles as they are.
inline void Dots() {
  _tile_dpbusd(0, 4, 6);
  _tile_dpbusd(1, 4, 7);
  _tile_dpbusd(2, 5, 6);
  _tile_dpbusd(3, 5, 7);
}

// 4 KB of varied bytes (i·167 + 13), as the engine's StepPeak has: tile loads of zeros run faster
// (zero_operands.cc), and would flatter every ratio to the step.
inline const uint8_t* RealBytes() {
  alignas(64) static uint8_t bytes[4096];
  static const bool filled = [] {
    for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<uint8_t>(i * 167 + 13);
    return true;
  }();
  (void)filled;
  return bytes;
}

// The step on operands that stay in L1.
inline void StepInL1() { Step(RealBytes()); }

// Its rate in GMAC/s, the best of seven rounds after a warm-up (the first rounds are slow while
// the core's clock settles).
inline double StepGmacs() {
  BestNs(StepInL1, 100000, 5);
  return 4 * 16 * 16 * 64 / BestNs(StepInL1, 100000);
}

// tdpbusd alone, four independent sums on tiles loaded once with StepInL1's operands: the
// instruction's peak, as intedge-gemm-bench's AMX peak is measured.
inline double DotGmacs() {
  StepInL1();
  BestNs(Dots, 100000, 5);
  return 4 * 16 * 16 * 64 / BestNs(Dots, 100000);
}

}  // namespace probe
