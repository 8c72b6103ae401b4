// The AMX tile operations the AMX GEMM (kernels/x86/gemm_amx.h) is written
// over, on the hardware. One fixed register plan, every tile 16 rows × 64
// bytes: tmm0..3 the int32 sums of a 32 × 32 block (C[row half][column
// block]; for K ≤ 64, two independent sets of 16 × 32, tmm0..1 and
// tmm2..3), tmm4 and tmm5 the two 16-row groups of rows (64 k each; s8 for
// tdpbssd, u8 for tdpbusd), tmm6 and tmm7 the two column blocks' s8
// weights (16 k-quads × 16 columns × 4 bytes, vpdpbusd's layout). The tile
// numbers are immediates in the instructions, so they are spelt out here
// rather than passed. Included in kernels/x86/gemm_amx.cc (compiled with
// -mamx-tile -mamx-int8) inside its anonymous namespace; tests/amx_emulated.cc
// has a scalar twin.

// C += A·B, tdpbssd where the rows are signed (kSigned in scope), else tdpbusd.
// A macro: the intrinsics spell their tile numbers into the instruction.
#define INTEDGE_TILE_DOT(c, a, b) \
  do {                            \
    if constexpr (kSigned) {      \
      _tile_dpbssd(c, a, b);      \
    } else {                      \
      _tile_dpbusd(c, a, b);      \
    }                             \
  } while (0)

struct AmxTiles {
  static constexpr const char* kIsa = "amx";

  // Each thread's tile configuration is its own; a Run sets it and ends
  // with Release, so a context switch between Runs saves no tile data.
  static void Configure() {
    alignas(64) uint8_t config[64] = {};
    config[0] = 1;  // palette 1: 8 tiles of up to 16 rows × 64 bytes
    for (int t = 0; t < 8; ++t) {
      config[16 + 2 * t] = 64;  // bytes per row (a little-endian uint16)
      config[48 + t] = 16;      // rows
    }
    _tile_loadconfig(config);
  }
  static void Release() { _tile_release(); }
  static void ZeroSums() {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  // One 64-k step of the block: its two 16-row halves' tiles at a0 and a1
  // (rows a_stride bytes apart; int8 for tdpbssd, kSigned, else uint8 for
  // tdpbusd), column block 0's weights at b and block 1's at b + 64, each
  // k-quad row b_stride bytes after the last.
  template <bool kSigned>
  static void Step(const uint8_t* a0, const uint8_t* a1, int64_t a_stride, const int8_t* b, int64_t b_stride) {
    _tile_loadd(4, a0, a_stride);
    _tile_loadd(6, b, b_stride);
    INTEDGE_TILE_DOT(0, 4, 6);
    _tile_loadd(7, b + 64, b_stride);
    INTEDGE_TILE_DOT(1, 4, 7);
    _tile_loadd(5, a1, a_stride);
    INTEDGE_TILE_DOT(2, 5, 6);
    INTEDGE_TILE_DOT(3, 5, 7);
  }
  // The block's sums as 32 rows of 32 int32 at c, rows `stride` bytes apart.
  static void StoreSums(int32_t* c, int64_t stride) {
    _tile_stored(0, c, stride);
    _tile_stored(1, c + 16, stride);
    _tile_stored(2, reinterpret_cast<char*>(c) + 16 * stride, stride);
    _tile_stored(3, reinterpret_cast<char*>(c + 16) + 16 * stride, stride);
  }
  // ... and back from there (a block's partial sums, one chunk of K done).
  static void LoadSums(const int32_t* c, int64_t stride) {
    _tile_loadd(0, c, stride);
    _tile_loadd(1, c + 16, stride);
    _tile_loadd(2, reinterpret_cast<const char*>(c) + 16 * stride, stride);
    _tile_loadd(3, reinterpret_cast<const char*>(c + 16) + 16 * stride, stride);
  }
  // K ≤ 64 (GemmAmx::OneStep): a column pair's two weight tiles, loaded
  // once for all its rows, ...
  static void LoadRight(const int8_t* b, int64_t b_stride) {
    _tile_loadd(6, b, b_stride);
    _tile_loadd(7, b + 64, b_stride);
  }
  // ... then 16 rows at a time into sum tiles 0, 1 (kHalf 0, rows in tile
  // 4) or 2, 3 (kHalf 1, rows in tile 5), alternately.
  template <bool kSigned, int kHalf>
  static void HalfProducts(const uint8_t* a, int64_t a_stride) {
    if constexpr (kHalf == 0) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_loadd(4, a, a_stride);
      INTEDGE_TILE_DOT(0, 4, 6);
      INTEDGE_TILE_DOT(1, 4, 7);
    } else {
      _tile_zero(2);
      _tile_zero(3);
      _tile_loadd(5, a, a_stride);
      INTEDGE_TILE_DOT(2, 5, 6);
      INTEDGE_TILE_DOT(3, 5, 7);
    }
  }
  // Half kHalf's sums as 16 rows of 32 int32 at c, rows `stride` bytes apart.
  template <int kHalf>
  static void StoreHalf(int32_t* c, int64_t stride) {
    if constexpr (kHalf == 0) {
      _tile_stored(0, c, stride);
      _tile_stored(1, c + 16, stride);
    } else {
      _tile_stored(2, c, stride);
      _tile_stored(3, c + 16, stride);
    }
  }

  // tdpbusd's own throughput: four independent sums, as a block has.
  static int64_t Peak(int64_t iters) {
    const uint8_t* operand = PeakOperands();
    return OnSums(iters, [operand] {
      _tile_loadd(4, operand, 64);
      _tile_loadd(5, operand, 64);
      _tile_loadd(6, operand, 64);
      _tile_loadd(7, operand, 64);
    }, [] {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    });
  }

  // The GEMM's own 64-k step (four tile loads, four tdpbusd) over and over
  // on operands in L1: what its block loop reaches where neither the
  // epilogue nor the operands' way from L2 and memory holds it back
  // (docs/benchmarks.md compares it with Peak and with whole GEMMs).
  static int64_t StepPeak(int64_t iters) {
    const uint8_t* rows = PeakOperands();
    const auto* weights = reinterpret_cast<const int8_t*>(rows + 32 * 64);
    return OnSums(iters, [] {}, [rows, weights] { Step<false>(rows, rows + 16 * 64, 64, weights, 128); });
  }

 private:
  // The peak loops' operands: varied bytes, as a layer's are. Tile loads of
  // zeros run faster: zeros ran the step 1.2–1.3× as fast as these, random
  // bytes or 0xff, while tdpbusd alone ran the same on all of them
  // (experiments/amx_epilogue/zero_operands.cc).
  static const uint8_t* PeakOperands() {
    alignas(64) static uint8_t bytes[32 * 64 + 16 * 128];
    static const bool filled = [] {
      for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<uint8_t>(i * 167 + 13);
      return true;
    }();
    (void)filled;
    return bytes;
  }

  // `iters` rounds of `round` (four tile products) on zeroed sum tiles after
  // `setup`, the sums then stored so that the loop is not dead code: the
  // MACs done.
  template <typename Setup, typename Round>
  static int64_t OnSums(int64_t iters, Setup setup, Round round) {
    alignas(64) int32_t sums[32 * 32];
    Configure();
    ZeroSums();
    setup();
    for (int64_t i = 0; i < iters; ++i) round();
    StoreSums(sums, 32 * 4);
    Release();
    asm volatile("" : : "r"(sums) : "memory");
    return iters * 4 * 16 * 16 * 64;
  }
};

#undef INTEDGE_TILE_DOT
