"""Fusions of the integer graph, done ahead of time so that what runs is what the file says.

The engine runs these patterns as one op; they are written into the IR here
(not matched when a session opens), so the reference executor, the engine
and every exporter see the same ops:

* head split: qlinear → reshape → transpose that puts each block of D
  output columns in its own [rows, D] matrix (attention's Q, K, V) becomes
  a qlinear with head_dim = D (and a reshape, which costs nothing, where
  the transpose's shape is not [N / D, rows, D] itself);
* LayerNorm twins: two I-LayerNorms of one input (SmoothQuant's split of a
  LayerNorm shared by differently scaled linears) become one I-LayerNorm
  with two outputs, which shares the statistics.

Each rewrite keeps every value the graph computes: a head split is fused
only where moving an index grid through both forms gives the same layout.
"""

from __future__ import annotations

import math

import numpy as np

from intedge.integer_ops.shape_ops import split_heads
from intedge.ir.graph import Graph


def fuse(g: Graph) -> Graph:
    """g with its head splits and LayerNorm twins fused, unused tensors dropped (ids renumbered)."""
    _fuse_head_splits(g)
    _fuse_layernorm_twins(g)
    return _drop_unused_tensors(g)


def _readers(g: Graph) -> dict[int, list[int]]:
    readers: dict[int, list[int]] = {}
    for k, op in enumerate(g.ops):
        for t in op.inputs:
            readers.setdefault(t, []).append(k)
    return readers


def _only_reader(g: Graph, readers, tensor: int, kind: str) -> int | None:
    """The op that alone reads `tensor` (not a graph output), if it is of `kind`."""
    ks = readers.get(tensor, [])
    if len(ks) != 1 or tensor in g.outputs or g.ops[ks[0]].kind != kind:
        return None
    return ks[0]


def _fuse_head_splits(g: Graph) -> None:
    readers = _readers(g)
    dead = set()
    for q in g.ops:
        if q.kind != "qlinear" or q.options["head_dim"]:
            continue
        r = _only_reader(g, readers, q.outputs[0], "reshape")
        t = None if r is None else _only_reader(g, readers, g.ops[r].outputs[0], "transpose")
        if t is None:
            continue
        y, split, moved = (g.tensors[i] for i in (q.outputs[0], g.ops[r].outputs[0], g.ops[t].outputs[0]))
        n, d = y.shape[-1], moved.shape[-1]
        rows = math.prod(y.shape[:-1])
        if n % d:
            continue
        grid = np.arange(rows * n).reshape(rows, n)
        if not np.array_equal(grid.reshape(split.shape).transpose(g.ops[t].options["perm"]).reshape(-1),
                              split_heads(grid, d).reshape(-1)):
            continue
        q.options["head_dim"] = d
        blocks = (n // d, rows, d)
        if tuple(moved.shape) == blocks:
            q.outputs = [g.ops[t].outputs[0]]
            dead |= {r, t}
        else:
            y.shape = blocks
            g.ops[r].outputs = [g.ops[t].outputs[0]]
            dead.add(t)
    g.ops = [op for k, op in enumerate(g.ops) if k not in dead]


def _fuse_layernorm_twins(g: Graph) -> None:
    first: dict[int, object] = {}  # input tensor → its first single-output I-LayerNorm
    dead = set()
    for k, op in enumerate(g.ops):
        if op.kind != "ilayernorm" or len(op.outputs) != 1:
            continue
        a = first.get(op.inputs[0])
        if a is None or len(a.outputs) != 1:
            first[op.inputs[0]] = op
            continue
        a.outputs.append(op.outputs[0])
        a.name = f"{a.name}+{op.name}"
        for key in ("multiplier", "bias", "shift"):
            a.options[key] = np.concatenate([a.options[key], op.options[key]])
        dead.add(k)
    g.ops = [op for k, op in enumerate(g.ops) if k not in dead]


def _drop_unused_tensors(g: Graph) -> Graph:
    used = set(g.inputs) | set(g.outputs)
    for op in g.ops:
        used |= {t for t in op.inputs if t != -1} | set(op.outputs)
    keep = [i for i in range(len(g.tensors)) if i in used]
    new = {old: i for i, old in enumerate(keep)} | {-1: -1}
    g.tensors = [g.tensors[i] for i in keep]
    for op in g.ops:
        op.inputs = [new[t] for t in op.inputs]
        op.outputs = [new[t] for t in op.outputs]
    g.inputs = [new[t] for t in g.inputs]
    g.outputs = [new[t] for t in g.outputs]
    return g
