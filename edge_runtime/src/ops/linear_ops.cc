// qlinear and qmatmul: the int8 × int8 → int32 products and their requant.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

using ir::fb::DType;

constexpr int64_t kScalarBlockRows = 32;  // rows a RowSource block takes from the scalar qmatmul
constexpr int64_t kWholeHeadRows = 128;   // heads of up to this many rows are one RowSource block (see block_rows)

// y = requant(x·wᵀ + bias) over R rows. With head_dim D the spec stores the
// [R, N] result as [N / D, R, D]: the GEMM writes that layout itself where
// it can (SetOutputBlocks); otherwise Run computes [R, N] into scratch and
// moves each block of D columns into place.
class QLinear final : public Op {
 public:
  QLinear(int x, int y, int64_t rows, int64_t N, int64_t head_dim, int64_t out_bytes, std::vector<int> constants,
          std::shared_ptr<GemmKernel> gemm)
      : x_(x), y_(y), rows_(rows), N_(N), head_dim_(head_dim), out_bytes_(out_bytes),
        constants_(std::move(constants)), gemm_(std::move(gemm)) {
    blocks_ = head_dim_ > 0 && gemm_->SetOutputBlocks(rows_, head_dim_);
    if (head_dim_ > 0 && !blocks_) scratch_.resize(static_cast<size_t>(rows_ * N_ * out_bytes_));
  }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* x = As<const int8_t>(t[x_]);
    uint8_t* y = scratch_.empty() ? t[y_] : scratch_.data();
    // The packed weights may serve other lengths of a dynamic graph (rows differ): set this one's block layout.
    if (blocks_) gemm_->SetOutputBlocks(rows_, head_dim_);
    std::atomic<bool> ok{true};
    pool.ParallelFor(rows_, gemm_->row_grain(), [&](int64_t m0, int64_t m1) {
      if (!gemm_->Run(x, m0, m1, y)) ok = false;
    });
    if (!ok) return MakeError(IE_ERR_OUT_OF_MEMORY, "qlinear: no memory for GEMM scratch rows");
    if (!scratch_.empty()) SplitBlocks(t[y_]);
    return Status::Ok();
  }
  std::string kernel() const override { return gemm_->name() + (scratch_.empty() ? "" : "+split"); }
  int64_t packed_bytes() const override { return gemm_->packed_bytes() + static_cast<int64_t>(scratch_.size()); }
  std::vector<int> packed_constants() const override {
    return gemm_->packed_bytes() ? constants_ : std::vector<int>();
  }

 private:
  // scratch [R, N] → y [N / D, R, D].
  void SplitBlocks(uint8_t* y) const {
    const int64_t row_bytes = head_dim_ * out_bytes_;
    for (int64_t b = 0; b < N_ / head_dim_; ++b) {
      for (int64_t r = 0; r < rows_; ++r) {
        std::memcpy(y + (b * rows_ + r) * row_bytes, scratch_.data() + (r * N_ + b * head_dim_) * out_bytes_,
                    static_cast<size_t>(row_bytes));
      }
    }
  }

  int x_, y_;
  int64_t rows_, N_, head_dim_, out_bytes_;
  std::vector<int> constants_;  // weight, bias, group scales
  std::shared_ptr<GemmKernel> gemm_;
  bool blocks_ = false;
  // A session runs one inference at a time (the C API serializes runs), so one scratch serves every run.
  mutable std::vector<uint8_t> scratch_;
};

// The scalar qmatmul over B slices, typed once by Prepare.
template <typename A, typename Y>
void QMatMulScalar(const uint8_t* a, const int8_t* b, bool transpose_b, int64_t B, int64_t M, int64_t N, int64_t K,
                   int32_t mult, int shift, uint8_t* y) {
  kernels::qmatmul_scalar(As<const A>(a), b, transpose_b, B, M, N, K, mult, shift, As<Y>(y));
}
using QMatMulScalarFn = decltype(&QMatMulScalar<int8_t, int8_t>);

// Batched a·b (or a·bᵀ). With a SIMD GEMM for the ISA, every batch slice has
// its own kernel, made once; each run repacks the slices' b (an activation)
// into them, then all threads share the (slice, row block) pairs, so the
// attention of 3 heads keeps 2 or 4 threads busy. Otherwise the scalar
// qmatmul runs. As a RowSource (Q·Kᵀ feeding Shiftmax), Shiftmax asks for
// the rows a block at a time instead.
class QMatMul final : public Op, public RowSource {
 public:
  QMatMul(int a, int b, int y, int64_t y_bytes, bool transpose_b, int64_t B, int64_t M, int64_t N, int64_t K,
          int32_t mult, int shift, GemmWeights gw, QMatMulScalarFn scalar, Isa isa)
      : a_(a), b_(b), y_(y), y_bytes_(y_bytes), transpose_b_(transpose_b), B_(B), M_(M), N_(N), K_(K), mult_(mult),
        shift_(shift), mults_(static_cast<size_t>(N), mult), shifts_(static_cast<size_t>(N), static_cast<int8_t>(shift)),
        scalar_(scalar) {
    // A placeholder b until the first run; + 1, so that its data() is not null (null weights mean W4) at K·N = 0.
    const std::vector<int8_t> zeros(static_cast<size_t>(K_ * N_ + 1));
    gw.w8 = zeros.data();
    gw.mult = mults_.data();
    gw.shift = shifts_.data();
    for (int64_t s = 0; s < B_; ++s) {
      auto gemm = MakeMatMulGemm(isa, gw);
      if (!gemm) break;  // this ISA has none: the scalar qmatmul
      slices_.push_back(std::move(gemm));
    }
  }

  // The slices' packed b: activation scratch, not weights, but memory all the same.
  int64_t packed_bytes() const override {
    int64_t bytes = 0;
    for (const auto& g : slices_) bytes += g->packed_bytes();
    return bytes;
  }
  std::string kernel() const override {
    return consumed_ ? "(rows made by its shiftmax)" : merged_ ? name() + ", heads merged" : name();
  }
  std::string name() const override {
    return slices_.empty() ? "qmatmul_scalar" : "qmatmul:" + slices_.front()->name();
  }

  RowSource* AsRowSource() override { return y_bytes_ == 4 ? this : nullptr; }
  // Fused, the rows go to Shiftmax's buffer, where they may lie apart: each
  // starts on a cache line there, so the GEMM's 64-byte stores of them do
  // not split in two, nor Shiftmax's loads. DeiT-Tiny's rows of 197 int32
  // each began 20 bytes further into a line than the last
  // (intedge-gemm-bench act-t 197x64x197: 0.0104 ms; 197x64x208, more work
  // on whole lines: 0.0064). In DeiT-Tiny its attention products took 6 %
  // less time at 1 and 2 threads.
  void set_consumed() override {
    RowSource::set_consumed();
    constexpr int64_t kLineBytes = 64;
    const int64_t per_line = kLineBytes / y_bytes_, padded = (N_ + per_line - 1) / per_line * per_line;
    SetStride(padded);
  }
  int64_t row_stride() const override { return stride_; }

  // The heads' merge after P·V (a transpose of [B, M, N] into [M, B, N])
  // written by the GEMMs themselves: slice b's rows B·N apart from column
  // b·N, and the transpose's copy gone (MiniLM's took 38 µs a run at 1
  // thread, DeiT-Tiny's 63: the output's cache misses, which the GEMM's
  // own stores now take).
  bool WriteHeadsMerged(int64_t heads, int64_t rows, int64_t width) override {
    if (heads != B_ || rows != M_ || width != N_ || consumed_ || !SetStride(B_ * N_)) return false;
    merged_ = true;
    return true;
  }
  // The scalar qmatmul takes any rows: a SIMD GEMM's chunk of them keeps
  // the consumer's buffer small. A head of up to kWholeHeadRows is one
  // block where the heads divide evenly among the threads: its GEMM call
  // sets up its tiles, copies its rows and loads the keys' tiles once, not
  // once per 32 rows (MiniLM's 12 heads of 128 rows at 1 thread: −3 % on a
  // padded sentence, whose keys are one column pair). Else row blocks, so
  // that 3 heads of 197 keep 2 threads busy (DeiT-Tiny with blocks of 128
  // rows: +2 % at 1 thread, +3.5 % at 2).
  int64_t block_rows(int threads) const override {
    if (slices_.empty()) return kScalarBlockRows;
    return SlicesDivide(threads) && M_ <= kWholeHeadRows ? M_ : slices_.front()->row_grain();
  }
  int64_t slice_rows() const override { return M_; }

  Status Begin(const TensorData& t, ThreadPool& pool, int64_t columns) const override {
    if (slices_.empty()) return Status::Ok();  // the scalar qmatmul computes every column
    pool.ParallelFor(B_, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        slices_[static_cast<size_t>(b)]->SetRight(As<const int8_t>(t[b_]) + b * K_ * N_, columns);
      }
    });
    return Status::Ok();
  }

  // Each slice's rows as a call of their own from row 0 of `out`: the
  // kernel computes rows [m0, m1) of a at rows [m0, m1) of y, so a and y
  // start at the block's first row. Rows are stride_ elements apart.
  bool Rows(const TensorData& t, int64_t r0, int64_t r1, void* out) const override {
    auto* y = static_cast<uint8_t*>(out);
    for (int64_t r = r0; r < r1;) {
      const int64_t b = r / M_, m0 = r % M_, n = std::min(M_ - m0, r1 - r);
      const uint8_t* a = t[a_] + (b * M_ + m0) * K_;  // 1 byte per element (int8 or uint8)
      if (slices_.empty()) {
        scalar_(a, As<const int8_t>(t[b_]) + b * K_ * N_, transpose_b_, 1, n, N_, K_, mult_, shift_, y);
      } else if (!slices_[static_cast<size_t>(b)]->Run(a, 0, n, y)) {
        return false;
      }
      y += n * stride_ * y_bytes_;
      r += n;
    }
    return true;
  }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    if (consumed_) return Status::Ok();
    IE_RETURN_IF_ERROR(Begin(t, pool, N_));
    // Each slice is one call where the slices divide evenly among the
    // threads (one thread, or MiniLM's 12 heads on 2; the scalar qmatmul
    // always): a call per row block repeats the tile set-up (MiniLM's
    // attention products on 2 threads took 319 µs that way, 302 whole).
    // Else row blocks, so 3 heads keep 2 or 4 threads busy.
    const bool whole = slices_.empty() || SlicesDivide(pool.threads());
    const int64_t rows = whole ? std::max<int64_t>(M_, 1) : slices_.front()->row_grain();
    const int64_t blocks = (M_ + rows - 1) / rows;
    std::atomic<bool> ok{true};
    pool.ParallelFor(B_ * blocks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t b = c / blocks, m0 = c % blocks * rows, m1 = std::min(M_, m0 + rows);
        // Row m0 of slice b: at (b·M + m0)·N, or merged at (m0·B + b)·N; its next rows stride_ on.
        const int64_t first = merged_ ? (m0 * B_ + b) * N_ : (b * M_ + m0) * N_;
        if (!Rows(t, b * M_ + m0, b * M_ + m1, t[y_] + first * y_bytes_)) ok = false;
      }
    });
    return ok ? Status::Ok() : MakeError(IE_ERR_OUT_OF_MEMORY, "qmatmul: no memory for GEMM scratch");
  }

 private:
  // The batch slices (heads) divide evenly among the threads: each can be one call.
  bool SlicesDivide(int threads) const { return B_ % threads == 0; }
  // Every slice's GEMM writes its rows `stride` elements apart, and Rows steps by it; or (false)
  // every one N apart, as a kernel that refuses writes them.
  bool SetStride(int64_t stride) {
    bool all = !slices_.empty();
    for (const auto& g : slices_) all = g->SetOutputStride(stride) && all;
    if (!all) {
      for (const auto& g : slices_) g->SetOutputStride(N_);
    }
    stride_ = all ? stride : N_;
    return all;
  }

  int a_, b_, y_;
  int64_t y_bytes_;
  bool transpose_b_;
  int64_t B_, M_, N_, K_;
  // Rows' row stride: N; N padded to a cache line once fused (set_consumed); B·N merged (WriteHeadsMerged)
  int64_t stride_ = N_;
  bool merged_ = false;  // Run writes [M, B, N] (WriteHeadsMerged)
  int32_t mult_;
  int shift_;
  std::vector<int32_t> mults_;
  std::vector<int8_t> shifts_;
  QMatMulScalarFn scalar_;
  // One kernel per batch slice, repacked by every run: a session runs one
  // inference at a time (its arena is shared too).
  std::vector<std::unique_ptr<GemmKernel>> slices_;
};

}  // namespace

Status PrepareQLinear(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_QLinearOptions();
  const TensorInfo &x = ctx.input(0), &w = ctx.input(1);
  GemmWeights gw;
  gw.N = w.dim(0);
  gw.K = w.dim(1);
  if (w.dtype == DType::INT4) {
    gw.w4 = w.constant;
    gw.group_scales = reinterpret_cast<const int8_t*>(ctx.input(3).constant);
    gw.group = o->group_size();
  } else {
    gw.w8 = reinterpret_cast<const int8_t*>(w.constant);
  }
  if (ctx.input_id(2) >= 0) gw.bias = reinterpret_cast<const int32_t*>(ctx.input(2).constant);
  gw.mult = o->multiplier()->data();
  gw.shift = o->shift()->data();
  gw.out_bits = ctx.output().dtype == DType::INT16 ? 16 : 8;
  std::vector<int> constants;
  bool fixed_constants = true;  // packed weights serve every length, unless one follows the length (K shrinks)
  for (int j = 1; j < ctx.num_inputs(); ++j) {
    if (ctx.input_id(j) < 0) continue;
    constants.push_back(ctx.input_id(j));
    fixed_constants = fixed_constants && !ctx.input(j).dynamic_axes;
  }
  std::shared_ptr<GemmKernel>* slot = fixed_constants ? ctx.gemm_slot() : nullptr;
  std::shared_ptr<GemmKernel> gemm = slot ? *slot : nullptr;
  if (!gemm) gemm = MakeGemm(ctx.kernels().isa, gw);
  if (slot) *slot = gemm;
  *out = std::make_unique<QLinear>(ctx.input_id(0), ctx.output_id(0), x.numel / gw.K, gw.N, o->head_dim(),
                                   gw.out_bits / 8, std::move(constants), std::move(gemm));
  return Status::Ok();
}

Status PrepareQMatMul(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_QMatMulOptions();
  const TensorInfo &a = ctx.input(0), &b = ctx.input(1), &y = ctx.output();
  GemmWeights gw;
  gw.K = a.dim(a.rank - 1);
  gw.N = o->transpose_b() ? b.dim(b.rank - 2) : b.dim(b.rank - 1);
  gw.b_kn = !o->transpose_b();
  gw.out_bits = static_cast<int>(ElementBytes(y.dtype) * 8);
  gw.x_u8 = a.dtype == DType::UINT8;
  gw.repacked = true;
  QMatMulScalarFn scalar = nullptr;
  WithIntType(a.dtype, [&](auto ta) {
    WithIntType(y.dtype, [&](auto ty) {
      using A = decltype(ta);
      using Y = decltype(ty);
      if constexpr ((std::is_same_v<A, int8_t> || std::is_same_v<A, uint8_t>) && !std::is_same_v<Y, uint8_t>) {
        scalar = &QMatMulScalar<A, Y>;
      }
    });
  });
  *out = std::make_unique<QMatMul>(ctx.input_id(0), ctx.input_id(1), ctx.output_id(0), ElementBytes(y.dtype),
                                   o->transpose_b(), a.Span(0, a.rank - 2), a.dim(a.rank - 2), gw.N, gw.K,
                                   o->multiplier(), o->shift(), gw, scalar, ctx.kernels().isa);
  return Status::Ok();
}

}  // namespace intedge
