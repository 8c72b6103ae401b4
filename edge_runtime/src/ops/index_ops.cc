// Index arithmetic on token ids, masks and position ids: int_binary (b
// broadcast to a) and cumsum. Tiny next to the GEMMs, so every ISA runs the
// scalar kernels.
#include "kernels/kernels.h"
#include "ops/broadcast.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"

namespace intedge {
namespace {

template <typename A, typename B>
class IntBinary final : public Op {
 public:
  IntBinary(int a, int b, int y, Broadcast bc, int op) : a_(a), b_(b), y_(y), bc_(bc), op_(op) {}
  bool InPlaceOnInput0() const override { return std::is_same_v<A, int32_t>; }
  std::string kernel() const override { return "int_binary_scalar"; }
  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* a = As<const A>(t[a_]);
    auto* y = As<int32_t>(t[y_]);
    ForEachRun(bc_, As<const B>(t[b_]), pool, kElementGrain, [&](int64_t at, const B* b, int64_t n) {
      kernels::int_binary_scalar(a + at, b, n, op_, y + at);
    });
    return Status::Ok();
  }

 private:
  int a_, b_, y_;
  Broadcast bc_;
  int op_;
};

template <typename X>
class CumSum final : public Op {
 public:
  CumSum(int x, int y, int64_t outer, int64_t len, int64_t inner)
      : x_(x), y_(y), outer_(outer), len_(len), inner_(inner) {}
  std::string kernel() const override { return "cumsum_scalar"; }
  Status Run(const TensorData& t, ThreadPool&) const override {
    kernels::cumsum_scalar(As<const X>(t[x_]), outer_, len_, inner_, As<int32_t>(t[y_]));
    return Status::Ok();
  }

 private:
  int x_, y_;
  int64_t outer_, len_, inner_;
};

}  // namespace

Status PrepareIntBinary(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo &a = ctx.input(0), &b = ctx.input(1);
  const int op = ctx.op().options_as_IntBinaryOptions()->op();
  WithIntType(a.dtype, [&](auto ta) {
    WithIntType(b.dtype, [&](auto tb) {
      *out = std::make_unique<IntBinary<decltype(ta), decltype(tb)>>(ctx.input_id(0), ctx.input_id(1),
                                                                     ctx.output_id(0), Broadcast(a, b), op);
    });
  });
  return Status::Ok();
}

Status PrepareCumSum(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const int axis = ctx.op().options_as_CumSumOptions()->axis();
  WithIntType(x.dtype, [&](auto tx) {
    *out = std::make_unique<CumSum<decltype(tx)>>(ctx.input_id(0), ctx.output_id(0), x.Span(0, axis), x.dim(axis),
                                                  x.Span(axis + 1, x.rank));
  });
  return Status::Ok();
}

}  // namespace intedge
