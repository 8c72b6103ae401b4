// The int8 GEMM of every ISA with a 4-way dot product instruction (each int32
// lane += the sum of 4 byte products): x86 vpdpbusd (u8 × s8; AVX-512 VNNI,
// AVX-VNNI, emulated on AVX2) and Arm sdot (s8 × s8; NEON dotprod, emulated
// on plain NEON). It is written once over a vector traits class V and
// included by each ISA file inside its anonymous namespace, so each gets a
// private copy compiled with its own flags (kernels/aligned.h says why).
//
// When the instruction's left operand is unsigned (V::kUnsignedA) and the
// rows are int8, rows are shifted to u8 (x + 128) and 128·Σ_k w[n, k] is
// taken out of the bias. When it is signed and the rows are uint8 (the
// Shiftmax output), rows are shifted to s8 (x − 128) and 128·Σ_k w[n, k] is
// put back. Either way the int32 result is exactly Σ x·w + bias. Weights are
// packed once, V::kLanes output columns × 4 k per vector. W4 weights stay
// 4-bit in memory: one vector holds 8 k × kLanes columns as nibbles. A
// nibble q times its group's scale g ∈ [1, 16] fits in an int8 (the
// format's rule), so a call of many rows expands each column pair to int8
// q·g in a cache-resident panel, once, and runs the W8 tiles over it; a call
// of few rows unpacks in registers and multiplies each group's int32 sum by g.
//
// Each tile is V::kRowsW8 (or kRowsW4) rows × 2 vectors of columns, sized so
// the accumulators, the weights and a broadcast row fit the ISA's registers.
//
// Requires: V, whose Store16 and Store8 saturate and whose ScaleNibbles
// (with its NibbleScales, made by Scales) multiplies nibbles by bytes exactly; RequantBlock<V::kLanes> and
// BlockRequant<V::kLanes> (its requant saturated to int32) from the ISA's
// requant header; AlignedArray from kernels/aligned.h.


inline int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

template <class V>
inline typename V::Vec Broadcast4(const uint8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return V::Set1(v);
}

// Rows [m0, m1) of x with each byte XORed with `flip` (0x80 moves between
// int8 and u8 by ±128), each padded to kp bytes with the flipped form of 0.
// Rows that need neither are x itself, a copy saved on every call: with K a
// multiple of 4, the int8 rows of sdot (Arm) and Shiftmax's uint8 rows of
// vpdpbusd (x86).
inline const uint8_t* ShiftedRows(const void* xv, uint8_t flip, int64_t K, int64_t kp, int64_t m0, int64_t m1) {
  const auto* x = static_cast<const uint8_t*>(xv);
  if (!flip && kp == K) return x + m0 * K;
  thread_local AlignedArray<uint8_t> buf;
  const auto need = static_cast<size_t>((m1 - m0) * kp + 64);
  if (!buf.EnsureSize(need)) return nullptr;
  uint8_t* out = buf.data();
  for (int64_t m = m0; m < m1; ++m) {
    const uint8_t* src = x + m * K;
    uint8_t* dst = out + (m - m0) * kp;
    for (int64_t k = 0; k < K; ++k) dst[k] = static_cast<uint8_t>(src[k] ^ flip);  // vectorized by the compiler
    for (int64_t k = K; k < kp; ++k) dst[k] = flip;
  }
  return out;
}

// Not final: kernels/x86/gemm_amx.h runs AMX tiles over its packing.
template <class V>
class GemmDot4 : public GemmKernel {
 public:
  using Vec = typename V::Vec;
  static constexpr int64_t kNR = V::kLanes;  // output columns per vector
  static constexpr int64_t kVecBytes = V::kLanes * 4;
  // Weights come from memory on every inference (a model's are megabytes)
  // and only a column pair's first tile reads them there; the hardware
  // prefetcher alone left it stalling. 8 KB ahead in the packed stream is
  // the distance that hid the most latency (docs/benchmarks.md has the sweep).
  static constexpr int64_t kPrefetchBytes = 8192;
  // What a tile's k-steps prefetch (see Rows).
  static constexpr int kInStream = 0, kAhead = 1, kNoPrefetch = 2;
  // How a tile gets its weights (see Rows).
  static constexpr int kW8 = 0, kW4 = 1, kW4Panel = 2;
  // From this many rows in a call, W4 expands each column pair to int8 once
  // and runs the W8 tiles (see Rows).
  static constexpr int64_t kPanelMinRows = 12;

  // k_align: W8 rows and weights are zero-padded to a multiple of it (≥ 4).
  explicit GemmDot4(const GemmWeights& w, int64_t k_align = 4)
      : N_(w.N), K_(w.K), out_bits_(w.out_bits), flip_(w.x_u8 == V::kUnsignedA ? 0 : 0x80), b_kn_(w.b_kn),
        repacked_(w.repacked), bias_src_(w.bias) {
    np_ = RoundUp(N_, 2 * kNR);
    live_blocks_ = np_ / kNR;
    w4_ = w.w8 == nullptr;
    kp_ = w4_ ? K_ : RoundUp(K_ > 0 ? K_ : 1, k_align);  // ≥ 4 even for K = 0 (zero padding: the sums stay 0)
    group_ = w4_ ? w.group : kp_;
    colsum_.Resize(static_cast<size_t>(np_));
    bias_.Resize(static_cast<size_t>(np_));
    if (w4_) {
      PackW4(w);
      SetBias();
    } else {
      SetRight(w.w8, N_);
    }
    rq_.Resize(static_cast<size_t>(np_ / kNR));
    for (int64_t n = 0; out_bits_ != 32 && n < np_; ++n) {
      const bool real = n < N_;
      rq_[static_cast<size_t>(n / kNR)].Set(static_cast<int>(n % kNR), real ? w.mult[n] : 0, real ? w.shift[n] : 33);
    }
  }

  // Only the column pairs that hold the first `columns` are repacked, and
  // Run computes only them: a padded sentence's scores (13 keys of
  // MiniLM's 128 in `intedge bench`) take a pair, not four.
  void SetRight(const int8_t* w8, int64_t columns) override {
    live_blocks_ = RoundUp(columns < N_ ? (columns > 0 ? columns : 0) : N_, 2 * kNR) / kNR;
    if (b_kn_) {
      PackW8(w8, 1, N_);
    } else {
      PackW8(w8, K_, 1);
    }
    SetBias();
  }

  std::string name() const override { return std::string(w4_ ? "gemm_w4a8_" : "gemm_w8a8_") + V::kIsa; }

  bool SetOutputBlocks(int64_t rows, int64_t width) override {
    if (width <= 0 || width % kNR || N_ % width || row_stride_) return false;  // a vector's columns stay in one block
    block_rows_ = rows;
    block_width_ = width;
    return true;
  }
  bool SetOutputStride(int64_t stride) override {
    if (stride < N_ || block_width_) return false;
    row_stride_ = stride;
    return true;
  }

  int64_t packed_bytes() const override {
    return static_cast<int64_t>(packed_.size() + gbytes_.size() + bias_.size() * 4 + colsum_.size() * 4 +
                                rq_.size() * sizeof(RequantBlock<V::kLanes>));
  }

  bool Run(const void* x, int64_t m0, int64_t m1, void* y) const override {
    const uint8_t* xu = ShiftedRows(x, flip_, K_, kp_, m0, m1);
    if (!xu) return false;
    if (out_bits_ == 32) return RowsOf(xu, m0, m1, static_cast<int32_t*>(y));
    if (out_bits_ == 16) return RowsOf(xu, m0, m1, static_cast<int16_t*>(y));
    return RowsOf(xu, m0, m1, static_cast<int8_t*>(y));
  }

 protected:
  // Bias minus the shift's correction (the rows were shifted by +128 for an
  // unsigned instruction, −128 for a signed one, or not at all).
  void SetBias() {
    for (int64_t n = 0; n < np_; ++n) {
      const int64_t correction = flip_ ? (V::kUnsignedA ? 128 : -128) * int64_t{colsum_[static_cast<size_t>(n)]} : 0;
      bias_[static_cast<size_t>(n)] = static_cast<int32_t>(FileBias(n) - correction);
    }
  }
  // Column n's bias as the file gives it (0 for padding columns and no bias).
  int32_t FileBias(int64_t n) const { return n < N_ && bias_src_ ? bias_src_[n] : 0; }

  // Byte offset of vector `step` (of `steps`) of column block `block`. The
  // two blocks of a tile's column pair alternate vector by vector, so a tile
  // reads its weights as one sequential stream and the whole matrix is read
  // in address order: weights come from memory on every inference (a
  // model's are megabytes), and one stream keeps the hardware prefetcher
  // ahead (it follows one stream well, two interleaved ones less so).
  static int64_t VectorAt(int64_t block, int64_t step, int64_t steps) {
    return ((block >> 1) * steps * 2 + step * 2 + (block & 1)) * kVecBytes;
  }

  // Weight (n, k) at w8[n·n_step + k·k_step] → vector (n / kNR, k / 4), byte
  // (n % kNR)·4 + k % 4. Runs on every qmatmul: no divisions inside, and the
  // buffer is kept (its padding stays zero), so only real entries are written.
  void PackW8(const int8_t* w8, int64_t n_step, int64_t k_step) {
    const auto bytes = static_cast<size_t>(np_ * kp_);
    if (packed_.size() != bytes) packed_.Resize(bytes);
    const int64_t steps = kp_ / 4, live = live_blocks_ * kNR < N_ ? live_blocks_ * kNR : N_;
    for (int64_t n0 = 0; n0 < live; n0 += kNR) {
      const int64_t lanes = N_ - n0 < kNR ? N_ - n0 : kNR;
      int8_t* block = packed_.data() + VectorAt(n0 / kNR, 0, steps);  // vector q at block + 2q·kVecBytes
      int64_t k = 0;
      if (n_step == 1 && lanes == kNR) {  // rows of [K, N]: 4 rows interleave into one vector (vectorized)
        for (; k + 4 <= K_; k += 4) {
          const int8_t* r = w8 + n0 + k * k_step;
          int8_t* dst = block + (k >> 2) * 2 * kVecBytes;
          for (int64_t l = 0; l < kNR; ++l) {
            dst[4 * l] = r[l];
            dst[4 * l + 1] = r[k_step + l];
            dst[4 * l + 2] = r[2 * k_step + l];
            dst[4 * l + 3] = r[3 * k_step + l];
          }
        }
      } else if (k_step == 1) {  // rows of [N, K]: a lane's 4 k are 4 consecutive bytes
        for (; k + 4 <= K_; k += 4) {
          int8_t* dst = block + (k >> 2) * 2 * kVecBytes;
          for (int64_t l = 0; l < lanes; ++l) __builtin_memcpy(dst + 4 * l, w8 + (n0 + l) * n_step + k, 4);
        }
      }
      for (; k < K_; ++k) {
        int8_t* dst = block + (k >> 2) * 2 * kVecBytes + (k & 3);
        const int8_t* src = w8 + n0 * n_step + k * k_step;
        for (int64_t l = 0; l < lanes; ++l) dst[l * 4] = src[l * n_step];
      }
    }
    if (!flip_) return;  // the column sums only correct a shift of the rows
    // Σ_k w[n, k] with the kernel's own dot product: ones · the packed vectors.
    const Vec ones = V::Set1Byte(1);
    for (int64_t n0 = 0; n0 < live_blocks_ * kNR; n0 += kNR) {
      const int8_t* block = packed_.data() + VectorAt(n0 / kNR, 0, steps);
      Vec sum = V::Zero();
      for (int64_t q = 0; q < steps; ++q) sum = V::Dpbusd(sum, ones, V::Load(block + q * 2 * kVecBytes));
      V::Store32(colsum_.data() + n0, static_cast<int>(kNR), sum);
    }
  }

  void PackW4(const GemmWeights& w) {
    const int64_t blocks = np_ / kNR, groups = K_ / group_;
    packed_.Resize(static_cast<size_t>(blocks * (K_ / 8) * kVecBytes));
    gbytes_.Resize(static_cast<size_t>(blocks * groups * kVecBytes));
    auto* base = reinterpret_cast<uint8_t*>(packed_.data());
    for (int64_t n = 0; n < N_; ++n) {
      for (int64_t k = 0; k < K_; ++k) {
        const uint8_t byte = w.w4[(n * K_ + k) / 2];
        const int q = static_cast<int8_t>(static_cast<uint8_t>((k % 2 ? byte >> 4 : byte) << 4)) >> 4;
        // vector (n / kNR, k / 8); k % 8 < 4 in the low nibbles, else the high; lane (n % kNR) * 4 + k % 4
        uint8_t& dst = base[VectorAt(n / kNR, k / 8, K_ / 8) + (n % kNR) * 4 + k % 4];
        dst = static_cast<uint8_t>(dst | ((q & 0xF) << (k % 8 < 4 ? 0 : 4)));
        colsum_[static_cast<size_t>(n)] += q * w.group_scales[n * groups + k / group_];
      }
      // g in each of the 4 bytes of the column's lane, the layout of the weight bytes it scales
      for (int64_t gi = 0; gi < groups; ++gi) {
        const auto g = static_cast<uint8_t>(w.group_scales[n * groups + gi]);
        __builtin_memset(gbytes_.data() + ((n / kNR) * groups + gi) * kVecBytes + (n % kNR) * 4, g, 4);
      }
    }
  }

  // The output type is a template argument, so the epilogue has no branch
  // on it. With the branch, GCC kept the int32 epilogue a loop over
  // accumulators stored to the stack: Q·Kᵀ (K = 32, int32 out) now runs
  // 18 % faster, and DeiT-Tiny's qlinears 9 % and MiniLM's 6 %.
  template <typename T>
  bool RowsOf(const uint8_t* xu, int64_t m0, int64_t m1, T* y) const {
    if (!w4_) return Rows<V::kRowsW8, kW8>(xu, m0, m1, y);
    if (m1 - m0 >= kPanelMinRows) return Rows<V::kRowsW8, kW4Panel>(xu, m0, m1, y);
    return Rows<V::kRowsW4, kW4>(xu, m0, m1, y);
  }

  // Tiles of MR rows over every column pair, then the pair's last rows in a
  // smaller tile. MR is a template argument so the accumulators live in
  // registers. kWeights: kW8, kW4 (nibbles unpacked in the k-loop) or
  // kW4Panel (the pair expanded to int8 first, then W8 tiles over it:
  // unpacking in the k-loop, each group's sums need a shift, a multiply and
  // an add per accumulator, while a panel pays the group scale once per
  // weight. Below kPanelMinRows the expansion costs more than it saves).
  //
  // Each k-step of a tile issues one prefetch (kPrefetch). Only a pair's
  // first tile reads its weights from memory (or L3), so with two tiles or
  // more per pair the first two fetch the next pair, half each, a whole pair
  // ahead of its use, which hides the pair's first misses better than the
  // in-stream prefetch alone, which the other tiles and
  // single-tile pairs keep, and so does a qmatmul (its right operand was
  // just packed). Over a panel, the first tile fetches the next pair's
  // nibbles (half a W8 pair: a line a k-step covers them) and the others
  // nothing, the panel being in cache. Which one a tile issues is a template
  // argument: as a run-time argument, one more live register made GCC spill
  // a weight vector in the W4 k-loop.
  template <int MR, int kWeights, typename T>
  bool Rows(const uint8_t* xu, int64_t m0, int64_t m1, T* y) const {
    const int64_t rows = m1 - m0, full = rows / MR * MR;
    const int64_t steps = kWeights == kW8 ? kp_ / 4 : K_ / 8;  // of the stored vectors
    const int64_t pair_bytes = 2 * steps * kVecBytes;
    int8_t* panel = kWeights == kW4Panel ? PanelBuffer() : nullptr;
    if (kWeights == kW4Panel && !panel) return false;
    for (int64_t nb = 0; nb < live_blocks_; nb += 2) {
      const int8_t* pair = packed_.data() + VectorAt(nb, 0, steps);
      const int8_t* next = pair + pair_bytes;
      constexpr int kTiles = kWeights == kW4Panel ? kW8 : kWeights;
      int64_t r = 0;
      if constexpr (kWeights == kW4Panel) {
        static_assert(kPanelMinRows >= MR, "a panel call has a full tile");
        ExpandPair(nb, panel, 0, K_);
        Tile<MR, kTiles, kAhead>(xu, nb, panel, next, m0, y);
        r = MR;
        pair = panel;
      } else if (!repacked_ && full >= 2 * MR) {
        Tile<MR, kTiles, kAhead>(xu, nb, pair, next, m0, y);
        Tile<MR, kTiles, kAhead>(xu + MR * kp_, nb, pair, next + pair_bytes / 2, m0 + MR, y);
        r = 2 * MR;
      }
      constexpr int kRest = kWeights == kW4Panel ? kNoPrefetch : kInStream;
      for (; r < full; r += MR) Tile<MR, kTiles, kRest>(xu + r * kp_, nb, pair, nullptr, m0 + r, y);
      if (full < rows) {
        Tail<MR - 1, kTiles, kRest>(static_cast<int>(rows - full), xu + full * kp_, nb, pair, m0 + full, y);
      }
    }
    return true;
  }

  template <int MR, int kTiles, int kPrefetch, typename T>
  void Tail(int mr, const uint8_t* xu, int64_t nb, const int8_t* pair, int64_t row, T* y) const {
    if constexpr (MR > 0) {
      if (mr != MR) return Tail<MR - 1, kTiles, kPrefetch>(mr, xu, nb, pair, row, y);
      Tile<MR, kTiles, kPrefetch>(xu, nb, pair, nullptr, row, y);
    }
  }

  // This thread's panel: one column pair's weights as W8 vectors (VectorAt's
  // layout for a single pair), 2·kNR·K bytes: 48 KB for K = 1536.
  int8_t* PanelBuffer() const {
    thread_local AlignedArray<int8_t> buf;
    const auto need = static_cast<size_t>(2 * kNR * K_);
    return buf.EnsureSize(need) ? buf.data() : nullptr;
  }

  // A two's-complement nibble moved to a byte's top half is 16·q as an int8:
  // two ops a vector (top = 0xF0 bytes) instead of unpacking and sign-extending.
  static Vec LowNibbles16(Vec packed, Vec top) { return V::And(V::Slli16By4(packed), top); }
  static Vec HighNibbles16(Vec packed, Vec top) { return V::And(packed, top); }

  // Column pair nb's nibbles → int8 q·g in the panel, K from k_begin to
  // k_end (multiples of 8), the panel starting at k_begin. Packed vector k
  // of a block holds W8 steps 2k (low nibbles) and 2k + 1 (high).
  void ExpandPair(int64_t nb, int8_t* panel, int64_t k_begin, int64_t k_end) const {
    const int64_t k8 = K_ / 8, groups = K_ / group_, steps = group_ / 8, first = k_begin / 8, last = k_end / 8;
    const auto* pair = reinterpret_cast<const uint8_t*>(packed_.data()) + VectorAt(nb, 0, k8);
    for (int64_t gi = first / steps; gi * steps < last; ++gi) {
      const typename V::NibbleScales g[2] = {V::Scales(V::Load(gbytes_.data() + (nb * groups + gi) * kVecBytes)),
                                             V::Scales(V::Load(gbytes_.data() + ((nb + 1) * groups + gi) * kVecBytes))};
      const int64_t k1 = (gi + 1) * steps < last ? (gi + 1) * steps : last;
      for (int64_t k = gi * steps > first ? gi * steps : first; k < k1; ++k) {
        int8_t* out = panel + 4 * (k - first) * kVecBytes;
        for (int b = 0; b < 2; ++b) {
          const Vec p = V::Load(pair + (2 * k + b) * kVecBytes);
          V::Store(out + b * kVecBytes, V::template ScaleNibbles<false>(p, g[b]));
          V::Store(out + (2 + b) * kVecBytes, V::template ScaleNibbles<true>(p, g[b]));
        }
      }
    }
  }

  // Rows [row, row + MR) (x rows at xu) × columns of blocks nb, nb + 1, whose
  // weights start at `pair`; kAhead prefetches a line a k-step from `ahead`.
  template <int MR, int kTiles, int kPrefetch, typename T>
  void Tile(const uint8_t* xu, int64_t nb, const int8_t* pair, const int8_t* ahead, int64_t row, T* y) const {
    // The accumulators start at the bias: one add fewer per output vector.
    const Vec bias0 = V::Load(bias_.data() + nb * kNR), bias1 = V::Load(bias_.data() + (nb + 1) * kNR);
    Vec acc[MR][2];
    for (int r = 0; r < MR; ++r) acc[r][0] = bias0, acc[r][1] = bias1;
    if constexpr (kTiles == kW4) {
      AccumulateW4<MR, kPrefetch>(xu, nb, reinterpret_cast<const uint8_t*>(pair), ahead, acc);
    } else {
      AccumulateW8<MR, kPrefetch>(xu, pair, ahead, acc);
    }
    StoreTile<MR>(acc, nb, row, y);
  }

  // Rows [row, row + MR) of columns blocks nb, nb + 1 from their sums with
  // the bias: requantized to T, or (T = int32_t) as they are.
  template <int MR, typename T>
  void StoreTile(Vec (*acc)[2], int64_t nb, int64_t row, T* y) const {
    // Locals, not members, in the loop: an int8 store may alias any member.
    const int64_t N = N_, width = OutputWidth();
    for (int b = 0; b < 2; ++b) {
      const int64_t n0 = (nb + b) * kNR;
      if (n0 >= N) break;
      const int valid = static_cast<int>(N - n0 >= kNR ? kNR : N - n0);
      T* const out = OutputAt(y, n0, row);
      if constexpr (sizeof(T) == 4) {
        for (int r = 0; r < MR; ++r) V::Store32(out + r * width, valid, acc[r][b]);
      } else {
        const BlockRequant<V::kLanes> requant(rq_[static_cast<size_t>(nb + b)]);
        for (int r = 0; r < MR; ++r) {
          if constexpr (sizeof(T) == 2) {
            V::Store16(out + r * width, valid, requant(acc[r][b]));
          } else {
            V::Store8(out + r * width, valid, requant(acc[r][b]));
          }
        }
      }
    }
  }

  // The output's row stride, and where column n0 of row `row` is (SetOutputBlocks' layout; with a row
  // stride of SetOutputStride's, n0 / width is 0).
  int64_t OutputWidth() const { return block_width_ ? block_width_ : row_stride_ ? row_stride_ : N_; }
  template <typename T>
  T* OutputAt(T* y, int64_t n0, int64_t row) const {
    const int64_t width = OutputWidth();
    return y + n0 / width * block_rows_ * width + n0 % width + row * width;
  }

  // k-step k's prefetch (see Rows).
  template <int kPrefetch>
  static void Prefetch(const void* pair, const int8_t* ahead, int64_t k) {
    if constexpr (kPrefetch == kInStream) {
      __builtin_prefetch(static_cast<const int8_t*>(pair) + 2 * k * kVecBytes + kPrefetchBytes);
    } else if constexpr (kPrefetch == kAhead) {
      __builtin_prefetch(ahead + k * kVecBytes);
    }
  }

  template <int MR, int kPrefetch>
  void AccumulateW8(const uint8_t* xu, const int8_t* pair, const int8_t* ahead, Vec (*acc)[2]) const {
    const int64_t kq = kp_ / 4;
    // kp_ ≥ 4, so the loop runs. Said, because for a loop that might not
    // run GCC passes the accumulators through the stack (a store and a load
    // each a tile, which short attention products feel).
    if (kq < 1) __builtin_unreachable();
    for (int64_t k = 0; k < kq; ++k) {
      Prefetch<kPrefetch>(pair, ahead, k);
      const Vec w0 = V::Load(pair + 2 * k * kVecBytes), w1 = V::Load(pair + (2 * k + 1) * kVecBytes);
      for (int r = 0; r < MR; ++r) {
        const Vec a = Broadcast4<V>(xu + r * kp_ + k * 4);
        acc[r][0] = V::Dpbusd(acc[r][0], a, w0);
        acc[r][1] = V::Dpbusd(acc[r][1], a, w1);
      }
    }
  }

  template <int MR, int kPrefetch>
  void AccumulateW4(const uint8_t* xu, int64_t nb, const uint8_t* pair, const int8_t* ahead, Vec (*acc)[2]) const {
    const int64_t groups = K_ / group_, steps = group_ / 8;
    // The weights unpack as 16·q (LowNibbles16): the group sums come out 16×
    // and are shifted back, exactly.
    const Vec top = V::Set1Byte(static_cast<char>(0xF0)), low_byte = V::Set1(0xFF);
    for (int64_t gi = 0; gi < groups; ++gi) {
      Vec sum[MR][2];
      for (int r = 0; r < MR; ++r) sum[r][0] = sum[r][1] = V::Zero();
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t k = gi * steps + s;
        Prefetch<kPrefetch>(pair, ahead, k);
        const Vec p0 = V::Load(pair + 2 * k * kVecBytes), p1 = V::Load(pair + (2 * k + 1) * kVecBytes);
        const Vec w0lo = LowNibbles16(p0, top), w0hi = HighNibbles16(p0, top);
        const Vec w1lo = LowNibbles16(p1, top), w1hi = HighNibbles16(p1, top);
        for (int r = 0; r < MR; ++r) {
          const Vec alo = Broadcast4<V>(xu + r * kp_ + k * 8), ahi = Broadcast4<V>(xu + r * kp_ + k * 8 + 4);
          sum[r][0] = V::Dpbusd(V::Dpbusd(sum[r][0], alo, w0lo), ahi, w0hi);
          sum[r][1] = V::Dpbusd(V::Dpbusd(sum[r][1], alo, w1lo), ahi, w1hi);
        }
      }
      // Each lane's 4 bytes hold its column's g: the low one is the int32 g.
      const Vec g0 = V::And(V::Load(gbytes_.data() + (nb * groups + gi) * kVecBytes), low_byte);
      const Vec g1 = V::And(V::Load(gbytes_.data() + ((nb + 1) * groups + gi) * kVecBytes), low_byte);
      for (int r = 0; r < MR; ++r) {
        acc[r][0] = V::Add(acc[r][0], V::MulLo32(V::SraBy4(sum[r][0]), g0));
        acc[r][1] = V::Add(acc[r][1], V::MulLo32(V::SraBy4(sum[r][1]), g1));
      }
    }
  }

  int64_t N_, K_, np_ = 0, kp_ = 0, group_ = 0;
  int64_t live_blocks_ = 0;  // column blocks Run computes: np_ / kNR, or fewer after SetRight
  int64_t block_rows_ = 0, block_width_ = 0;  // SetOutputBlocks; 0: y is [rows, N]
  int64_t row_stride_ = 0;                     // SetOutputStride; 0: N
  int out_bits_;
  uint8_t flip_;
  bool w4_ = false, b_kn_, repacked_;
  const int32_t* bias_src_;
  AlignedArray<int32_t> colsum_;  // Σ_k w[n, k] (|·| ≤ 128·K < 2^31), for the shift's correction
  AlignedArray<int8_t> packed_;
  AlignedArray<uint8_t> gbytes_;  // group scales, a byte per weight byte of a vector (see PackW4)
  AlignedArray<int32_t> bias_;
  AlignedArray<RequantBlock<V::kLanes>> rq_;
};

// Shifted rows reach 255·128·K before the bias correction: beyond that, the scalar kernel.
inline bool Dot4Fits(const GemmWeights& w) { return w.K * 255 * 128 < (int64_t{1} << 31); }

// The dot-product instruction's own throughput, for intedge-gemm-bench's
// peak: `iters` rounds over as many independent sums as a W8 tile keeps
// (enough to cover the instruction's latency at its issue rate), on
// operands the compiler cannot fold. Returns the MACs done.
template <class V>
int64_t DotPeak(int64_t iters) {
  constexpr int kChains = 2 * V::kRowsW8;
  static volatile char seed = 1;
  const typename V::Vec a = V::Set1Byte(seed), b = V::Set1Byte(seed);
  typename V::Vec acc[kChains];
  for (auto& s : acc) s = V::Zero();
  for (int64_t i = 0; i < iters; ++i) {
    for (auto& s : acc) s = V::Dpbusd(s, a, b);
  }
  typename V::Vec total = acc[0];
  for (int c = 1; c < kChains; ++c) total = V::Add(total, acc[c]);
  alignas(64) int32_t lanes[V::kLanes];
  V::Store(lanes, total);
  seed = static_cast<char>(lanes[0]);  // the sums are used: the loop is not dead code
  return iters * kChains * V::kLanes * 4;
}
