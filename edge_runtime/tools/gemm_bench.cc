// intedge-gemm-bench: the int8 GEMM kernel alone, on one core, against the
// core's measured int8 peak. Prints one JSON object per shape.
//
//   intedge-gemm-bench [--shape MxKxN]... [--isa NAME] [--weights w8|w4|act|act-t] [--runs N] [--peak]
//
// The peak is measured, not computed from a clock and a datasheet constant
// (which overstated it twice over on one Xeon): the ISA's own multiply
// instruction (vpdpbusd, tdpbusd, sdot, smmla) in a loop of independent
// sums (kernels/dispatch.h's PeakMacs), best of several timed rounds. On
// AMX, step_gmacs is the GEMM's own block step with its tile loads, on
// operands in L1 (StepPeakMacs): how close its loop comes to the peak when
// the operands' traffic and the epilogue are out of the way.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/aligned.h"
#include "kernels/dispatch.h"

namespace {

using intedge::Isa;
using Clock = std::chrono::steady_clock;

struct Shape {
  int64_t m, k, n;
};

// GMAC/s of one of dispatch.h's measured loops (PeakMacs, StepPeakMacs) on
// this core: the best of kRounds rounds of about 50 ms each (on a shared
// machine, the best round is the one least disturbed). 0 where the ISA has
// no such loop (scalar has no multiply instruction; only AMX has a step).
double MeasuredGmacs(int64_t (*loop)(Isa, int64_t), Isa isa) {
  constexpr int kRounds = 7;
  int64_t iters = 1 << 10;
  double best = 0;
  for (int round = 0; round < kRounds;) {
    const auto t0 = Clock::now();
    const int64_t macs = loop(isa, iters);
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
  int end = 0;  // the whole argument is the shape: "2x2x2x2" is not 2x2x2
  return std::sscanf(s, "%ldx%ldx%ld%n", &out->m, &out->k, &out->n, &end) == 3 && s[end] == '\0' && out->m > 0 &&
         out->k > 0 && out->n > 0 && out->m * out->k <= (int64_t{1} << 28) && out->k * out->n <= (int64_t{1} << 28);
}

int Usage(FILE* to, int code) {
  std::fprintf(to,
               "usage: intedge-gemm-bench [--shape MxKxN]... [--isa NAME] [--weights w8|w4|act|act-t] [--runs N] "
               "[--peak]\n"
               "Times y[M,N] = requant(x[M,K]·w[N,K]ᵀ) on one core (median of N runs, default 50) and prints,\n"
               "per shape, one JSON object: GMAC/s, the ISA's measured int8 peak (its multiply instruction in a\n"
               "loop of independent sums: vpdpbusd, tdpbusd, sdot or smmla) and the fraction of it reached;\n"
               "on AMX also step_gmacs, the GEMM's own 64-k block step (four tile loads, four tdpbusd) on\n"
               "operands in L1: its loop without the operands' traffic or the epilogue (null on other ISAs).\n"
               "--weights act / act-t: an attention product instead, whose right operand is an activation\n"
               "repacked before every run, [K, N] with uint8 rows (probabilities · V) or [N, K] (Q · Kᵀ); int32\n"
               "out; repack_ms is the repack's share of median_ms.\n"
               "--peak prints only the peak (null for scalar, which has no multiply instruction to time) and\n"
               "step_gmacs (null except on AMX).\n"
               "Default shapes: 197x192x768 (DeiT-Tiny fc1) and 1024x1024x1024; with act-t 197x64x197 and with\n"
               "act 197x197x64 (DeiT-Tiny's attention). Default ISA: the best this CPU has.\n");
  return code;
}

// One line naming what was wrong, then the usage.
int BadArgument(const std::string& what) {
  std::fprintf(stderr, "intedge-gemm-bench: %s\n", what.c_str());
  return Usage(stderr, 2);
}

// A JSON number, or null for 0 (scalar's peak; the step off AMX; a qlinear's repack).
std::string NumberOrNull(double v, const char* format) {
  if (v == 0) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
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
    if (arg != "--shape" && arg != "--isa" && arg != "--weights" && arg != "--runs") {
      return BadArgument("unknown option " + arg);
    }
    if (!has_value) return BadArgument(arg + " needs a value");
    const std::string value = argv[i + 1];
    if (arg == "--shape") {
      if (!ParseShape(value.c_str(), &s)) {
        return BadArgument("--shape " + value + ": expected MxKxN, each ≥ 1, M·K and K·N at most 2^28");
      }
      shapes.push_back(s);
    } else if (arg == "--isa") {
      const auto ok = intedge::SupportedIsas();
      if (!intedge::ParseIsa(value, &isa)) return BadArgument("--isa " + value + ": unknown ISA");
      if (std::find(ok.begin(), ok.end(), isa) == ok.end()) {
        std::string have;
        for (Isa h : ok) have += std::string(have.empty() ? "" : ", ") + intedge::IsaName(h);
        std::fprintf(stderr, "intedge-gemm-bench: this CPU cannot run %s (it has: %s)\n", value.c_str(), have.c_str());
        return 2;
      }
    } else if (arg == "--weights") {
      if (value != "w8" && value != "w4" && value != "act" && value != "act-t") {
        return BadArgument("--weights " + value + ": expected w8, w4, act or act-t");
      }
      weights = value;
    } else if (std::atoi(value.c_str()) <= 0) {
      return BadArgument("--runs " + value + ": expected a count ≥ 1");
    } else {
      runs = std::atoi(value.c_str());
    }
    ++i;
  }
  const double peak = MeasuredGmacs(&intedge::PeakMacs, isa), step = MeasuredGmacs(&intedge::StepPeakMacs, isa);
  const std::string peaks = "\"peak_gmacs\": " + NumberOrNull(peak, "%.1f") + ", \"step_gmacs\": " + NumberOrNull(step, "%.1f");
  if (peak_only) {
    std::printf("{\"isa\": \"%s\", %s}\n", intedge::IsaName(isa), peaks.c_str());
    return 0;
  }
  const bool w4 = weights == "w4", activation = weights.rfind("act", 0) == 0;
  if (shapes.empty() && activation) shapes = {weights == "act" ? Shape{197, 197, 64} : Shape{197, 64, 197}};
  if (shapes.empty()) shapes = {{197, 192, 768}, {1024, 1024, 1024}};
  for (const Shape& s : shapes) {
    if (w4 && s.k % 32 != 0) {
      std::fprintf(stderr, "intedge-gemm-bench: W4 needs K a multiple of the group size 32\n");
      return 2;
    }
    // Deterministic, varied operands, not zeros: AMX's tile loads of zeros
    // run faster (kernels/x86/amx_tiles.h, PeakOperands).
    // The requant is a typical layer's: a multiplier in [2^30, 2^31) and a
    // shift of 40 (an output scale 2^10 times the accumulator's).
    // x and y 64-byte aligned, as the engine's arena places every
    // activation: a tile or vector row read off a cache line's start
    // touches two lines, and a 64-byte store there (an attention product's
    // int32 row of 16) splits in two (with y from malloc, 16-byte aligned,
    // 128x32x128 act-t took 0.0048 ms rather than 0.0030).
    intedge::AlignedArray<int8_t> x;
    intedge::AlignedArray<int32_t> y;  // room for int32 out
    if (!x.Resize(static_cast<size_t>(s.m * s.k)) || !y.Resize(static_cast<size_t>(s.m * s.n))) {
      std::fprintf(stderr, "intedge-gemm-bench: out of memory\n");
      return 1;
    }
    std::vector<int8_t> w8(static_cast<size_t>(s.n * s.k));
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
    if (!activation) gw.bias = bias.data();  // a qmatmul has none
    gw.mult = mult.data();
    gw.shift = shift.data();
    // An attention product runs a SIMD kernel, or the scalar qmatmul, which is no GemmKernel.
    auto kernel = activation ? intedge::MakeMatMulGemm(isa, gw) : intedge::MakeGemm(isa, gw);
    if (!kernel) {
      std::fprintf(stderr, "intedge-gemm-bench: %s has no attention-product kernel (the engine runs the scalar "
                           "qmatmul)\n", intedge::IsaName(isa));
      return 2;
    }
    std::vector<double> seconds, repack_seconds;
    for (int r = 0; r < runs + 3; ++r) {
      const auto t0 = Clock::now();
      if (activation) kernel->SetRight(w8.data(), s.n);
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
                "\"repack_ms\": %s, \"gmacs\": %.1f, %s, \"peak_fraction\": %s}\n",
                s.m, s.k, s.n, intedge::IsaName(isa), weights.c_str(), median * 1e3,
                activation ? NumberOrNull(repack_seconds[repack_seconds.size() / 2] * 1e3, "%.4f").c_str() : "null",
                gmacs, peaks.c_str(), NumberOrNull(peak > 0 ? gmacs / peak : 0.0, "%.3f").c_str());
  }
  return 0;
}
