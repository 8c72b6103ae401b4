// Standalone int8 GEMM on SME's ZA tiles (smopa / usmopa), checked exactly
// against a scalar int32 reference. GCC 12 has no SME flag or ACLE, so the
// streaming part is one inline-asm block (.arch_extension sme); the file is
// built for plain Armv8.2-a (+dotprod), so nothing outside the block needs SVE.
//
// C[M, N] (int32, row stride ldc) = A[M, K] (int8, or uint8) · B[N, K]ᵀ (int8) + bias[N].
//
// S = SVL in bytes (rdsvl), L = S/4 = int32 lanes = rows (and columns) of one za.s tile.
// smopa za<t>.s, Pn/m, Pm/m, Zn.b, Zm.b adds, for i, j < L,
//     ZA<t>[i][j] += Σ_{b<4} Zn.b[4i + b] · Zm.b[4j + b]
// so both operands are "L lanes × 4 k-bytes": the layout gemm_dot4.h already
// packs weights in, with kNR = L. A band is 2L rows × all columns; a tile is
// 2L × 2L (za0..za3 as 2 × 2), 2 + 2 vector loads per 4 smopa per k-step of 4.
#include <sys/auxv.h>
#include <sys/prctl.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Streaming vector length in bytes. rdsvl is legal outside streaming mode.
int64_t SvlBytes() {
  int64_t s;
  __asm__ volatile(".arch_extension sme\n rdsvl %0, #1" : "=r"(s));
  return s;
}

// rows × K bytes (row stride `stride`) → blocks of L rows, 4 k per lane, the
// two blocks of a pair alternating vector by vector (gemm_dot4.h's VectorAt):
// byte ((blk/2)·steps·2 + q·2 + blk%2)·S + (r%L)·4 + k%4 for blk = r/L, q = k/4.
// Rows are padded to 2L, k to a multiple of 4, both with zeros.
std::vector<uint8_t> PackPairs(const uint8_t* src, int64_t rows, int64_t K, int64_t stride, int64_t S) {
  const int64_t L = S / 4, steps = RoundUp(K > 0 ? K : 1, 4) / 4, rp = RoundUp(rows, 2 * L);
  std::vector<uint8_t> out(static_cast<size_t>(rp * steps * 4), 0);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t blk = r / L;
    uint8_t* base = out.data() + ((blk / 2) * steps * 2 + (blk % 2)) * S + (r % L) * 4;
    for (int64_t k = 0; k < K; ++k) base[(k / 4) * 2 * S + k % 4] = src[r * stride + k];
  }
  return out;
}

// Per column pair, the epilogue's constants: 12 vectors of S bytes (PackEpilogue).
//   0, 1: bias (int32) of the pair's two L-column halves; 2, 3: multipliers (int32);
//   4..7: half 0's rounding 2^(s−1) of its even columns, of its odd columns, then the
//   shifts s of its even and odd columns (int64: smullb / smullt split a vector into
//   even and odd lanes); 8..11: the same for half 1.
constexpr int kEpiVectors = 12;

// The epilogue of za<t>: rows [0, ROWS) of the tile read out with mova, + bias;
// for int8 output (OUT8 = 1) the dyadic requant of arith.h's Requantize,
// sat8((z·m + 2^(s−1)) >> s) with a 64-bit product, in streaming SVE2; then a
// predicated store of the valid columns (PRED), rows ldc bytes apart from BASE.
#define EPI_REQUANT(B, M, RE, RO, SE, SO)                                         \
  "smullb z10.d, z4.s, " M ".s\n"                                                 \
  "smullt z11.d, z4.s, " M ".s\n"                                                 \
  "add z10.d, z10.d, " RE ".d\n"                                                  \
  "add z11.d, z11.d, " RO ".d\n"                                                  \
  "asr z10.d, p0/m, z10.d, " SE ".d\n"                                            \
  "asr z11.d, p0/m, z11.d, " SO ".d\n"                                            \
  "sqxtnb z4.s, z10.d\n"    /* even lanes, saturated to int32 (odd lanes zeroed) */ \
  "sqxtnt z4.s, z11.d\n"    /* odd lanes */                                       \
  "smax z4.s, z4.s, #-128\n"                                                      \
  "smin z4.s, z4.s, #127\n"
#define EPILOGUE(t, OUT8, B, M, RE, RO, SE, SO, PRED, BASE, ROWS)                 \
  "mov x11, " BASE "\n"                                                           \
  "mov w12, #0\n"                                                                 \
  "cbz " ROWS ", 9" #t "f\n"                                                      \
  "8" #t ":\n"                                                                    \
  "mova z4.s, p0/m, za" #t "h.s[w12, 0]\n"                                        \
  "add z4.s, z4.s, " B ".s\n"                                                     \
  ".if " #OUT8 "\n" EPI_REQUANT(B, M, RE, RO, SE, SO)                             \
  "st1b {z4.s}, " PRED ", [x11]\n"   /* the low byte of each lane */              \
  ".else\n"                                                                       \
  "st1w {z4.s}, " PRED ", [x11]\n"                                                \
  ".endif\n"                                                                      \
  "add x11, x11, %[ldc]\n"                                                        \
  "add w12, w12, #1\n"                                                            \
  "cmp x12, " ROWS "\n"                                                           \
  "b.lt 8" #t "b\n"                                                               \
  "9" #t ":\n"

// smopa, or usmopa for uint8 rows: the whole streaming section of one band.
// LG: log2 of the output element's bytes (2: int32, 0: int8).
#define BAND_ASM(MOPA, OUT8, LG)                                                \
  ".arch_extension sme\n"                                                       \
  ".arch_extension sve2\n"                                                      \
  "smstart\n"                         /* SM and ZA on (Z, P, ZA all zeroed) */  \
  "ptrue p0.b\n"                                                                \
  "cntw x15\n"                        /* L */                                   \
  "mul x14, x15, %[ldc]\n"            /* byte offset of the band's row L */     \
  "1:\n"                              /* each column pair */                    \
  "zero {za}\n"                                                                 \
  "mov x9, %[a]\n"                                                              \
  "mov x10, %[steps]\n"                                                         \
  "2:\n"                                                                        \
  "ld1b {z0.b}, p0/z, [x9]\n"                                                   \
  "ld1b {z1.b}, p0/z, [x9, #1, mul vl]\n"                                       \
  "ld1b {z2.b}, p0/z, [%[b]]\n"                                                 \
  "ld1b {z3.b}, p0/z, [%[b], #1, mul vl]\n"                                     \
  MOPA " za0.s, p0/m, p0/m, z0.b, z2.b\n"                                       \
  MOPA " za1.s, p0/m, p0/m, z0.b, z3.b\n"                                       \
  MOPA " za2.s, p0/m, p0/m, z1.b, z2.b\n"                                       \
  MOPA " za3.s, p0/m, p0/m, z1.b, z3.b\n"                                       \
  "addvl x9, x9, #2\n"                                                          \
  "addvl %[b], %[b], #2\n"                                                      \
  "subs x10, x10, #1\n"                                                         \
  "b.ne 2b\n"                                                                   \
  "whilelt p1.s, xzr, %[n]\n"          /* columns [0, L) of the pair */         \
  "sub x13, %[n], x15\n"                                                        \
  "whilelt p2.s, xzr, x13\n"           /* columns [L, 2L) */                    \
  "addvl x6, %[q], #8\n"                                                        \
  "ld1w {z5.s}, p0/z, [%[q]]\n"                                                 \
  "ld1w {z6.s}, p0/z, [%[q], #1, mul vl]\n"                                     \
  "ld1w {z16.s}, p0/z, [%[q], #2, mul vl]\n"                                    \
  "ld1w {z17.s}, p0/z, [%[q], #3, mul vl]\n"                                    \
  "ld1d {z18.d}, p0/z, [%[q], #4, mul vl]\n"                                    \
  "ld1d {z19.d}, p0/z, [%[q], #5, mul vl]\n"                                    \
  "ld1d {z20.d}, p0/z, [%[q], #6, mul vl]\n"                                    \
  "ld1d {z21.d}, p0/z, [%[q], #7, mul vl]\n"                                    \
  "ld1d {z22.d}, p0/z, [x6]\n"                                                  \
  "ld1d {z23.d}, p0/z, [x6, #1, mul vl]\n"                                      \
  "ld1d {z24.d}, p0/z, [x6, #2, mul vl]\n"                                      \
  "ld1d {z25.d}, p0/z, [x6, #3, mul vl]\n"                                      \
  "add x16, %[c], x14\n"                             /* row L of the band */    \
  "add x17, %[c], x15, lsl #" #LG "\n"               /* column L */             \
  "add x7, x16, x15, lsl #" #LG "\n"                                            \
  EPILOGUE(0, OUT8, "z5", "z16", "z18", "z19", "z20", "z21", "p1", "%[c]", "%[r0]") \
  EPILOGUE(1, OUT8, "z6", "z17", "z22", "z23", "z24", "z25", "p2", "x17", "%[r0]")  \
  EPILOGUE(2, OUT8, "z5", "z16", "z18", "z19", "z20", "z21", "p1", "x16", "%[r1]")  \
  EPILOGUE(3, OUT8, "z6", "z17", "z22", "z23", "z24", "z25", "p2", "x7", "%[r1]")   \
  "addvl %[q], %[q], #12\n"                                                     \
  "add %[c], %[c], x15, lsl #(" #LG " + 1)\n"                                   \
  "subs %[n], %[n], x15, lsl #1\n"                                              \
  "b.gt 1b\n"                                                                   \
  "smstop\n"

// The in-out operands are early-clobbered ("+&r"): they change before the inputs
// are last read, and without it GCC gave the int8 build one register for n and
// ldc (equal values, N).
// smstart/smstop zero the Z/P file (so the V registers): all 32 are declared
// clobbered and GCC saves d8-d15 around the block. ZA is not a GCC 12 register.
#define CLOBBERS                                                                                                 \
  "x6", "x7", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "p0", "p1", "p2", "v0", "v1", "v2", \
      "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17",         \
      "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31",         \
      "cc", "memory"

#define BAND_CALL(MOPA, OUT8, LG)                                                                         \
  __asm__ volatile(BAND_ASM(MOPA, OUT8, LG)                                                               \
                   : [b] "+&r"(b), [c] "+&r"(c), [q] "+&r"(q), [n] "+&r"(n)                                 \
                   : [a] "r"(a), [steps] "r"(steps), [ldc] "r"(ldc_bytes), [r0] "r"(r0), [r1] "r"(r1)     \
                   : CLOBBERS)

// One band: rows [0, r0) of the first L and [0, r1) of the second, all N columns.
template <bool kU8, typename T>
void Band(const uint8_t* a, const uint8_t* b, int64_t steps, T* c, int64_t ldc_bytes, const uint8_t* q,
          int64_t r0, int64_t r1, int64_t n) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 1, "int32 or int8 out");
  if constexpr (kU8 && sizeof(T) == 4) BAND_CALL("usmopa", 0, 2);
  if constexpr (kU8 && sizeof(T) == 1) BAND_CALL("usmopa", 1, 0);
  if constexpr (!kU8 && sizeof(T) == 4) BAND_CALL("smopa", 0, 2);
  if constexpr (!kU8 && sizeof(T) == 1) BAND_CALL("smopa", 1, 0);
}

std::vector<uint8_t> PackEpilogue(const int32_t* bias, const int32_t* mult, const int8_t* shift, int64_t N, int64_t S) {
  const int64_t L = S / 4, pairs = RoundUp(N, 2 * L) / (2 * L);
  std::vector<uint8_t> out(static_cast<size_t>(pairs * kEpiVectors * S), 0);
  for (int64_t p = 0; p < pairs; ++p) {
    uint8_t* blk = out.data() + p * kEpiVectors * S;
    for (int64_t h = 0; h < 2; ++h) {
      for (int64_t l = 0; l < L; ++l) {
        const int64_t n = p * 2 * L + h * L + l;
        const bool real = n < N;
        const int32_t bv = real ? bias[n] : 0, mv = real && mult ? mult[n] : 0;
        const int64_t s = real && shift ? shift[n] : 1, rnd = int64_t{1} << (s - 1);
        std::memcpy(blk + h * S + l * 4, &bv, 4);
        std::memcpy(blk + (2 + h) * S + l * 4, &mv, 4);
        uint8_t* half = blk + (4 + 4 * h) * S;             // rounds even, rounds odd, shifts even, shifts odd
        std::memcpy(half + (l % 2) * S + (l / 2) * 8, &rnd, 8);
        std::memcpy(half + (2 + l % 2) * S + (l / 2) * 8, &s, 8);
      }
    }
  }
  return out;
}

// y = x·wᵀ + bias (T = int32_t), or requant(x·wᵀ + bias) saturated to int8 (T = int8_t).
template <bool kU8, typename T>
void GemmSme(const uint8_t* x, const int8_t* w, const int32_t* bias, const int32_t* mult, const int8_t* shift,
             int64_t M, int64_t N, int64_t K, T* y, int64_t* bands_out) {
  const int64_t S = SvlBytes(), L = S / 4, steps = RoundUp(K > 0 ? K : 1, 4) / 4;
  const std::vector<uint8_t> bp = PackPairs(reinterpret_cast<const uint8_t*>(w), N, K, K, S);  // once per model
  const std::vector<uint8_t> q = PackEpilogue(bias, mult, shift, N, S);                      // once per model
  const std::vector<uint8_t> ap = PackPairs(x, M, K, K, S);                                   // each run
  int64_t bands = 0;
  for (int64_t m0 = 0; m0 < M; m0 += 2 * L, ++bands) {
    const int64_t left = M - m0;
    const int64_t r0 = left < L ? left : L, r1 = left - L <= 0 ? 0 : (left - L < L ? left - L : L);
    Band<kU8, T>(ap.data() + m0 * steps * 4, bp.data(), steps, y + m0 * N, N * static_cast<int64_t>(sizeof(T)),
                 q.data(), r0, r1, N);
  }
  if (bands_out) *bands_out = bands;
}

// arith.h's Requantize: Saturate<T>((z·m + 2^(s−1)) >> s) in int64.
template <bool kU8, typename T>
void GemmRef(const uint8_t* x, const int8_t* w, const int32_t* bias, const int32_t* mult, const int8_t* shift,
             int64_t M, int64_t N, int64_t K, T* y) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      int32_t s = bias[n];
      for (int64_t k = 0; k < K; ++k) {
        const int32_t xv = kU8 ? int32_t{x[m * K + k]} : int32_t{static_cast<int8_t>(x[m * K + k])};
        s += xv * w[n * K + k];
      }
      if constexpr (sizeof(T) == 4) {
        y[m * N + n] = s;
      } else {
        const int64_t r = (int64_t{s} * mult[n] + (int64_t{1} << (shift[n] - 1))) >> shift[n];
        y[m * N + n] = static_cast<T>(r < -128 ? -128 : (r > 127 ? 127 : r));
      }
    }
  }
}

template <bool kU8, typename T>
bool Check(int64_t M, int64_t N, int64_t K, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> x(static_cast<size_t>(M * K));
  std::vector<int8_t> w(static_cast<size_t>(N * K)), shift(static_cast<size_t>(N));
  std::vector<int32_t> bias(static_cast<size_t>(N)), mult(static_cast<size_t>(N));
  for (auto& v : x) v = static_cast<uint8_t>(byte(rng));
  for (auto& v : w) v = static_cast<int8_t>(byte(rng));
  if (M > 0 && K > 0) x[0] = kU8 ? 255 : 0x80, w[0] = -128;  // the extremes
  for (int64_t n = 0; n < N; ++n) {
    bias[static_cast<size_t>(n)] = static_cast<int32_t>(rng() % 200001) - 100000;
    mult[static_cast<size_t>(n)] = static_cast<int32_t>(rng() % 0x7fffffffu) + 1;  // [1, 2^31 − 1]
    shift[static_cast<size_t>(n)] = static_cast<int8_t>(38 + rng() % 12);           // [38, 49]: outputs across int8 and beyond
  }
  // a guard past the end of y catches a store beyond M·N
  std::vector<T> got(static_cast<size_t>(M * N + 64), T(0x5a)), want(static_cast<size_t>(M * N));
  int64_t bands = 0;
  GemmSme<kU8, T>(x.data(), w.data(), bias.data(), mult.data(), shift.data(), M, N, K, got.data(), &bands);
  GemmRef<kU8, T>(x.data(), w.data(), bias.data(), mult.data(), shift.data(), M, N, K, want.data());
  int64_t bad = 0, sat = 0;
  for (int64_t i = 0; i < M * N; ++i) {
    bad += got[static_cast<size_t>(i)] != want[static_cast<size_t>(i)];
    sat += sizeof(T) == 1 && (want[static_cast<size_t>(i)] == 127 || want[static_cast<size_t>(i)] == -128);
  }
  for (int64_t i = M * N; i < M * N + 64; ++i) bad += got[static_cast<size_t>(i)] != T(0x5a);
  std::printf("  %-6s %-5s M=%-4lld N=%-4lld K=%-5lld bands=%-3lld %s (%lld mismatches", kU8 ? "u8xs8" : "s8xs8",
              sizeof(T) == 4 ? "int32" : "int8", (long long)M, (long long)N, (long long)K, (long long)bands,
              bad ? "MISMATCH" : "exact", (long long)bad);
  if (sizeof(T) == 1) std::printf(", %lld%% saturated", (long long)(M * N > 0 ? 100 * sat / (M * N) : 0));
  std::printf(")\n");
  return bad == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned long hw2 = getauxval(AT_HWCAP2);
  const bool sme = hw2 & (1ul << 23), i8i32 = hw2 & (1ul << 26);  // HWCAP2_SME, HWCAP2_SME_I8I32 (Linux 6.1 headers)
  if (!sme || !i8i32) {
    std::printf("no SME / SME_I8I32 in HWCAP2 (0x%lx): not running\n", hw2);
    return 2;
  }
  if (argc > 1) {  // a streaming vector length for this process, in bytes
    const int r = prctl(63 /* PR_SME_SET_VL */, std::atoi(argv[1]), 0, 0, 0);
    if (r < 0) std::printf("PR_SME_SET_VL %s failed\n", argv[1]);
  }
  const int64_t S = SvlBytes();
  std::printf("SVL = %lld bytes (%lld bits): za.s tiles 4 x (%lld x %lld) int32, kernel tile %lld x %lld\n",
              (long long)S, (long long)S * 8, (long long)S / 4, (long long)S / 4, (long long)S / 2, (long long)S / 2);
  std::mt19937 rng(12345);
  const int64_t shapes[][3] = {{1, 1, 1},     {1, 7, 3},      {3, 5, 7},     {16, 16, 4},   {17, 33, 13},
                               {31, 9, 64},   {64, 48, 64},   {100, 70, 129}, {197, 192, 192}, {7, 300, 3},
                               {33, 1, 1000}, {65, 130, 255}, {2, 64, 768},  {128, 128, 1}};
  bool ok = true;
  for (const auto& s : shapes) ok &= Check<false, int32_t>(s[0], s[1], s[2], rng);
  for (const auto& s : shapes) ok &= Check<true, int32_t>(s[0], s[1], s[2], rng);
  for (const auto& s : shapes) ok &= Check<false, int8_t>(s[0], s[1], s[2], rng);
  for (const auto& s : shapes) ok &= Check<true, int8_t>(s[0], s[1], s[2], rng);
  std::printf("%s\n", ok ? "ALL EXACT" : "FAILED");
  return ok ? 0 : 1;
}
