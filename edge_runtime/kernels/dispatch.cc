#include "kernels/dispatch.h"

#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace intedge {

#if defined(__x86_64__)
namespace {

// Linux hands out AMX's 8 KB of tile data per process, on request
// (arch/x86/include/uapi/asm/prctl.h); a tile instruction before that
// faults. Asked once, and only of CPUs with AMX-INT8 that the OS enables.
bool AmxGranted(unsigned xcr0_lo, unsigned cpuid7_edx) {
  constexpr unsigned kAmxTile = 1u << 24, kAmxInt8 = 1u << 25;  // CPUID.(7,0):EDX
  constexpr unsigned kXtileState = 3u << 17;                      // XCR0: XTILECFG, XTILEDATA
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if ((cpuid7_edx & (kAmxTile | kAmxInt8)) != (kAmxTile | kAmxInt8) || (xcr0_lo & kXtileState) != kXtileState) {
    return false;
  }
  static const bool granted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return granted;
}

}  // namespace
#endif

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvxVnni: return "avxvnni";
    case Isa::kAvx512Vnni: return "avx512vnni";
    case Isa::kNeon: return "neon";
    case Isa::kNeonDotprod: return "neon-dotprod";
    case Isa::kNeonI8mm: return "neon-i8mm";
    case Isa::kAmx: return "amx";
  }
  return "?";
}

const std::vector<Isa>& KnownIsas() {
  static const std::vector<Isa> all = {Isa::kScalar, Isa::kAvx2,        Isa::kAvxVnni,  Isa::kAvx512Vnni, Isa::kAmx,
                                       Isa::kNeon,   Isa::kNeonDotprod, Isa::kNeonI8mm};
  return all;
}

bool ParseIsa(const std::string& name, Isa* isa) {
  for (Isa i : KnownIsas()) {
    if (name == IsaName(i)) {
      *isa = i;
      return true;
    }
  }
  return false;
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> isas = {Isa::kScalar};
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return isas;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_avx = (xcr0_lo & 0x6) == 0x6, os_avx512 = (xcr0_lo & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return isas;
  // The AVX-512 files are built with F, BW, VL and DQ (shiftmax_avx512.cc): all four must be there.
  const bool avx2 = os_avx && (b & bit_AVX2);
  const bool avx512 = os_avx512 && (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512VL) && (b & bit_AVX512DQ);
  const bool avx512vnni = avx512 && (c & bit_AVX512VNNI);
  const unsigned cpuid7_edx = d;
  __get_cpuid_count(7, 1, &a, &b, &c, &d);
  const bool avxvnni = avx2 && (a & (1u << 4));
  // Only paths with kernels in this build are offered.
#if defined(INTEDGE_X86_KERNELS)
  if (avx2) isas.push_back(Isa::kAvx2);
  if (avxvnni) isas.push_back(Isa::kAvxVnni);
  if (avx512vnni) isas.push_back(Isa::kAvx512Vnni);
  if (avx512vnni && AmxGranted(xcr0_lo, cpuid7_edx)) isas.push_back(Isa::kAmx);
#else
  (void)avx2;
  (void)avxvnni;
  (void)avx512vnni;
  (void)cpuid7_edx;
#endif
#elif defined(__aarch64__)
  isas.push_back(Isa::kNeon);  // baseline on AArch64
  const bool dotprod = getauxval(AT_HWCAP) & (1ul << 20);  // HWCAP_ASIMDDP
  const bool i8mm = getauxval(AT_HWCAP2) & (1ul << 13);    // HWCAP2_I8MM
  if (dotprod) isas.push_back(Isa::kNeonDotprod);
  if (dotprod && i8mm) isas.push_back(Isa::kNeonI8mm);  // Armv8.6 has both; listed in order of preference
#endif
  return isas;
}

bool CpuHasAvx512Vbmi() {
#if defined(__x86_64__)
  // Asked once: CPUID traps to the hypervisor in a VM.
  static const bool has = [] {
    unsigned a, b, c, d;
    // The AVX-512 ISA check (SupportedIsas) has covered the OS state; VBMI is CPUID.(7,0):ECX bit 1.
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & bit_AVX512VBMI);
  }();
  return has;
#else
  return false;
#endif
}

std::unique_ptr<GemmKernel> MakeGemm(Isa isa, const GemmWeights& w) {
  std::unique_ptr<GemmKernel> simd = MakeMatMulGemm(isa, w);
  return simd ? std::move(simd) : MakeGemmScalar(w);
}

// The SIMD makers take any operands whose shifted sums fit int32 (Dot4Fits), which
// qmatmul's Prepare guarantees; they fall back to scalar only for qlinears.
std::unique_ptr<GemmKernel> MakeMatMulGemm(Isa isa, const GemmWeights& w) {
  switch (isa) {
#if defined(INTEDGE_X86_KERNELS)
    case Isa::kAvx512Vnni: return MakeGemmAvx512Vnni(w);
    case Isa::kAmx: return MakeGemmAmx(w);
    case Isa::kAvxVnni: return MakeGemmAvxVnni(w);
    case Isa::kAvx2: return MakeGemmAvx2(w);
#elif defined(__aarch64__)
    case Isa::kNeon: return MakeGemmNeon(w);
    case Isa::kNeonDotprod: return MakeGemmNeonDotprod(w);
    case Isa::kNeonI8mm: return MakeGemmNeonI8mm(w);
#endif
    default: return nullptr;
  }
}

int64_t PeakMacs(Isa isa, int64_t iters) {
  switch (isa) {
#if defined(INTEDGE_X86_KERNELS)
    case Isa::kAvx512Vnni: return PeakMacsAvx512Vnni(iters);
    case Isa::kAmx: return PeakMacsAmx(iters);
    case Isa::kAvxVnni: return PeakMacsAvxVnni(iters);
    case Isa::kAvx2: return PeakMacsAvx2(iters);
#elif defined(__aarch64__)
    case Isa::kNeon: return PeakMacsNeon(iters);
    case Isa::kNeonDotprod: return PeakMacsNeonDotprod(iters);
    case Isa::kNeonI8mm: return PeakMacsNeonI8mm(iters);
#endif
    default: return 0;
  }
}

int64_t StepPeakMacs(Isa isa, int64_t iters) {
#if defined(INTEDGE_X86_KERNELS)
  if (isa == Isa::kAmx) return StepPeakMacsAmx(iters);
#endif
  (void)isa, (void)iters;
  return 0;
}

template <typename In>
Kernel<ShiftmaxFn<In>> ShiftmaxFor(Isa isa) {
#if defined(INTEDGE_X86_KERNELS)
  if (UsesAvx512(isa)) return MakeKernel(&ShiftmaxAvx512<In>, "shiftmax_avx512");
  if (isa == Isa::kAvx2 || isa == Isa::kAvxVnni) return INTEDGE_KERNEL(shiftmax, avx2, <In>);
#elif defined(__aarch64__)
  if (isa != Isa::kScalar) return MakeKernel(&ShiftmaxNeon<In>, "shiftmax_neon");
#endif
  (void)isa;
  return INTEDGE_KERNEL(shiftmax, scalar, <In>);
}
template Kernel<ShiftmaxFn<int8_t>> ShiftmaxFor<int8_t>(Isa);
template Kernel<ShiftmaxFn<int32_t>> ShiftmaxFor<int32_t>(Isa);

}  // namespace intedge
