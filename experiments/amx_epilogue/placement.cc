// Where the AMX GEMM's operands live sets its ceiling (issue 19; docs/benchmarks.md, the ninth
// session). One block's 64-k step (two row tiles, two weight tiles, four tdpbusd into four
// independent sums, the engine's order) over and over, its rows cycling through A bytes and its
// weights through B bytes: 16 KB stays in L1, 32 KB does not quite (the other operand shares L1's
// 48 KB), 256 KB and 1 MB come from L2, 4 MB from L3 or memory. No block ends, no stores, no
// epilogue: the best any GEMM over operands placed so could reach. Not part of the engine; run.sh
// builds and runs it.
#include "probe.h"

namespace {

constexpr int64_t kStepBytes = 2048;  // two tiles of each operand a step

// GMAC/s of `steps` steps, rows cycling through a_bytes of a, weights through b_bytes of b.
double Rate(const uint8_t* a, int64_t a_bytes, const int8_t* b, int64_t b_bytes, int64_t steps) {
  probe::ZeroSums();
  int64_t ia = 0, ib = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    probe::Step(a + ia, a + ia + 1024, 64, b + ib);
    ia = ia + kStepBytes < a_bytes ? ia + kStepBytes : 0;
    ib = ib + kStepBytes < b_bytes ? ib + kStepBytes : 0;
  }
  alignas(64) static int32_t sums[32 * 32];
  probe::StoreSums(sums);
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  asm volatile("" : : "r"(sums) : "memory");
  return static_cast<double>(steps) * 4 * 16 * 16 * 64 / ns;
}

}  // namespace

int main() {
  if (!probe::StartTiles("placement")) return 2;
  constexpr int64_t kMax = 4 << 20;
  auto* a = static_cast<uint8_t*>(std::aligned_alloc(64, kMax));
  auto* b = static_cast<int8_t*>(std::aligned_alloc(64, kMax));
  for (int64_t i = 0; i < kMax; ++i) {
    a[i] = static_cast<uint8_t>(rand());
    b[i] = static_cast<int8_t>(rand());
  }
  const int64_t sizes[] = {16 << 10, 32 << 10, 256 << 10, 1 << 20, 4 << 20};
  const char* names[] = {"16 KB", "32 KB", "256 KB", "1 MB", "4 MB"};
  // The step on one tile's worth of each (the engine's StepPeak): the 100 % of the table, after
  // a warm-up of 100 runs (the first runs are slow while the core's clock settles).
  for (int r = 0; r < 100; ++r) Rate(a, kStepBytes, b, kStepBytes, 20000);
  double peak = 0;
  for (int r = 0; r < 7; ++r) peak = std::max(peak, Rate(a, kStepBytes, b, kStepBytes, 20000));
  const double dots = probe::DotGmacs();
  std::printf("tdpbusd alone (four sums, tiles loaded once): %.0f GMAC/s; the 64-k step on one tile each: %.0f GMAC/s,\n"
              "%.0f %% of that\n", dots, peak, 100 * peak / dots);
  std::printf("the 64-k step, rows cycling through A bytes and weights through B bytes: %% of its rate on one\n"
              "tile each, best of 5 runs of 20,000 steps\n  A \\ B ");
  for (const char* n : names) std::printf("%8s", n);
  std::printf("\n");
  for (int i = 0; i < 5; ++i) {
    std::printf("  %-6s", names[i]);
    for (int j = 0; j < 5; ++j) {
      double best = 0;
      for (int r = 0; r < 5; ++r) best = std::max(best, Rate(a, sizes[i], b, sizes[j], 20000));
      std::printf("%7.0f%%", 100 * best / peak);
    }
    std::printf("\n");
  }
  _tile_release();
  std::free(a);
  std::free(b);
  return 0;
}
