// Which instruction set runs the hot kernels, and the GEMM interface every
// ISA implements. The ISA is picked once per session: the best this CPU has
// (CPUID on x86, HWCAP on Arm), or the one INTEDGE_ISA names, so tests can
// run every path the machine supports. All paths give the same integers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace intedge {

// kAmx: AMX-INT8 tiles for the GEMMs, AVX-512 for the rest (every AMX CPU has it).
enum class Isa { kScalar, kAvx2, kAvxVnni, kAvx512Vnni, kNeon, kNeonDotprod, kNeonI8mm, kAmx };

// The ISAs whose non-GEMM kernels are the AVX-512 ones.
inline bool UsesAvx512(Isa isa) { return isa == Isa::kAvx512Vnni || isa == Isa::kAmx; }

const char* IsaName(Isa isa);
bool ParseIsa(const std::string& name, Isa* isa);
// Every ISA this library knows by name, on any CPU.
const std::vector<Isa>& KnownIsas();
// The ISAs this build and this CPU can run, scalar first, best last.
std::vector<Isa> SupportedIsas();

// The right operand of one product: a qlinear's weights as the file stores
// them, or (b_kn) the int8 right operand of a qmatmul.
struct GemmWeights {
  int64_t N = 0, K = 0;
  const int8_t* w8 = nullptr;            // [N, K] ([K, N] with b_kn), or null for int4
  bool b_kn = false;
  const uint8_t* w4 = nullptr;           // [N, K/2] nibbles (even k low)
  const int8_t* group_scales = nullptr;  // [N, K/group], in [1, 16]
  int64_t group = 0;
  const int32_t* bias = nullptr;         // [N] or null
  const int32_t* mult = nullptr;         // [N]
  const int8_t* shift = nullptr;         // [N]
  int out_bits = 8;                      // 8, 16, or 32 (the raw int32 sum, no requant)
  bool x_u8 = false;                     // rows are uint8 (Shiftmax output), else int8
  bool repacked = false;                 // a qmatmul's right operand, repacked before each run (so in cache)
};

// y[m, :] = requant(x[m, :]·wᵀ + bias) for rows [m0, m1), weights packed once
// for one ISA. Run is const and thread-safe: threads take disjoint rows. It
// returns false only when its scratch memory cannot be allocated.
class GemmKernel {
 public:
  virtual ~GemmKernel() = default;
  virtual bool Run(const void* x, int64_t m0, int64_t m1, void* y) const = 0;
  // A row count that splits Run's rows among threads without waste: a
  // multiple of the kernel's row tile.
  virtual int64_t row_grain() const { return 24; }  // the SIMD tiles' 8, 6, 4 and 2 rows
  // The kernel table's name for it: gemm_{w8a8,w4a8}_<isa>.
  virtual std::string name() const = 0;
  // Bytes this kernel holds beyond the file's constants (packed copies).
  virtual int64_t packed_bytes() const { return 0; }
  // A qmatmul kernel (MakeMatMulGemm) takes a new right operand of the same
  // shape and layout, repacked into the buffers it already has. Until the
  // next SetRight only output columns [0, columns) are needed (the keys an
  // attention mask keeps): a kernel may leave the others unwritten, and
  // skip repacking and multiplying them.
  virtual void SetRight(const int8_t* w8, int64_t columns) = 0;
  // From now on, write y as N / width matrices [rows, width], one after
  // another (column c of row m at ((c / width)·rows + m)·width + c % width):
  // the layout a head-split transpose gives. False where this kernel cannot
  // (it keeps writing y as [rows, N]) or already writes rows apart.
  virtual bool SetOutputBlocks(int64_t rows, int64_t width) {
    (void)rows, (void)width;
    return false;
  }
  // From now on, write row m of y at m·stride elements (stride ≥ N), so
  // that each row can start on a cache line where N would not. False where
  // this kernel cannot (it keeps writing y as [rows, N]) or already writes
  // output blocks.
  virtual bool SetOutputStride(int64_t stride) {
    (void)stride;
    return false;
  }
};

// The best GEMM this ISA has for these weights (falls back to scalar where a
// shape does not suit the SIMD kernel).
std::unique_ptr<GemmKernel> MakeGemm(Isa isa, const GemmWeights& w);
// A SIMD kernel for a qmatmul's operands (b_kn, x_u8, out_bits 32 allowed),
// or null when this ISA has none (the op then runs the scalar qmatmul).
std::unique_ptr<GemmKernel> MakeMatMulGemm(Isa isa, const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmScalar(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmAvx512Vnni(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmAvxVnni(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmAvx2(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmNeon(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmNeonDotprod(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmNeonI8mm(const GemmWeights& w);
std::unique_ptr<GemmKernel> MakeGemmAmx(const GemmWeights& w);

// The ISA's int8 multiply instruction (vpdpbusd, sdot, smmla, tdpbusd, or
// its emulation) in a loop of independent sums, `iters` rounds on this
// thread: the MACs done, 0 for scalar. Timed, it is the measured peak that
// intedge-gemm-bench holds the GEMM against.
int64_t PeakMacs(Isa isa, int64_t iters);
// AMX only (0 elsewhere): the GEMM's own block step, tile loads and all, on
// operands in L1 (amx_tiles.h StepPeak): its loop without the operands'
// traffic from L2 and memory or the epilogue.
int64_t StepPeakMacs(Isa isa, int64_t iters);
int64_t PeakMacsAvx2(int64_t iters);
int64_t PeakMacsAvxVnni(int64_t iters);
int64_t PeakMacsAvx512Vnni(int64_t iters);
int64_t PeakMacsAmx(int64_t iters);
int64_t StepPeakMacsAmx(int64_t iters);
int64_t PeakMacsNeon(int64_t iters);
int64_t PeakMacsNeonDotprod(int64_t iters);
int64_t PeakMacsNeonI8mm(int64_t iters);

// A kernel function chosen for a session's ISA, with the name the kernel
// table shows for it ("shiftmax_avx512"). Ops pick theirs once, in Prepare.
template <typename F>
struct Kernel {
  F fn = nullptr;
  const char* name = "";
};
template <typename F>
Kernel<F> MakeKernel(F fn, const char* name) {
  return {fn, name};
}

// Shiftmax over rows (kernels.h's shiftmax_scalar signature), per input type.
template <typename In>  // int8_t, int32_t
using ShiftmaxFn = void (*)(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols,
                            int32_t mult, int shift, uint8_t* y);
// The ISA's Shiftmax, or the scalar oracle where it has none.
template <typename In>
Kernel<ShiftmaxFn<In>> ShiftmaxFor(Isa isa);
template <typename In>  // int8_t, int32_t
void ShiftmaxAvx512(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                    int shift, uint8_t* y);
template <typename In>
void ShiftmaxNeon(const In* x, int64_t x_stride, const uint8_t* keep, int64_t rows, int64_t cols, int32_t mult,
                  int shift, uint8_t* y);

// The elementwise kernels as this ISA has them: the AVX-512 kernels where
// the session runs avx512vnni or amx, and for requant, qadd and I-LayerNorm the
// portable loops compiled with AVX2 where it runs avx2 or avxvnni; else the
// scalar ones. INTEDGE_PICK(isa, name, <types>) is the Kernel of
// kernels::name_avx512<types> or kernels::name_scalar<types>,
// INTEDGE_PICK_AVX2 also name_avx2; those names exist only in x86 builds.
#define INTEDGE_KERNEL(name, suffix, ...) MakeKernel(&kernels::name##_##suffix __VA_ARGS__, #name "_" #suffix)
#if defined(INTEDGE_X86_KERNELS)
#define INTEDGE_PICK(isa, name, ...) \
  (UsesAvx512(isa) ? INTEDGE_KERNEL(name, avx512, __VA_ARGS__) : INTEDGE_KERNEL(name, scalar, __VA_ARGS__))
#define INTEDGE_PICK_AVX2(isa, name, ...)                                         \
  (UsesAvx512(isa)                                   ? INTEDGE_KERNEL(name, avx512, __VA_ARGS__) \
   : (isa) == Isa::kAvx2 || (isa) == Isa::kAvxVnni ? INTEDGE_KERNEL(name, avx2, __VA_ARGS__)   \
                                                     : INTEDGE_KERNEL(name, scalar, __VA_ARGS__))
#else
#define INTEDGE_PICK(isa, name, ...) ((void)(isa), INTEDGE_KERNEL(name, scalar, __VA_ARGS__))
#define INTEDGE_PICK_AVX2 INTEDGE_PICK
#endif
template <typename In, typename Out>
auto RequantFor(Isa isa) { return INTEDGE_PICK_AVX2(isa, requant, <In, Out>); }
template <typename A, typename B, typename Out>
auto QAddFor(Isa isa) { return INTEDGE_PICK_AVX2(isa, qadd, <A, B, Out>); }
template <typename In, typename Out>
auto ILayerNormFor(Isa isa) {
#if defined(__aarch64__)
  if (isa != Isa::kScalar) return INTEDGE_KERNEL(ilayernorm, neon, <In, Out>);
#endif
  return INTEDGE_PICK_AVX2(isa, ilayernorm, <In, Out>);
}
// Two I-LayerNorms of one input from one pass of statistics, or a null fn
// where the ISA has no such kernel (the op then runs ILayerNormFor twice).
template <typename In, typename Out1, typename Out2>
auto ILayerNormPairFor([[maybe_unused]] Isa isa) {
  using Fn = decltype(&kernels::ilayernorm_pair_avx512<In, Out1, Out2>);
#if defined(INTEDGE_X86_KERNELS)
  if (UsesAvx512(isa)) return INTEDGE_KERNEL(ilayernorm_pair, avx512, <In, Out1, Out2>);
#endif
  return Kernel<Fn>{};
}
template <typename Out>
auto QuantizeFor(Isa isa) { return INTEDGE_PICK(isa, quantize, <Out>); }

// The decoder's kernels (kernels.h), which every path has from the portable
// loops: avx512, avx2, or on Arm neon; else scalar.
#if defined(INTEDGE_X86_KERNELS)
#define INTEDGE_PICK_PORTABLE INTEDGE_PICK_AVX2
#elif defined(__aarch64__)
#define INTEDGE_PICK_PORTABLE(isa, name, ...)                                                  \
  ((isa) != Isa::kScalar ? INTEDGE_KERNEL(name, neon, __VA_ARGS__) : INTEDGE_KERNEL(name, scalar, __VA_ARGS__))
#else
#define INTEDGE_PICK_PORTABLE INTEDGE_PICK
#endif
inline auto RopeFor(Isa isa) { return INTEDGE_PICK_PORTABLE(isa, rope); }
inline auto SwigluFor(Isa isa) { return INTEDGE_PICK_PORTABLE(isa, swiglu); }
inline auto AttentionScoresFor(Isa isa) { return INTEDGE_PICK_PORTABLE(isa, attention_scores); }
inline auto AttentionValuesFor(Isa isa) { return INTEDGE_PICK_PORTABLE(isa, attention_values); }

// AVX-512 VBMI (byte permutes), which not every AVX-512 VNNI CPU has.
bool CpuHasAvx512Vbmi();
inline auto TableRequantFor(Isa isa) {
#if defined(INTEDGE_X86_KERNELS)
  if (UsesAvx512(isa) && CpuHasAvx512Vbmi()) return INTEDGE_KERNEL(table_requant, vbmi);
#endif
  return INTEDGE_PICK(isa, table_requant);
}
inline auto Lookup256For(Isa isa) {
#if defined(INTEDGE_X86_KERNELS)
  if (UsesAvx512(isa) && CpuHasAvx512Vbmi()) return INTEDGE_KERNEL(lookup256, vbmi);
  if (isa != Isa::kScalar) return INTEDGE_KERNEL(lookup256, avx2);  // AVX-512 CPUs have AVX2 as well
#elif defined(__aarch64__)
  if (isa != Isa::kScalar) return INTEDGE_KERNEL(lookup256, neon);
#endif
  (void)isa;
  return INTEDGE_KERNEL(lookup256, scalar);
}

struct KernelSet {
  Isa isa = Isa::kScalar;
};

}  // namespace intedge
