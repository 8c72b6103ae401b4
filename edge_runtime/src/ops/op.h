// An op of a loaded graph, prepared once per session. CheckOp (op_checks.h,
// generated from the op spec) has checked every rule first, so Prepare only
// binds the op's tensor ids, constants and kernels; Run then only computes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/tensor_info.h"
#include "engine/thread_pool.h"
#include "kernels/dispatch.h"
#include "ops/spec_support.h"

namespace intedge {

// Memory of every tensor during a run, by tensor id.
using TensorData = std::vector<uint8_t*>;

// Elements per thread chunk of an elementwise op: enough work to outweigh a hand-off.
constexpr int64_t kElementGrain = 4096;

// Rows per thread chunk of a row-wise op over `rows` rows of `cols`
// elements: the rows split evenly among as many threads as get ~16k
// elements of work each. (ParallelFor's chunks are whole grains: a grain of
// just the least work split MiniLM's 128 LayerNorm rows 84 + 44 on two threads.)
inline int64_t RowGrain(int64_t rows, int64_t cols, int threads) {
  const int64_t least = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
  const int64_t parts = std::clamp<int64_t>(rows / least, 1, threads);
  return std::max<int64_t>(1, (rows + parts - 1) / parts);
}

class RowSource;

// An op of a loaded graph after Prepare: its tensor ids, constants and the
// kernels chosen for the session's ISA. Run only computes.
class Op {
 public:
  virtual ~Op() = default;
  virtual Status Run(const TensorData& data, ThreadPool& pool) const = 0;
  // The kernel Prepare chose, as the kernel table names it ("qgemm_w8a8_avx512vnni").
  virtual std::string kernel() const = 0;
  // The output is the input's bytes under another shape (or, a transpose
  // merged with the op before it, in the layout that op wrote): the memory
  // planner gives both one buffer and the op does nothing.
  virtual bool IsAlias() const { return false; }
  // The kernel reads element i of input 0 before it writes element i of the
  // output, so both may share a buffer when the input dies here.
  virtual bool InPlaceOnInput0() const { return false; }
  // Bytes of weights repacked for the ISA, and the constants (tensor ids)
  // those copies replace: the kernels never read the file's bytes of them.
  virtual int64_t packed_bytes() const { return 0; }
  virtual std::vector<int> packed_constants() const { return {}; }
  // Fusion (engine/session.cc FuseOps): an op that can make its
  // output a block of rows at a time, on demand; and an op that can take
  // its input 0 that way (true: it will, and the source's Run does nothing).
  // timed: the session profiles, and asks source_share after each run.
  virtual RowSource* AsRowSource() { return nullptr; }
  virtual bool TakeRowSource(const RowSource* /*source*/, bool /*timed*/) { return false; }
  // Merged heads (FuseOps too): a transpose of [.., B, M, N], every axis
  // before B of size 1, into [.., M, B, N] (attention's heads merged back)
  // gives its B, M and N; the op that writes its input then writes that
  // layout itself where it can (true: it will), and the transpose, merged,
  // does nothing but share its input's buffer, as a reshape does.
  virtual bool MergesHeads(int64_t* /*heads*/, int64_t* /*rows*/, int64_t* /*width*/) const { return false; }
  virtual bool WriteHeadsMerged(int64_t /*heads*/, int64_t /*rows*/, int64_t /*width*/) { return false; }
  virtual void set_merged() {}
  // The part of the last run's time that made the source's rows, so that a
  // profile shows each op's own time.
  virtual double source_share() const { return 0; }
};

// An output made a block of rows at a time into its one consumer's memory
// and never written to the arena: attention scores, the qmatmul's int32
// Q·Kᵀ that only Shiftmax reads (MiniLM's are 768 KB a layer, written to
// memory and read back; a GEMM row block of them stays in cache).
class RowSource {
 public:
  virtual ~RowSource() = default;
  // Once a run, before any Rows: what every block needs (the qmatmul's
  // right operands repacked). Only columns [0, columns) of this run's rows
  // are needed (the keys an attention mask keeps): the others may hold anything.
  virtual Status Begin(const TensorData& data, ThreadPool& pool, int64_t columns) const = 0;
  // Rows [r0, r1) of the output (as rows of its last axis) into out, which
  // holds r1 − r0 of them row_stride() elements apart; false when out of memory.
  virtual bool Rows(const TensorData& data, int64_t r0, int64_t r1, void* out) const = 0;
  // Elements from one row's start to the next's in Rows' out: the row's
  // length, or more where the source pads rows onto cache lines.
  virtual int64_t row_stride() const = 0;
  // Rows a block should take when `threads` share them (a GEMM row block
  // or a whole head), and the rows of a slice (a head), which a block had
  // better not straddle.
  virtual int64_t block_rows(int threads) const = 0;
  virtual int64_t slice_rows() const = 0;
  virtual std::string name() const = 0;  // the kernel, as Op::kernel
  // Set by the fusion: Run leaves the rows to the consumer.
  virtual void set_consumed() { consumed_ = true; }

 protected:
  bool consumed_ = false;
};

// What the checks and Prepare see: the op in the file, the tensor table, the kernel set.
class OpContext {
 public:
  // gemm_slot: where a qlinear keeps its packed weights, shared by every length a session prepares (null: unshared).
  OpContext(int index, const ir::fb::Op* op, const std::vector<TensorInfo>& tensors, const KernelSet& kernels,
            std::shared_ptr<GemmKernel>* gemm_slot = nullptr)
      : index_(index), op_(op), tensors_(tensors), kernels_(kernels), gemm_slot_(gemm_slot) {}

  int index() const { return index_; }
  const ir::fb::Op& op() const { return *op_; }
  const KernelSet& kernels() const { return kernels_; }
  std::shared_ptr<GemmKernel>* gemm_slot() const { return gemm_slot_; }
  int num_inputs() const { return op_->inputs() ? static_cast<int>(op_->inputs()->size()) : 0; }
  int num_outputs() const { return op_->outputs() ? static_cast<int>(op_->outputs()->size()) : 0; }
  // Tensor id of input j, or -1 when absent (j past the end or marked -1).
  int input_id(int j) const { return j < num_inputs() ? op_->inputs()->Get(static_cast<flatbuffers::uoffset_t>(j)) : -1; }
  int output_id(int j) const { return op_->outputs()->Get(static_cast<flatbuffers::uoffset_t>(j)); }
  const TensorInfo& input(int j) const { return tensors_[static_cast<size_t>(input_id(j))]; }
  const TensorInfo& output(int j = 0) const { return tensors_[static_cast<size_t>(output_id(j))]; }

  // The op spec's view of the op (op_checks_generated.cc): input role j
  // (absent: an empty Tensor), every input (a `many` role), output i, every output.
  spec::Tensor Role(int j) const { return input_id(j) < 0 ? spec::Tensor() : spec::Tensor(&input(j)); }
  spec::Tensors Roles() const;
  spec::Tensor Result(int i) const { return spec::Tensor(&output(i)); }
  spec::Tensors Results() const;

  // "op 12 (qlinear blocks.0.attn.qkv): <message>", as the Python validator words it.
  Status Fail(const std::string& message) const;
  Status Error(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
  // Every output has dtype `want` (known: the spec's expression could be evaluated).
  Status CheckOutputDType(bool known, DType want) const;
  // Every output has shape `want`.
  Status CheckOutputShapes(bool known, const spec::Dims& want) const;

 private:
  int index_;
  const ir::fb::Op* op_;
  const std::vector<TensorInfo>& tensors_;
  const KernelSet& kernels_;
  std::shared_ptr<GemmKernel>* gemm_slot_;
};

// Prepares an op of any kind that CheckOp has passed (the switch is
// generated into op_checks_generated.cc; each kind's Prepare<Camel> lives in
// its family's file, ops/*_ops.cc).
Status PrepareOp(const OpContext& ctx, std::unique_ptr<Op>* out);

}  // namespace intedge
