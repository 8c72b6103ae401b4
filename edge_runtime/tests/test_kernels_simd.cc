// Every SIMD kernel this CPU runs (ctest runs this natively, under ASan, and
// under qemu on three Arm cores) against the scalar oracle, with ==: GEMMs
// (W8, W4, qmatmul operands, int8/int16/int32 out, ragged shapes), Shiftmax
// (int8/int32 rows, extreme values, masks with empty rows), the portable
// loops as each ISA compiles them (requant, residual add, I-LayerNorm and
// RMSNorm), λ-ShiftGELU's table requant and the byte lookup (the lookup op's
// too), the float → int quantize (NaN, ±inf, exact halves), and the
// decoder's kernels (RoPE, SwiGLU, cached attention's pieces and the whole).
#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "kernels/decoder.h"
#include "kernels/dispatch.h"
#include "kernels/kernels.h"
#if defined(INTEDGE_X86_KERNELS)
#include "tests/amx_emulated.h"
#endif
#include "tests/check.h"

namespace {

using intedge::GemmWeights;
using intedge::Isa;

std::mt19937 rng(7);

int64_t Uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

template <typename T>
std::vector<T> Random(size_t n, int64_t lo, int64_t hi) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(Uniform(lo, hi));
  return v;
}

int64_t RoundUpTo(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// y of a GEMM run over two row ranges (as two threads would split it).
std::vector<uint8_t> RunGemm(const intedge::GemmKernel& g, const void* x, int64_t M, size_t out_bytes) {
  std::vector<uint8_t> y(out_bytes, 0xAB);
  const int64_t cut = M / 2;
  CHECK(g.Run(x, 0, cut, y.data()) && g.Run(x, cut, M, y.data()));
  return y;
}

// A GEMM kernel for these operands, or null where its ISA has none.
using GemmMaker = std::function<std::unique_ptr<intedge::GemmKernel>(const GemmWeights&)>;

void CheckGemms(const GemmMaker& make) {
  for (int trial = 0; trial < 52; ++trial) {
    const bool w4 = trial % 3 == 1, matmul = trial % 3 == 2;
    // Trials 40 on: K past 1024 (a multiple of 64 or of the group, or any
    // length), which AMX takes in chunks of 384 on calls of up to 128 rows,
    // its blocks' partial sums kept between chunks and W4 panels expanded a
    // chunk at a time. Halves of 33 to 128 rows (two to four blocks; 43, 47
    // and 51 exactly 128, rows in place, 16 KB of partial sums), and of more
    // than 128 (40, 44, 48: not chunked; two or three column pairs, so AMX
    // runs their row blocks backward on every other pass, as chunks are).
    const bool long_k = trial >= 40;
    // W4 calls of 12 rows or more expand the weights to a panel, fewer unpack
    // in registers: RunGemm's halves take one path or the other, or both.
    // AMX runs blocks of 32 rows on calls of 16 or more: up to 80 rows gives
    // full and partial blocks, and halves on either side of 16.
    // Trials 3, 7, 11, … 39: halves of 32 rows and K a multiple of 64, which
    // AMX's tiles load in place rather than copied; K cycles through 64 (its
    // one-step path), 128 and 192 for each kind of product (trials 3, 15,
    // 27, 39 a W8 qlinear; 11, 23, 35 a qmatmul; 7, 19, 31 a W4 qlinear).
    const bool whole_blocks = trial % 4 == 3;
    const int64_t k_steps = 1 + trial / 12 % 3;
    const int64_t group = long_k ? 64 << Uniform(0, 1) : whole_blocks ? 64 : 32 << Uniform(0, 2);
    // Trials 5 and 11, qmatmuls of K = 64 in halves of 32 rows and at least
    // one whole column pair: AMX stores their int32 tiles to y as they are,
    // y's rows being whole cache lines apart (11: N a multiple of 16; 5:
    // rows padded apart, see below).
    const bool straight_out = trial == 5 || trial == 11;
    const int64_t M = long_k ? (whole_blocks ? 256 : trial % 4 == 0 ? Uniform(258, 300) : Uniform(66, 256))
                      : whole_blocks || straight_out ? 64
                      : w4           ? (trial % 2 ? Uniform(24, 80) : Uniform(1, 25))
                                     : Uniform(1, 80);
    // Trials 0 and 2 (a qlinear and a qmatmul): K = 0, which a file may say; the output is the bias
    const int64_t N = long_k && trial % 4 == 0 ? Uniform(33, 70)
                      : trial == 11           ? 16 * Uniform(2, 4)
                      : trial == 5            ? Uniform(32, 70)
                                              : Uniform(1, 70);
    const int64_t K = long_k ? (w4 || whole_blocks ? RoundUpTo(Uniform(1025, 1600), group) : Uniform(1025, 1600))
                      : whole_blocks ? 64 * k_steps
                      : straight_out ? 64
                      : w4           ? group * Uniform(1, 3)
                      : trial < 3    ? 0
                                     : Uniform(1, 200);
    GemmWeights w;
    w.N = N;
    w.K = K;
    auto w8 = Random<int8_t>(static_cast<size_t>(N * K + 1), -128, 127);  // + 1: data() is not null when K = 0
    auto q4 = Random<int8_t>(static_cast<size_t>(N * K), -8, 7);
    std::vector<uint8_t> packed(static_cast<size_t>(N * K / 2));
    for (int64_t i = 0; i + 1 < N * K; i += 2) {
      packed[static_cast<size_t>(i / 2)] = static_cast<uint8_t>((q4[static_cast<size_t>(i)] & 0xF) |
                                                                ((q4[static_cast<size_t>(i + 1)] & 0xF) << 4));
    }
    auto gs = Random<int8_t>(static_cast<size_t>(N * (K / group)), 1, 16);
    auto bias = Random<int32_t>(static_cast<size_t>(N), -100000, 100000);
    auto mult = Random<int32_t>(static_cast<size_t>(N), 0, (int64_t{1} << 31) - 1);
    // Mixed shifts take the requant's 64-bit form; all ≥ 33 its high-half form.
    auto shift = trial % 4 ? Random<int8_t>(static_cast<size_t>(N), 33, 50) : Random<int8_t>(static_cast<size_t>(N), 20, 40);
    w.mult = mult.data();
    w.shift = shift.data();
    w.out_bits = matmul ? 32 : (trial % 2 ? 16 : 8);
    w.x_u8 = matmul && (whole_blocks ? k_steps % 2 == 0 : trial % 2);  // whole blocks: uint8 rows at even k_steps
    auto x = Random<uint8_t>(static_cast<size_t>(M * K), 0, 255);
    const size_t out_bytes = static_cast<size_t>(M * N * (w.out_bits / 8));
    std::vector<uint8_t> want(out_bytes);
    if (matmul) {  // a qmatmul's right operand as an activation, [K, N] or (transpose_b) [N, K]
      const bool transpose_b = Uniform(0, 1);
      w.w8 = w8.data();
      w.b_kn = !transpose_b;
      auto g = make(w);
      if (!g) continue;
      // Some trials write y's rows apart, as into a fused Shiftmax's buffer,
      // where kernels take it: the gaps must stay unwritten. Odd trials'
      // rows are whole 64-byte lines apart (trial 5: see straight_out).
      int64_t stride = N;
      if (trial % 5 == 0 || (whole_blocks && k_steps > 1)) {
        const int64_t apart = trial % 2 ? RoundUpTo(N + 1, 16) : N + Uniform(1, 17);
        if (g->SetOutputStride(apart)) stride = apart;
      }
      // then operands through SetRight, as every run after the first does:
      // the first again, a second of which only `live` columns are asked for
      // (those an attention mask keeps: the rest of y is anything; asking
      // for fewer than none or more than N asks for none or all), and the
      // first, every column, after that partial repack
      const int64_t live = trial % 7 == 0 ? -3 : trial % 7 == 1 ? N + 40 : Uniform(0, N);
      const std::pair<const int8_t*, int64_t> operands[] = {{w8.data(), N}, {q4.data(), live}, {w8.data(), N}};
      for (const auto& [b, asked] : operands) {
        const int64_t columns = std::clamp<int64_t>(asked, 0, N);
        if (w.x_u8) {
          intedge::kernels::qmatmul_scalar(x.data(), b, transpose_b, 1, M, N, K, 0, 1,
                                           reinterpret_cast<int32_t*>(want.data()));
        } else {
          intedge::kernels::qmatmul_scalar(reinterpret_cast<const int8_t*>(x.data()), b, transpose_b, 1, M, N, K, 0,
                                           1, reinterpret_cast<int32_t*>(want.data()));
        }
        g->SetRight(b, asked);
        const auto got = RunGemm(*g, x.data(), M, static_cast<size_t>(M * stride * 4));
        for (int64_t m = 0; m < M; ++m) {
          const auto row = static_cast<std::ptrdiff_t>(m * stride * 4);
          const auto want_row = static_cast<std::ptrdiff_t>(m * N * 4);
          CHECK(std::equal(got.begin() + row, got.begin() + row + columns * 4, want.begin() + want_row));
          const auto gap = [](uint8_t v) { return v == 0xAB; };
          CHECK(std::all_of(got.begin() + row + N * 4, got.begin() + row + stride * 4, gap));
        }
      }
      continue;
    }
    w.bias = bias.data();
    if (w4) {
      w.w4 = packed.data();
      w.group_scales = gs.data();
      w.group = group;
    } else {
      w.w8 = w8.data();
    }
    const auto want_rows = RunGemm(*intedge::MakeGemmScalar(w), x.data(), M, out_bytes);
    auto g = make(w);
    CHECK(RunGemm(g ? *g : *intedge::MakeGemmScalar(w), x.data(), M, out_bytes) == want_rows);
  }
}

// Rows of random widths, and then each width at a vector edge of the 32- and
// 64-wide steps (and DeiT's 197); with and without a keep mask, where row 0
// keeps nothing, row 1 one element (its output 256 before saturation), and
// the last row a prefix of its keys (a padded sequence's: whole steps of
// masked keys, which kernels may skip).
// Guard bytes after y catch a store past the last row. Every third trial
// gives the kernel x's rows padded apart (a fused attention's scores, each
// row on a cache line), the padding filled with the extreme value that would
// change a row's maximum if it were read; the oracle reads them contiguous.
template <typename In>
void CheckShiftmax(Isa isa, int64_t lo, int64_t hi) {
  const auto simd = intedge::ShiftmaxFor<In>(isa).fn;
  constexpr int64_t kEdges[] = {1, 31, 32, 33, 63, 64, 65, 197, 300};
  constexpr size_t kGuard = 64;
  for (int trial = 0; trial < 30 + static_cast<int>(std::size(kEdges)); ++trial) {
    const int64_t rows = Uniform(2, 6), cols = trial < 30 ? Uniform(1, 300) : kEdges[trial - 30];
    auto x = Random<In>(static_cast<size_t>(rows * cols), lo, hi);
    if (trial % 5 == 0) x[0] = static_cast<In>(hi), x.back() = static_cast<In>(lo);
    auto keep = Random<uint8_t>(static_cast<size_t>(rows * cols), 0, 1);
    std::fill(keep.begin(), keep.begin() + 2 * cols, uint8_t{0});  // row 0 all masked,
    keep[static_cast<size_t>(cols + Uniform(0, cols - 1))] = 1;      // row 1 one kept element
    const int64_t last = (rows - 1) * cols, prefix = Uniform(0, cols);
    if (rows > 2) {
      std::fill(keep.begin() + last, keep.begin() + last + prefix, uint8_t{1});
      std::fill(keep.begin() + last + prefix, keep.end(), uint8_t{0});
    }
    const int32_t mult = static_cast<int32_t>(Uniform(1, (int64_t{1} << 31) - 1));
    const int shift = static_cast<int>(Uniform(20, 45));
    const int64_t stride = trial % 3 ? cols : cols + Uniform(1, 20);
    std::vector<In> padded(static_cast<size_t>(rows * stride), static_cast<In>(hi));
    for (int64_t r = 0; r < rows; ++r) std::copy_n(x.begin() + r * cols, cols, padded.begin() + r * stride);
    for (const uint8_t* k : {static_cast<const uint8_t*>(nullptr), static_cast<const uint8_t*>(keep.data())}) {
      std::vector<uint8_t> want(x.size() + kGuard, 0xAB), got(x.size() + kGuard, 0xAB);
      intedge::kernels::shiftmax_scalar(x.data(), cols, k, rows, cols, mult, shift, want.data());
      simd(padded.data(), stride, k, rows, cols, mult, shift, got.data());
      CHECK(got == want);
      if (k) CHECK(*std::max_element(want.begin() + cols, want.begin() + 2 * cols) == 255);
    }
  }
}

// The residual add for every dtype pair, with multipliers at the edges of
// its 16-bit split (2^31 − 1, the last that splits, low halves of −2^15) and
// shifts on both sides of 17.
template <typename A, typename B, typename Out>
void CheckQAdd(Isa isa) {
  const int32_t edges[] = {0, 1, (int32_t{1} << 30), INT32_MAX, INT32_MAX - 32768, INT32_MAX - 32767,
                           static_cast<int32_t>(0x40008000), static_cast<int32_t>(0x7FFF8000)};
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t n = Uniform(1, 300);
    auto a = Random<A>(static_cast<size_t>(n), std::numeric_limits<A>::min(), std::numeric_limits<A>::max());
    auto b = Random<B>(static_cast<size_t>(n), std::numeric_limits<B>::min(), std::numeric_limits<B>::max());
    if (trial % 5 == 0) a[0] = std::numeric_limits<A>::min(), b[0] = std::numeric_limits<B>::min();
    const auto pick = [&] { return trial % 2 ? edges[Uniform(0, 7)] : static_cast<int32_t>(Uniform(0, INT32_MAX)); };
    // Trial 5: vpmaddwd's one overflow, (−2^15)·(−2^15) twice (a[0], b[0] and
    // both low halves), where the sum is small enough to show in the output
    const int32_t mult_a = trial == 5 ? 0x8000 : pick(), mult_b = trial == 5 ? 0x8000 : pick();
    const int shift = static_cast<int>(trial == 5 ? 17 : trial % 3 ? Uniform(17, 48) : Uniform(1, 62));
    std::vector<Out> want(static_cast<size_t>(n)), got(want.size());
    intedge::kernels::qadd_scalar(a.data(), b.data(), n, mult_a, mult_b, shift, want.data());
    intedge::QAddFor<A, B, Out>(isa).fn(a.data(), b.data(), n, mult_a, mult_b, shift, got.data());
    CHECK(got == want);
  }
}

// Full-range inputs and the extreme requant constants Prepare allows.
void CheckPortableLoops(Isa isa) {
  for (int trial = 0; trial < 20; ++trial) {
    // Trial 0: 4096 channels (the most I-LayerNorm takes) of extreme values.
    // Up to 20 rows: the AVX-512 kernels work in blocks of 8 rows.
    const int64_t rows = trial ? Uniform(1, 20) : 3, C = trial ? Uniform(1, 400) : 4096, n = rows * C;
    const auto mult = static_cast<int32_t>(Uniform(0, (int64_t{1} << 31) - 1));
    const int shift = static_cast<int>(Uniform(1, 62));
    auto a = Random<int16_t>(static_cast<size_t>(n), -32768, 32767);
    auto b = Random<int8_t>(static_cast<size_t>(n), -128, 127);
    auto x32 = Random<int32_t>(static_cast<size_t>(n), -(int64_t{1} << 31), (int64_t{1} << 31) - 1);
    if (trial % 4 == 0) std::fill(b.begin(), b.end(), int8_t{5});  // a constant row: variance 0
    if (trial == 0) {  // rows of −2^15, of alternating extremes, and of one outlier
      for (int64_t c = 0; c < C; ++c) {
        a[static_cast<size_t>(c)] = -32768;
        a[static_cast<size_t>(C + c)] = c % 2 ? 32767 : -32768;
        a[static_cast<size_t>(2 * C + c)] = c ? -32768 : 32767;
      }
    }
    std::vector<int8_t> want8(static_cast<size_t>(n)), got8(want8.size());
    std::vector<int16_t> want16(want8.size()), got16(want8.size());

    const auto mult_b = static_cast<int32_t>(Uniform(0, (int64_t{1} << 31) - 1));
    intedge::kernels::qadd_scalar(a.data(), b.data(), n, mult, mult_b, shift, want16.data());
    intedge::QAddFor<int16_t, int8_t, int16_t>(isa).fn(a.data(), b.data(), n, mult, mult_b, shift, got16.data());
    CHECK(got16 == want16);

    const int rq_shift = static_cast<int>(Uniform(20, 62));
    intedge::kernels::requant_scalar(x32.data(), n, mult, rq_shift, want8.data());
    intedge::RequantFor<int32_t, int8_t>(isa).fn(x32.data(), n, mult, rq_shift, got8.data());
    CHECK(got8 == want8);

    // Small constants keep most outputs unsaturated; the rest of trials use the full ranges.
    const bool small = trial % 2, rms = trial % 3 == 2;
    auto ln_mult = Random<int32_t>(static_cast<size_t>(C), small ? -(int64_t{1} << 20) : -(int64_t{1} << 31),
                                   small ? int64_t{1} << 20 : (int64_t{1} << 31) - 1);
    auto ln_bias = Random<int64_t>(static_cast<size_t>(C), small ? -(int64_t{1} << 40) : -(int64_t{1} << 61),
                                   small ? int64_t{1} << 40 : int64_t{1} << 61);
    const int ln_shift = static_cast<int>(small ? Uniform(20, 40) : Uniform(40, 62));
    intedge::kernels::ilayernorm_scalar(b.data(), rows, C, rms, ln_mult.data(), ln_bias.data(), ln_shift,
                                        want8.data());
    intedge::ILayerNormFor<int8_t, int8_t>(isa).fn(b.data(), rows, C, rms, ln_mult.data(), ln_bias.data(), ln_shift,
                                                got8.data());
    CHECK(got8 == want8);
    intedge::kernels::ilayernorm_scalar(a.data(), rows, C, rms, ln_mult.data(), ln_bias.data(), ln_shift,
                                        want16.data());
    intedge::ILayerNormFor<int16_t, int16_t>(isa).fn(a.data(), rows, C, rms, ln_mult.data(), ln_bias.data(), ln_shift,
                                                  got16.data());
    CHECK(got16 == want16);

    // A pair kernel's two outputs are each their own I-LayerNorm of the one input.
    if (const auto pair = intedge::ILayerNormPairFor<int16_t, int16_t, int8_t>(isa).fn) {
      auto mult2 = Random<int32_t>(static_cast<size_t>(C), -(int64_t{1} << 31), (int64_t{1} << 31) - 1);
      auto bias2 = Random<int64_t>(static_cast<size_t>(C), -(int64_t{1} << 50), int64_t{1} << 50);
      const int shift2 = static_cast<int>(Uniform(30, 62));
      intedge::kernels::ilayernorm_scalar(a.data(), rows, C, rms, mult2.data(), bias2.data(), shift2, want8.data());
      std::fill(got16.begin(), got16.end(), int16_t{0});
      pair(a.data(), rows, C, rms, ln_mult.data(), ln_bias.data(), ln_shift, got16.data(), mult2.data(), bias2.data(),
           shift2, got8.data());
      CHECK(got16 == want16);
      CHECK(got8 == want8);
    }
  }
}

void CheckTableRequantAndQuantize(Isa isa) {
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t rows = Uniform(1, 5), C = Uniform(1, 300), n = rows * C;
    const int64_t n_mult = trial % 2 ? C : 1;
    // λ-ShiftGELU's tables stay within 2^22; lookup_requant's constants reach 2^30 (its rule's bound)
    const int64_t bound = trial % 8 < 4 ? int64_t{1} << 22 : int64_t{1} << 30;
    auto table = Random<int32_t>(256, -bound, bound);
    if (trial % 8 == 7) table[0] = -(int32_t{1} << 30), table[255] = int32_t{1} << 30;
    auto mult = Random<int32_t>(static_cast<size_t>(n_mult), 0, (int64_t{1} << 31) - 1);
    // Shifts ≥ 33 take the VBMI kernel's high-half requant, lower ones its fallback
    auto shift = trial % 4 < 2 ? Random<int8_t>(static_cast<size_t>(n_mult), 33, 56) : Random<int8_t>(static_cast<size_t>(n_mult), 1, 62);
    auto x = Random<int8_t>(static_cast<size_t>(n), -128, 127);
    std::vector<int8_t> want(static_cast<size_t>(n)), got(want.size());
    intedge::kernels::table_requant_scalar(x.data(), rows, C, table.data(), mult.data(), shift.data(), n_mult,
                                           want.data());
    intedge::TableRequantFor(isa).fn(x.data(), rows, C, table.data(), mult.data(), shift.data(), n_mult, got.data());
    CHECK(got == want);
    auto bytes = Random<int8_t>(256, -128, 127);
    intedge::kernels::lookup256_scalar(x.data(), n, bytes.data(), want.data());
    intedge::Lookup256For(isa).fn(x.data(), n, bytes.data(), got.data());
    CHECK(got == want);

    const float inv = static_cast<float>(Uniform(1, 1000)) / 8.0f;
    std::vector<float> f(static_cast<size_t>(n));
    for (auto& v : f) v = static_cast<float>(Uniform(-40000, 40000)) / 2.0f / inv;  // many exact halves
    f[0] = std::numeric_limits<float>::quiet_NaN();
    if (n > 2) f[1] = std::numeric_limits<float>::infinity(), f[2] = -std::numeric_limits<float>::infinity();
    std::vector<int16_t> want16(f.size()), got16(f.size());
    intedge::kernels::quantize_scalar(f.data(), n, inv, want.data());
    intedge::QuantizeFor<int8_t>(isa).fn(f.data(), n, inv, got.data());
    CHECK(got == want);
    intedge::kernels::quantize_scalar(f.data(), n, inv, want16.data());
    intedge::QuantizeFor<int16_t>(isa).fn(f.data(), n, inv, got16.data());
    CHECK(got16 == want16);
  }
}

// The byte lookup (λ-ShiftGELU with one requant, and the lookup op) on every
// index at every position of a vector step: x walks all 256 values seven
// times, each time from another offset.
void CheckLookupEveryIndex(Isa isa) {
  const auto table = Random<int8_t>(256, -128, 127);
  std::vector<int8_t> x(256 * 7 + 13);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>((i * 37 + i / 256) % 256 - 128);
  std::vector<int8_t> want(x.size()), got(x.size());
  for (const size_t n : {x.size(), size_t{31}, size_t{33}, size_t{1}}) {
    intedge::kernels::lookup256_scalar(x.data(), static_cast<int64_t>(n), table.data(), want.data());
    intedge::Lookup256For(isa).fn(x.data(), static_cast<int64_t>(n), table.data(), got.data());
    CHECK(std::memcmp(got.data(), want.data(), n) == 0);
  }
}


// RoPE and SwiGLU: full-range inputs with −128 at the edges, rows and
// lengths that are no multiple of a vector, positions at both ends of the
// tables (and one past, which both kernels report), and requant shifts on
// both sides of the narrowed SwiGLU's bound (its fallback below 25).
void CheckRopeSwiglu(Isa isa) {
  const auto rope = intedge::RopeFor(isa).fn;
  const auto swiglu = intedge::SwigluFor(isa).fn;
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t rows = Uniform(1, 9), D = 2 * Uniform(1, trial % 3 ? 70 : 4), P = Uniform(1, 40);
    auto x = Random<int8_t>(static_cast<size_t>(rows * D), -128, 127);
    if (trial % 4 == 0) std::fill(x.begin(), x.begin() + D, int8_t{-128});
    auto cos = Random<int16_t>(static_cast<size_t>(P * D / 2), -16384, 16384);
    auto sin = Random<int16_t>(cos.size(), -16384, 16384);
    if (trial % 5 == 0) std::fill(cos.begin(), cos.end(), int16_t{16384}), std::fill(sin.begin(), sin.end(), int16_t{-16384});
    auto positions = Random<int32_t>(static_cast<size_t>(rows), 0, P - 1);
    positions[0] = static_cast<int32_t>(P - 1);
    std::vector<int8_t> want(x.size()), got(x.size(), 1);
    CHECK(intedge::kernels::rope_scalar(x.data(), rows, D, positions.data(), cos.data(), sin.data(), P, want.data()) == -1);
    CHECK(rope(x.data(), rows, D, positions.data(), cos.data(), sin.data(), P, got.data()) == -1);
    CHECK(got == want);
    positions.back() = static_cast<int32_t>(trial % 2 ? P : -1);
    CHECK(rope(x.data(), rows, D, positions.data(), cos.data(), sin.data(), P, got.data()) == rows - 1);

    const int64_t n = Uniform(1, 600);
    auto gate = Random<int8_t>(static_cast<size_t>(n), -128, 127), up = Random<int8_t>(static_cast<size_t>(n), -128, 127);
    auto table = Random<int16_t>(256, -32768, 32767);
    if (trial % 4 == 1) table[0] = -32768, gate[0] = -128, up[0] = -128;  // the product's largest, 2^22
    const auto mult = static_cast<int32_t>(trial % 6 == 0 ? (int64_t{1} << 31) - 1 : Uniform(0, (int64_t{1} << 31) - 1));
    const int shift = static_cast<int>(trial % 3 ? Uniform(25, 62) : Uniform(1, 30));
    std::vector<int8_t> want_y(static_cast<size_t>(n)), got_y(want_y.size());
    intedge::kernels::swiglu_scalar(gate.data(), up.data(), n, table.data(), mult, shift, want_y.data());
    swiglu(gate.data(), up.data(), n, table.data(), mult, shift, got_y.data());
    CHECK(got_y == want_y);
  }
}

// The P·V kernel alone on random probabilities (zeros included), output
// requant shifts on both sides of 33, head dims around the 64-column block;
// and the int32 sums at the op's bounds: 65793 keys of 255 · −128, and a
// 131071-wide dot product of −128s.
void CheckAttentionPieces(Isa isa) {
  const auto scores_fn = intedge::AttentionScoresFor(isa).fn;
  const auto values_fn = intedge::AttentionValuesFor(isa).fn;
  for (int trial = 0; trial < 30; ++trial) {
    // D past 256 takes the scores kernel's second chunk of q
    const int64_t rows = Uniform(1, 6), len0 = Uniform(1, 90),
                  D = trial % 7 == 6 ? Uniform(257, 600) : trial % 4 ? Uniform(1, 150) : 64 * Uniform(1, 2);
    const int64_t keys = len0 + rows - 1, ld = keys + Uniform(0, 3), ld_y = D + Uniform(0, 5);
    auto q = Random<int8_t>(static_cast<size_t>(rows * D), -128, 127);
    auto k = Random<int8_t>(static_cast<size_t>(keys * D), -128, 127);
    if (trial % 5 == 0) std::fill(q.begin(), q.end(), int8_t{-128}), std::fill(k.begin(), k.end(), int8_t{-128});
    std::vector<int32_t> want_s(static_cast<size_t>(rows * ld), 7), got_s(want_s);
    intedge::kernels::attention_scores_scalar(q.data(), rows, k.data(), len0, D, want_s.data(), ld);
    scores_fn(q.data(), rows, k.data(), len0, D, got_s.data(), ld);
    CHECK(got_s == want_s);

    auto probs = Random<uint8_t>(static_cast<size_t>(rows * ld), 0, 255);
    for (auto& p : probs) p = Uniform(0, 2) ? uint8_t{0} : p;
    if (trial % 5 == 1) std::fill(probs.begin(), probs.end(), uint8_t{255});
    const auto mult = static_cast<int32_t>(Uniform(0, (int64_t{1} << 31) - 1));
    const int shift = static_cast<int>(trial % 3 ? Uniform(33, 62) : Uniform(1, 40));
    std::vector<int8_t> want_y(static_cast<size_t>(rows * ld_y), 3), got_y(want_y);
    intedge::kernels::attention_values_scalar(probs.data(), ld, rows, k.data(), len0, D, mult, shift, want_y.data(), ld_y);
    values_fn(probs.data(), ld, rows, k.data(), len0, D, mult, shift, got_y.data(), ld_y);
    CHECK(got_y == want_y);
  }
  const int64_t T = 65793, D = 3;  // T·255·128 < 2^31
  std::vector<uint8_t> probs(T, 255);
  std::vector<int8_t> v(static_cast<size_t>(T * D), -128), want(D), got(D);
  intedge::kernels::attention_values_scalar(probs.data(), T, 1, v.data(), T, D, 1 << 30, 55, want.data(), D);
  values_fn(probs.data(), T, 1, v.data(), T, D, 1 << 30, 55, got.data(), D);
  CHECK(got == want && want[0] == -64);  // −65793 · 255 · 128 · 2^30 / 2^55 = −63.999996
  const int64_t wide = 131071;  // D·128·128 < 2^31
  std::vector<int8_t> ones(wide, -128);
  int32_t score = 0;
  scores_fn(ones.data(), 1, ones.data(), 1, wide, &score, 1);
  CHECK(score == wide * 16384);
}

// Whole cached attentions (kernels/decoder.h), this ISA's kernels against
// the oracle's: GQA ratios 1, 2 and 4, prefill from 0, a chunk after
// earlier rows, and S = 1 decode steps at the end of a long cache; the
// query rows in one call or split at random, as threads would take them.
void CheckCachedAttention(Isa isa) {
  const intedge::AttentionKernels simd = intedge::AttentionFor(isa), oracle = intedge::AttentionFor(Isa::kScalar);
  for (int trial = 0; trial < 24; ++trial) {
    intedge::AttentionShape a;
    a.kv_heads = Uniform(1, 3);
    a.q_heads = a.kv_heads * (int64_t{1} << (trial % 3));
    a.D = trial % 4 == 3 ? 64 : Uniform(1, 80);
    const int kind = trial % 3;  // prefill at 0, a chunk after earlier rows, one decode step
    a.T = kind == 2 ? Uniform(200, 700) : Uniform(2, 60);
    a.S = kind == 2 ? 1 : Uniform(1, a.T);
    const int64_t p = kind == 0 ? 0 : kind == 2 ? a.T - 1 - Uniform(0, 3) : Uniform(0, a.T - a.S);
    a.mult = static_cast<int32_t>(Uniform(int64_t{1} << 30, (int64_t{1} << 31) - 1));
    a.shift = static_cast<int>(Uniform(20, 40));
    a.out_mult = static_cast<int32_t>(Uniform(int64_t{1} << 30, (int64_t{1} << 31) - 1));
    a.out_shift = static_cast<int>(trial % 5 ? Uniform(33, 45) : Uniform(20, 33));
    const auto cache_bytes = static_cast<size_t>(a.kv_heads * a.T * a.D);
    auto q = Random<int8_t>(static_cast<size_t>(a.q_heads * a.S * a.D), -128, 127);
    auto k = Random<int8_t>(static_cast<size_t>(a.kv_heads * a.S * a.D), -128, 127);
    auto v = Random<int8_t>(k.size(), -128, 127);
    auto k_cache = Random<int8_t>(cache_bytes, -128, 127), v_cache = Random<int8_t>(cache_bytes, -128, 127);
    intedge::WriteCache(a, k.data(), v.data(), p, k_cache.data(), v_cache.data());
    const auto y_bytes = static_cast<size_t>(a.S * a.q_heads * a.D);
    std::vector<int8_t> want(y_bytes, 9), got(y_bytes, 9);
    std::vector<int32_t> scores;
    std::vector<uint8_t> probs;
    for (int64_t h = 0; h < a.q_heads; ++h) {
      intedge::AttendRows(oracle, a, q.data(), k_cache.data(), v_cache.data(), p, h, 0, a.S, &scores, &probs,
                          want.data());
      const int64_t cut = Uniform(0, a.S);
      intedge::AttendRows(simd, a, q.data(), k_cache.data(), v_cache.data(), p, h, 0, cut, &scores, &probs, got.data());
      intedge::AttendRows(simd, a, q.data(), k_cache.data(), v_cache.data(), p, h, cut, a.S, &scores, &probs,
                          got.data());
    }
    CHECK(got == want);
    CHECK(std::count(want.begin(), want.end(), int8_t{9}) < static_cast<long>(want.size()));  // written
  }
}
}  // namespace

int main() {
  for (Isa isa : intedge::SupportedIsas()) {
    std::printf("%s\n", intedge::IsaName(isa));
    CheckGemms([isa](const GemmWeights& w) { return intedge::MakeMatMulGemm(isa, w); });
    CheckShiftmax<int8_t>(isa, -128, 127);
    CheckShiftmax<int32_t>(isa, -(int64_t{1} << 31), (int64_t{1} << 31) - 1);
    CheckShiftmax<int32_t>(isa, -3000, 3000);
    CheckPortableLoops(isa);
    CheckQAdd<int16_t, int16_t, int16_t>(isa);
    CheckQAdd<int16_t, int16_t, int8_t>(isa);
    CheckQAdd<int8_t, int16_t, int16_t>(isa);
    CheckQAdd<int8_t, int8_t, int8_t>(isa);
    CheckTableRequantAndQuantize(isa);
    CheckLookupEveryIndex(isa);
    CheckRopeSwiglu(isa);
    CheckAttentionPieces(isa);
    CheckCachedAttention(isa);
  }
#if defined(INTEDGE_X86_KERNELS)
  // The AMX GEMM's blocking on emulated tiles, wherever its AVX-512 parts run.
  const auto isas = intedge::SupportedIsas();
  if (std::find(isas.begin(), isas.end(), Isa::kAvx512Vnni) != isas.end()) {
    const bool hardware = std::find(isas.begin(), isas.end(), Isa::kAmx) != isas.end();
    std::printf("amx (emulated tiles; the hardware's %s)\n",
                hardware ? "were checked above" : "are not on this CPU, or the OS did not grant them");
    CheckGemms(&intedge::MakeGemmAmxEmulated);
  }
#endif
  return intedge::test::Finish();
}
