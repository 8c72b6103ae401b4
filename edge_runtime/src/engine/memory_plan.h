// Where every activation lives during a run: one arena, offsets chosen from
// tensor lifetimes (greedy by size, as TFLite's arena planner), reshapes
// sharing their input's bytes and elementwise ops writing over an input
// that dies at that op.
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
  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;      // every activation in its own buffer, for comparison
};

constexpr int64_t kArenaAlignment = 64;

// bytes/is_constant per tensor; inputs/outputs of the graph. Graph inputs are
// live from the start, graph outputs to the end.
MemoryPlan PlanMemory(const std::vector<PlanOp>& ops, const std::vector<int64_t>& bytes,
                      const std::vector<bool>& is_constant, const std::vector<int>& graph_inputs,
                      const std::vector<int>& graph_outputs);

}  // namespace intedge
