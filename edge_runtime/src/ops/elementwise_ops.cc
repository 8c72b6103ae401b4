// The float edges (quantize, dequantize), requant and the residual qadd.
// Each op is a template over its dtypes, instantiated by Prepare, which
// also picks its kernel for the session's ISA once.
#include "kernels/kernels.h"
#include "ops/broadcast.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

template <typename Y>
class Quantize final : public Op {
 public:
  Quantize(int x, int y, int64_t n, float inv_scale, Isa isa)
      : x_(x), y_(y), n_(n), inv_(inv_scale), kernel_(QuantizeFor<Y>(isa)) {}
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(n_, kElementGrain, [&](int64_t b, int64_t e) {
      kernel_.fn(As<const float>(t[x_]) + b, e - b, inv_, As<Y>(t[y_]) + b);
    });
    return Status::Ok();
  }
  std::string kernel() const override { return kernel_.name; }

 private:
  int x_, y_;
  int64_t n_;
  float inv_;
  decltype(QuantizeFor<Y>(Isa::kScalar)) kernel_;
};

template <typename X>
class Dequantize final : public Op {
 public:
  Dequantize(int x, int y, int64_t n, float scale) : x_(x), y_(y), n_(n), scale_(scale) {}
  Status Run(const TensorData& t, ThreadPool&) const override {
    kernels::dequantize_scalar(As<const X>(t[x_]), n_, scale_, As<float>(t[y_]));
    return Status::Ok();
  }
  std::string kernel() const override { return "dequantize_scalar"; }

 private:
  int x_, y_;
  int64_t n_;
  float scale_;
};

template <typename X, typename Y>
class Requant final : public Op {
 public:
  Requant(int x, int y, int64_t n, int32_t mult, int shift, Isa isa)
      : x_(x), y_(y), n_(n), mult_(mult), shift_(shift), kernel_(RequantFor<X, Y>(isa)) {}
  bool InPlaceOnInput0() const override { return std::is_same_v<X, Y>; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    pool.ParallelFor(n_, kElementGrain, [&](int64_t b, int64_t e) {
      kernel_.fn(As<const X>(t[x_]) + b, e - b, mult_, shift_, As<Y>(t[y_]) + b);
    });
    return Status::Ok();
  }
  std::string kernel() const override { return kernel_.name; }

 private:
  int x_, y_;
  int64_t n_;
  int32_t mult_;
  int shift_;
  decltype(RequantFor<X, Y>(Isa::kScalar)) kernel_;
};

template <typename A, typename B, typename Y>
class QAdd final : public Op {
 public:
  QAdd(int a, int b, int y, Broadcast bc, int32_t ma, int32_t mb, int shift, Isa isa)
      : a_(a), b_(b), y_(y), bc_(bc), ma_(ma), mb_(mb), shift_(shift), kernel_(QAddFor<A, B, Y>(isa)) {}
  bool InPlaceOnInput0() const override { return std::is_same_v<A, Y>; }
  std::string kernel() const override { return kernel_.name; }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* a = As<const A>(t[a_]);
    auto* y = As<Y>(t[y_]);
    ForEachRun(bc_, As<const B>(t[b_]), pool, kElementGrain, [&](int64_t at, const B* b, int64_t n) {
      kernel_.fn(a + at, b, n, ma_, mb_, shift_, y + at);
    });
    return Status::Ok();
  }

 private:
  int a_, b_, y_;
  Broadcast bc_;
  int32_t ma_, mb_;
  int shift_;
  decltype(QAddFor<A, B, Y>(Isa::kScalar)) kernel_;
};

}  // namespace

Status PrepareQuantize(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const float inv = ctx.op().options_as_QuantizeOptions()->inv_scale();
  WithActType(ctx.output().dtype, [&](auto y) {
    *out = std::make_unique<Quantize<decltype(y)>>(ctx.input_id(0), ctx.output_id(0), ctx.input(0).numel, inv,
                                                   ctx.kernels().isa);
  });
  return Status::Ok();
}

Status PrepareDequantize(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const float s = ctx.op().options_as_DequantizeOptions()->scale();
  WithIntType(ctx.input(0).dtype, [&](auto x) {
    *out = std::make_unique<Dequantize<decltype(x)>>(ctx.input_id(0), ctx.output_id(0), ctx.input(0).numel, s);
  });
  return Status::Ok();
}

Status PrepareRequant(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_RequantOptions();
  WithIntType(ctx.input(0).dtype, [&](auto x) {
    WithActType(ctx.output().dtype, [&](auto y) {
      if constexpr (!std::is_same_v<decltype(x), uint8_t>) {  // the spec admits int8/int16/int32 in
        *out = std::make_unique<Requant<decltype(x), decltype(y)>>(ctx.input_id(0), ctx.output_id(0),
                                                                   ctx.input(0).numel, o->multiplier(), o->shift(),
                                                                   ctx.kernels().isa);
      }
    });
  });
  return Status::Ok();
}

Status PrepareQAdd(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_QAddOptions();
  const TensorInfo &a = ctx.input(0), &b = ctx.input(1);
  WithActType(a.dtype, [&](auto ta) {
    WithActType(b.dtype, [&](auto tb) {
      WithActType(ctx.output().dtype, [&](auto ty) {
        *out = std::make_unique<QAdd<decltype(ta), decltype(tb), decltype(ty)>>(
            ctx.input_id(0), ctx.input_id(1), ctx.output_id(0), Broadcast(a, b), o->multiplier_a(), o->multiplier_b(),
            o->shift(), ctx.kernels().isa);
      });
    });
  });
  return Status::Ok();
}

}  // namespace intedge
