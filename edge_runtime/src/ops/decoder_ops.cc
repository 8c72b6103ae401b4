// Stand-ins for the decoder ops' Prepare (rope, swiglu, cached_attention), so
// the engine links and refuses a decoder graph with a clear message until the
// kernels branch replaces this file with the real ops.
#include "ops/op.h"

namespace intedge {
namespace {

Status NotImplemented(const OpContext& ctx, const char* kind) {
  return ctx.Fail(std::string(kind) + " is not implemented in this build (decoder_ops.cc is a stub)");
}

}  // namespace

Status PrepareRope(const OpContext& ctx, std::unique_ptr<Op>*) { return NotImplemented(ctx, "rope"); }
Status PrepareSwiglu(const OpContext& ctx, std::unique_ptr<Op>*) { return NotImplemented(ctx, "swiglu"); }
Status PrepareCachedAttention(const OpContext& ctx, std::unique_ptr<Op>*) {
  return NotImplemented(ctx, "cached_attention");
}

}  // namespace intedge
