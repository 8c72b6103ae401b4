// qlinear and qmatmul: the int8 × int8 → int32 products and their requant.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

#include "kernels/kernels.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

using ir::fb::DType;

constexpr int64_t kAccLimit = int64_t{1} << 31;
constexpr int64_t kGemmRowGrain = 24;  // rows per chunk: a multiple of every SIMD kernel's row tile (8, 6, 4, 2)

template <typename T>
int64_t MaxAbs(const T* v, int64_t n) {
  int64_t m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max<int64_t>(m, std::llabs(static_cast<long long>(v[i])));
  return m;
}

class QLinear final : public Op {
 public:
  QLinear(int x, int y, int64_t M, std::vector<int> constants, std::unique_ptr<GemmKernel> gemm)
      : x_(x), y_(y), M_(M), constants_(std::move(constants)), gemm_(std::move(gemm)) {}
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* x = As<const int8_t>(t[x_]);
    void* y = t[y_];
    std::atomic<bool> ok{true};
    pool.ParallelFor(M_, kGemmRowGrain, [&](int64_t m0, int64_t m1) {
      if (!gemm_->Run(x, m0, m1, y)) ok = false;
    });
    return ok ? Status::Ok() : MakeError(IE_ERR_OUT_OF_MEMORY, "qlinear: no memory for GEMM scratch rows");
  }
  int64_t packed_bytes() const override { return gemm_->packed_bytes(); }
  std::vector<int> packed_constants() const override {
    return gemm_->packed_bytes() ? constants_ : std::vector<int>();
  }

  // Attention's head split, qlinear → reshape [1, M, blocks..., D] →
  // transpose to [blocks..., M, D] (batch 1 anywhere before M), becomes the
  // GEMM writing each block of D columns as its own [M, D] matrix: the
  // transpose's copy goes (2 % of MiniLM). A reshape alone is taken over too
  // (it is the same bytes), so that a transpose after it can be.
  Absorbed Absorb(const OpContext& next, bool reads_only_mine) override {
    if (!reads_only_mine || split_) return Absorbed::kNo;
    if (next.op().kind() == ir::fb::OpKind::RESHAPE) {
      reshaped_ = ShapeOf(next.output());
      y_ = next.output_id(0);
      return Absorbed::kInsteadOfMine;
    }
    if (next.op().kind() != ir::fb::OpKind::TRANSPOSE || !IsHeadSplit(next) ||
        !gemm_->SetOutputBlocks(M_, reshaped_.back())) {
      return Absorbed::kNo;
    }
    y_ = next.output_id(0);
    split_ = true;
    return Absorbed::kInsteadOfMine;
  }

 private:
  // The transpose moves every axis of reshaped_ = [1, M, blocks..., D] but
  // the batch axis to [blocks..., M, D], keeping the blocks' order.
  bool IsHeadSplit(const OpContext& transpose) const {
    const size_t rank = reshaped_.size();
    if (rank < 4 || reshaped_[0] != 1 || reshaped_[1] != M_) return false;
    const auto* perm = transpose.op().options_as_TransposeOptions()->perm();
    std::vector<int64_t> order;  // the output's axes without the batch axis
    for (auto a : *perm) {
      if (a != 0) order.push_back(a);
    }
    std::vector<int64_t> want;
    for (size_t a = 2; a + 1 < rank; ++a) want.push_back(static_cast<int64_t>(a));
    want.push_back(1);
    want.push_back(static_cast<int64_t>(rank - 1));
    return order == want;
  }

  int x_, y_;
  int64_t M_;
  std::vector<int> constants_;  // weight, bias, group scales
  std::unique_ptr<GemmKernel> gemm_;
  Shape reshaped_;  // the absorbed reshape's output shape, if any
  bool split_ = false;
};

// Batched a·b (or a·bᵀ). With a SIMD GEMM for the ISA, every batch slice has
// its own kernel, made once; each run repacks the slices' b (an activation)
// into them, then all threads share the (slice, row block) pairs, so the
// attention of 3 heads keeps 2 or 4 threads busy. Otherwise the scalar
// qmatmul runs.
class QMatMul final : public Op {
 public:
  QMatMul(int a, int b, int y, DType a_type, DType y_type, bool transpose_b, int64_t B, int64_t M, int64_t N,
          int64_t K, int32_t mult, int shift, Isa isa)
      : a_(a), b_(b), y_(y), a_type_(a_type), y_type_(y_type), transpose_b_(transpose_b), B_(B), M_(M), N_(N),
        K_(K), mult_(mult), shift_(shift), mults_(static_cast<size_t>(N), mult),
        shifts_(static_cast<size_t>(N), static_cast<int8_t>(shift)) {
    GemmWeights gw;
    gw.N = N_;
    gw.K = K_;
    const std::vector<int8_t> zeros(static_cast<size_t>(K_ * N_));  // a placeholder b until the first run
    gw.w8 = zeros.data();
    gw.b_kn = !transpose_b_;
    gw.mult = mults_.data();
    gw.shift = shifts_.data();
    gw.out_bits = static_cast<int>(ElementBytes(y_type_) * 8);
    gw.x_u8 = a_type_ == DType::UINT8;
    gw.repacked = true;
    for (int64_t b = 0; b < B_; ++b) {
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

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const int64_t y_bytes = ElementBytes(y_type_);
    if (slices_.empty()) {
      pool.ParallelFor(B_, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) Scalar(t[a_] + b * M_ * K_, As<const int8_t>(t[b_]) + b * K_ * N_, t[y_] + b * M_ * N_ * y_bytes);
      });
      return Status::Ok();
    }
    pool.ParallelFor(B_, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) slices_[static_cast<size_t>(b)]->SetRight(As<const int8_t>(t[b_]) + b * K_ * N_);
    });
    // One thread takes each slice whole (MiniLM's attention matmuls 3 % faster than a call per row block).
    const int64_t rows = pool.threads() > 1 ? kGemmRowGrain : std::max<int64_t>(M_, 1);
    const int64_t blocks = (M_ + rows - 1) / rows;
    std::atomic<bool> ok{true};
    pool.ParallelFor(B_ * blocks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t b = c / blocks, m0 = c % blocks * rows, m1 = std::min(M_, m0 + rows);
        // a is 1 byte per element (int8 or uint8)
        if (!slices_[static_cast<size_t>(b)]->Run(t[a_] + b * M_ * K_, m0, m1, t[y_] + b * M_ * N_ * y_bytes)) ok = false;
      }
    });
    return ok ? Status::Ok() : MakeError(IE_ERR_OUT_OF_MEMORY, "qmatmul: no memory for GEMM scratch");
  }

 private:
  void Scalar(const uint8_t* a, const int8_t* w, uint8_t* y) const {
    WithIntType(a_type_, [&](auto a_tag) {
      using A = decltype(a_tag);
      WithIntType(y_type_, [&](auto y_tag) {
        using Y = decltype(y_tag);
        if constexpr ((std::is_same_v<A, int8_t> || std::is_same_v<A, uint8_t>) && !std::is_same_v<Y, uint8_t>) {
          kernels::qmatmul_scalar(As<const A>(a), w, transpose_b_, 1, M_, N_, K_, mult_, shift_, As<Y>(y));
        }
      });
    });
  }

  int a_, b_, y_;
  DType a_type_, y_type_;
  bool transpose_b_;
  int64_t B_, M_, N_, K_;
  int32_t mult_;
  int shift_;
  std::vector<int32_t> mults_;
  std::vector<int8_t> shifts_;
  // One kernel per batch slice, repacked by every run: a session runs one
  // inference at a time (its arena is shared too).
  std::vector<std::unique_ptr<GemmKernel>> slices_;
};

}  // namespace

Status PrepareQLinear(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(2, 4, 2));
  const auto* o = ctx.op().options_as_QLinearOptions();
  const TensorInfo &x = ctx.input(0), &w = ctx.input(1);
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8}));
  if (x.rank < 1) return ctx.Error("input must have rank >= 1");
  IE_RETURN_IF_ERROR(ctx.DType(w, "weight", {DType::INT8, DType::INT4}));
  if (!w.constant || w.rank != 2) return ctx.Error("weight must be a constant [N, K]");
  GemmWeights gw;
  gw.N = w.dim(0);
  gw.K = w.dim(1);
  if (x.dim(x.rank - 1) != gw.K) return ctx.Error("input's last dim %lld != weight K %lld", static_cast<long long>(x.dim(x.rank - 1)), static_cast<long long>(gw.K));
  if (gw.K == 0) return ctx.Error("K is 0");
  int64_t wmax = 128;
  const int gid = ctx.input_id(3);
  if (w.dtype == DType::INT4) {
    const int64_t gs = o->group_size();
    if (gs != 32 && gs != 64 && gs != 128) return ctx.Error("group_size %lld must be 32, 64 or 128 for int4 weights", static_cast<long long>(gs));
    if (gw.K % gs) return ctx.Error("K %lld is not a multiple of group_size %lld", static_cast<long long>(gw.K), static_cast<long long>(gs));
    if (gid < 0) return ctx.Error("int4 weights need group scales (input 3)");
    const TensorInfo& g = ctx.input(3);
    if (!g.constant || g.dtype != DType::INT8 || g.rank != 2 || g.dim(0) != gw.N || g.dim(1) != gw.K / gs) {
      return ctx.Error("group scales must be a constant int8 [%lld, %lld]", static_cast<long long>(gw.N), static_cast<long long>(gw.K / gs));
    }
    gw.group_scales = reinterpret_cast<const int8_t*>(g.constant);
    for (int64_t i = 0; i < g.numel; ++i) {
      if (gw.group_scales[i] < 1 || gw.group_scales[i] > 16) return ctx.Error("group scales outside [1, 16]");
    }
    gw.w4 = w.constant;
    gw.group = gs;
  } else {
    if (gid >= 0 || o->group_size() != 0) return ctx.Error("int8 weights take no group scales");
    gw.w8 = reinterpret_cast<const int8_t*>(w.constant);
    wmax = MaxAbs(gw.w8, w.numel);
  }
  int64_t bias_max = 0;
  if (ctx.input_id(2) >= 0) {
    const TensorInfo& b = ctx.input(2);
    if (!b.constant || b.dtype != DType::INT32 || b.rank != 1 || b.dim(0) != gw.N) {
      return ctx.Error("bias must be a constant int32 [%lld]", static_cast<long long>(gw.N));
    }
    gw.bias = reinterpret_cast<const int32_t*>(b.constant);
    bias_max = MaxAbs(gw.bias, gw.N);
  }
  if (gw.K * 128 * wmax + bias_max >= kAccLimit) return ctx.Error("K=%lld with bias up to %lld can overflow the int32 accumulator", static_cast<long long>(gw.K), static_cast<long long>(bias_max));
  IE_RETURN_IF_ERROR(ctx.Count(o->multiplier(), static_cast<size_t>(gw.N), "multiplier"));
  IE_RETURN_IF_ERROR(ctx.Count(o->shift(), static_cast<size_t>(gw.N), "shift"));
  for (int64_t n = 0; n < gw.N; ++n) {
    const auto i = static_cast<flatbuffers::uoffset_t>(n);
    IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier()->Get(i), o->shift()->Get(i)));
  }
  gw.mult = o->multiplier()->data();
  gw.shift = o->shift()->data();
  Shape shape = ShapeOf(x);
  shape.back() = gw.N;
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16}, shape));
  gw.out_bits = ctx.output().dtype == DType::INT16 ? 16 : 8;
  std::vector<int> constants;
  for (int j = 1; j < ctx.num_inputs(); ++j) {
    if (ctx.input_id(j) >= 0) constants.push_back(ctx.input_id(j));
  }
  *out = std::make_unique<QLinear>(ctx.input_id(0), ctx.output_id(0), x.numel / gw.K, std::move(constants),
                                   MakeGemm(ctx.kernels().isa, gw));
  return Status::Ok();
}

Status PrepareQMatMul(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(2, 2, 2));
  const auto* o = ctx.op().options_as_QMatMulOptions();
  const TensorInfo &a = ctx.input(0), &b = ctx.input(1);
  IE_RETURN_IF_ERROR(ctx.DType(a, "input a", {DType::INT8, DType::UINT8}));
  IE_RETURN_IF_ERROR(ctx.DType(b, "input b", {DType::INT8}));
  if (a.rank < 2 || a.rank != b.rank) return ctx.Error("inputs need the same rank >= 2");
  for (int i = 0; i < a.rank - 2; ++i) {
    if (a.dim(i) != b.dim(i)) return ctx.Error("batch dims differ: %s vs %s", a.ShapeString().c_str(), b.ShapeString().c_str());
  }
  const int64_t M = a.dim(a.rank - 2), K = a.dim(a.rank - 1);
  const int64_t kb = o->transpose_b() ? b.dim(b.rank - 1) : b.dim(b.rank - 2);
  const int64_t N = o->transpose_b() ? b.dim(b.rank - 2) : b.dim(b.rank - 1);
  if (K != kb) return ctx.Error("inner dims differ: %s x %s", a.ShapeString().c_str(), b.ShapeString().c_str());
  if (K * 255 * 128 >= kAccLimit) return ctx.Error("K=%lld can overflow the int32 accumulator", static_cast<long long>(K));
  Shape shape = ShapeOf(a);
  shape.back() = N;
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16, DType::INT32}, shape));
  if (ctx.output().dtype != DType::INT32) IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier(), o->shift()));
  *out = std::make_unique<QMatMul>(ctx.input_id(0), ctx.input_id(1), ctx.output_id(0), a.dtype, ctx.output().dtype,
                                   o->transpose_b(), a.Span(0, a.rank - 2), M, N, K, o->multiplier(), o->shift(),
                                   ctx.kernels().isa);
  return Status::Ok();
}

}  // namespace intedge
