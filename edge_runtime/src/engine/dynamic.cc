#include "engine/dynamic.h"

#include <cstring>

#include "ops/op_checks.h"

namespace intedge {
namespace {

// Copies the leading block `to` of an array of shape `from` (row-major, `elem` bytes an element).
void CopyLeading(const uint8_t* src, const int64_t* from, const int64_t* to, int rank, int64_t elem, uint8_t*& dst) {
  if (rank == 0) {
    std::memcpy(dst, src, static_cast<size_t>(elem));
    dst += elem;
    return;
  }
  int64_t inner = elem;
  for (int d = 1; d < rank; ++d) inner *= from[d];
  bool same_below = true;
  for (int d = 1; d < rank; ++d) same_below = same_below && from[d] == to[d];
  if (same_below) {  // the leading to[0] rows, contiguous
    std::memcpy(dst, src, static_cast<size_t>(to[0] * inner));
    dst += to[0] * inner;
    return;
  }
  for (int64_t i = 0; i < to[0]; ++i) CopyLeading(src + i * inner, from + 1, to + 1, rank - 1, elem, dst);
}

}  // namespace

void ScaleToLength(TensorInfo* t, int64_t bound, int64_t s) {
  for (int a = 0; a < t->rank; ++a) {
    if (t->dynamic_axes >> a & 1u) t->dims[static_cast<size_t>(a)] = t->dims[static_cast<size_t>(a)] / bound * s;
  }
  t->numel = t->Span(0, t->rank);
  t->bytes = t->numel * ElementBytes(t->dtype);  // never int4 (the verifier refuses dynamic int4)
}

Status ResolveAtLength(const Model& model, int64_t s, LengthTensors* out) {
  const int64_t bound = model.dynamic_bound();
  out->length = s;
  out->tensors = model.tensors();
  out->storage.clear();
  for (TensorInfo& t : out->tensors) {
    if (!t.dynamic_axes) continue;
    const auto stored = t.dims;
    ScaleToLength(&t, bound, s);
    if (t.constant) {
      std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[static_cast<size_t>(t.bytes + 64)]);
      IE_CHECK_OR_RETURN(buf, IE_ERR_OUT_OF_MEMORY, "no memory for constant '%s' at length %lld", t.name.c_str(),
                         static_cast<long long>(s));
      const auto base = reinterpret_cast<uintptr_t>(buf.get());
      uint8_t* dst = buf.get() + (64 - base % 64) % 64;
      uint8_t* cursor = dst;
      CopyLeading(t.constant, stored.data(), t.dims.data(), t.rank, ElementBytes(t.dtype), cursor);
      t.constant = dst;
      out->storage.push_back(std::move(buf));
    }
  }
  return Status::Ok();
}

Status CheckOpsAtLength(const Model& model, const LengthTensors& at) {
  const auto* ops = model.graph().ops();
  const int n_ops = ops ? static_cast<int>(ops->size()) : 0;
  const KernelSet none;
  for (int k = 0; k < n_ops; ++k) {
    const Status st = CheckOp(OpContext(k, ops->Get(static_cast<flatbuffers::uoffset_t>(k)), at.tensors, none));
    if (!st.ok()) {
      return Status(st.code(), "at " + model.dynamic_name() + " = " + std::to_string(at.length) + ": " + st.message());
    }
  }
  return Status::Ok();
}

}  // namespace intedge
