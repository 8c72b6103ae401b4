"""Every rule a graph must satisfy before any executor touches it.

Graph rules: ids in range, each tensor written once, every op's inputs exist
before it runs. Op rules: arity, dtypes, shapes, and the ranges of the
integer constants that keep every executor's arithmetic exact (int32
accumulators never wrap, shifts stay in [1, 62]). Each op's output dtype and
shape are inferred here and must equal the declared ones. The C++ runtime
enforces the same rules on load.
"""

from __future__ import annotations

import math

import numpy as np

from intedge.integer_ops.layernorm import MAX_CHANNELS

from .errors import InvalidGraphError
from .graph import DTYPES, Graph, storage_bytes

MAX_RANK = 8
INT8 = ("int8",)
ACT = ("int8", "int16")
INTS = ("int8", "uint8", "int16", "int32")
ACC_LIMIT = 2**31


class _Check:
    """Raises InvalidGraphError prefixed with where the problem is."""

    def __init__(self, where: str):
        self.where = where

    def __call__(self, cond, msg: str):
        if not cond:
            raise InvalidGraphError(f"{self.where}: {msg}")


def validate(g: Graph) -> None:
    n = len(g.tensors)
    for i, t in enumerate(g.tensors):
        _check_tensor(i, t)
    produced = set()
    for lst, what in ((g.inputs, "graph input"), (g.outputs, "graph output")):
        for tid in lst:
            _Check(what)(0 <= tid < n, f"tensor id {tid} out of range [0, {n})")
    for tid in g.inputs:
        _Check("graph input")(not g.tensors[tid].is_constant, f"tensor {g.tensors[tid].name!r} is a constant")
    available = set(g.inputs) | {i for i, t in enumerate(g.tensors) if t.is_constant}
    for k, op in enumerate(g.ops):
        check = _Check(f"op {k} ({op.name or op.kind})")
        for tid in op.inputs:
            check(tid == -1 or 0 <= tid < n, f"input tensor id {tid} out of range [0, {n})")
            check(tid == -1 or tid in available, f"input tensor {tid} is used before it is produced")
        for tid in op.outputs:
            check(0 <= tid < n, f"output tensor id {tid} out of range [0, {n})")
            check(tid not in available and tid not in produced, f"tensor {g.tensors[tid].name!r} is written twice")
            produced.add(tid)
        _RULES[op.kind](g, op, check)
        available |= set(op.outputs)
    for tid in g.outputs:
        _Check("graph output")(tid in available, f"tensor {g.tensors[tid].name!r} is never produced")


def _check_tensor(i: int, t) -> None:
    check = _Check(f"tensor {i} ({t.name!r})")
    check(t.dtype in DTYPES, f"unknown dtype {t.dtype!r}")
    check(len(t.shape) <= MAX_RANK, f"rank {len(t.shape)} > {MAX_RANK}")
    check(all(0 <= d < 2**31 for d in t.shape), f"bad shape {t.shape}")
    check(math.isfinite(t.scale) and t.scale >= 0, f"scale {t.scale} must be finite and >= 0")
    if t.dtype == "int4":
        check(len(t.shape) >= 1 and t.shape[-1] % 2 == 0, "int4 tensors need an even last dimension")
    if t.is_constant:
        check(tuple(t.data.shape) == tuple(t.shape), f"data shape {t.data.shape} != {t.shape}")
        if t.dtype == "int4":
            check(t.data.size == 0 or (t.data.min() >= -8 and t.data.max() <= 7), "int4 values outside [-8, 7]")
        check(storage_bytes(t.dtype, t.shape) < 2**40, "constant too large")


# --- helpers -----------------------------------------------------------------


def _t(g, tid):
    return g.tensors[tid]


def _arity(op, check, n_in, n_out=1, optional=()):
    lo, hi = (n_in, n_in) if isinstance(n_in, int) else n_in
    check(lo <= len(op.inputs) <= hi, f"takes {n_in} inputs, got {len(op.inputs)}")
    check(len(op.outputs) == n_out, f"has {n_out} output(s), got {len(op.outputs)}")
    for j, tid in enumerate(op.inputs):
        check(tid != -1 or j in optional, f"input {j} is required")


def _dtype(check, t, allowed, what):
    check(t.dtype in allowed, f"{what} {t.name!r} must be {'/'.join(allowed)}, got {t.dtype}")


def _out(g, op, check, dtypes, shape):
    o = _t(g, op.outputs[0])
    _dtype(check, o, dtypes, "output")
    check(tuple(o.shape) == tuple(shape), f"output {o.name!r} has shape {o.shape}, expected {tuple(shape)}")


def _requant(check, m, s, what=""):
    check(0 <= m < 2**31, f"{what}multiplier {m} outside [0, 2^31)")
    check(1 <= s <= 62, f"{what}shift {s} outside [1, 62]")


def _axis(check, axis, rank):
    check(0 <= axis < rank, f"axis {axis} outside [0, {rank})")


def _broadcasts(small, big) -> bool:
    if len(small) > len(big):
        return False
    return all(s in (1, b) for s, b in zip(small[::-1], big[::-1]))


# --- one rule per op kind ----------------------------------------------------------


def _quantize(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, ("float32",), "input")
    inv = op.options["inv_scale"]
    check(math.isfinite(inv) and inv > 0, f"inv_scale {inv} must be finite and > 0")
    _out(g, op, check, ACT, x.shape)


def _dequantize(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, INTS, "input")
    s = op.options["scale"]
    check(math.isfinite(s) and s > 0, f"scale {s} must be finite and > 0")
    _out(g, op, check, ("float32",), x.shape)


def _requant_op(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, ("int8", "int16", "int32"), "input")
    _requant(check, op.options["multiplier"], op.options["shift"])
    _out(g, op, check, ACT, x.shape)


def _qlinear(g, op, check):
    _arity(op, check, (2, 4), optional=(2, 3))
    o = op.options
    x, w = _t(g, op.inputs[0]), _t(g, op.inputs[1])
    _dtype(check, x, INT8, "input")
    check(len(x.shape) >= 1, "input must have rank >= 1")
    _dtype(check, w, ("int8", "int4"), "weight")
    check(w.is_constant and len(w.shape) == 2, "weight must be a constant [N, K]")
    n, k = w.shape
    check(x.shape[-1] == k, f"input's last dim {x.shape[-1]} != weight K {k}")
    gscale_id = op.inputs[3] if len(op.inputs) > 3 else -1
    if w.dtype == "int4":
        gs = o["group_size"]
        check(gs in (32, 64, 128), f"group_size {gs} must be 32, 64 or 128 for int4 weights")
        check(k % gs == 0, f"K {k} is not a multiple of group_size {gs}")
        check(gscale_id != -1, "int4 weights need group scales (input 3)")
        gsc = _t(g, gscale_id)
        check(gsc.is_constant and gsc.dtype == "int8" and gsc.shape == (n, k // gs), f"group scales must be a constant int8 [{n}, {k // gs}]")
        check(gsc.data.size == 0 or (gsc.data.min() >= 1 and gsc.data.max() <= 16), "group scales outside [1, 16]")
        wmax = 128
    else:
        check(gscale_id == -1 and o["group_size"] == 0, "int8 weights take no group scales")
        wmax = int(np.abs(w.data.astype(np.int64)).max()) if w.data.size else 0
    bias_max = 0
    if len(op.inputs) > 2 and op.inputs[2] != -1:
        b = _t(g, op.inputs[2])
        check(b.is_constant and b.dtype == "int32" and b.shape == (n,), f"bias must be a constant int32 [{n}]")
        bias_max = int(np.abs(b.data.astype(np.int64)).max()) if b.data.size else 0
    check(k * 128 * wmax + bias_max < ACC_LIMIT, f"K={k} with bias up to {bias_max} can overflow the int32 accumulator")
    check(o["multiplier"].shape == (n,) and o["shift"].shape == (n,), f"multiplier and shift need {n} entries")
    for m, s in zip(o["multiplier"].tolist(), o["shift"].tolist()):
        _requant(check, m, s)
    _out(g, op, check, ACT, x.shape[:-1] + (n,))


def _qmatmul(g, op, check):
    _arity(op, check, 2)
    a, b = _t(g, op.inputs[0]), _t(g, op.inputs[1])
    _dtype(check, a, ("int8", "uint8"), "input a")
    _dtype(check, b, INT8, "input b")
    check(len(a.shape) >= 2 and len(a.shape) == len(b.shape), "inputs need the same rank >= 2")
    check(a.shape[:-2] == b.shape[:-2], f"batch dims differ: {a.shape} vs {b.shape}")
    kb, n = (b.shape[-1], b.shape[-2]) if op.options["transpose_b"] else b.shape[-2:]
    k = a.shape[-1]
    check(k == kb, f"inner dims differ: {a.shape} x {b.shape}")
    check(k * 255 * 128 < ACC_LIMIT, f"K={k} can overflow the int32 accumulator")
    o = _t(g, op.outputs[0])
    if o.dtype != "int32":
        _requant(check, op.options["multiplier"], op.options["shift"])
    _out(g, op, check, ACT + ("int32",), a.shape[:-1] + (n,))


def _qadd(g, op, check):
    _arity(op, check, 2)
    a, b = _t(g, op.inputs[0]), _t(g, op.inputs[1])
    _dtype(check, a, ACT, "input a")
    _dtype(check, b, ACT, "input b")
    check(_broadcasts(b.shape, a.shape), f"input b {b.shape} does not broadcast to {a.shape}")
    o = op.options
    _requant(check, o["multiplier_a"], o["shift"], "a: ")
    _requant(check, o["multiplier_b"], o["shift"], "b: ")
    _out(g, op, check, ACT, a.shape)


def _shiftmax(g, op, check):
    _arity(op, check, (1, 2), optional=(1,))
    x = _t(g, op.inputs[0])
    _dtype(check, x, ("int8", "int32"), "input")
    check(len(x.shape) >= 1 and x.shape[-1] <= 2**16, "rows must be 1 to 65536 wide")
    if len(op.inputs) > 1 and op.inputs[1] != -1:
        mask = _t(g, op.inputs[1])
        _dtype(check, mask, INTS, "mask")
        check(_broadcasts(mask.shape, x.shape), f"mask {mask.shape} does not broadcast to {x.shape}")
    _requant(check, op.options["multiplier"], op.options["shift"])
    _out(g, op, check, ("uint8",), x.shape)


def _shiftgelu(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, INT8, "input")
    check(len(x.shape) >= 1, "input must have rank >= 1")
    check(-255 <= op.options["x0"] <= -1, f"x0 {op.options['x0']} outside [-255, -1]")
    _requant(check, op.options["multiplier"], op.options["shift"])
    _out(g, op, check, INT8, x.shape)


def _lambda_shiftgelu(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, INT8, "input")
    check(len(x.shape) >= 1, "input must have rank >= 1")
    _requant(check, op.options["slope_multiplier"], op.options["slope_shift"], "slope ")
    m, s = op.options["multiplier"], op.options["shift"]
    check(m.shape == s.shape and m.size in (1, x.shape[-1]), f"multiplier and shift need 1 or {x.shape[-1]} entries")
    for mc, sc in zip(m.tolist(), s.tolist()):
        _requant(check, mc, sc)
    _out(g, op, check, INT8, x.shape)


def _ilayernorm(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, ACT, "input")
    check(len(x.shape) >= 1 and 1 <= x.shape[-1] <= MAX_CHANNELS, f"channels must be 1 to {MAX_CHANNELS}")
    c = x.shape[-1]
    m, b = op.options["multiplier"], op.options["bias"]
    check(m.shape == (c,) and b.shape == (c,), f"multiplier and bias need {c} entries")
    check(b.size == 0 or int(np.abs(b.astype(np.int64)).max()) <= 2**61, "bias outside [-2^61, 2^61]")
    check(1 <= op.options["shift"] <= 62, f"shift {op.options['shift']} outside [1, 62]")
    _out(g, op, check, ACT, x.shape)


def _meanpool(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, ACT, "input")
    axis = op.options["axis"]
    _axis(check, axis, len(x.shape))
    _requant(check, op.options["multiplier"], op.options["shift"])
    _out(g, op, check, ACT, x.shape[:axis] + x.shape[axis + 1 :])


def _same_dtype_out(g, op, check, x, shape):
    o = _t(g, op.outputs[0])
    check(o.dtype == x.dtype, f"output dtype {o.dtype} != input dtype {x.dtype}")
    _out(g, op, check, (x.dtype,), shape)


def _reshape(g, op, check):
    _arity(op, check, 1)
    x, o = _t(g, op.inputs[0]), _t(g, op.outputs[0])
    check(math.prod(x.shape) == math.prod(o.shape), f"cannot reshape {x.shape} to {o.shape}")
    _same_dtype_out(g, op, check, x, o.shape)


def _transpose(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    perm = op.options["perm"].tolist()
    check(sorted(perm) == list(range(len(x.shape))), f"perm {perm} is not a permutation of rank {len(x.shape)}")
    _same_dtype_out(g, op, check, x, tuple(x.shape[p] for p in perm))


def _concat(g, op, check):
    check(len(op.inputs) >= 1, "needs at least one input")
    _arity(op, check, len(op.inputs))
    xs = [_t(g, i) for i in op.inputs]
    axis = op.options["axis"]
    _axis(check, axis, len(xs[0].shape))
    for x in xs[1:]:
        check(x.dtype == xs[0].dtype and len(x.shape) == len(xs[0].shape), "inputs differ in dtype or rank")
        check(all(a == b for j, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if j != axis), "inputs differ off the concat axis")
        check(x.scale == xs[0].scale, f"inputs have different scales ({x.scale} vs {xs[0].scale})")
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    _same_dtype_out(g, op, check, xs[0], shape)


def _slice(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    o = op.options
    _axis(check, o["axis"], len(x.shape))
    dim = x.shape[o["axis"]]
    check(0 <= o["start"] <= o["end"] <= dim and o["step"] >= 1, f"slice {o['start']}:{o['end']}:{o['step']} invalid for dim {dim}")
    shape = list(x.shape)
    shape[o["axis"]] = -(-(o["end"] - o["start"]) // o["step"])
    _same_dtype_out(g, op, check, x, shape)


def _gather(g, op, check):
    _arity(op, check, 2)
    table, idx = _t(g, op.inputs[0]), _t(g, op.inputs[1])
    check(len(table.shape) == 2, "table must be [V, D]")
    _dtype(check, table, ACT, "table")
    _dtype(check, idx, ("int32",), "indices")
    _same_dtype_out(g, op, check, table, idx.shape + (table.shape[1],))


def _upsample_nearest(g, op, check):
    _arity(op, check, 1)
    x, o = _t(g, op.inputs[0]), _t(g, op.outputs[0])
    check(len(x.shape) >= 2 and len(o.shape) == len(x.shape), "needs rank >= 2 in and out")
    check(o.shape[:-2] == x.shape[:-2], "only the last two axes may grow")
    check(all(i > 0 and r % i == 0 and r >= i for i, r in zip(x.shape[-2:], o.shape[-2:])), f"{o.shape[-2:]} is not an integer multiple of {x.shape[-2:]}")
    _same_dtype_out(g, op, check, x, o.shape)


def _argmax(g, op, check):
    _arity(op, check, 1)
    x = _t(g, op.inputs[0])
    _dtype(check, x, INTS, "input")
    axis = op.options["axis"]
    _axis(check, axis, len(x.shape))
    check(x.shape[axis] > 0, "cannot take argmax over an empty axis")
    _out(g, op, check, ("int32",), x.shape[:axis] + x.shape[axis + 1 :])


_RULES = {
    "quantize": _quantize,
    "dequantize": _dequantize,
    "requant": _requant_op,
    "qlinear": _qlinear,
    "qmatmul": _qmatmul,
    "qadd": _qadd,
    "shiftmax": _shiftmax,
    "shiftgelu": _shiftgelu,
    "lambda_shiftgelu": _lambda_shiftgelu,
    "ilayernorm": _ilayernorm,
    "meanpool": _meanpool,
    "reshape": _reshape,
    "transpose": _transpose,
    "concat": _concat,
    "slice": _slice,
    "gather": _gather,
    "upsample_nearest": _upsample_nearest,
    "argmax": _argmax,
}
