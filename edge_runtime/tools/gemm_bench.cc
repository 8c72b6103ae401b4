// intedge-gemm-bench: the int8 GEMM kernel alone, on one core, against the
// machine's int8 peak. Prints one JSON object per shape.
//
//   intedge-gemm-bench [--shape MxKxN]... [--isa NAME] [--weights w8|w4] [--runs N]
//
// The peak is the ISA's dot-product width times its issue rate (AVX-512
// VNNI: 2 vpdpbusd × 64 MACs per cycle) times the core's clock, which is
// measured here with a chain of dependent one-cycle adds, so the fraction
// holds whatever the turbo state of a shared machine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace {

using intedge::Isa;
using Clock = std::chrono::steady_clock;

struct Shape {
  int64_t m, k, n;
};

// MACs one core retires per cycle at best, or 0 where the ISA has no single
// dot-product instruction to count (the AVX2 and plain NEON emulations).
int PeakMacsPerCycle(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni: return 2 * 64;
    case Isa::kAvxVnni: return 2 * 32;
    case Isa::kNeonDotprod: return 2 * 16;
    case Isa::kNeonI8mm: return 2 * 32;
    default: return 0;
  }
}

// Cycles per second of this core: 4 dependent adds per iteration, one cycle each.
double ClockHz() {
  constexpr long kIters = 50'000'000;
  uint64_t x = 0;
  const auto t0 = Clock::now();
  for (long i = 0; i < kIters; ++i) {
#if defined(__x86_64__)
    asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
#elif defined(__aarch64__)
    asm volatile("add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1" : "+r"(x));
#endif
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return 4.0 * kIters / s;
}

bool ParseShape(const char* s, Shape* out) {
  return std::sscanf(s, "%ldx%ldx%ld", &out->m, &out->k, &out->n) == 3 && out->m > 0 && out->k > 0 && out->n > 0 &&
         out->m * out->k <= (int64_t{1} << 28) && out->k * out->n <= (int64_t{1} << 28);
}

int Usage(FILE* to, int code) {
  std::fprintf(to,
               "usage: intedge-gemm-bench [--shape MxKxN]... [--isa NAME] [--weights w8|w4] [--runs N]\n"
               "Times y[M,N] = requant(x[M,K]·w[N,K]ᵀ) on one core (median of N runs, default 50) and prints,\n"
               "per shape, one JSON object: GMAC/s, the core's measured clock, the ISA's int8 peak (MACs per\n"
               "cycle × clock) and the fraction of it reached. Default shapes: 197x192x768 (DeiT-Tiny fc1)\n"
               "and 1024x1024x1024; default ISA: the best this CPU has.\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Shape> shapes;
  Isa isa = intedge::SupportedIsas().back();
  bool w4 = false;
  int runs = 50;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    Shape s;
    if (arg == "--help" || arg == "-h") return Usage(stdout, 0);
    if (arg == "--shape" && has_value && ParseShape(argv[i + 1], &s)) {
      shapes.push_back(s);
    } else if (arg == "--isa" && has_value && intedge::ParseIsa(argv[i + 1], &isa)) {
      const auto ok = intedge::SupportedIsas();
      if (std::find(ok.begin(), ok.end(), isa) == ok.end()) {
        std::fprintf(stderr, "intedge-gemm-bench: this CPU cannot run %s\n", argv[i + 1]);
        return 1;
      }
    } else if (arg == "--weights" && has_value && (!std::strcmp(argv[i + 1], "w8") || !std::strcmp(argv[i + 1], "w4"))) {
      w4 = !std::strcmp(argv[i + 1], "w4");
    } else if (arg == "--runs" && has_value && std::atoi(argv[i + 1]) > 0) {
      runs = std::atoi(argv[i + 1]);
    } else {
      return Usage(stderr, 2);
    }
    ++i;
  }
  if (shapes.empty()) shapes = {{197, 192, 768}, {1024, 1024, 1024}};
  const double hz = ClockHz();
  for (const Shape& s : shapes) {
    if (w4 && s.k % 32 != 0) {
      std::fprintf(stderr, "intedge-gemm-bench: W4 needs K a multiple of the group size 32\n");
      return 2;
    }
    // Deterministic operands; their values do not change the kernel's speed.
    // The requant is a typical layer's: a multiplier in [2^30, 2^31) and a
    // shift of 40 (an output scale 2^10 times the accumulator's).
    std::vector<int8_t> x(static_cast<size_t>(s.m * s.k)), w8(static_cast<size_t>(s.n * s.k));
    std::vector<uint8_t> w4_bytes(static_cast<size_t>(s.n * s.k / 2));
    std::vector<int8_t> gscale(static_cast<size_t>(s.n * s.k / 32), 3), shift(static_cast<size_t>(s.n), 40);
    std::vector<int32_t> bias(static_cast<size_t>(s.n), 7), mult(static_cast<size_t>(s.n), 1 << 30);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 7 % 255 - 127);
    for (size_t i = 0; i < w8.size(); ++i) w8[i] = static_cast<int8_t>(i * 13 % 255 - 127);
    for (size_t i = 0; i < w4_bytes.size(); ++i) w4_bytes[i] = static_cast<uint8_t>(i * 29);
    intedge::GemmWeights gw;
    gw.N = s.n;
    gw.K = s.k;
    if (w4) {
      gw.w4 = w4_bytes.data();
      gw.group_scales = gscale.data();
      gw.group = 32;
    } else {
      gw.w8 = w8.data();
    }
    gw.bias = bias.data();
    gw.mult = mult.data();
    gw.shift = shift.data();
    auto kernel = intedge::MakeGemm(isa, gw);
    std::vector<int8_t> y(static_cast<size_t>(s.m * s.n));
    std::vector<double> seconds;
    for (int r = 0; r < runs + 3; ++r) {
      const auto t0 = Clock::now();
      if (!kernel->Run(x.data(), 0, s.m, y.data())) {
        std::fprintf(stderr, "intedge-gemm-bench: out of memory\n");
        return 1;
      }
      if (r >= 3) seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double gmacs = static_cast<double>(s.m * s.k * s.n) / median / 1e9;
    const double peak = PeakMacsPerCycle(isa) * hz / 1e9;
    std::printf("{\"m\": %ld, \"k\": %ld, \"n\": %ld, \"isa\": \"%s\", \"weights\": \"%s\", \"median_ms\": %.4f, "
                "\"gmacs\": %.1f, \"clock_ghz\": %.2f, \"peak_gmacs\": %.1f, \"peak_fraction\": %.3f}\n",
                s.m, s.k, s.n, intedge::IsaName(isa), w4 ? "w4" : "w8", median * 1e3, gmacs, hz / 1e9, peak,
                peak > 0 ? gmacs / peak : 0.0);
  }
  return 0;
}
