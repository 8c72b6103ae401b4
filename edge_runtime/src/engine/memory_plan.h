// Where every activation lives during a run: one arena, offsets chosen from
// tensor lifetimes (greedy by size, as TFLite's arena planner), reshapes
// sharing their input's bytes and elementwise ops writing over an input
// that dies at that op. State tensors (a KV cache) live across runs: each
// has its own slot at the arena's start, [0, state_bytes), shared with
// nothing, and the activations are planned above it.
#pragma once

#include <cstdint>
#include <vector>

namespace intedge {

struct PlanOp {
  std::vector<int> inputs, outputs;  // -1: absent optional input
  bool alias = false;                // output 0 is input 0's bytes
  bool in_place = false;             // output 0 may take input 0's bytes if input 0 dies here
};

struct MemoryPlan {
  std::vector<int> root;        // per tensor: the tensor whose bytes it uses (itself unless aliased)
  std::vector<int64_t> offset;  // per root activation: its arena offset; -1 for constants
  int64_t arena_bytes = 0;      // the state tensors' slots and the activations above them
  int64_t state_bytes = 0;      // the state tensors' slots: [0, state_bytes)
  int64_t naive_bytes = 0;      // every activation and state tensor in its own buffer, for comparison
};

constexpr int64_t kArenaAlignment = 64;

// bytes/is_constant/is_state per tensor; inputs/outputs of the graph. Graph
// inputs are live from the start, graph outputs to the end. No op aliases a
// state tensor or writes one as its output (CheckGraph and the op spec).
MemoryPlan PlanMemory(const std::vector<PlanOp>& ops, const std::vector<int64_t>& bytes,
                      const std::vector<bool>& is_constant, const std::vector<bool>& is_state,
                      const std::vector<int>& graph_inputs, const std::vector<int>& graph_outputs);

}  // namespace intedge
