// An op of a loaded graph, prepared once per session: Prepare checks every
// rule the kernels' memory safety depends on (arity, dtypes, shapes, constant
// ranges; the C++ side of intedge/ir/validate.py) and binds the op's tensor
// ids, constants and kernel; Run then only computes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/tensor_info.h"
#include "engine/thread_pool.h"
#include "kernels/dispatch.h"

namespace intedge {

// Memory of every tensor during a run, by tensor id.
using TensorData = std::vector<uint8_t*>;
using Shape = std::vector<int64_t>;

// Elements per thread chunk of an elementwise op: enough work to outweigh a hand-off.
constexpr int64_t kElementGrain = 4096;

inline Shape ShapeOf(const TensorInfo& t) { return Shape(t.dims.begin(), t.dims.begin() + t.rank); }

class OpContext;

class Op {
 public:
  virtual ~Op() = default;
  virtual Status Run(const TensorData& data, ThreadPool& pool) const = 0;
  // The output is the input's bytes under another shape: the memory planner
  // gives both one buffer and the op does nothing.
  virtual bool IsAlias() const { return false; }
  // The kernel reads element i of input 0 before it writes element i of the
  // output, so both may share a buffer when the input dies here.
  virtual bool InPlaceOnInput0() const { return false; }
  // Bytes of weights repacked for the ISA, and the constants (tensor ids)
  // those copies replace: the kernels never read the file's bytes of them.
  virtual int64_t packed_bytes() const { return 0; }
  virtual std::vector<int> packed_constants() const { return {}; }
  // Takes over `next`, the op just after this one in the graph (already
  // prepared, so valid), when the two run cheaper as one: two I-LayerNorms
  // of one input share their statistics; a qlinear writes its output
  // straight in the layout a following reshape and head-split transpose
  // give it. `reads_only_mine`: next's one input is this op's (last)
  // output, which nothing else reads. The session then drops next and
  // plans this op with next's output beside or instead of its own.
  enum class Absorbed { kNo, kBesideMine, kInsteadOfMine };
  virtual Absorbed Absorb(const OpContext& next, bool reads_only_mine) {
    (void)next, (void)reads_only_mine;
    return Absorbed::kNo;
  }
};

// What Prepare sees: the op in the file, the tensor table, the kernel set.
class OpContext {
 public:
  OpContext(int index, const ir::fb::Op* op, const std::vector<TensorInfo>& tensors, const KernelSet& kernels)
      : index_(index), op_(op), tensors_(tensors), kernels_(kernels) {}

  int index() const { return index_; }
  const ir::fb::Op& op() const { return *op_; }
  const KernelSet& kernels() const { return kernels_; }
  int num_inputs() const { return op_->inputs() ? static_cast<int>(op_->inputs()->size()) : 0; }
  int num_outputs() const { return op_->outputs() ? static_cast<int>(op_->outputs()->size()) : 0; }
  // Tensor id of input j, or -1 when absent (j past the end or marked -1).
  int input_id(int j) const { return j < num_inputs() ? op_->inputs()->Get(static_cast<flatbuffers::uoffset_t>(j)) : -1; }
  int output_id(int j) const { return op_->outputs()->Get(static_cast<flatbuffers::uoffset_t>(j)); }
  const TensorInfo& input(int j) const { return tensors_[static_cast<size_t>(input_id(j))]; }
  const TensorInfo& output(int j = 0) const { return tensors_[static_cast<size_t>(output_id(j))]; }

  // "op 12 (QLINEAR blocks.0.attn.qkv): <message>"
  Status Error(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
  // Checks shared by many ops; each returns an error naming the op.
  Status Arity(int min_inputs, int max_inputs, int required_inputs) const;
  Status DType(const TensorInfo& t, const char* what, std::initializer_list<ir::fb::DType> allowed) const;
  Status Requant(int64_t multiplier, int64_t shift, const char* what = "") const;
  // Output 0 has one of `dtypes` (none: the dtype of input 0) and exactly `shape`.
  Status Output(std::initializer_list<ir::fb::DType> dtypes, const std::vector<int64_t>& shape) const;
  // An option vector has exactly n entries.
  template <typename V>
  Status Count(const V* v, size_t n, const char* what) const {
    if (!v || v->size() != n) return Error("%s needs %zu entries, has %u", what, n, v ? v->size() : 0u);
    return Status::Ok();
  }

 private:
  int index_;
  const ir::fb::Op* op_;
  const std::vector<TensorInfo>& tensors_;
  const KernelSet& kernels_;
};

// Prepares an op of any kind (the switch lives in registry.cc).
Status PrepareOp(const OpContext& ctx, std::unique_ptr<Op>* out);

// One per op family file.
Status PrepareQuantize(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareDequantize(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareRequant(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareQAdd(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareQLinear(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareQMatMul(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareShiftmax(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareShiftGelu(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareLambdaShiftGelu(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareILayerNorm(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareMeanPool(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareReshape(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareTranspose(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareConcat(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareSlice(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareGather(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareUpsampleNearest(const OpContext& ctx, std::unique_ptr<Op>* out);
Status PrepareArgMax(const OpContext& ctx, std::unique_ptr<Op>* out);

}  // namespace intedge
