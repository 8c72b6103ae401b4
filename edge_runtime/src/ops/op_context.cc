#include <cstdarg>
#include <cstdio>

#include "ops/op.h"
#include "ops/op_checks.h"

namespace intedge {

spec::Tensors OpContext::Roles() const {
  std::vector<spec::Tensor> v;
  for (int j = 0; j < num_inputs(); ++j) v.push_back(Role(j));
  return spec::Tensors(std::move(v));
}

spec::Tensors OpContext::Results() const {
  std::vector<spec::Tensor> v;
  for (int i = 0; i < num_outputs(); ++i) v.push_back(Result(i));
  return spec::Tensors(std::move(v));
}

Status OpContext::Fail(const std::string& message) const {
  const OpSignature* sig = SignatureOf(op_->kind());
  const char* name = op_->name() ? op_->name()->c_str() : "";
  return Status(IE_ERR_INVALID_FILE, "op " + std::to_string(index_) + " (" + (sig ? sig->kind : "?") +
                                         (*name ? " " : "") + name + "): " + message);
}

Status OpContext::Error(const char* fmt, ...) const {
  char detail[400];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(detail, sizeof detail, fmt, args);
  va_end(args);
  return Fail(detail);
}

Status OpContext::CheckOutputDType(bool known, DType want) const {
  for (int i = 0; i < num_outputs(); ++i) {
    const TensorInfo& o = output(i);
    if (!known || o.dtype != want) {
      return Fail("output '" + o.name + "' is " + DTypeName(o.dtype) + ", expected " + (known ? DTypeName(want) : "?"));
    }
  }
  return Status::Ok();
}

Status OpContext::CheckOutputShapes(bool known, const spec::Dims& want) const {
  for (int i = 0; i < num_outputs(); ++i) {
    const TensorInfo& o = output(i);
    if (!known || spec::DimsOf(o) != want) {
      return Fail("output '" + o.name + "' has shape " + spec::FmtDims(spec::DimsOf(o)) + ", expected " +
                  (known ? spec::FmtDims(want) : "?"));
    }
  }
  return Status::Ok();
}

}  // namespace intedge
