#include "engine/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace intedge {
namespace {

int64_t Align(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

struct Group {
  int first = 0, last = -1;  // op indices; -1 = before the first op
  int64_t bytes = 0;
  bool constant = false, state = false, used = false;
};

}  // namespace

MemoryPlan PlanMemory(const std::vector<PlanOp>& ops, const std::vector<int64_t>& bytes,
                      const std::vector<bool>& is_constant, const std::vector<bool>& is_state,
                      const std::vector<int>& graph_inputs, const std::vector<int>& graph_outputs) {
  const int n = static_cast<int>(bytes.size());
  const int end = static_cast<int>(ops.size());  // "after the last op"
  MemoryPlan plan;
  plan.root.resize(static_cast<size_t>(n));
  std::iota(plan.root.begin(), plan.root.end(), 0);
  auto root = [&](int t) {
    while (plan.root[static_cast<size_t>(t)] != t) t = plan.root[static_cast<size_t>(t)];
    return t;
  };
  // 1. Aliases (reshapes, a transpose its input's writer laid out) share their input's storage.
  for (const PlanOp& op : ops) {
    if (op.alias) plan.root[static_cast<size_t>(op.outputs[0])] = root(op.inputs[0]);
  }
  // 2. Lifetimes per storage group.
  std::vector<Group> g(static_cast<size_t>(n));
  auto touch = [&](int t, int k) {
    Group& grp = g[static_cast<size_t>(root(t))];
    if (!grp.used) grp.first = k;
    grp.used = true;
    grp.first = std::min(grp.first, k);
    grp.last = std::max(grp.last, k);
  };
  for (int t = 0; t < n; ++t) {
    Group& grp = g[static_cast<size_t>(root(t))];
    grp.bytes = std::max(grp.bytes, bytes[static_cast<size_t>(t)]);
    grp.constant = grp.constant || is_constant[static_cast<size_t>(t)];
    grp.state = grp.state || is_state[static_cast<size_t>(t)];
  }
  for (int t : graph_inputs) touch(t, -1);
  for (int k = 0; k < end; ++k) {
    for (int t : ops[static_cast<size_t>(k)].inputs) {
      if (t >= 0) touch(t, k);
    }
    for (int t : ops[static_cast<size_t>(k)].outputs) touch(t, k);
  }
  for (int t : graph_outputs) touch(t, end);
  // 3. In place: the output joins input 0's group when that group dies at this op
  //    and no other input of the op lives in it.
  for (int k = 0; k < end; ++k) {
    const PlanOp& op = ops[static_cast<size_t>(k)];
    if (!op.in_place || op.alias) continue;
    const int in = root(op.inputs[0]), o = root(op.outputs[0]);
    Group &gi = g[static_cast<size_t>(in)], &go = g[static_cast<size_t>(o)];
    bool shared = false;
    for (size_t j = 1; j < op.inputs.size(); ++j) shared = shared || (op.inputs[j] >= 0 && root(op.inputs[j]) == in);
    if (gi.constant || gi.state || gi.last != k || gi.bytes != go.bytes || shared || in == o) continue;
    plan.root[static_cast<size_t>(o)] = in;
    gi.last = go.last;
    go.used = false;
  }
  // 4. State tensors first, one slot each in tensor order, read or not: what a run leaves there is the next
  //    run's, and every length a session prepares binds this same plan.
  plan.offset.assign(static_cast<size_t>(n), -1);
  for (int t = 0; t < n; ++t) {
    const Group& grp = g[static_cast<size_t>(t)];
    if (root(t) != t || !grp.state) continue;
    plan.offset[static_cast<size_t>(t)] = plan.state_bytes;
    plan.state_bytes += Align(grp.bytes);
  }
  plan.naive_bytes = plan.arena_bytes = plan.state_bytes;
  // 5. Greedy by size: biggest groups first, each at the lowest offset above the state that does not
  //    overlap a placed group alive at the same time.
  std::vector<int> order;
  for (int t = 0; t < n; ++t) {
    const Group& grp = g[static_cast<size_t>(t)];
    if (root(t) == t && grp.used && !grp.constant && !grp.state) {
      order.push_back(t);
      plan.naive_bytes += Align(grp.bytes);
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return g[static_cast<size_t>(a)].bytes > g[static_cast<size_t>(b)].bytes; });
  std::vector<int> placed;
  for (int t : order) {
    const Group& grp = g[static_cast<size_t>(t)];
    std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of live neighbours
    for (int p : placed) {
      const Group& q = g[static_cast<size_t>(p)];
      if (q.first <= grp.last && grp.first <= q.last) {
        busy.emplace_back(plan.offset[static_cast<size_t>(p)], plan.offset[static_cast<size_t>(p)] + Align(q.bytes));
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t at = plan.state_bytes;
    for (const auto& b : busy) {
      if (at + Align(grp.bytes) <= b.first) break;
      at = std::max(at, b.second);
    }
    plan.offset[static_cast<size_t>(t)] = at;
    plan.arena_bytes = std::max(plan.arena_bytes, at + Align(grp.bytes));
    placed.push_back(t);
  }
  for (int t = 0; t < n; ++t) plan.root[static_cast<size_t>(t)] = root(t);
  return plan;
}

}  // namespace intedge
