#include <cstdarg>
#include <cstdio>

#include "ops/op.h"

namespace intedge {

Status OpContext::Error(const char* fmt, ...) const {
  char detail[400];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(detail, sizeof detail, fmt, args);
  va_end(args);
  const char* name = op_->name() ? op_->name()->c_str() : "";
  return MakeError(IE_ERR_INVALID_FILE, "op %d (%s%s%s): %s", index_, ir::fb::EnumNameOpKind(op_->kind()),
                   *name ? " " : "", name, detail);
}

Status OpContext::Arity(int min_inputs, int max_inputs, int required_inputs) const {
  if (num_inputs() < min_inputs || num_inputs() > max_inputs) {
    return Error("takes %d to %d inputs, got %d", min_inputs, max_inputs, num_inputs());
  }
  if (num_outputs() != 1) return Error("has 1 output, got %d", num_outputs());
  for (int j = 0; j < required_inputs; ++j) {
    if (input_id(j) < 0) return Error("input %d is required", j);
  }
  return Status::Ok();
}

Status OpContext::DType(const TensorInfo& t, const char* what, std::initializer_list<ir::fb::DType> allowed) const {
  for (auto d : allowed) {
    if (t.dtype == d) return Status::Ok();
  }
  std::string names;
  for (auto d : allowed) names += (names.empty() ? "" : "/") + std::string(DTypeName(d));
  return Error("%s %s must be %s, got %s", what, t.name.c_str(), names.c_str(), DTypeName(t.dtype));
}

Status OpContext::Requant(int64_t multiplier, int64_t shift, const char* what) const {
  if (multiplier < 0 || multiplier >= (int64_t{1} << 31)) return Error("%smultiplier %lld outside [0, 2^31)", what, static_cast<long long>(multiplier));
  if (shift < 1 || shift > 62) return Error("%sshift %lld outside [1, 62]", what, static_cast<long long>(shift));
  return Status::Ok();
}

Status OpContext::Output(std::initializer_list<ir::fb::DType> dtypes, const Shape& shape) const {
  const TensorInfo& o = output();
  if (o.constant) return Error("output %s is a constant", o.name.c_str());
  if (dtypes.size() == 0) {
    if (o.dtype != input(0).dtype) return Error("output dtype %s != input dtype %s", DTypeName(o.dtype), DTypeName(input(0).dtype));
  } else {
    IE_RETURN_IF_ERROR(DType(o, "output", dtypes));
  }
  if (ShapeOf(o) != shape) {
    std::string want = "[";
    for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
    return Error("output %s is %s, expected shape %s]", o.name.c_str(), o.ShapeString().c_str(), want.c_str());
  }
  return Status::Ok();
}

Status PrepareOp(const OpContext& ctx, std::unique_ptr<Op>* out) {
  using K = ir::fb::OpKind;
  switch (ctx.op().kind()) {
    case K::QUANTIZE: return PrepareQuantize(ctx, out);
    case K::DEQUANTIZE: return PrepareDequantize(ctx, out);
    case K::REQUANT: return PrepareRequant(ctx, out);
    case K::QLINEAR: return PrepareQLinear(ctx, out);
    case K::QMATMUL: return PrepareQMatMul(ctx, out);
    case K::QADD: return PrepareQAdd(ctx, out);
    case K::SHIFTMAX: return PrepareShiftmax(ctx, out);
    case K::SHIFTGELU: return PrepareShiftGelu(ctx, out);
    case K::LAMBDA_SHIFTGELU: return PrepareLambdaShiftGelu(ctx, out);
    case K::ILAYERNORM: return PrepareILayerNorm(ctx, out);
    case K::MEANPOOL: return PrepareMeanPool(ctx, out);
    case K::RESHAPE: return PrepareReshape(ctx, out);
    case K::TRANSPOSE: return PrepareTranspose(ctx, out);
    case K::CONCAT: return PrepareConcat(ctx, out);
    case K::SLICE: return PrepareSlice(ctx, out);
    case K::GATHER: return PrepareGather(ctx, out);
    case K::UPSAMPLE_NEAREST: return PrepareUpsampleNearest(ctx, out);
    case K::ARGMAX: return PrepareArgMax(ctx, out);
  }
  return ctx.Error("unknown op kind");
}

}  // namespace intedge
