// Shiftmax, ShiftGELU, λ-ShiftGELU, I-LayerNorm and mean pooling: row-wise
// integer ops, parallel over rows.
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "ops/broadcast.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

using ir::fb::DType;

constexpr int64_t kMaxShiftmaxWidth = int64_t{1} << 16;
constexpr int64_t kMaskedRowBlock = 64;  // rows per masked Shiftmax call (MiniLM: 3 % faster than 16)
constexpr int64_t kMaxLayerNormChannels = 4096;  // integer_ops/layernorm.py MAX_CHANNELS
constexpr int64_t kMaxLayerNormBias = int64_t{1} << 61;

// Rows per chunk so a chunk carries at least ~16k elements of work.
int64_t RowGrain(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)); }

class Shiftmax final : public Op {
 public:
  Shiftmax(int x, int mask, int y, DType x_type, DType mask_type, int64_t rows, int64_t cols, Broadcast bc,
           int32_t mult, int shift, ShiftmaxKernels kernels)
      : x_(x), mask_(mask), y_(y), x_type_(x_type), mask_type_(mask_type), rows_(rows), cols_(cols), bc_(bc),
        mult_(mult), shift_(shift), kernels_(kernels) {}

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    WithIntType(x_type_, [&](auto x_tag) {
      using X = decltype(x_tag);
      if constexpr (std::is_same_v<X, int8_t> || std::is_same_v<X, int32_t>) {
        const auto* x = As<const X>(t[x_]);
        auto* y = t[y_];
        pool.ParallelFor(rows_, RowGrain(cols_), [&](int64_t r0, int64_t r1) {
          auto kernel = [&](const X* xs, const uint8_t* keep, int64_t rows, uint8_t* ys) {
            if constexpr (std::is_same_v<X, int8_t>) {
              kernels_.i8(xs, keep, rows, cols_, mult_, shift_, ys);
            } else {
              kernels_.i32(xs, keep, rows, cols_, mult_, shift_, ys);
            }
          };
          if (mask_ < 0) {
            kernel(x + r0 * cols_, nullptr, r1 - r0, y + r0 * cols_);
            return;
          }
          // The kernel takes a keep row per x row and overlaps one row's
          // reductions with the next row's work, so it gets blocks of rows.
          // Rows of one sequence share a mask row: it is converted once and
          // copied (one call per row made MiniLM's Shiftmax 23 % slower).
          const int64_t block = std::min(kMaskedRowBlock, r1 - r0);
          std::vector<uint8_t> keep(static_cast<size_t>((block + 1) * cols_));
          uint8_t* const last = keep.data() + block * cols_;
          const uint8_t* expanded = nullptr;
          MaskRows rows(*this, t[mask_]);
          for (int64_t b0 = r0; b0 < r1; b0 += block) {
            const int64_t b1 = std::min(r1, b0 + block);
            for (int64_t r = b0; r < b1; ++r) {
              const uint8_t* m = rows.Row(r);
              if (m != expanded) KeepRow(m, last);
              expanded = m;
              std::copy(last, last + cols_, keep.data() + (r - b0) * cols_);
            }
            kernel(x + b0 * cols_, keep.data(), b1 - b0, y + b0 * cols_);
          }
        });
      }
    });
    return Status::Ok();
  }

 private:
  // Where the mask elements over row r of x start: a row never straddles two
  // broadcast runs (a run spans whole rows, see Broadcast). The runs' offsets
  // repeat (every head and query of a sequence shares one mask row), so each
  // is computed once per repeat (a SmallOffset per row was 1 % of MiniLM).
  class MaskRows {
   public:
    MaskRows(const Shiftmax& op, const uint8_t* mask) : op_(op), mask_(mask) {}
    const uint8_t* Row(int64_t r) {
      const Broadcast& bc = op_.bc_;
      const int64_t e = r * op_.cols_, run = e / bc.run_length(), off = e % bc.run_length();
      const int64_t key = run / bc.repeat_runs();
      if (key != key_) key_ = key, offset_ = bc.SmallOffset(run);
      return mask_ + (offset_ + (bc.small_step() ? off : 0)) * ElementBytes(op_.mask_type_);
    }

   private:
    const Shiftmax& op_;
    const uint8_t* mask_;
    int64_t key_ = -1, offset_ = 0;
  };

  // keep[c] = mask element over x[r, c] != 0, from MaskRows::Row(r).
  void KeepRow(const uint8_t* mask_row, uint8_t* keep) const {
    WithIntType(mask_type_, [&](auto tag) {
      using M = decltype(tag);
      const M* m = As<M>(mask_row);
      if (bc_.small_step()) {
        for (int64_t c = 0; c < cols_; ++c) keep[c] = m[c] != 0;
      } else {
        std::fill(keep, keep + cols_, static_cast<uint8_t>(m[0] != 0));
      }
    });
  }

  int x_, mask_, y_;
  DType x_type_, mask_type_;
  int64_t rows_, cols_;
  Broadcast bc_;
  int32_t mult_;
  int shift_;
  ShiftmaxKernels kernels_;
};

class ShiftGelu final : public Op {
 public:
  ShiftGelu(int x, int y, int64_t rows, int64_t cols, int32_t x0, int32_t mult, int shift)
      : x_(x), y_(y), rows_(rows), cols_(cols), x0_(x0), mult_(mult), shift_(shift) {}
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(rows_, RowGrain(cols_), [&](int64_t r0, int64_t r1) {
      kernels::shiftgelu_scalar(As<const int8_t>(t[x_]) + r0 * cols_, r1 - r0, cols_, x0_, mult_, shift_,
                                As<int8_t>(t[y_]) + r0 * cols_);
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t rows_, cols_;
  int32_t x0_, mult_;
  int shift_;
};

// λ-ShiftGELU is a pure function of each int8 before its (per-channel)
// output requant, so Prepare tabulates its 256 values once with the oracle,
// and Run only looks values up and requantizes: exact by construction. With
// one requant for the tensor, Prepare tabulates the requantized bytes too,
// and Run is a byte lookup.
class LambdaShiftGelu final : public Op {
 public:
  LambdaShiftGelu(int x, int y, int64_t rows, int64_t cols, int32_t slope_mult, int slope_shift, const int32_t* mult,
                  const int8_t* shift, int64_t n_mult, Isa isa)
      : x_(x), y_(y), rows_(rows), cols_(cols), mult_(mult), shift_(shift), n_mult_(n_mult), isa_(isa) {
    kernels::lambda_shiftgelu_table(slope_mult, slope_shift, table_);
    int8_t every[256];
    for (int v = 0; v < 256; ++v) every[v] = static_cast<int8_t>(v - 128);
    if (n_mult_ == 1) kernels::table_requant_scalar(every, 1, 256, table_, mult_, shift_, 1, bytes_);
  }
  bool InPlaceOnInput0() const override { return true; }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* x = As<const int8_t>(t[x_]);
    auto* y = As<int8_t>(t[y_]);
    if (n_mult_ == 1) {
      const auto lookup = Lookup256For(isa_);
      pool.ParallelFor(rows_ * cols_, kElementGrain, [&](int64_t b, int64_t e) { lookup(x + b, e - b, bytes_, y + b); });
      return Status::Ok();
    }
    const auto kernel = TableRequantFor(isa_);
    pool.ParallelFor(rows_, RowGrain(cols_), [&](int64_t r0, int64_t r1) {
      kernel(x + r0 * cols_, r1 - r0, cols_, table_, mult_, shift_, n_mult_, y + r0 * cols_);
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t rows_, cols_;
  const int32_t* mult_;
  const int8_t* shift_;
  int64_t n_mult_;
  Isa isa_;
  int32_t table_[256];
  int8_t bytes_[256] = {};  // the requantized table, when n_mult_ == 1
};

class ILayerNorm final : public Op {
 public:
  struct Output {
    int y;
    DType type;
    const int32_t* mult;
    const int64_t* bias;
    int shift;
  };
  ILayerNorm(int x, DType x_type, int64_t rows, int64_t cols, const Output& out, Isa isa)
      : x_(x), x_type_(x_type), rows_(rows), cols_(cols), out_{out, out}, isa_(isa) {}

  // The converter's smoothed twin (smooth.py: the same x, other constants)
  // joins this op where the ISA has a pair kernel: one pass of statistics
  // for both (MiniLM's LayerNorms 13 % faster).
  Absorbed Absorb(const OpContext& next, bool) override {
    if (pair_ || next.op().kind() != ir::fb::OpKind::ILAYERNORM || next.input_id(0) != x_ ||
        !ILayerNormPairFor<int8_t, int8_t, int8_t>(isa_)) {
      return Absorbed::kNo;
    }
    const auto* o = next.op().options_as_ILayerNormOptions();
    out_[1] = {next.output_id(0), next.output().dtype, o->multiplier()->data(), o->bias()->data(), o->shift()};
    pair_ = true;
    return Absorbed::kBesideMine;
  }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    WithActType(x_type_, [&](auto x_tag) {
      using X = decltype(x_tag);
      WithActType(out_[0].type, [&](auto y_tag) {
        using Y = decltype(y_tag);
        if (!pair_) {
          const auto kernel = ILayerNormFor<X, Y>(isa_);
          pool.ParallelFor(rows_, RowGrain(cols_), [&](int64_t r0, int64_t r1) {
            kernel(As<const X>(t[x_]) + r0 * cols_, r1 - r0, cols_, out_[0].mult, out_[0].bias, out_[0].shift,
                   As<Y>(t[out_[0].y]) + r0 * cols_);
          });
          return;
        }
        WithActType(out_[1].type, [&](auto y2_tag) {
          using Y2 = decltype(y2_tag);
          const auto kernel = ILayerNormPairFor<X, Y, Y2>(isa_);
          const Output &a = out_[0], &b = out_[1];
          pool.ParallelFor(rows_, RowGrain(cols_), [&](int64_t r0, int64_t r1) {
            kernel(As<const X>(t[x_]) + r0 * cols_, r1 - r0, cols_, a.mult, a.bias, a.shift, As<Y>(t[a.y]) + r0 * cols_,
                   b.mult, b.bias, b.shift, As<Y2>(t[b.y]) + r0 * cols_);
          });
        });
      });
    });
    return Status::Ok();
  }

 private:
  int x_;
  DType x_type_;
  int64_t rows_, cols_;
  Output out_[2];
  bool pair_ = false;
  Isa isa_;
};

class MeanPool final : public Op {
 public:
  MeanPool(int x, int y, DType x_type, DType y_type, int64_t outer, int64_t len, int64_t inner, int32_t mult, int shift)
      : x_(x), y_(y), x_type_(x_type), y_type_(y_type), outer_(outer), len_(len), inner_(inner), mult_(mult),
        shift_(shift) {}
  Status Run(const TensorData& t, ThreadPool&) const override {
    WithActType(x_type_, [&](auto x_tag) {
      using X = decltype(x_tag);
      WithActType(y_type_, [&](auto y_tag) {
        using Y = decltype(y_tag);
        kernels::meanpool_scalar(As<const X>(t[x_]), outer_, len_, inner_, mult_, shift_, As<Y>(t[y_]));
      });
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  DType x_type_, y_type_;
  int64_t outer_, len_, inner_;
  int32_t mult_;
  int shift_;
};

int64_t LastDim(const TensorInfo& t) { return t.dim(t.rank - 1); }
int64_t Rows(const TensorInfo& t) { return LastDim(t) ? t.numel / LastDim(t) : 0; }

}  // namespace

Status PrepareShiftmax(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 2, 1));
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_ShiftmaxOptions();
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8, DType::INT32}));
  if (x.rank < 1 || LastDim(x) > kMaxShiftmaxWidth) return ctx.Error("rows must be 1 to 65536 wide");
  const int mask = ctx.input_id(1);
  DType mask_type = DType::UINT8;
  if (mask >= 0) {
    const TensorInfo& m = ctx.input(1);
    IE_RETURN_IF_ERROR(ctx.DType(m, "mask", {DType::INT8, DType::UINT8, DType::INT16, DType::INT32}));
    if (!Broadcasts(m, x)) return ctx.Error("mask %s does not broadcast to %s", m.ShapeString().c_str(), x.ShapeString().c_str());
    mask_type = m.dtype;
  }
  IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier(), o->shift()));
  IE_RETURN_IF_ERROR(ctx.Output({DType::UINT8}, ShapeOf(x)));
  *out = std::make_unique<Shiftmax>(ctx.input_id(0), mask, ctx.output_id(0), x.dtype, mask_type, Rows(x), LastDim(x),
                                    mask >= 0 ? Broadcast(x, ctx.input(1)) : Broadcast(x, x), o->multiplier(), o->shift(),
                                    ShiftmaxFor(ctx.kernels().isa));
  return Status::Ok();
}

Status PrepareShiftGelu(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_ShiftGeluOptions();
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8}));
  if (x.rank < 1) return ctx.Error("input must have rank >= 1");
  if (o->x0() < -255 || o->x0() > -1) return ctx.Error("x0 %d outside [-255, -1]", o->x0());
  IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier(), o->shift()));
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8}, ShapeOf(x)));
  *out = std::make_unique<ShiftGelu>(ctx.input_id(0), ctx.output_id(0), Rows(x), LastDim(x), o->x0(), o->multiplier(),
                                     o->shift());
  return Status::Ok();
}

Status PrepareLambdaShiftGelu(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_LambdaShiftGeluOptions();
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8}));
  if (x.rank < 1) return ctx.Error("input must have rank >= 1");
  IE_RETURN_IF_ERROR(ctx.Requant(o->slope_multiplier(), o->slope_shift(), "slope "));
  const auto* m = o->multiplier();
  const auto* s = o->shift();
  const size_t n = m ? m->size() : 0;
  if (!s || s->size() != n || (n != 1 && static_cast<int64_t>(n) != LastDim(x))) {
    return ctx.Error("multiplier and shift need 1 or %lld entries", static_cast<long long>(LastDim(x)));
  }
  for (flatbuffers::uoffset_t i = 0; i < n; ++i) IE_RETURN_IF_ERROR(ctx.Requant(m->Get(i), s->Get(i)));
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8}, ShapeOf(x)));
  *out = std::make_unique<LambdaShiftGelu>(ctx.input_id(0), ctx.output_id(0), Rows(x), LastDim(x),
                                           o->slope_multiplier(), o->slope_shift(), m->data(), s->data(),
                                           static_cast<int64_t>(n), ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareILayerNorm(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_ILayerNormOptions();
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8, DType::INT16}));
  if (x.rank < 1 || LastDim(x) < 1 || LastDim(x) > kMaxLayerNormChannels) return ctx.Error("channels must be 1 to 4096");
  const auto c = static_cast<size_t>(LastDim(x));
  IE_RETURN_IF_ERROR(ctx.Count(o->multiplier(), c, "multiplier"));
  IE_RETURN_IF_ERROR(ctx.Count(o->bias(), c, "bias"));
  for (flatbuffers::uoffset_t i = 0; i < c; ++i) {
    const int64_t b = o->bias()->Get(i);
    if (b < -kMaxLayerNormBias || b > kMaxLayerNormBias) return ctx.Error("bias outside [-2^61, 2^61]");
  }
  if (o->shift() < 1 || o->shift() > 62) return ctx.Error("shift %d outside [1, 62]", o->shift());
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16}, ShapeOf(x)));
  const ILayerNorm::Output y{ctx.output_id(0), ctx.output().dtype, o->multiplier()->data(), o->bias()->data(), o->shift()};
  *out = std::make_unique<ILayerNorm>(ctx.input_id(0), x.dtype, Rows(x), LastDim(x), y, ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareMeanPool(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_MeanPoolOptions();
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8, DType::INT16}));
  const int axis = o->axis();
  if (axis < 0 || axis >= x.rank) return ctx.Error("axis %d outside [0, %d)", axis, x.rank);
  IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier(), o->shift()));
  Shape shape = ShapeOf(x);
  shape.erase(shape.begin() + axis);
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16}, shape));
  *out = std::make_unique<MeanPool>(ctx.input_id(0), ctx.output_id(0), x.dtype, ctx.output().dtype, x.Span(0, axis),
                                    x.dim(axis), x.Span(axis + 1, x.rank), o->multiplier(), o->shift());
  return Status::Ok();
}

}  // namespace intedge
