"""Every rule a graph must satisfy before any executor touches it.

Two passes, in the order the C++ engine checks a file (so both name the
same first fault):

1. The graph: each tensor's dtype, shape and data; graph inputs are not
   constants; ops read only tensors produced before them, and write each
   tensor once; every graph output is produced; a state tensor is read by
   one op, written by none, and is neither a graph input nor an output.
2. Each op, against its entry in opspec.py: arity, dtypes and constness of
   inputs, output dtypes, the op's rules, then its output shapes. This is
   the Python back end of the spec; the engine's checks are generated from
   the same entries (edge_runtime/src/ops/op_checks_generated.cc).
"""

from __future__ import annotations

import math

from .errors import InvalidGraphError
from .graph import DTYPES, Graph, storage_bytes
from .opspec import BY_KIND, OpSpec
from .spec_lang import ABSENT, DTYPE_NAMES, PY_HELPERS, Dims, RuleFailed, TensorView, fmt

MAX_RANK = 8
MAX_DIM = 2**31  # dims are in [1, MAX_DIM)
MAX_ELEMENTS = 2**40  # per tensor: keeps every size computation inside int64


class _Check:
    """Raises InvalidGraphError prefixed with where the problem is."""

    def __init__(self, where: str):
        self.where = where

    def __call__(self, cond, msg: str):
        if not cond:
            raise InvalidGraphError(f"{self.where}: {msg}")


def op_where(k: int, kind: str, name: str) -> str:
    return f"op {k} ({kind}{' ' + name if name else ''})"


def validate(g: Graph) -> None:
    n = len(g.tensors)
    if g.dynamic is not None:
        _Check("graph")(1 <= g.dynamic[1] < MAX_DIM,
                        f"dynamic dimension '{g.dynamic[0]}': bound {g.dynamic[1]} outside [1, 2^31)")
    for i, t in enumerate(g.tensors):
        check_tensor(i, t)
        check_dynamic_axes(i, t, g.dynamic)
    for lst, what in ((g.inputs, "graph input"), (g.outputs, "graph output")):
        for tid in lst:
            _Check(what)(0 <= tid < n, f"tensor id {tid} out of range [0, {n})")
    for tid in g.inputs:
        _Check("graph input")(not g.tensors[tid].is_constant, f"tensor '{g.tensors[tid].name}' is a constant")
        _Check("graph input")(not g.tensors[tid].is_state, f"tensor '{g.tensors[tid].name}' is a state tensor")
    for tid in g.outputs:
        _Check("graph output")(not (0 <= tid < n and g.tensors[tid].is_state),
                               f"tensor '{g.tensors[tid].name}' is a state tensor")
    states = set(g.state_tensors())
    available = set(g.inputs) | states | {i for i, t in enumerate(g.tensors) if t.is_constant}
    readers: set[int] = set()
    for k, op in enumerate(g.ops):
        check = _Check(f"op {k}")
        check(op.kind in BY_KIND, f"unknown op kind {op.kind!r}")
        for tid in op.inputs:
            check(tid == -1 or 0 <= tid < n, f"input tensor id {tid} out of range [0, {n})")
            check(tid == -1 or tid in available, f"input tensor '{g.tensors[tid].name}' is used before it is produced")
            if tid in states:
                check(tid not in readers, f"state tensor '{g.tensors[tid].name}' is read by a second op input")
                readers.add(tid)
        for tid in op.outputs:
            check(0 <= tid < n, f"output tensor id {tid} out of range [0, {n})")
            check(tid not in available, f"tensor '{g.tensors[tid].name}' is written twice")
            available.add(tid)
    for tid in g.outputs:
        _Check("graph output")(tid in available, f"tensor '{g.tensors[tid].name}' is never produced")
        # int4 is a packing of constant weights: no runner has an int4 array to hand back
        _Check("graph output")(g.tensors[tid].dtype != "int4",
                               f"tensor '{g.tensors[tid].name}' is int4 (packed weights are never an output)")
    for k, op in enumerate(g.ops):
        check_op(g, k, op, BY_KIND[op.kind])
    if g.dynamic is not None and g.dynamic[1] > 1:
        # Checked at the bound above and at length 1 here: most files that fail at some length fail at
        # one of these. Not all (a broadcast of a dynamic axis against a fixed one holds at 1 and at L
        # only): both executors check each length again before they run at it.
        short = g.at_length(1)
        try:
            for k, op in enumerate(short.ops):
                check_op(short, k, op, BY_KIND[op.kind])
        except InvalidGraphError as e:
            raise InvalidGraphError(f"at {g.dynamic[0]} = 1: {e}") from None


def check_dynamic_axes(i: int, t, dynamic) -> None:
    """The same checks, with the same words, as the C++ container verifier (CheckTensor in ieg_file.cc)."""
    if not t.dynamic_axes:
        return
    check = _Check(f"tensor {i}")
    check(dynamic is not None, "has dynamic axes but the graph declares no dynamic dimension")
    check(t.dtype != "int4", "int4 tensors cannot have dynamic axes")
    axes = list(t.dynamic_axes)
    check(all(0 <= a < len(t.shape) for a in axes), f"dynamic axis outside [0, {len(t.shape)})")
    check(all(a < b for a, b in zip(axes, axes[1:])), "dynamic axes must be strictly increasing")
    for a in axes:
        check(t.shape[a] % dynamic[1] == 0,
              f"dynamic axis {a} has size {t.shape[a]}, not a multiple of the bound {dynamic[1]}")


def check_tensor(i: int, t) -> None:
    check = _Check(f"tensor {i} ('{t.name}')")
    check(t.dtype in DTYPES, f"unknown dtype {t.dtype!r}")
    check(len(t.shape) <= MAX_RANK, f"rank {len(t.shape)} > {MAX_RANK}")
    for d, size in enumerate(t.shape):
        check(1 <= size < MAX_DIM, f"dimension {d} is {size}, outside [1, 2^31)")
    check(math.prod(t.shape) <= MAX_ELEMENTS, f"{math.prod(t.shape)} elements, more than 2^40")
    check(math.isfinite(t.scale) and t.scale >= 0, f"scale {fmt(t.scale)} must be finite and >= 0")
    if t.dtype == "int4":
        check(len(t.shape) >= 1 and t.shape[-1] % 2 == 0, "int4 tensors need an even last dimension")
        check(t.is_constant, "int4 tensors must be constants")
    if t.is_state:
        check(not t.is_constant, "a state tensor holds no data")
        check(t.dtype != "int4" and not t.dynamic_axes, "a state tensor has a fixed shape and is not int4")
    if t.is_constant:
        check(tuple(t.data.shape) == tuple(t.shape), f"data shape {t.data.shape} != {t.shape}")
        if t.dtype == "int4":
            check(t.data.size == 0 or (t.data.min() >= -8 and t.data.max() <= 7), "int4 values outside [-8, 7]")
        check(storage_bytes(t.dtype, t.shape) < 2**40, "constant too large")


# --- one op against its spec ---------------------------------------------------------------


def _view(t) -> TensorView:
    return TensorView(t.name, t.dtype, t.shape, t.scale, t.data)


def op_names(g: Graph, op, spec: OpSpec, value, output_value=None, absent=ABSENT) -> dict:
    """The names an op's spec expressions see: its roles, as value(tensor id) for inputs (`absent`
    for one left out) and output_value(tensor id) for outputs (default: value), its options, the helpers."""
    output_value = output_value or value
    names = dict(PY_HELPERS)
    names.update(op.options)
    role = spec.inputs[0]
    if role.many:
        names[role.name] = [value(tid) for tid in op.inputs]
    else:
        for j, r in enumerate(spec.inputs):
            tid = op.inputs[j] if j < len(op.inputs) else -1
            names[r.name] = absent if tid == -1 else value(tid)
    outs = [output_value(tid) for tid in op.outputs]
    names[spec.output.name] = outs if spec.output.many > 1 else outs[0]
    return names


def check_op(g: Graph, k: int, op, spec: OpSpec) -> None:
    check = _Check(op_where(k, op.kind, op.name))
    lo, hi = spec.min_inputs, spec.max_inputs
    if hi is None:
        check(len(op.inputs) >= lo, f"takes {lo} or more inputs, got {len(op.inputs)}")
    else:
        check(lo <= len(op.inputs) <= hi, f"takes {lo} to {hi} inputs, got {len(op.inputs)}")
    for j, tid in enumerate(op.inputs):
        role = spec.role(j)
        check(tid != -1 or role.optional, f"input {j} ({role.name}) is required")
    most = spec.output.many
    check(1 <= len(op.outputs) <= most, f"has 1 to {most} outputs, got {len(op.outputs)}" if most > 1
          else f"has 1 output, got {len(op.outputs)}")

    for j, tid in enumerate(op.inputs):
        if tid == -1:
            continue
        role, t = spec.role(j), g.tensors[tid]
        check(t.dtype in role.dtypes, f"{role.name} '{t.name}' must be {_dtype_list(role.dtypes)}, got {t.dtype}")
        check(t.is_constant or not role.constant, f"{role.name} '{t.name}' must be a constant")
        check(t.is_state == role.state, f"{role.name} '{t.name}' must be a state tensor" if role.state
              else f"{role.name} '{t.name}' is a state tensor, which only a cache input may take")
    names = op_names(g, op, spec, lambda tid: _view(g.tensors[tid]))
    for tid in op.outputs:
        t = g.tensors[tid]
        check(not t.is_constant, f"output '{t.name}' is a constant")
        if spec.output_dtype is None:
            check(t.dtype in spec.output.dtypes, f"output '{t.name}' must be {_dtype_list(spec.output.dtypes)}, got {t.dtype}")
        else:
            want = _try(spec.output_dtype, names)
            check(t.dtype == want, f"output '{t.name}' is {t.dtype}, expected {want}")

    for cond, message in spec.compiled_rules:
        try:
            ok = bool(cond.evaluate(names))
        except RuleFailed:
            ok = False
        check(ok, message.render(names) if not ok else "")

    if spec.output_shape is not None:
        want = _try(spec.output_shape, names)
        for tid in op.outputs:
            t = g.tensors[tid]
            check(want != "?" and Dims(t.shape) == want, f"output '{t.name}' has shape {Dims(t.shape)}, expected {want}")


def _dtype_list(dtypes) -> str:
    return "/".join(sorted(dtypes, key=DTYPE_NAMES.index))


def _try(expr, names):
    try:
        return expr.evaluate(names)
    except RuleFailed:
        return "?"
