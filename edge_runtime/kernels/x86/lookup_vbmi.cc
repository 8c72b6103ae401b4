// λ-ShiftGELU's lookups with AVX-512 VBMI, 64 elements per step: vpermi2b
// looks a byte up in 128 table entries, so two of them and the index's top
// bit cover a 256-entry table. Compiled with -mavx512f -mavx512bw -mavx512dq
// -mavx512vbmi; run only when CPUID reports VBMI (Ice Lake and Zen 4 on;
// Cascade Lake has VNNI without it).
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see gemm_avx512vnni.cc

#include "kernels/aligned.h"
#include "kernels/kernels.h"

namespace intedge::kernels {
namespace {

#include "kernels/x86/lanes_avx512.h"
#include "kernels/x86/requant_x86.h"

// A 256-entry byte table in four registers, looked up by u = x + 128 (as a byte).
struct ByteTable {
  __m512i quarter[4];
  explicit ByteTable(const uint8_t* t) {
    for (int q = 0; q < 4; ++q) quarter[q] = _mm512_loadu_si512(t + 64 * q);
  }
  __m512i Look(__m512i u, __mmask64 upper) const {
    return _mm512_mask_blend_epi8(upper, _mm512_permutex2var_epi8(quarter[0], u, quarter[1]),
                                  _mm512_permutex2var_epi8(quarter[2], u, quarter[3]));
  }
};

// x + 128 as a byte: the table index.
__m512i Index(const int8_t* x, __mmask64 m) { return _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x), _mm512_set1_epi8(static_cast<char>(0x80))); }

}  // namespace

void lookup256_vbmi(const int8_t* x, int64_t n, const int8_t* table, int8_t* y) {
  const ByteTable bytes(reinterpret_cast<const uint8_t*>(table));
  for (int64_t i = 0; i < n; i += 64) {
    const __mmask64 m = Tail64(n - i);
    const __m512i u = Index(x + i, m);
    _mm512_mask_storeu_epi8(y + i, m, bytes.Look(u, _mm512_movepi8_mask(u)));
  }
}

// table_requant_scalar without a gather: the int32 table is looked up as its
// four byte planes, which vpunpck{l,h}bw and vpunpck{l,h}wd put back
// together as 4 × 16 int32 lanes, each 128-bit lane holding 4 consecutive
// elements of the matching 16-byte lane of the input. The per-channel
// constants are laid out in that order once per call; vpackssdw and
// vpacksswb undo the order and saturate to int8 as the spec does. The
// requant is RequantHigh (kernels/x86/requant_x86.h), so every shift
// must be ≥ 33 (the converter's are 40 and up); otherwise the gather kernel.
void table_requant_vbmi(const int8_t* x, int64_t rows, int64_t C, const int32_t* table, const int32_t* mult,
                        const int8_t* shift, int64_t n_mult, int8_t* y) {
  for (int64_t c = 0; c < n_mult; ++c) {
    if (shift[c] < 33) return table_requant_avx512(x, rows, C, table, mult, shift, n_mult, y);
  }
  const int64_t blocks = (C + 63) / 64;
  thread_local AlignedArray<int32_t> scratch;
  const auto need = static_cast<size_t>(blocks * 64 * 3);
  if (!scratch.EnsureSize(need)) return table_requant_avx512(x, rows, C, table, mult, shift, n_mult, y);
  int32_t* const m_at = scratch.data();  // once: under -fPIC each thread_local use is a call
  int32_t* const round_at = m_at + blocks * 64;
  int32_t* const shift_at = round_at + blocks * 64;
  // channel c0 + 16L + 4j + i goes to c0 + 16j + 4L + i (vector j, lane L, element i)
  for (int64_t c = 0; c < blocks * 64; ++c) {
    const int64_t base = c & ~int64_t{63}, lane = (c >> 4) & 3, j = (c >> 2) & 3, at = base + 16 * j + 4 * lane + (c & 3);
    const int64_t k = n_mult == 1 ? 0 : (c < C ? c : -1);
    m_at[at] = k < 0 ? 0 : mult[k];
    round_at[at] = k < 0 ? 0 : int32_t{1} << (shift[k] - 33);
    shift_at[at] = k < 0 ? 1 : shift[k] - 32;
  }
  alignas(64) uint8_t planes[4][256];
  for (int v = 0; v < 256; ++v) {
    for (int b = 0; b < 4; ++b) planes[b][v] = static_cast<uint8_t>(static_cast<uint32_t>(table[v]) >> (8 * b));
  }
  const ByteTable plane[4] = {ByteTable(planes[0]), ByteTable(planes[1]), ByteTable(planes[2]), ByteTable(planes[3])};
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c0 = 0; c0 < C; c0 += 64) {
      const __mmask64 m = Tail64(C - c0);
      const __m512i u = Index(x + r * C + c0, m);
      const __mmask64 upper = _mm512_movepi8_mask(u);
      const __m512i b0 = plane[0].Look(u, upper), b1 = plane[1].Look(u, upper);
      const __m512i b2 = plane[2].Look(u, upper), b3 = plane[3].Look(u, upper);
      const __m512i w01lo = _mm512_unpacklo_epi8(b0, b1), w23lo = _mm512_unpacklo_epi8(b2, b3);
      const __m512i w01hi = _mm512_unpackhi_epi8(b0, b1), w23hi = _mm512_unpackhi_epi8(b2, b3);
      const __m512i v[4] = {_mm512_unpacklo_epi16(w01lo, w23lo), _mm512_unpackhi_epi16(w01lo, w23lo),
                            _mm512_unpacklo_epi16(w01hi, w23hi), _mm512_unpackhi_epi16(w01hi, w23hi)};
      __m512i out[4];
      for (int j = 0; j < 4; ++j) {
        const __m512i vm = _mm512_load_si512(m_at + c0 + 16 * j);
        out[j] = RequantHigh(v[j], vm, _mm512_srli_epi64(vm, 32), _mm512_load_si512(round_at + c0 + 16 * j),
                             _mm512_load_si512(shift_at + c0 + 16 * j));
      }
      const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(out[0], out[1]), _mm512_packs_epi32(out[2], out[3]));
      _mm512_mask_storeu_epi8(y + r * C + c0, m, bytes);
    }
  }
}

}  // namespace intedge::kernels
