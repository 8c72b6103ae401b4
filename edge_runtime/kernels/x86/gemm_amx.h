// The int8 GEMM on AMX tiles (Xeon Sapphire Rapids and later): tdpbssd
// (tdpbusd) adds a 16 × 64 s8 (u8) by 64 × 16 s8 product into a 16 × 16
// int32 tile, 16,384 MACs an instruction where vpdpbusd does 64.
//
// It runs over GemmDot4<Zmm>'s packing unchanged. A column pair's weights
// alternate 64-byte vectors of its two 16-column blocks, each vector 16
// columns × 4 k (vpdpbusd's layout, which is also a tile row of tdpbusd's
// right operand), so 16 k-quads of one block are one tile at a stride of
// 128 bytes, and the other block's tile starts 64 bytes on. W4 weights
// expand into the same layout (GemmDot4's panel) a pair, or a chunk of a
// pair's K (Blocks), at a time. The rows are not shifted: int8 rows run
// tdpbssd and uint8 rows (Shiftmax's output) tdpbusd, so the bias needs no
// correction. Tiles load them in place where K is a multiple of 64 and a
// call whole 32-row blocks; else from a copy zero-padded to K a multiple of
// 64 and laid out tile by tile (TiledRows). The weights are zero-padded to
// match, so any K runs.
//
// A block is 32 rows × 32 columns: four sum tiles, two row tiles and two
// weight tiles, all eight AMX has (K ≤ 64: OneStep's 16-row halves). The
// sums go to one of two buffers on the stack, and an AVX-512 epilogue adds
// the bias and requantizes them with GemmDot4's requant while the next
// block's products run, so every output is the same integer as on every
// other path; OneStep's int32 sums with no bias (Q·Kᵀ's scores) go from
// the tiles to y as they are where y's rows are whole cache lines apart.
// Calls of fewer than kMinRows rows run GemmDot4's AVX-512 tiles.
//
// Requires: Tiles (kernels/x86/amx_tiles.h, or the tests' scalar twin),
// and GemmDot4 and Zmm included before this.

template <class Tiles>
class GemmAmx final : public GemmDot4<Zmm> {
 public:
  static constexpr int64_t kKStep = 64, kBlockRows = 32, kBlockCols = 2 * kNR;
  // A call of fewer rows would be mostly padding in a 32-row block.
  static constexpr int64_t kMinRows = 16;

  explicit GemmAmx(const GemmWeights& w) : GemmDot4<Zmm>(w, kKStep), signed_rows_(!w.x_u8) {
    plain_bias_.Resize(static_cast<size_t>(np_));
    for (int64_t n = 0; n < np_; ++n) {
      plain_bias_[static_cast<size_t>(n)] = FileBias(n);
      no_bias_ = no_bias_ && !FileBias(n);
    }
  }

  int64_t packed_bytes() const override {
    return GemmDot4<Zmm>::packed_bytes() + static_cast<int64_t>(plain_bias_.size() * sizeof(int32_t));
  }

  std::string name() const override { return std::string(w4_ ? "gemm_w4a8_" : "gemm_w8a8_") + Tiles::kIsa; }

  bool Run(const void* x, int64_t m0, int64_t m1, void* y) const override {
    // W4's panel holds K, not a padded K: its K must be a whole number of steps (and some).
    if (m1 - m0 < kMinRows || (w4_ && (K_ == 0 || K_ % kKStep))) return GemmDot4<Zmm>::Run(x, m0, m1, y);
    const int64_t rows = m1 - m0;
    // The rows in place where tiles can load them there (K a whole number
    // of steps; whole blocks, so no tile reads past the call's rows): MiniLM
    // ran 5 % faster than with them copied tile by tile first, each qlinear
    // 10–20 % (in a model the copy's writes miss: the weights streaming
    // through evict its buffer). intedge-gemm-bench, its operands always in
    // cache, finds the copy faster (0.044 against 0.056 ms on 128×384×1152).
    RowTiles a{static_cast<const uint8_t*>(x) + m0 * K_, kp_, 1, kp_};
    if (kp_ != K_ || rows % kBlockRows) {
      a = {TiledRows(static_cast<const uint8_t*>(x), m0, m1), kp_, kTileRows, kKStep};
    }
    if (!a.base) return false;
    if (signed_rows_) return ByOutType<true>(a, rows, m0, y);
    return ByOutType<false>(a, rows, m0, y);
  }

  // 24-row chunks (GemmKernel's default) ran as blocks of 32 with 8 rows
  // wasted, and their 8-row tails on AVX-512.
  int64_t row_grain() const override { return kBlockRows; }

 private:
  static constexpr int64_t kTileRows = 16, kTileBytes = kTileRows * kKStep;
  // See Blocks: a pair of K ≤ 1024 (32 KB) stays in L1 as it is; beyond,
  // the partial sums of up to 128 rows (16 KB) fit beside a chunk.
  static constexpr int64_t kPairL1Bytes = 32 * 1024, kPartialL1Bytes = 16 * 1024, kKChunk = 6 * kKStep;

  // The rows' layout: the tile of the 16 rows from row r and k-step k is at
  // At(r, k), its rows `stride` bytes apart. Row r starts r·kp_ bytes on in
  // both layouts (rows as they are, or TiledRows': 16 rows of kp_ a group).
  struct RowTiles {
    const uint8_t* base;
    int64_t row_bytes;    // kp_
    int64_t bytes_per_k;  // 1 (rows as they are) or 16 (TiledRows)
    int64_t stride;       // kp_ (rows as they are) or 64 (TiledRows)
    const uint8_t* At(int64_t r, int64_t k) const { return base + r * row_bytes + k * bytes_per_k; }
  };

  // A block's sums waiting in a buffer for their epilogue (rows [row, row + valid) of pair nb).
  struct Pending {
    int64_t valid = 0, nb = 0, row = 0;
  };
  template <typename T>
  void Flush(const int32_t* sums, const Pending& p, T* y) const {
    if (p.valid) WriteBlock(sums, p.valid, p.nb, p.row, y);
  }

  template <bool kSigned>
  bool ByOutType(const RowTiles& a, int64_t rows, int64_t m0, void* y) const {
    if (out_bits_ == 32) return ByKSteps<kSigned>(a, rows, m0, static_cast<int32_t*>(y));
    if (out_bits_ == 16) return ByKSteps<kSigned>(a, rows, m0, static_cast<int16_t*>(y));
    return ByKSteps<kSigned>(a, rows, m0, static_cast<int8_t*>(y));
  }
  template <bool kSigned, typename T>
  bool ByKSteps(const RowTiles& a, int64_t rows, int64_t m0, T* y) const {
    return kp_ == kKStep ? OneStep<kSigned>(a, rows, m0, y) : Blocks<kSigned>(a, rows, m0, y);
  }

  // Rows [m0, m1) as they are (int8 for tdpbssd, uint8 for tdpbusd: no
  // shift, so no correction of the bias either), zero-padded to kp_ and laid
  // out tile by tile: 16 rows × 64 k contiguous (1 KB), a row group's tiles
  // in k order, then the next group's; the last block's missing rows hold
  // anything. A tile load then reads one kilobyte in order, where rows K
  // bytes apart made it touch 16 streams at once.
  const uint8_t* TiledRows(const uint8_t* x, int64_t m0, int64_t m1) const {
    const int64_t rows = m1 - m0, steps = kp_ / kKStep;
    thread_local AlignedArray<uint8_t> buf;
    const auto need = static_cast<size_t>(RoundUp(rows, kBlockRows) * kp_);
    if (!buf.EnsureSize(need)) return nullptr;
    for (int64_t m = 0; m < rows; ++m) {
      const uint8_t* src = x + (m0 + m) * K_;
      uint8_t* dst = buf.data() + m / kTileRows * steps * kTileBytes + m % kTileRows * kKStep;
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t left = K_ - s * kKStep;
        const __mmask64 mask = left >= kKStep ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
        _mm512_store_si512(dst + s * kTileBytes, _mm512_maskz_loadu_epi8(mask, src + s * kKStep));
      }
    }
    return buf.data();
  }

  // Rows' partial sums, 32 int32 a row (a block's sums' layout), per thread.
  static int32_t* PartialSums(int64_t rows) {
    thread_local AlignedArray<int32_t> buf;
    const auto need = static_cast<size_t>(RoundUp(rows, kBlockRows) * kBlockCols);
    return buf.EnsureSize(need) ? buf.data() : nullptr;
  }

  // Column pairs outermost: a pair's weights come from memory once, for its
  // first block of rows, and from cache for the rest. A pair of K > 1024
  // (MiniLM's FFN2: 48 KB) does not stay in L1 beside the rows streaming
  // from L2, so both operands came from L2 at every step; for calls of up
  // to 128 rows its K goes in chunks of 384, each over every block of rows,
  // the blocks' sums waiting in `partial` between chunks, and W4 expands a
  // chunk at a time, so its panel is written and read in L1.
  // intedge-gemm-bench 128x1536x384: W8 −8 %, W4 −14 %; in MiniLM, W4's
  // FFN2 −11 % (W8's weights come from L3 there, and it did not move).
  // More rows' partial sums spill to L2 and cost more than they save.
  template <bool kSigned, typename T>
  bool Blocks(const RowTiles& a, int64_t rows, int64_t m0, T* y) const {
    int8_t* panel = w4_ ? PanelBuffer() : nullptr;
    if (w4_ && !panel) return false;
    const int64_t steps = w4_ ? K_ / 8 : kp_ / 4;  // stored vectors per column block
    // A tile load waits for the tile it overwrites to be read (tiles are not
    // renamed), so a load that misses stalls the tile unit for its whole
    // latency, and a model's weights come from memory or L3 on every
    // inference. The next pair's weights are prefetched into L2, spread
    // evenly over this pair's steps: MiniLM ran 4 % faster (into L1: 1 %,
    // a pair of K = 1536 being 48 KB).
    const int64_t lines = 2 * steps * kVecBytes / 64;
    const int64_t n_blocks = (rows + kBlockRows - 1) / kBlockRows;
    const int64_t pair_steps = n_blocks * (kp_ / kKStep);
    const int64_t per_step = (lines + pair_steps - 1) / pair_steps;
    // Two blocks' sums: a block's epilogue runs while the next block's
    // tile products are under way (the tile unit works beside the vector
    // units, and a block's products are a few dozen instructions that the
    // core issues ahead of the epilogue's hundreds).
    alignas(64) int32_t sums[2][kBlockRows * kBlockCols];
    Pending pending;
    int cur = 0;
    // K in chunks where a pair's weights would crowd L1 and the row blocks'
    // partial sums, waiting between chunks, stay there.
    const int64_t partial_bytes = n_blocks * kBlockRows * kBlockCols * 4;
    const int64_t k_chunk = 2 * kNR * kp_ > kPairL1Bytes && partial_bytes <= kPartialL1Bytes ? kKChunk : kp_;
    int32_t* partial = k_chunk < kp_ ? PartialSums(rows) : nullptr;
    if (k_chunk < kp_ && !partial) return false;
    bool backward = true;  // the last pass's direction
    Tiles::Configure();
    for (int64_t nb = 0; nb < live_blocks_; nb += 2) {
      const int8_t* pair = packed_.data() + VectorAt(nb, 0, steps);
      const char* next = reinterpret_cast<const char*>(pair) + 2 * steps * kVecBytes;
      const char* next_end = nb + 2 < live_blocks_ ? next + lines * 64 : next;
      for (int64_t k0 = 0; k0 < kp_; k0 += k_chunk) {
        const int64_t k1 = k0 + k_chunk < kp_ ? k0 + k_chunk : kp_;
        // The chunk's weights: W4's expanded into the panel (which starts at k0), W8's in place.
        if (w4_) ExpandPair(nb, panel, k0, k1);
        const int8_t* weights = w4_ ? panel : pair + k0 / 4 * 2 * kVecBytes;
        // Row blocks in turn forward and backward: unchunked, a pass starts
        // with the blocks the last one ended with, whose rows are still in
        // L1 (chunks read other k, so there it neither helps nor hurts).
        // intedge-gemm-bench W8: 1024³ and 1024x1536x384 −10 %, MiniLM's
        // and DeiT-Tiny's shapes −1 to −3 %; in the models, whose weights
        // come from L3, no change.
        backward = !backward;
        for (int64_t i = 0; i < n_blocks; ++i) {
          const int64_t r = (backward ? n_blocks - 1 - i : i) * kBlockRows;
          int32_t* part = partial ? partial + r * kBlockCols : nullptr;
          if (k0 == 0) {
            Tiles::ZeroSums();
          } else {
            Tiles::LoadSums(part, kBlockCols * 4);
          }
          for (int64_t k = k0; k < k1; k += kKStep) {
            for (int64_t l = 0; l < per_step && next < next_end; ++l, next += 64) _mm_prefetch(next, _MM_HINT_T1);
            Tiles::template Step<kSigned>(a.At(r, k), a.At(r + kTileRows, k), a.stride,
                                          weights + (k - k0) / 4 * 2 * kVecBytes, 2 * kVecBytes);
          }
          if (k1 < kp_) {
            Tiles::StoreSums(part, kBlockCols * 4);
            continue;
          }
          Flush(sums[cur ^ 1], pending, y);
          Tiles::StoreSums(sums[cur], kBlockCols * 4);
          pending = {rows - r < kBlockRows ? rows - r : kBlockRows, nb, m0 + r};
          cur ^= 1;
        }
      }
    }
    Tiles::Release();
    Flush(sums[cur ^ 1], pending, y);
    return true;
  }

  // K ≤ 64, one step of tile products (an attention product's head
  // dimension): Blocks' 32-row blocks each waited for the last one's sums to
  // be stored before their products could start, and reloaded weight tiles
  // that had not changed. Here a pair's weight tiles are loaded once, and 16
  // rows at a time go alternately to two sets of sum tiles, so one set's
  // products run while the other's sums are stored and requantized.
  template <bool kSigned, typename T>
  bool OneStep(const RowTiles& a, int64_t rows, int64_t m0, T* y) const {
    int8_t* panel = w4_ ? PanelBuffer() : nullptr;
    if (w4_ && !panel) return false;
    const int64_t steps = w4_ ? K_ / 8 : kp_ / 4;  // stored vectors per column block
    alignas(64) int32_t sums[2][kTileRows * kBlockCols];
    Pending pending;
    // Int32 sums with no bias to add (Q·Kᵀ's scores) are the output as
    // they are: a half of 16 whole rows and 32 columns goes from the tiles
    // straight to y, with no buffer and no epilogue, where y's rows are
    // whole cache lines apart (in a fused Shiftmax's buffer they are, and
    // each starts on one: QMatMul's set_consumed; tile stores need no
    // alignment, but split lines would cost what the epilogue saves).
    // DeiT-Tiny's and MiniLM's attention products took 6 % less time at 1 thread.
    const int64_t width = OutputWidth();
    const bool as_they_are = sizeof(T) == 4 && no_bias_ && !block_width_ && width * 4 % 64 == 0;
    // 16 rows from row r into sum tiles (and sums buffer) kHalf, then the
    // last 16 rows' epilogue, then these rows' sums stored.
    auto half_block = [&](auto half, int64_t nb, int64_t r) {
      constexpr int kHalf = decltype(half)::value;
      Tiles::template HalfProducts<kSigned, kHalf>(a.At(r, 0), a.stride);
      Flush(sums[kHalf ^ 1], pending, y);
      if (as_they_are && r + kTileRows <= rows && (nb + 2) * kNR <= N_) {
        Tiles::template StoreHalf<kHalf>(reinterpret_cast<int32_t*>(OutputAt(y, nb * kNR, m0 + r)), width * 4);
        pending = {};
        return;
      }
      Tiles::template StoreHalf<kHalf>(sums[kHalf], kBlockCols * 4);
      pending = {rows - r < kTileRows ? rows - r : kTileRows, nb, m0 + r};
    };
    int half = 0;  // the set of sum tiles the next 16 rows use
    Tiles::Configure();
    for (int64_t nb = 0; nb < live_blocks_; nb += 2) {
      const int8_t* pair = packed_.data() + VectorAt(nb, 0, steps);
      if (w4_) {
        ExpandPair(nb, panel, 0, K_);
        pair = panel;
      }
      Tiles::LoadRight(pair, 2 * kVecBytes);
      for (int64_t r = 0; r < rows; r += kTileRows, half ^= 1) {
        if (half) {
          half_block(std::integral_constant<int, 1>(), nb, r);
        } else {
          half_block(std::integral_constant<int, 0>(), nb, r);
        }
      }
    }
    Tiles::Release();
    Flush(sums[half ^ 1], pending, y);
    return true;
  }

  // Rows [row, row + valid) of column blocks nb, nb + 1 from the block's
  // sums (kBlockCols int32 a row). A column block at a time, its pointer and
  // requant constants set up once for all its rows.
  template <typename T>
  void WriteBlock(const int32_t* sums, int64_t valid, int64_t nb, int64_t row, T* y) const {
    const int64_t width = OutputWidth();
    for (int b = 0; b < 2; ++b) {
      const int64_t n0 = (nb + b) * kNR;
      if (n0 >= N_) break;
      const int cols = static_cast<int>(N_ - n0 >= kNR ? kNR : N_ - n0);
      T* out = OutputAt(y, n0, row);
      const int32_t* s = sums + b * kNR;
      const Vec bias = Zmm::Load(plain_bias_.data() + n0);
      if constexpr (sizeof(T) == 4) {
        for (int64_t r = 0; r < valid; ++r, s += kBlockCols, out += width) {
          Zmm::Store32(out, cols, Zmm::Add(Zmm::Load(s), bias));
        }
      } else {
        const BlockRequant<kNR> requant(rq_[static_cast<size_t>(nb + b)]);
        auto requantized = [&](int64_t i) { return requant(Zmm::Add(Zmm::Load(s + i * kBlockCols), bias)); };  // row i on
        int64_t r = 0;
        if constexpr (sizeof(T) == 1) {  // whole column blocks four rows at a time
          for (; cols == kNR && r + 4 <= valid; r += 4, s += 4 * kBlockCols, out += 4 * width) {
            Zmm::Store8Rows4(out, width, requantized(0), requantized(1), requantized(2), requantized(3));
          }
        }
        for (; r < valid; ++r, s += kBlockCols, out += width) {
          const Vec q = requantized(0);
          if constexpr (sizeof(T) == 2) {
            Zmm::Store16(out, cols, q);
          } else {
            Zmm::Store8(out, cols, q);
          }
        }
      }
    }
  }

  bool signed_rows_;                   // int8 rows (tdpbssd), else uint8 (tdpbusd)
  bool no_bias_ = true;                // every column's bias 0 (attention products)
  AlignedArray<int32_t> plain_bias_;  // the bias without GemmDot4's correction, for unshifted rows
};
