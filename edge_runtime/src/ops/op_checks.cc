// The generic part of every op's checks (the signature: arity, dtypes,
// constness, state), in the order intedge/ir/validate.py runs them, and the spec
// language's helpers that read constant data or print values.
#include "ops/op_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace intedge {
namespace {

std::string DTypeList(uint32_t mask) {
  std::string names;
  for (int d = 0; d < 32; ++d) {
    if (mask & (1u << d)) names += (names.empty() ? "" : "/") + std::string(DTypeName(static_cast<DType>(d)));
  }
  return names;
}

bool Allows(uint32_t mask, DType d) { return (mask >> static_cast<int>(d)) & 1u; }

// Calls f(v) for each value of a constant tensor, widened to int64 (int4: each signed nibble).
template <typename F>
bool EachValue(const TensorInfo& t, F&& f) {
  if (!t.constant) return false;
  auto each = [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < t.numel; ++i) {
      T v;
      std::memcpy(&v, t.constant + i * static_cast<int64_t>(sizeof v), sizeof v);
      f(static_cast<int64_t>(v));
    }
  };
  switch (t.dtype) {
    case DType::INT8: each(int8_t{}); break;
    case DType::UINT8: each(uint8_t{}); break;
    case DType::INT16: each(int16_t{}); break;
    case DType::INT32: each(int32_t{}); break;
    case DType::INT64: each(int64_t{}); break;
    case DType::INT4:
      for (int64_t i = 0; i < t.numel; ++i) {
        const int nibble = (t.constant[i / 2] >> (4 * (i % 2))) & 0xF;
        f(static_cast<int64_t>(nibble >= 8 ? nibble - 16 : nibble));
      }
      break;
    default: return false;  // float32: no integer values
  }
  return true;
}

template <typename Reduce>
int64_t ReduceValues(spec::Ev& e, const spec::Tensor& t, int64_t start, Reduce&& reduce) {
  if (!t.present() || !EachValue(*t.info(), [&](int64_t v) { start = reduce(start, v); }) || t.info()->numel == 0) {
    e.bad = true;
    return 0;
  }
  return start;
}

}  // namespace

namespace spec {

int64_t MaxAbs(Ev& e, const Tensor& t) {
  if (!t.present() || (t.info()->constant && t.info()->numel == 0)) return 0;
  return ReduceValues(e, t, 0, [](int64_t m, int64_t v) { return std::max(m, v < 0 ? -v : v); });
}

int64_t MinOf(Ev& e, const Tensor& t) {
  return ReduceValues(e, t, INT64_MAX, [](int64_t m, int64_t v) { return std::min(m, v); });
}

int64_t MaxOf(Ev& e, const Tensor& t) {
  return ReduceValues(e, t, INT64_MIN, [](int64_t m, int64_t v) { return std::max(m, v); });
}

std::string FmtDims(const Dims& d) {
  std::string s = "[";
  for (int64_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

std::string FmtFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace spec

Status CheckOp(const OpContext& ctx) {
  const OpSignature* sig = SignatureOf(ctx.op().kind());
  if (!sig) return ctx.Fail("unknown op kind");
  const int n = ctx.num_inputs();
  if (sig->max_inputs < 0 && n < sig->min_inputs) {
    return ctx.Error("takes %d or more inputs, got %d", sig->min_inputs, n);
  }
  if (sig->max_inputs >= 0 && (n < sig->min_inputs || n > sig->max_inputs)) {
    return ctx.Error("takes %d to %d inputs, got %d", sig->min_inputs, sig->max_inputs, n);
  }
  auto role = [&](int j) -> const RoleSignature& { return sig->role[std::min(j, sig->roles - 1)]; };
  for (int j = 0; j < n; ++j) {
    if (ctx.input_id(j) < 0 && !role(j).optional) return ctx.Error("input %d (%s) is required", j, role(j).name);
  }
  const int m = ctx.num_outputs();
  if (m < 1 || m > sig->max_outputs) {
    return sig->max_outputs > 1 ? ctx.Error("has 1 to %d outputs, got %d", sig->max_outputs, m)
                                : ctx.Error("has 1 output, got %d", m);
  }
  for (int j = 0; j < n; ++j) {
    if (ctx.input_id(j) < 0) continue;
    const TensorInfo& t = ctx.input(j);
    const RoleSignature& r = role(j);
    if (!Allows(r.dtypes, t.dtype)) {
      return ctx.Fail(std::string(r.name) + " '" + t.name + "' must be " + DTypeList(r.dtypes) + ", got " +
                      DTypeName(t.dtype));
    }
    if (r.constant && !t.constant) return ctx.Fail(std::string(r.name) + " '" + t.name + "' must be a constant");
    if (t.is_state != r.state) {
      return ctx.Fail(std::string(r.name) + " '" + t.name + "' " +
                      (r.state ? "must be a state tensor" : "is a state tensor, which only a cache input may take"));
    }
  }
  for (int i = 0; i < m; ++i) {
    const TensorInfo& o = ctx.output(i);
    if (o.constant) return ctx.Fail("output '" + o.name + "' is a constant");
    if (sig->output_dtypes && !Allows(sig->output_dtypes, o.dtype)) {
      return ctx.Fail("output '" + o.name + "' must be " + DTypeList(sig->output_dtypes) + ", got " + DTypeName(o.dtype));
    }
  }
  return CheckOpRules(ctx);
}

}  // namespace intedge
