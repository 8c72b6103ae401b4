// intedge-gemm-bench: the int8 GEMM kernel alone, on one core, against the
// core's measured int8 peak. Prints one JSON object per shape.
//
//   intedge-gemm-bench [--shape MxKxN]... [--isa NAME] [--weights w8|w4|act|act-t] [--runs N] [--peak]
//
// The peak is measured, not computed from a clock and a datasheet constant
// (which overstated it twice over on one Xeon): the ISA's own multiply
// instruction (vpdpbusd, tdpbusd, sdot, smmla) in a loop of independent
// sums (kernels/dispatch.h's PeakMacs), best of several timed rounds.
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

// GMAC/s of the ISA's multiply instruction on this core: the best of
// kRounds rounds of about 50 ms each (on a shared machine, the best round
// is the one least disturbed). 0 for scalar, which has none.
double MeasuredPeakGmacs(Isa isa) {
  constexpr int kRounds = 7;
  int64_t iters = 1 << 10;
  double best = 0;
  for (int round = 0; round < kRounds;) {
    const auto t0 = Clock::now();
    const int64_t macs = intedge::PeakMacs(isa, iters);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (macs == 0) return 0;
    if (s < 0.05) {  // too short to time well: longer, and not counted
      iters *= 2;
      continue;
    }
    best = std::max(best, static_cast<double>(macs) / s / 1e9);
    ++round;
  }
  return best;
}

bool ParseShape(const char* s, Shape* out) {
  return std::sscanf(s, "%ldx%ldx%ld", &out->m, &out->k, &out->n) == 3 && out->m > 0 && out->k > 0 && out->n > 0 &&
         out->m * out->k <= (int64_t{1} << 28) && out->k * out->n <= (int64_t{1} << 28);
}

int Usage(FILE* to, int code) {
  std::fprintf(to,
               "usage: intedge-gemm-bench [--shape MxKxN]... [--isa NAME] [--weights w8|w4|act|act-t] [--runs N] "
               "[--peak]\n"
               "Times y[M,N] = requant(x[M,K]·w[N,K]ᵀ) on one core (median of N runs, default 50) and prints,\n"
               "per shape, one JSON object: GMAC/s, the ISA's measured int8 peak (its multiply instruction in a\n"
               "loop of independent sums: vpdpbusd, tdpbusd, sdot or smmla) and the fraction of it reached.\n"
               "--weights act / act-t: an attention product instead, whose right operand is an activation\n"
               "repacked before every run, [K, N] with uint8 rows (probabilities · V) or [N, K] (Q · Kᵀ); int32\n"
               "out; repack_ms is the repack's share of median_ms.\n"
               "--peak prints only the peak. Default shapes: 197x192x768 (DeiT-Tiny fc1) and 1024x1024x1024;\n"
               "default ISA: the best this CPU has.\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Shape> shapes;
  Isa isa = intedge::SupportedIsas().back();
  std::string weights = "w8";
  bool peak_only = false;
  int runs = 50;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    Shape s;
    if (arg == "--help" || arg == "-h") return Usage(stdout, 0);
    if (arg == "--peak") {
      peak_only = true;
      continue;
    }
    if (arg == "--shape" && has_value && ParseShape(argv[i + 1], &s)) {
      shapes.push_back(s);
    } else if (arg == "--isa" && has_value && intedge::ParseIsa(argv[i + 1], &isa)) {
      const auto ok = intedge::SupportedIsas();
      if (std::find(ok.begin(), ok.end(), isa) == ok.end()) {
        std::fprintf(stderr, "intedge-gemm-bench: this CPU cannot run %s\n", argv[i + 1]);
        return 1;
      }
    } else if (arg == "--weights" && has_value &&
               (!std::strcmp(argv[i + 1], "w8") || !std::strcmp(argv[i + 1], "w4") ||
                !std::strcmp(argv[i + 1], "act") || !std::strcmp(argv[i + 1], "act-t"))) {
      weights = argv[i + 1];
    } else if (arg == "--runs" && has_value && std::atoi(argv[i + 1]) > 0) {
      runs = std::atoi(argv[i + 1]);
    } else {
      return Usage(stderr, 2);
    }
    ++i;
  }
  const double peak = MeasuredPeakGmacs(isa);
  if (peak_only) {
    std::printf("{\"isa\": \"%s\", \"peak_gmacs\": %.1f}\n", intedge::IsaName(isa), peak);
    return 0;
  }
  if (shapes.empty()) shapes = {{197, 192, 768}, {1024, 1024, 1024}};
  const bool w4 = weights == "w4", activation = weights.rfind("act", 0) == 0;
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
    if (activation) {  // as linear_ops.cc's qmatmul makes its kernels
      gw.b_kn = weights == "act";
      gw.x_u8 = gw.b_kn;
      gw.out_bits = 32;
      gw.repacked = true;
    }
    gw.bias = bias.data();
    gw.mult = mult.data();
    gw.shift = shift.data();
    // An attention product runs a SIMD kernel, or the scalar qmatmul, which is no GemmKernel.
    auto kernel = activation ? intedge::MakeMatMulGemm(isa, gw) : intedge::MakeGemm(isa, gw);
    if (!kernel) {
      std::fprintf(stderr, "intedge-gemm-bench: %s has no attention-product kernel (the engine runs the scalar "
                           "qmatmul)\n", intedge::IsaName(isa));
      return 2;
    }
    std::vector<int32_t> y(static_cast<size_t>(s.m * s.n));  // room for int32 out
    std::vector<double> seconds, repack_seconds;
    for (int r = 0; r < runs + 3; ++r) {
      const auto t0 = Clock::now();
      if (activation) kernel->SetRight(w8.data());
      const auto t1 = Clock::now();
      if (!kernel->Run(x.data(), 0, s.m, y.data())) {
        std::fprintf(stderr, "intedge-gemm-bench: out of memory\n");
        return 1;
      }
      if (r >= 3) {
        seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        repack_seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
      }
    }
    std::sort(seconds.begin(), seconds.end());
    std::sort(repack_seconds.begin(), repack_seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double gmacs = static_cast<double>(s.m * s.k * s.n) / median / 1e9;
    std::printf("{\"m\": %ld, \"k\": %ld, \"n\": %ld, \"isa\": \"%s\", \"weights\": \"%s\", \"median_ms\": %.4f, "
                "\"repack_ms\": %.4f, \"gmacs\": %.1f, \"peak_gmacs\": %.1f, \"peak_fraction\": %.3f}\n",
                s.m, s.k, s.n, intedge::IsaName(isa), weights.c_str(), median * 1e3,
                repack_seconds[repack_seconds.size() / 2] * 1e3, gmacs, peak, peak > 0 ? gmacs / peak : 0.0);
  }
  return 0;
}
