#include "engine/session.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ops/op_checks.h"

namespace intedge {

Status ChooseIsa(const std::string& requested, Isa* isa) {
  const std::vector<Isa> supported = SupportedIsas();
  std::string name = requested;
  const char* from = "";  // where the name came from, for the errors
  if (name.empty()) {
    const char* env = std::getenv("INTEDGE_ISA");
    if (env && *env) name = env, from = " (from INTEDGE_ISA)";
  }
  if (name.empty()) {
    *isa = supported.back();
    return Status::Ok();
  }
  Isa wanted;
  auto names = [](const std::vector<Isa>& isas) {
    std::string s;
    for (Isa i : isas) s += std::string(s.empty() ? "" : ", ") + IsaName(i);
    return s;
  };
  if (!ParseIsa(name, &wanted)) {
    return MakeError(IE_ERR_INVALID_ARGUMENT, "unknown ISA '%s'%s (known: %s)", name.c_str(), from,
                     names(KnownIsas()).c_str());
  }
  for (Isa s : supported) {
    if (s == wanted) {
      *isa = wanted;
      return Status::Ok();
    }
  }
  // amx also needs the kernel's grant of the tile state (dispatch.cc), which a CPU with AMX can be refused
  return MakeError(IE_ERR_INVALID_ARGUMENT, "ISA '%s'%s is not available on this CPU%s (have: %s)", name.c_str(), from,
                   wanted == Isa::kAmx ? " (it needs AMX-INT8 and Linux's permission for the tile state)" : "",
                   names(supported).c_str());
}

// The graph-level rules, worded as intedge/ir/validate.py words them (ops
// read only what exists before them and write each tensor once; a state
// tensor exists from the start and is read by one op input at most; every
// graph output is produced), then every op against the op spec. Model's
// decoding has checked the graph inputs and outputs themselves.
Status CheckGraph(const Model& model) {
  const auto& tensors = model.tensors();
  std::vector<bool> ready(tensors.size(), false), read(tensors.size(), false);
  for (size_t t = 0; t < tensors.size(); ++t) ready[t] = tensors[t].constant != nullptr || tensors[t].is_state;
  for (int t : model.inputs()) ready[static_cast<size_t>(t)] = true;
  const auto* ops = model.graph().ops();
  const int n_ops = ops ? static_cast<int>(ops->size()) : 0;
  for (int k = 0; k < n_ops; ++k) {
    const auto* op = ops->Get(static_cast<flatbuffers::uoffset_t>(k));
    if (op->inputs()) {
      for (int t : *op->inputs()) {
        if (t < 0) continue;
        const TensorInfo& info = tensors[static_cast<size_t>(t)];
        IE_CHECK_OR_RETURN(ready[static_cast<size_t>(t)], IE_ERR_INVALID_FILE,
                           "op %d: input tensor '%s' is used before it is produced", k, info.name.c_str());
        // One reader: the op that updates a state tensor in place must be the only one to see it.
        IE_CHECK_OR_RETURN(!info.is_state || !read[static_cast<size_t>(t)], IE_ERR_INVALID_FILE,
                           "op %d: state tensor '%s' is read by a second op input", k, info.name.c_str());
        read[static_cast<size_t>(t)] = true;
      }
    }
    if (op->outputs()) {
      for (int t : *op->outputs()) {
        IE_CHECK_OR_RETURN(!ready[static_cast<size_t>(t)], IE_ERR_INVALID_FILE, "op %d: tensor '%s' is written twice",
                           k, tensors[static_cast<size_t>(t)].name.c_str());
        ready[static_cast<size_t>(t)] = true;
      }
    }
  }
  for (int t : model.outputs()) {
    IE_CHECK_OR_RETURN(ready[static_cast<size_t>(t)], IE_ERR_INVALID_FILE, "graph output: tensor '%s' is never produced",
                       tensors[static_cast<size_t>(t)].name.c_str());
    // int4 is a packing of constant weights: no runner has an int4 array to hand back
    IE_CHECK_OR_RETURN(tensors[static_cast<size_t>(t)].dtype != ir::fb::DType::INT4, IE_ERR_INVALID_FILE,
                       "graph output: tensor '%s' is int4 (packed weights are never an output)",
                       tensors[static_cast<size_t>(t)].name.c_str());
  }
  // Every op is checked before any is prepared, so a bad file costs no packing.
  const KernelSet none;
  for (int k = 0; k < n_ops; ++k) {
    IE_RETURN_IF_ERROR(CheckOp(OpContext(k, ops->Get(static_cast<flatbuffers::uoffset_t>(k)), tensors, none)));
  }
  // A dynamic graph: at length 1 too, as intedge/ir/validate.py does. The two ends catch most files that fail
  // at some length but not all (a dynamic axis broadcast against a fixed one), so a session checks every
  // length it prepares again.
  if (model.dynamic_bound() > 1) {
    LengthTensors at;
    IE_RETURN_IF_ERROR(ResolveAtLength(model, 1, &at));
    IE_RETURN_IF_ERROR(CheckOpsAtLength(model, at));
  }
  return Status::Ok();
}

namespace {

// Joins op f.source's output to op f.consumer, f.how: its rows made a
// block at a time by the consumer (see RowSource), or the consumer's layout
// written by the source and the consumer left an alias (Op::MergesHeads);
// false when either declines.
bool Fuse(const std::vector<std::unique_ptr<Op>>& ops, const FusedOps& f, bool timed) {
  Op& source = *ops[f.source];
  Op& consumer = *ops[f.consumer];
  if (f.how == FusedOps::kRows) {
    RowSource* rows = source.AsRowSource();
    if (!rows || !consumer.TakeRowSource(rows, timed)) return false;
    rows->set_consumed();
    return true;
  }
  int64_t heads = 0, rows = 0, width = 0;
  if (!consumer.MergesHeads(&heads, &rows, &width) || !source.WriteHeadsMerged(heads, rows, width)) return false;
  consumer.set_merged();
  return true;
}

// Fuses every op whose one output only op k reads, as its input 0, with k
// where both take it (Fuse: rows first, then merged heads), and returns the
// pairs. The plan then sees each pair's real needs. Rows: the source
// writes nothing (the tensor gets no arena bytes) and the consumer reads
// the source's inputs in its place. Merged heads: the consumer's output
// shares the source's buffer.
std::vector<FusedOps> FuseOps(const std::vector<std::unique_ptr<Op>>& ops, const std::vector<int>& graph_outputs,
                              bool timed, std::vector<PlanOp>* plan) {
  std::map<int, int> readers;
  for (const PlanOp& p : *plan) {
    for (int t : p.inputs) ++readers[t];
  }
  for (int t : graph_outputs) ++readers[t];
  std::map<int, size_t> producer;
  std::vector<FusedOps> fused;
  for (size_t k = 0; k < plan->size(); ++k) {
    PlanOp& consumer = (*plan)[k];
    const int t = consumer.inputs.empty() ? -1 : consumer.inputs[0];
    const auto found = producer.find(t);
    PlanOp* source = found == producer.end() ? nullptr : &(*plan)[found->second];
    if (source && source->outputs.size() == 1 && !source->alias && !source->in_place && readers[t] == 1 &&
        !consumer.alias && !consumer.in_place) {
      for (const auto how : {FusedOps::kRows, FusedOps::kMergedHeads}) {
        const FusedOps f{how, found->second, k};
        if (!Fuse(ops, f, timed)) continue;
        if (how == FusedOps::kRows) {
          consumer.inputs[0] = -1;
          consumer.inputs.insert(consumer.inputs.end(), source->inputs.begin(), source->inputs.end());
          source->outputs.clear();
        } else {
          consumer.alias = true;
        }
        fused.push_back(f);
        break;
      }
    }
    for (int out : consumer.outputs) producer[out] = k;
  }
  return fused;
}

}  // namespace

Status Session::Open(std::unique_ptr<Model> model, const SessionOptions& options, std::unique_ptr<Session>* out) {
  IE_CHECK_OR_RETURN(options.threads >= 1 && options.threads <= 256, IE_ERR_INVALID_ARGUMENT,
                     "threads must be 1 to 256, got %d", options.threads);
  IE_CHECK_OR_RETURN(options.max_arena_bytes >= 0, IE_ERR_INVALID_ARGUMENT, "max_arena_bytes must be >= 0");
  std::unique_ptr<Session> s(new Session());
  s->model_ = std::move(model);
  IE_RETURN_IF_ERROR(ChooseIsa(options.isa, &s->kernels_.isa));
  IE_RETURN_IF_ERROR(CheckGraph(*s->model_));
  const auto& tensors = s->model_->tensors();
  const auto* ops = s->model_->graph().ops();
  const int n_ops = ops ? static_cast<int>(ops->size()) : 0;
  std::vector<PlanOp>& plan_ops = s->plan_ops_;
  std::vector<bool> replaced(tensors.size(), false);
  s->gemms_.resize(static_cast<size_t>(n_ops));
  for (int k = 0; k < n_ops; ++k) {
    const auto* fb_op = ops->Get(static_cast<flatbuffers::uoffset_t>(k));
    const OpContext ctx(k, fb_op, tensors, s->kernels_, &s->gemms_[static_cast<size_t>(k)]);
    std::unique_ptr<Op> op;
    IE_RETURN_IF_ERROR(PrepareOp(ctx, &op));
    PlanOp p;
    for (int j = 0; j < ctx.num_inputs(); ++j) p.inputs.push_back(ctx.input_id(j));
    for (int i = 0; i < ctx.num_outputs(); ++i) p.outputs.push_back(ctx.output_id(i));
    p.alias = op->IsAlias();
    p.in_place = op->InPlaceOnInput0();
    plan_ops.push_back(p);
    s->packed_weight_bytes_ += op->packed_bytes();
    for (int t : op->packed_constants()) replaced[static_cast<size_t>(t)] = true;
    s->entries_.push_back({SignatureOf(fb_op->kind())->kind, fb_op->name() ? fb_op->name()->c_str() : "",
                           op->kernel(), 0, 0});
    s->ops_.push_back(std::move(op));
  }
  s->fused_ = FuseOps(s->ops_, s->model_->outputs(), options.profile, &plan_ops);
  s->source_of_.assign(s->ops_.size(), -1);
  for (const FusedOps& f : s->fused_) {
    if (f.how == FusedOps::kRows) s->source_of_[f.consumer] = static_cast<int>(f.source);
    s->entries_[f.source].kernel = s->ops_[f.source]->kernel();
    s->entries_[f.consumer].kernel = s->ops_[f.consumer]->kernel();
  }
  std::vector<int64_t> bytes;
  std::vector<bool> constant, state;
  for (size_t i = 0; i < tensors.size(); ++i) {
    bytes.push_back(tensors[i].bytes);
    constant.push_back(tensors[i].constant != nullptr);
    state.push_back(tensors[i].is_state);
    if (tensors[i].constant && !replaced[i]) s->constant_bytes_ += tensors[i].bytes;
  }
  s->plan_ = PlanMemory(plan_ops, bytes, constant, state, s->model_->inputs(), s->model_->outputs());
  IE_CHECK_OR_RETURN(options.max_arena_bytes == 0 || s->plan_.arena_bytes <= options.max_arena_bytes,
                     IE_ERR_OUT_OF_MEMORY,
                     "the graph needs a %lld-byte arena (%lld of them state), over the limit of %lld bytes",
                     static_cast<long long>(s->plan_.arena_bytes), static_cast<long long>(s->plan_.state_bytes),
                     static_cast<long long>(options.max_arena_bytes));
  const int64_t arena = s->plan_.arena_bytes + kArenaAlignment;
  s->arena_storage_.reset(new (std::nothrow) uint8_t[static_cast<size_t>(arena)]);
  IE_CHECK_OR_RETURN(s->arena_storage_, IE_ERR_OUT_OF_MEMORY, "cannot allocate a %lld-byte arena",
                     static_cast<long long>(arena));
  const auto base = reinterpret_cast<uintptr_t>(s->arena_storage_.get());
  s->arena_ = s->arena_storage_.get() + (kArenaAlignment - base % kArenaAlignment) % kArenaAlignment;
  s->ResetState();
  s->data_ = s->Bind(tensors);
  s->profiling_ = options.profile;
  s->check_finite_ = options.check_finite;
  s->pool_ = std::make_unique<ThreadPool>(options.threads);
  *out = std::move(s);
  return Status::Ok();
}

Status Session::PrepareLength(int64_t length, LengthPlan** out) {
  auto found = lengths_.find(length);
  if (found != lengths_.end()) {
    *out = found->second.get();
    return Status::Ok();
  }
  auto plan = std::make_unique<LengthPlan>();
  IE_RETURN_IF_ERROR(ResolveAtLength(*model_, length, &plan->at));
  IE_RETURN_IF_ERROR(CheckOpsAtLength(*model_, plan->at));
  const auto& tensors = plan->at.tensors;
  const auto* ops = model_->graph().ops();
  for (size_t k = 0; k < ops_.size(); ++k) {
    const OpContext ctx(static_cast<int>(k), ops->Get(static_cast<flatbuffers::uoffset_t>(k)), tensors, kernels_,
                        &gemms_[k]);
    std::unique_ptr<Op> op;
    IE_RETURN_IF_ERROR(PrepareOp(ctx, &op));
    plan->ops.push_back(std::move(op));
  }
  for (const FusedOps& f : fused_) {
    IE_CHECK_OR_RETURN(Fuse(plan->ops, f, profiling_), IE_ERR_INTERNAL,
                       "ops %zu and %zu: fused at the bound, not at length %lld", f.source, f.consumer,
                       static_cast<long long>(length));
  }
  for (size_t k = 0; k < plan->ops.size(); ++k) {
    // The bound's arena serves every length (each buffer only shrinks) only if the buffers are shared alike.
    const Op& op = *plan->ops[k];
    IE_CHECK_OR_RETURN(op.IsAlias() == plan_ops_[k].alias && op.InPlaceOnInput0() == plan_ops_[k].in_place,
                       IE_ERR_INTERNAL, "op %zu: its buffers at length %lld differ from the bound's", k,
                       static_cast<long long>(length));
  }
  plan->data = Bind(tensors);
  *out = plan.get();
  lengths_[length] = std::move(plan);
  return Status::Ok();
}

TensorData Session::Bind(const std::vector<TensorInfo>& tensors) const {
  TensorData data(tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t) {
    const auto r = static_cast<size_t>(plan_.root[t]);
    data[t] = tensors[r].constant ? const_cast<uint8_t*>(tensors[r].constant)
                                  : (plan_.offset[r] >= 0 ? arena_ + plan_.offset[r] : nullptr);
  }
  return data;
}

uint8_t* Session::state(int i) const {
  return arena_ + plan_.offset[static_cast<size_t>(model_->states()[static_cast<size_t>(i)])];
}

void Session::ResetState() { std::memset(arena_, 0, static_cast<size_t>(plan_.state_bytes)); }

const TensorInfo& Session::tensor_at_last_run(int t) const {
  return (last_ ? last_->at.tensors : model_->tensors())[static_cast<size_t>(t)];
}

Status Session::CheckFinite(const std::vector<const void*>& inputs, const std::vector<TensorInfo>& tensors) const {
  const auto& ids = model_->inputs();
  for (size_t i = 0; i < ids.size(); ++i) {
    const TensorInfo& t = tensors[static_cast<size_t>(ids[i])];
    if (t.dtype != DType::FLOAT32) continue;
    const auto* x = static_cast<const float*>(inputs[i]);
    for (int64_t e = 0; e < t.numel; ++e) {
      if (!std::isfinite(x[e])) {
        return MakeError(IE_ERR_INVALID_ARGUMENT,
                         "input '%s': element %lld is %s (refused: check_finite is on)",
                         t.name.c_str(), static_cast<long long>(e), std::isnan(x[e]) ? "nan" : (x[e] > 0 ? "inf" : "-inf"));
      }
    }
  }
  return Status::Ok();
}

Status Session::Run(const std::vector<const void*>& inputs, int64_t length) {
  const auto& ids = model_->inputs();
  const int64_t bound = model_->dynamic_bound();
  const bool in_range = bound > 0 ? 1 <= length && length <= bound : length == 1;
  IE_CHECK_OR_RETURN(length == 0 || in_range,
                     IE_ERR_INVALID_ARGUMENT, "length %lld is outside [1, %lld] for the dynamic dimension '%s'",
                     static_cast<long long>(length), static_cast<long long>(bound), model_->dynamic_name().c_str());
  const LengthPlan* plan = nullptr;
  if (length != 0 && length != bound && bound > 0) {
    LengthPlan* p = nullptr;
    IE_RETURN_IF_ERROR(PrepareLength(length, &p));
    plan = p;
  }
  last_ = plan;
  const std::vector<TensorInfo>& tensors = plan ? plan->at.tensors : model_->tensors();
  const TensorData& data = plan ? plan->data : data_;
  const std::vector<std::unique_ptr<Op>>& ops = plan ? plan->ops : ops_;
  IE_CHECK_OR_RETURN(inputs.size() == ids.size(), IE_ERR_INVALID_ARGUMENT, "expected %zu inputs, got %zu", ids.size(),
                     inputs.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    IE_CHECK_OR_RETURN(inputs[i] != nullptr, IE_ERR_INVALID_ARGUMENT, "input '%s': null data",
                       model_->tensors()[static_cast<size_t>(ids[i])].name.c_str());
  }
  if (check_finite_) IE_RETURN_IF_ERROR(CheckFinite(inputs, tensors));
  for (size_t i = 0; i < ids.size(); ++i) {
    const TensorInfo& t = tensors[static_cast<size_t>(ids[i])];
    std::memcpy(data[static_cast<size_t>(ids[i])], inputs[i], static_cast<size_t>(t.bytes));
  }
  for (size_t k = 0; k < ops.size(); ++k) {
    const auto t0 = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    IE_RETURN_IF_ERROR(ops[k]->Run(data, *pool_));
    if (profiling_) {
      const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      const double share = ops[k]->source_share();  // a fused source's rows, made inside op k
      entries_[k].total_us += us * (1 - share);
      if (source_of_[k] >= 0) entries_[static_cast<size_t>(source_of_[k])].total_us += us * share;
      ++entries_[k].runs;
    }
  }
  return Status::Ok();
}

const uint8_t* Session::output(int i) const { return data_[static_cast<size_t>(model_->outputs()[static_cast<size_t>(i)])]; }

}  // namespace intedge
