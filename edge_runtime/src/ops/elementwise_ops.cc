// The float edges (quantize, dequantize), requant and the residual qadd.
#include <vector>

#include "kernels/kernels.h"
#include "ops/broadcast.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

using ir::fb::DType;

class Quantize final : public Op {
 public:
  Quantize(int x, int y, DType y_type, int64_t n, float inv_scale, Isa isa)
      : x_(x), y_(y), y_type_(y_type), n_(n), inv_(inv_scale), isa_(isa) {}
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    WithActType(y_type_, [&](auto tag) {
      using Y = decltype(tag);
      const auto kernel = QuantizeFor<Y>(isa_);
      pool.ParallelFor(n_, kElementGrain, [&](int64_t b, int64_t e) {
        kernel(As<const float>(t[x_]) + b, e - b, inv_, As<Y>(t[y_]) + b);
      });
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  DType y_type_;
  int64_t n_;
  float inv_;
  Isa isa_;
};

class Dequantize final : public Op {
 public:
  Dequantize(int x, int y, DType x_type, int64_t n, float scale) : x_(x), y_(y), x_type_(x_type), n_(n), scale_(scale) {}
  Status Run(const TensorData& t, ThreadPool&) const override {
    WithIntType(x_type_, [&](auto tag) {
      using X = decltype(tag);
      kernels::dequantize_scalar(As<const X>(t[x_]), n_, scale_, As<float>(t[y_]));
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  DType x_type_;
  int64_t n_;
  float scale_;
};

class Requant final : public Op {
 public:
  Requant(int x, int y, DType x_type, DType y_type, int64_t n, int32_t mult, int shift, Isa isa)
      : x_(x), y_(y), x_type_(x_type), y_type_(y_type), n_(n), mult_(mult), shift_(shift), isa_(isa) {}
  bool InPlaceOnInput0() const override { return x_type_ == y_type_; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    WithIntType(x_type_, [&](auto x_tag) {
      using X = decltype(x_tag);
      WithActType(y_type_, [&](auto y_tag) {
        using Y = decltype(y_tag);
        if constexpr (!std::is_same_v<X, uint8_t>) {
          const auto kernel = RequantFor<X, Y>(isa_);
          pool.ParallelFor(n_, kElementGrain, [&](int64_t b, int64_t e) {
            kernel(As<const X>(t[x_]) + b, e - b, mult_, shift_, As<Y>(t[y_]) + b);
          });
        }
      });
    });
    return Status::Ok();
  }

 private:
  int x_, y_;
  DType x_type_, y_type_;
  int64_t n_;
  int32_t mult_;
  int shift_;
  Isa isa_;
};

class QAdd final : public Op {
 public:
  QAdd(int a, int b, int y, DType a_type, DType b_type, DType y_type, Broadcast bc, int32_t ma, int32_t mb, int shift,
       Isa isa)
      : a_(a), b_(b), y_(y), a_type_(a_type), b_type_(b_type), y_type_(y_type), bc_(bc), ma_(ma), mb_(mb),
        shift_(shift), isa_(isa) {}
  bool InPlaceOnInput0() const override { return a_type_ == y_type_; }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    WithActType(a_type_, [&](auto a_tag) {
      WithActType(b_type_, [&](auto b_tag) {
        WithActType(y_type_, [&](auto y_tag) { Rows(t, pool, a_tag, b_tag, y_tag); });
      });
    });
    return Status::Ok();
  }

 private:
  template <typename A, typename B, typename Y>
  void Rows(const TensorData& t, ThreadPool& pool, A, B, Y) const {
    const auto* a = As<const A>(t[a_]);
    const auto* b = As<const B>(t[b_]);
    auto* y = As<Y>(t[y_]);
    const auto kernel = QAddFor<A, B, Y>(isa_);
    const int64_t len = bc_.run_length();
    if (bc_.runs() == 1 && bc_.small_step()) {  // same shapes (the residual add): split the elements
      pool.ParallelFor(len, kElementGrain, [&](int64_t e0, int64_t e1) {
        kernel(a + e0, b + e0, e1 - e0, ma_, mb_, shift_, y + e0);
      });
      return;
    }
    pool.ParallelFor(bc_.runs(), 1, [&](int64_t r0, int64_t r1) {
      std::vector<B> repeated(bc_.small_step() ? 0 : static_cast<size_t>(len));
      for (int64_t r = r0; r < r1; ++r) {
        const B* br = b + bc_.SmallOffset(r);
        if (!bc_.small_step()) {
          std::fill(repeated.begin(), repeated.end(), *br);
          br = repeated.data();
        }
        kernel(a + r * len, br, len, ma_, mb_, shift_, y + r * len);
      }
    });
  }

  int a_, b_, y_;
  DType a_type_, b_type_, y_type_;
  Broadcast bc_;
  int32_t ma_, mb_;
  int shift_;
  Isa isa_;
};

}  // namespace

Status PrepareQuantize(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::FLOAT32}));
  const float inv = ctx.op().options_as_QuantizeOptions()->inv_scale();
  if (!(inv > 0 && inv < 3.4e38f)) return ctx.Error("inv_scale %g must be finite and > 0", static_cast<double>(inv));
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16}, ShapeOf(x)));
  *out = std::make_unique<Quantize>(ctx.input_id(0), ctx.output_id(0), ctx.output().dtype, x.numel, inv,
                                      ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareDequantize(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8, DType::UINT8, DType::INT16, DType::INT32}));
  const float s = ctx.op().options_as_DequantizeOptions()->scale();
  if (!(s > 0 && s < 3.4e38f)) return ctx.Error("scale %g must be finite and > 0", static_cast<double>(s));
  IE_RETURN_IF_ERROR(ctx.Output({DType::FLOAT32}, ShapeOf(x)));
  *out = std::make_unique<Dequantize>(ctx.input_id(0), ctx.output_id(0), x.dtype, x.numel, s);
  return Status::Ok();
}

Status PrepareRequant(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(1, 1, 1));
  const TensorInfo& x = ctx.input(0);
  const auto* o = ctx.op().options_as_RequantOptions();
  IE_RETURN_IF_ERROR(ctx.DType(x, "input", {DType::INT8, DType::INT16, DType::INT32}));
  IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier(), o->shift()));
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16}, ShapeOf(x)));
  *out = std::make_unique<Requant>(ctx.input_id(0), ctx.output_id(0), x.dtype, ctx.output().dtype, x.numel,
                                   o->multiplier(), o->shift(), ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareQAdd(const OpContext& ctx, std::unique_ptr<Op>* out) {
  IE_RETURN_IF_ERROR(ctx.Arity(2, 2, 2));
  const TensorInfo &a = ctx.input(0), &b = ctx.input(1);
  const auto* o = ctx.op().options_as_QAddOptions();
  IE_RETURN_IF_ERROR(ctx.DType(a, "input a", {DType::INT8, DType::INT16}));
  IE_RETURN_IF_ERROR(ctx.DType(b, "input b", {DType::INT8, DType::INT16}));
  if (!Broadcasts(b, a)) return ctx.Error("input b %s does not broadcast to %s", b.ShapeString().c_str(), a.ShapeString().c_str());
  IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier_a(), o->shift(), "a: "));
  IE_RETURN_IF_ERROR(ctx.Requant(o->multiplier_b(), o->shift(), "b: "));
  IE_RETURN_IF_ERROR(ctx.Output({DType::INT8, DType::INT16}, ShapeOf(a)));
  *out = std::make_unique<QAdd>(ctx.input_id(0), ctx.input_id(1), ctx.output_id(0), a.dtype, b.dtype,
                                ctx.output().dtype, Broadcast(a, b), o->multiplier_a(), o->multiplier_b(), o->shift(),
                                ctx.kernels().isa);
  return Status::Ok();
}

}  // namespace intedge
