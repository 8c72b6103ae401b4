// The decoder's ops (integer_ops/decoder.py): RoPE and SwiGLU, parallel over
// rows and elements, and cached attention, which writes the new k, v rows
// into its state inputs (the KV caches, memory that persists between runs)
// and then attends over them, parallel over query heads and rows. Each picks
// its kernels once, in Prepare (kernels/dispatch.h). A position that does
// not fit is an error at run time, in the words of the spec's IndexError,
// prefixed as the reference executor prefixes it.
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/decoder.h"
#include "ops/dtype_switch.h"
#include "ops/op.h"
#include "ops/op_checks.h"

namespace intedge {
namespace {

// "op 12 (name): ", as intedge.reference words a run-time fault (the op's name, else its kind).
std::string RunErrorPrefix(const OpContext& ctx) {
  const char* name = ctx.op().name() ? ctx.op().name()->c_str() : "";
  const OpSignature* sig = SignatureOf(ctx.op().kind());
  return "op " + std::to_string(ctx.index()) + " (" + (*name ? name : sig ? sig->kind : "?") + "): ";
}

Status RunError(const std::string& prefix, const std::string& message) {
  return Status(IE_ERR_INVALID_ARGUMENT, prefix + message);
}

// x [..., S, D]: every head's S rows rotated at the same positions [S].
class Rope final : public Op {
 public:
  Rope(const OpContext& ctx, int64_t rows, int64_t S, int64_t D, Isa isa)
      : x_(ctx.input_id(0)), pos_(ctx.input_id(1)), y_(ctx.output_id(0)), rows_(rows), S_(S), D_(D),
        P_(ctx.input(2).dim(0)), cos_(As<const int16_t>(ctx.input(2).constant)),
        sin_(As<const int16_t>(ctx.input(3).constant)), prefix_(RunErrorPrefix(ctx)), kernel_(RopeFor(isa)) {}
  std::string kernel() const override { return kernel_.name; }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* pos = As<const int32_t>(t[pos_]);
    for (int64_t i = 0; i < S_; ++i) {  // checked once here: the kernels then never return an error
      if (pos[i] < 0 || pos[i] >= P_) return RunError(prefix_, RopePositionError(P_));
    }
    const auto* x = As<const int8_t>(t[x_]);
    auto* y = As<int8_t>(t[y_]);
    pool.ParallelFor(rows_, RowGrain(rows_, D_, pool.threads()), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1;) {  // a call per head's run of rows: they share the positions
        const int64_t end = std::min(r1, (r / S_ + 1) * S_);
        kernel_.fn(x + r * D_, end - r, D_, pos + r % S_, cos_, sin_, P_, y + r * D_);
        r = end;
      }
    });
    return Status::Ok();
  }

 private:
  int x_, pos_, y_;
  int64_t rows_, S_, D_, P_;
  const int16_t *cos_, *sin_;
  std::string prefix_;
  decltype(RopeFor(Isa::kScalar)) kernel_;
};

class Swiglu final : public Op {
 public:
  Swiglu(const OpContext& ctx, int32_t mult, int shift, Isa isa)
      : gate_(ctx.input_id(0)), up_(ctx.input_id(1)), y_(ctx.output_id(0)), n_(ctx.input(0).numel),
        table_(As<const int16_t>(ctx.input(2).constant)), mult_(mult), shift_(shift), kernel_(SwigluFor(isa)) {}
  std::string kernel() const override { return kernel_.name; }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    const auto* gate = As<const int8_t>(t[gate_]);
    const auto* up = As<const int8_t>(t[up_]);
    auto* y = As<int8_t>(t[y_]);
    pool.ParallelFor(n_, kElementGrain, [&](int64_t b, int64_t e) {
      kernel_.fn(gate + b, up + b, e - b, table_, mult_, shift_, y + b);
    });
    return Status::Ok();
  }

 private:
  int gate_, up_, y_;
  int64_t n_;
  const int16_t* table_;
  int32_t mult_;
  int shift_;
  decltype(SwigluFor(Isa::kScalar)) kernel_;
};

// Inputs q, k, v, positions, k_cache, v_cache (state: written here).
class CachedAttention final : public Op {
 public:
  CachedAttention(const OpContext& ctx, const AttentionShape& shape, Isa isa)
      : q_(ctx.input_id(0)), k_(ctx.input_id(1)), v_(ctx.input_id(2)), pos_(ctx.input_id(3)),
        k_cache_(ctx.input_id(4)), v_cache_(ctx.input_id(5)), y_(ctx.output_id(0)), a_(shape),
        prefix_(RunErrorPrefix(ctx)), kernels_(AttentionFor(isa)) {}
  // "attention_avx512+shiftmax_avx512": the scores' and P·V's ISA, then Shiftmax's kernel.
  std::string kernel() const override {
    return "attention" + std::string(kernels_.scores.name).substr(sizeof "attention_scores" - 1) + "+" +
           kernels_.shiftmax.name;
  }

  Status Run(const TensorData& t, ThreadPool& pool) const override {
    std::string error;
    const int64_t p = CacheStart(As<const int32_t>(t[pos_]), a_.S, a_.T, &error);
    if (p < 0) return RunError(prefix_, error);
    auto* k_cache = As<int8_t>(t[k_cache_]);
    auto* v_cache = As<int8_t>(t[v_cache_]);
    WriteCache(a_, As<const int8_t>(t[k_]), As<const int8_t>(t[v_]), p, k_cache, v_cache);
    const auto* q = As<const int8_t>(t[q_]);
    auto* y = As<int8_t>(t[y_]);
    // Work items: (head, query row), a row's cost about its keys · D.
    const int64_t grain = std::max<int64_t>(1, 32768 / ((p + a_.S) * a_.D));
    pool.ParallelFor(a_.q_heads * a_.S, grain, [&](int64_t r0, int64_t r1) {
      std::vector<int32_t> scores;
      std::vector<uint8_t> probs;
      for (int64_t r = r0; r < r1;) {  // a call per head's run of rows
        const int64_t h = r / a_.S, end = std::min(r1, (h + 1) * a_.S);
        AttendRows(kernels_, a_, q, k_cache, v_cache, p, h, r - h * a_.S, end - h * a_.S, &scores, &probs, y);
        r = end;
      }
    });
    return Status::Ok();
  }

 private:
  int q_, k_, v_, pos_, k_cache_, v_cache_, y_;
  AttentionShape a_;
  std::string prefix_;
  AttentionKernels kernels_;
};

}  // namespace

Status PrepareRope(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const TensorInfo& x = ctx.input(0);
  const int64_t D = x.dim(x.rank - 1), S = x.dim(x.rank - 2);
  *out = std::make_unique<Rope>(ctx, x.numel / D, S, D, ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareSwiglu(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_SwigluOptions();
  *out = std::make_unique<Swiglu>(ctx, o->multiplier(), o->shift(), ctx.kernels().isa);
  return Status::Ok();
}

Status PrepareCachedAttention(const OpContext& ctx, std::unique_ptr<Op>* out) {
  const auto* o = ctx.op().options_as_CachedAttentionOptions();
  const TensorInfo &q = ctx.input(0), &k = ctx.input(1), &cache = ctx.input(4);
  AttentionShape a;
  a.q_heads = q.dim(0), a.S = q.dim(1), a.D = q.dim(2), a.kv_heads = k.dim(0), a.T = cache.dim(1);
  a.mult = o->multiplier(), a.shift = o->shift(), a.out_mult = o->out_multiplier(), a.out_shift = o->out_shift();
  *out = std::make_unique<CachedAttention>(ctx, a, ctx.kernels().isa);
  return Status::Ok();
}

}  // namespace intedge
