// The int8 GEMM on AMX tiles (Xeon Sapphire Rapids and later): tdpbusd adds
// a 16 × 64 u8 by 64 × 16 s8 product into a 16 × 16 int32 tile, 16,384
// MACs an instruction where vpdpbusd does 64.
//
// It runs over GemmDot4<Zmm>'s packing unchanged. A column pair's weights
// alternate 64-byte vectors of its two 16-column blocks, each vector 16
// columns × 4 k (vpdpbusd's layout, which is also a tile row of tdpbusd's
// right operand), so 16 k-quads of one block are one tile at a stride of
// 128 bytes, and the other block's tile starts 64 bytes on. W4 weights
// expand a pair at a time into the same layout (GemmDot4's panel). The
// rows are shifted to u8 as for vpdpbusd and padded to K a multiple of 64;
// the weights are zero-padded to match, so any K runs.
//
// A block is 32 rows × 32 columns: four sum tiles, two row tiles and two
// weight tiles, all eight AMX has. The sums go to a 4 KB buffer on the
// stack and GemmDot4's AVX-512 epilogue adds the bias and requantizes them,
// so every output is the same integer as on every other path. Calls of
// fewer than kMinRows rows run GemmDot4's AVX-512 tiles instead.
//
// Requires: Tiles (kernels/x86/amx_tiles.h, or the tests' scalar twin),
// and GemmDot4 and Zmm included before this.

template <class Tiles>
class GemmAmx final : public GemmDot4<Zmm> {
 public:
  static constexpr int64_t kKStep = 64, kBlockRows = 32, kBlockCols = 2 * kNR;
  // A call of fewer rows would be mostly padding in a 32-row block.
  static constexpr int64_t kMinRows = 16;

  explicit GemmAmx(const GemmWeights& w) : GemmDot4<Zmm>(w, kKStep) {}

  std::string name() const override { return std::string(w4_ ? "gemm_w4a8_" : "gemm_w8a8_") + Tiles::kIsa; }

  bool Run(const void* x, int64_t m0, int64_t m1, void* y) const override {
    // W4's panel holds K, not a padded K: its K must be a whole number of steps.
    if (m1 - m0 < kMinRows || (w4_ && K_ % kKStep)) return GemmDot4<Zmm>::Run(x, m0, m1, y);
    const int64_t rows = m1 - m0;
    const uint8_t* xu = ShiftedRows(x, flip_, K_, kp_, m0, m1, RoundUp(rows, kBlockRows) - rows);
    if (!xu) return false;
    if (out_bits_ == 32) return Blocks(xu, rows, m0, static_cast<int32_t*>(y));
    if (out_bits_ == 16) return Blocks(xu, rows, m0, static_cast<int16_t*>(y));
    return Blocks(xu, rows, m0, static_cast<int8_t*>(y));
  }

 private:
  // Column pairs outermost: a pair's weights come from memory once, for its
  // first block of rows, and from cache for the rest.
  template <typename T>
  bool Blocks(const uint8_t* xu, int64_t rows, int64_t m0, T* y) const {
    int8_t* panel = w4_ ? PanelBuffer() : nullptr;
    if (w4_ && !panel) return false;
    const int64_t steps = kp_ / 4;  // W8 vectors per column block
    alignas(64) int32_t sums[kBlockRows * kBlockCols];
    Tiles::Configure();
    for (int64_t nb = 0; nb < np_ / kNR; nb += 2) {
      const int8_t* pair = packed_.data() + VectorAt(nb, 0, steps);
      if (w4_) {
        ExpandPair(nb, panel);
        pair = panel;
      }
      for (int64_t r = 0; r < rows; r += kBlockRows) {
        Tiles::ZeroSums();
        for (int64_t k = 0; k < kp_; k += kKStep) {
          Tiles::Step(xu + r * kp_ + k, kp_, pair + k / 4 * 2 * kVecBytes, 2 * kVecBytes);
        }
        Tiles::StoreSums(sums);
        const int64_t valid = rows - r < kBlockRows ? rows - r : kBlockRows;
        WriteBlock(sums, valid, nb, m0 + r, y);
      }
    }
    Tiles::Release();
    return true;
  }

  // Rows [row, row + valid) of column blocks nb, nb + 1 from the block's sums.
  template <typename T>
  void WriteBlock(const int32_t* sums, int64_t valid, int64_t nb, int64_t row, T* y) const {
    const Vec bias0 = Zmm::Load(bias_.data() + nb * kNR), bias1 = Zmm::Load(bias_.data() + (nb + 1) * kNR);
    for (int64_t r = 0; r < valid; ++r) {
      Vec acc[1][2] = {{Zmm::Add(Zmm::Load(sums + r * kBlockCols), bias0),
                        Zmm::Add(Zmm::Load(sums + r * kBlockCols + kNR), bias1)}};
      StoreTile<1>(acc, nb, row + r, y);
    }
  }
};
