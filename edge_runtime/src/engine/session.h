// A loaded graph ready to run: every op checked against the op spec and
// prepared for one ISA (its kernels chosen once: the kernel table), one
// arena planned, a thread pool. The C API's ie_session is this class.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/dynamic.h"
#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/thread_pool.h"
#include "kernels/dispatch.h"
#include "ops/op.h"

namespace intedge {

struct SessionOptions {
  int threads = 1;
  std::string isa;            // empty: INTEDGE_ISA if set, else the best this CPU has
  bool profile = false;       // time every op
  bool check_finite = true;   // refuse float32 inputs holding NaN or ±inf
  int64_t max_arena_bytes = 0;  // refuse a graph whose activations and state need more; 0: no limit
};

// One op as the session runs it: what the file says and the kernel chosen.
struct OpEntry {
  std::string kind, name, kernel;
  double total_us = 0;  // with SessionOptions::profile
  int64_t runs = 0;
};

// Two ops joined when a session opens (session.cc FuseOps): the consumer
// makes the source's rows on demand (a RowSource), or the source writes
// the consumer's layout and the consumer only shares its buffer (merged
// heads). Every length the session prepares joins them again.
struct FusedOps {
  enum How { kRows, kMergedHeads } how;
  size_t source, consumer;
};

class Session {
 public:
  static Status Open(std::unique_ptr<Model> model, const SessionOptions& options, std::unique_ptr<Session>* out);

  const Model& model() const { return *model_; }
  Isa isa() const { return kernels_.isa; }
  int threads() const { return pool_->threads(); }
  const MemoryPlan& memory_plan() const { return plan_; }
  // Bytes of weights the kernels read: repacked copies, plus the file's
  // constants that are used in place.
  int64_t weight_bytes() const { return packed_weight_bytes_ + constant_bytes_; }
  int64_t packed_weight_bytes() const { return packed_weight_bytes_; }

  // The state tensors (Model::states(), format 2.2; a decoder's KV cache):
  // zeros when the session opens, then what the runs left there, the
  // arena's first state_bytes() bytes (memory_plan()). state(i): the bytes
  // of model().states()[i], valid while the session lives.
  int64_t state_bytes() const { return plan_.state_bytes; }
  uint8_t* state(int i) const;
  // Zeros every state tensor: the next run starts as the first one did (a new sequence).
  void ResetState();

  // inputs[i]: the bytes of graph input i (exactly its dtype and shape at
  // `length`); the caller has checked dtype and shape (the C API does). One
  // run at a time. length: the dynamic dimension's actual size, 1 to
  // dynamic_bound() (0: the bound). The first run at a length prepares the
  // ops for it (checked against the op spec at that length); later runs
  // reuse them. Every length shares the packed weights and the bound's arena,
  // and so the state tensors.
  Status Run(const std::vector<const void*>& inputs, int64_t length = 0);
  // Output i's bytes, valid until the next Run.
  const uint8_t* output(int i) const;
  // Graph tensor t as the last run saw it (its shape at that run's length).
  const TensorInfo& tensor_at_last_run(int t) const;
  int64_t dynamic_bound() const { return model_->dynamic_bound(); }
  // Every op in graph order: kind, name, kernel, and its time when profiling.
  const std::vector<OpEntry>& ops() const { return entries_; }

 private:
  Session() = default;
  Status CheckFinite(const std::vector<const void*>& inputs, const std::vector<TensorInfo>& tensors) const;
  // The ops of one length below the bound, prepared on its first run.
  struct LengthPlan {
    LengthTensors at;
    std::vector<std::unique_ptr<Op>> ops;
    TensorData data;
  };
  Status PrepareLength(int64_t length, LengthPlan** out);
  // Each tensor's memory: its constant's bytes, or its place in the arena (the bound's plan serves every length).
  TensorData Bind(const std::vector<TensorInfo>& tensors) const;

  std::unique_ptr<Model> model_;
  KernelSet kernels_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::vector<OpEntry> entries_;
  bool profiling_ = false, check_finite_ = true;
  MemoryPlan plan_;
  std::unique_ptr<uint8_t[]> arena_storage_;
  uint8_t* arena_ = nullptr;
  TensorData data_;
  std::unique_ptr<ThreadPool> pool_;
  int64_t packed_weight_bytes_ = 0;  // the kernels' repacked copies of constants
  int64_t constant_bytes_ = 0;       // constants read in place (from the mapped file when opened from one)
  std::vector<std::shared_ptr<GemmKernel>> gemms_;  // per op: a qlinear's packed weights, shared by every length
  std::vector<PlanOp> plan_ops_;                     // the bound's alias and in-place choices
  std::vector<FusedOps> fused_;                      // op pairs joined when the session opened
  std::vector<int> source_of_;                       // per op: its fused source (RowSource), or -1
  std::map<int64_t, std::unique_ptr<LengthPlan>> lengths_;
  const LengthPlan* last_ = nullptr;                 // the last run's length (null: the bound)
};

// Every rule a session checks before it prepares anything: the graph's
// (SSA order, outputs produced) and each op's (the op spec).
Status CheckGraph(const Model& model);

// Resolves SessionOptions::isa (and INTEDGE_ISA) to an ISA this CPU runs.
Status ChooseIsa(const std::string& requested, Isa* isa);

}  // namespace intedge
