// Whether the bytes in the tiles change the AMX rates (issue 19; docs/benchmarks.md, the ninth
// session): the GEMM's 64-k step (four tile loads, four tdpbusd) and tdpbusd alone (tiles loaded
// once), on the same 4 KB of operands holding zeros, random bytes, 0xff, or bytes i·167 + 13 (the
// engine's peak loops' operands). Not part of the engine; run.sh builds and runs it.
#include "probe.h"

namespace {

alignas(64) uint8_t g_operands[4096];

}  // namespace

int main() {
  if (!probe::StartTiles("zero_operands")) return 2;
  const char* names[] = {"zeros", "random bytes", "0xff", "i*167+13"};
  std::printf("GMAC/s, the best of 7 rounds, three passes over the four fillings:\n  %-14s %8s %16s\n", "operands",
              "the step", "tdpbusd alone");
  for (int pass = 0; pass < 3; ++pass) {
    for (int fill = 0; fill < 4; ++fill) {
      for (int i = 0; i < 4096; ++i) {
        const int byte = fill == 0 ? 0 : fill == 1 ? rand() : fill == 2 ? 0xff : i * 167 + 13;
        g_operands[i] = static_cast<uint8_t>(byte);
      }
      probe::ZeroSums();
      auto step = [] { probe::Step(g_operands); };
      probe::BestNs(step, 100000, 3);  // warm-up
      const double step_gmacs = 4 * 16 * 16 * 64 / probe::BestNs(step, 100000);
      // The step left these operands in tiles 4..7.
      const double dots_gmacs = 4 * 16 * 16 * 64 / probe::BestNs(probe::Dots, 100000);
      std::printf("  %-14s %8.0f %16.0f\n", names[fill], step_gmacs, dots_gmacs);
    }
  }
  _tile_release();
  return 0;
}
