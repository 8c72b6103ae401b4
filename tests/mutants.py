"""Structure-aware mutants of a graph: the inputs of the agreement test (test_mutants.py).

Each mutant changes one to three things a file could say differently —
a dimension set to 0, 1 or huge, a dtype swapped, a tensor id out of
range, a shift or multiplier at its limit, a constant at ±its extremes, an
option vector cut short, an input or output dropped, a tensor made state
or not — while every value
stays representable in the file format, so the file is written and both
validators and the engine get to judge it.

    python tests/mutants.py vit-fmnist 1234     # replay one mutant: what it changed and each verdict
"""

from __future__ import annotations

import copy
import re
import sys
from dataclasses import replace

import numpy as np

from intedge.ir import IegFormatError
from intedge.ir.graph import DTYPES, NUMPY_DTYPE, Graph, Op
from intedge.ir.opspec import BY_KIND, OPTION_RANGES, VECTOR_TYPES

HUGE_DIMS = (0, 1, 2, 3, 2**31 - 1, 2**20, 2**16 + 1, 65536)
SCALAR_EDGES = {
    "int": (0, 1, -1, 2**31 - 1, -(2**31), 2**30, 16, 32, 64, 128, 7),
    "byte": (0, 1, -1, 62, 63, 127, -128, 31, 32),
    "long": (0, 1, -1, 2**63 - 1, -(2**63), 2**31, 5, 1000),
}
FLOAT_EDGES = (0.0, -1.0, float("nan"), float("inf"), float("-inf"), 1e-45, 3.4e38, 1.0)


class Mutator:
    """Mutants of one base graph, reproducible from (seed, index)."""

    def __init__(self, base: Graph, seed: int = 0):
        self.base, self.seed = base, seed
        self.ops = [
            self._dim, self._dim, self._rank, self._dtype, self._tensor_id, self._tensor_id, self._option,
            self._option, self._option, self._option_vector, self._constant_extremes, self._constant_extremes,
            self._arity, self._graph_io, self._scale, self._kind, self._state,
        ]

    def mutant(self, index: int) -> tuple[Graph, list[str], bool]:
        """(graph, what changed, whether its constants' bytes changed)."""
        rng = np.random.default_rng([self.seed, index])
        g = _copy(self.base)
        changes, data_changed = [], False
        for _ in range(int(rng.integers(1, 4))):
            op = self.ops[int(rng.integers(len(self.ops)))]
            what, touched = op(g, rng)
            changes.append(what)
            data_changed |= touched
        return g, changes, data_changed

    # --- tensors -----------------------------------------------------------------------------

    def _tensor(self, g, rng):
        i = int(rng.integers(len(g.tensors)))
        return i, g.tensors[i]

    def _dim(self, g, rng):
        i, t = self._tensor(g, rng)
        if not t.shape:
            return f"tensor {i}: rank 0, no dim to change", False
        d = int(rng.integers(len(t.shape)))
        new = int(rng.choice(HUGE_DIMS)) if rng.random() < 0.6 else max(0, t.shape[d] + int(rng.choice((-1, 1, 2))))
        shape = list(t.shape)
        shape[d] = new
        return self._reshape(g, i, t, tuple(shape), rng), t.is_constant

    def _rank(self, g, rng):
        i, t = self._tensor(g, rng)
        shape = list(t.shape)
        if shape and rng.random() < 0.5:
            del shape[int(rng.integers(len(shape)))]
        else:
            shape.insert(int(rng.integers(len(shape) + 1)), int(rng.choice((1, 2))))
        return self._reshape(g, i, t, tuple(shape), rng), t.is_constant

    def _reshape(self, g, i, t, shape, rng):
        data = None
        if t.is_constant:
            if np.prod(shape, dtype=np.float64) > 2**22:  # keep a mutant's file small: shrink the rest
                shape = tuple(min(s, 7) for s in shape)
            flat = t.data.reshape(-1)
            n = int(np.prod(shape, dtype=np.int64))
            data = np.resize(flat, n).reshape(shape) if flat.size else np.zeros(shape, t.data.dtype)
        g.tensors[i] = replace(t, shape=shape, data=data)
        return f"tensor {i} ({t.name}): shape {t.shape} -> {shape}"

    def _dtype(self, g, rng):
        i, t = self._tensor(g, rng)
        dtype = str(rng.choice([d for d in DTYPES if d != t.dtype]))
        shape = t.shape
        if dtype == "int4" and (not shape or shape[-1] % 2):
            shape = shape[:-1] + ((shape[-1] + 1) if shape else 2,)
        data = None
        if t.is_constant:
            vals = np.resize(t.data.reshape(-1), int(np.prod(shape, dtype=np.int64))).reshape(shape)
            if dtype == "int4":
                vals = np.clip(vals, -8, 7)
            data = vals.astype(NUMPY_DTYPE[dtype])
        g.tensors[i] = replace(t, dtype=dtype, shape=shape, data=data)
        return f"tensor {i} ({t.name}): dtype {t.dtype} -> {dtype}", t.is_constant

    def _constant_extremes(self, g, rng):
        consts = [i for i, t in enumerate(g.tensors) if t.is_constant]
        if not consts:
            return "no constants", False
        i = int(rng.choice(consts))
        t = g.tensors[i]
        lo, hi = (-8, 7) if t.dtype == "int4" else (
            (np.finfo(np.float32).min, np.finfo(np.float32).max) if t.dtype == "float32" else
            (np.iinfo(NUMPY_DTYPE[t.dtype]).min, np.iinfo(NUMPY_DTYPE[t.dtype]).max))
        data = t.data.copy()
        flat = data.reshape(-1)
        how = str(rng.choice(("all max", "all min", "one max", "one min", "zeros", "ones", "alternating")))
        if how == "all max":
            flat[:] = hi
        elif how == "all min":
            flat[:] = lo
        elif how == "one max" and flat.size:
            flat[int(rng.integers(flat.size))] = hi
        elif how == "one min" and flat.size:
            flat[int(rng.integers(flat.size))] = lo
        elif how == "zeros":
            flat[:] = 0
        elif how == "ones":
            flat[:] = 1
        else:
            flat[::2], flat[1::2] = hi, lo
        g.tensors[i] = replace(t, data=data)
        return f"tensor {i} ({t.name}): constant values {how}", True

    def _state(self, g, rng):
        """A tensor made state or not: a constant, an activation or a graph input that keeps its value between
        runs, or a KV cache that no longer does."""
        i, t = self._tensor(g, rng)
        g.tensors[i] = replace(t, is_state=not t.is_state)
        return f"tensor {i} ({t.name}): is_state {t.is_state} -> {not t.is_state}", False

    def _scale(self, g, rng):
        i, t = self._tensor(g, rng)
        scale = float(rng.choice((float("nan"), float("inf"), -1.0, 0.0, 1e300)))
        g.tensors[i] = replace(t, scale=scale)
        return f"tensor {i} ({t.name}): scale {scale}", False

    # --- ops ---------------------------------------------------------------------------------

    def _op(self, g, rng):
        k = int(rng.integers(len(g.ops)))
        return k, g.ops[k]

    def _tensor_id(self, g, rng):
        k, op = self._op(g, rng)
        n = len(g.tensors)
        ids, which = (op.inputs, "input") if op.inputs and rng.random() < 0.7 else (op.outputs, "output")
        j = int(rng.integers(len(ids)))
        # mostly another tensor of the graph (the op checks judge it), sometimes no tensor at all
        new = int(rng.integers(n)) if rng.random() < 0.75 else int(rng.choice((-1, n, n + 7, 2**31 - 1, -(2**31))))
        old, ids[j] = ids[j], new
        return f"op {k} ({op.kind}): {which} {j} id {old} -> {new}", False

    def _arity(self, g, rng):
        k, op = self._op(g, rng)
        n = len(g.tensors)
        what = str(rng.choice(("drop input", "extra input", "absent input", "drop output", "extra output")))
        if what == "drop input" and op.inputs:
            op.inputs.pop(int(rng.integers(len(op.inputs))))
        elif what == "extra input":
            op.inputs.append(int(rng.integers(n)))
        elif what == "absent input" and op.inputs:
            op.inputs[int(rng.integers(len(op.inputs)))] = -1
        elif what == "drop output":
            op.outputs.pop()
        else:
            op.outputs.append(int(rng.integers(n)))
        return f"op {k} ({op.kind}): {what}", False

    def _kind(self, g, rng):
        """Another kind that carries the same option table, so the file still parses that far."""
        k, op = self._op(g, rng)
        table = BY_KIND[op.kind].table
        kinds = [s.kind for s in BY_KIND.values() if s.table == table and s.kind != op.kind]
        if not kinds:
            return f"op {k} ({op.kind}): no kind shares its options", False
        new = str(rng.choice(kinds))
        g.ops[k] = replace(op, kind=new)
        return f"op {k}: kind {op.kind} -> {new}", False

    def _option(self, g, rng):
        k, op = self._op(g, rng)
        spec = BY_KIND[op.kind]
        scalars = [o for o in spec.options if o.type not in VECTOR_TYPES]
        if not scalars:
            return self._option_vector(g, rng)
        o = scalars[int(rng.integers(len(scalars)))]
        if o.type == "float":
            value = float(rng.choice(FLOAT_EDGES))
        elif o.type == "bool":
            value = not op.options[o.name]
        else:
            lo, hi = OPTION_RANGES[o.type]
            value = int(rng.choice(SCALAR_EDGES[o.type])) if rng.random() < 0.8 else int(op.options[o.name]) + 1
            value = min(max(value, lo), hi)
        old, op.options[o.name] = op.options[o.name], value
        return f"op {k} ({op.kind}): {o.name} {old} -> {value}", False

    def _option_vector(self, g, rng):
        k, op = self._op(g, rng)
        vectors = [o for o in BY_KIND[op.kind].options if o.type in VECTOR_TYPES]
        if not vectors:
            return f"op {k} ({op.kind}): no vector option", False
        o = vectors[int(rng.integers(len(vectors)))]
        v = op.options[o.name].copy()
        info = np.iinfo(VECTOR_TYPES[o.type])
        how = str(rng.choice(("shorter", "longer", "empty", "one min", "one max", "one zero", "shuffled", "repeated")))
        if how == "shorter" and v.size:
            v = v[: int(rng.integers(v.size))]
        elif how == "longer":
            v = np.concatenate([v, v[:1] if v.size else np.zeros(1, v.dtype)])
        elif how == "empty":
            v = v[:0]
        elif how == "shuffled":
            v = rng.permutation(v)
        elif how == "repeated" and v.size:
            v[:] = v[0]
        elif v.size:
            v[int(rng.integers(v.size))] = {"one min": info.min, "one max": info.max, "one zero": 0}[how]
        op.options[o.name] = v.astype(VECTOR_TYPES[o.type])
        return f"op {k} ({op.kind}): {o.name} {how}", False

    def _graph_io(self, g, rng):
        n = len(g.tensors)
        lst, which = (g.inputs, "inputs") if rng.random() < 0.5 else (g.outputs, "outputs")
        what = str(rng.choice(("drop", "add", "out of range", "duplicate")))
        if what == "drop" and lst:
            lst.pop(int(rng.integers(len(lst))))
        elif what == "add":
            lst.append(int(rng.integers(n)))
        elif what == "out of range":
            lst.append(int(rng.choice((n, -1, 2**31 - 1))))
        elif lst:
            lst.append(lst[0])
        return f"graph {which}: {what}", False


def verdict(judge, data: bytes):
    """(judge's result, None) if judge accepts the file, else (None, its message without a source prefix)."""
    try:
        return judge(data), None
    except IegFormatError as e:
        return None, re.sub(r"^<bytes>: ", "", str(e))


def _copy(g: Graph) -> Graph:
    """A copy whose lists, tensors and ops may be changed; constants' arrays are shared until replaced."""
    ops = [Op(op.kind, list(op.inputs), list(op.outputs), {k: copy.copy(v) for k, v in op.options.items()}, op.name)
           for op in g.ops]
    return Graph(list(g.tensors), ops, list(g.inputs), list(g.outputs), g.name, dict(g.metadata), g.dynamic)


if __name__ == "__main__":
    from test_mutants import verdicts

    name, index = sys.argv[1], int(sys.argv[2])
    for line in verdicts(name, index):
        print(line)
