"""An energy estimate from op counts, for targets without a readable power sensor.

Where `intedge profile` cannot measure energy it reports it unavailable and gives this instead: the graph's
arithmetic and memory traffic, counted from its tensors' shapes, times published energies per operation
(Horowitz, ISSCC 2014, 45 nm), beside the same count for the float model the graph came from (the same
network in fp32). The ratio of the two is what integer-only arithmetic buys on such hardware; neither number
is a measurement. The counting rules, with every per-element count read off the reference functions in
integer_ops/, are in docs/energy_estimate.md.

    python -m intedge.profilers.estimate vit-fmnist          # a zoo model, converted here
    python -m intedge.profilers.estimate model.ieg
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass, field, fields

import numpy as np

from intedge.ir.graph import Graph, Op

# Energy per operation in pJ: Horowitz's table (45 nm, 0.9 V), the entries this model uses.
SOURCE = ('M. Horowitz, "1.1 Computing\'s energy problem (and what we can do about it)", ISSCC 2014 Digest of '
          'Technical Papers, pp. 10-14, doi:10.1109/ISSCC.2014.6757323 (45 nm, 0.9 V)')
SHORT_SOURCE = "Horowitz, ISSCC 2014"
PROCESS = "45 nm"
PJ = {
    "int8_mult": 0.2,
    "int32_add": 0.1,
    "int32_mult": 3.1,
    "fp32_add": 0.9,
    "fp32_mult": 3.7,
    "sram_32kb_read_64bit": 20.0,
    "dram_read_64bit": 1300.0,  # the paper gives 1.3-2.6 nJ: the low end (the high: docs/energy_estimate.md)
}

# What one counted unit costs, in pJ. Adds, subtracts, shifts, compares, clamps and selects cost a 32-bit add;
# a division costs one multiply of its width (a lower bound: the tables have no divider). Weights come from
# DRAM once per inference; activations from a 32 KB cache, every byte each op reads or writes.
UNIT_PJ = {
    "int8_macs": round(PJ["int8_mult"] + PJ["int32_add"], 6),  # an 8-bit product into a 32-bit accumulator
    "int8_mults": PJ["int8_mult"],
    "int32_adds": PJ["int32_add"],
    "int32_mults": PJ["int32_mult"],
    "fp32_macs": round(PJ["fp32_mult"] + PJ["fp32_add"], 6),
    "fp32_adds": PJ["fp32_add"],
    "fp32_mults": PJ["fp32_mult"],
    "weight_bytes": PJ["dram_read_64bit"] / 8,
    "activation_bytes": PJ["sram_32kb_read_64bit"] / 8,
}
MEMORY = ("weight_bytes", "activation_bytes")
FLOAT_BYTES = 4  # every element of the float twin, weights and activations alike
RUNTIME_VECTOR_OPTIONS = ("multiplier", "shift", "bias")  # per-channel constants a kernel reads on every run


@dataclass
class Work:
    """The arithmetic and memory traffic of one op, or of many summed."""

    int8_macs: int = 0
    int8_mults: int = 0
    int32_adds: int = 0
    int32_mults: int = 0
    fp32_macs: int = 0
    fp32_adds: int = 0
    fp32_mults: int = 0
    weight_bytes: int = 0
    activation_bytes: int = 0

    def __add__(self, other: Work) -> Work:
        return Work(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def __rmul__(self, n: int) -> Work:
        return Work(*(int(n) * a for a in astuple(self)))

    @property
    def int32_ops(self) -> int:
        return self.int32_adds + self.int32_mults

    def energy_j(self, units) -> float:
        return sum(getattr(self, u) * UNIT_PJ[u] for u in units) * 1e-12

    def as_dict(self, nonzero: bool = False) -> dict[str, int]:
        d = asdict(self) | {"int32_ops": self.int32_ops}
        return {k: v for k, v in d.items() if v} if nonzero else d


COMPUTE = tuple(f.name for f in fields(Work) if f.name not in MEMORY)


@dataclass
class OpCounts:
    total: Work
    by_kind: dict[str, Work]
    ops_by_kind: dict[str, int]
    not_counted: list[str] = field(default_factory=list)  # kinds whose bytes are counted but not their arithmetic


def ints(mults: int = 0, adds: int = 0) -> Work:
    return Work(int32_mults=mults, int32_adds=adds)


def flops(mults: int = 0, adds: int = 0) -> Work:
    return Work(fp32_mults=mults, fp32_adds=adds)


# Integer operations, read off integer_ops/ (docs/energy_estimate.md has the derivations).
REQUANT = ints(1, 4)  # requant.py (1): z·m, + 2^(s−1), >> s, clamp below and above
POW2_NEG = ints(2, 12)  # exp2.py: q, f, C2·f, >>, C1+, ·f, >>, 2^15+, ⌊2^q/2⌋ (2), + half, >> q, q > 15 (2)
SHIFTMAX_ELEMENT = POW2_NEG + ints(2, 11)  # max; d (3); u: d·m, rounding shift, min; Σ; y: e·k, rounding shift, min
SHIFTMAX_ROW = ints(1, 2)  # min(Σ), max(Σ, 1), ⌊(2^31 − 1) / Σ⌋
SHIFTMAX_MASK = ints(0, 3)  # per element: mask ≠ 0, its select before the max and after the exponential
LAYERNORM_ELEMENT = ints(2, 7)  # Σx; 256·x − μ; y², Σ; (y << j)·recip, rounding shift
LAYERNORM_AFFINE = ints(1, 5)  # per element and output: n·M_c + B_c, rounding shift, saturate
LAYERNORM_ROW = ints(9, 41)  # μ (a division), j, v << 2j, isqrt (7 Newton steps, a division each), ⌊2^46 / k⌋
IVIT_EXP = ints(2, 13)  # gelu.py _ivit_exp: t (4), clip, t // x0, r, N − q, r − 2x0, min, <<, >> 1, select (2)
SHIFTGELU_ELEMENT = IVIT_EXP + ints(4, 9)  # max, x − max; ⌊(2^31−1)/(e + e_m)⌋ (1 + 2); σ (1 + 1); x·σ; requant
SHIFTGELU_ROW = IVIT_EXP + ints(0, 1)  # e_m = iexp(−rowmax)
QADD = ints(2, 5)  # residual.py: a·m_a, b·m_b, +, rounding shift, saturate
ROPE_ELEMENT = ints(2, 5)  # decoder.py rope: two products (x·c, x'·s), ∓, rounding shift (2), saturate (2)
SWIGLU_ELEMENT = ints(1, 1) + REQUANT  # decoder.py swiglu: the table index, silu·up, then the requant
W4_EXPAND = Work(int8_mults=1, int32_adds=1)  # per weight, once per call: q4 · g and the nibble's unpacking

# Float32 operations of the float twin.
FP_EXP = flops(7, 8)  # n = round(x·log2 e), r = x − n·ln 2, a degree-5 polynomial by Horner, · 2^n
FP_TANH = FP_EXP + flops(2, 2)  # 1 − 2 / (exp(2u) + 1)
FP_GELU = FP_TANH + flops(6, 2)  # 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
SOFTMAX_ELEMENT = FP_EXP + flops(1, 3)  # max, x − max, exp, Σ, · 1/Σ
SOFTMAX_ROW = flops(1, 0)  # 1/Σ
FP_SILU = FP_EXP + flops(2, 1)  # x / (1 + exp(−x)): 1 +, a division, x·σ
LAYERNORM_FP_ELEMENT = flops(3, 4)  # Σx, x − μ, (x − μ)², Σ, · 1/σ, ·γ, +β
LAYERNORM_FP_ROW = flops(4, 1)  # μ = Σ/C, σ² = Σ/C, + ε, 1/√σ² (a square root and a division)


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _present(op: Op, j: int) -> bool:
    return j < len(op.inputs) and op.inputs[j] >= 0


def _traffic(g: Graph, op: Op, seen: set[int], float_skip: tuple[int, ...] = (),
             float_outputs: int | None = None) -> tuple[Work, Work]:
    """Bytes the op moves, in the graph and in its float twin: every non-constant input read and output written,
    its constants read (each constant once per inference: `seen` holds the ones earlier ops read) and its run-time
    vector options. float_skip: inputs that exist only in the integer graph (W4 group scales, byte tables);
    float_outputs: how many outputs the float op has, when fewer (a LayerNorm's SmoothQuant twin)."""
    integer, twin = Work(), Work()
    for j, tid in enumerate(op.inputs):
        if tid < 0:
            continue
        t = g.tensors[tid]
        if not t.is_constant:
            integer.activation_bytes += t.nbytes
            twin.activation_bytes += FLOAT_BYTES * _numel(t.shape)
        elif tid not in seen:
            seen.add(tid)
            integer.weight_bytes += t.nbytes
            twin.weight_bytes += 0 if j in float_skip else FLOAT_BYTES * _numel(t.shape)
    for k, tid in enumerate(op.outputs):
        integer.activation_bytes += g.tensors[tid].nbytes
        if float_outputs is None or k < float_outputs:
            twin.activation_bytes += FLOAT_BYTES * _numel(g.tensors[tid].shape)
    integer.weight_bytes += sum(v.nbytes for k, v in op.options.items()
                                if k in RUNTIME_VECTOR_OPTIONS and isinstance(v, np.ndarray))
    return integer, twin


# --- one function per op kind: (graph, op, constants read so far) → (integer work, float twin's work) ---------


def _qlinear(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    n, k = w.shape
    macs, outputs = _numel(x.shape[:-1]) * k * n, _numel(y.shape)
    bias = outputs if _present(op, 2) else 0
    integer, twin = _traffic(g, op, seen, float_skip=(3,))
    integer += Work(int8_macs=macs) + bias * ints(adds=1) + outputs * REQUANT
    if w.dtype == "int4":
        integer += n * k * W4_EXPAND
    return integer, twin + Work(fp32_macs=macs) + bias * flops(adds=1)


def _qmatmul(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    a, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    macs = _numel(y.shape) * a.shape[-1]  # batch · M · N outputs, K products each
    integer, twin = _traffic(g, op, seen)
    integer += Work(int8_macs=macs) + (0 if y.dtype == "int32" else _numel(y.shape)) * REQUANT
    return integer, twin + Work(fp32_macs=macs)


def _qadd(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    n = _numel(g.tensors[op.outputs[0]].shape)
    integer, twin = _traffic(g, op, seen)
    return integer + n * QADD, twin + n * flops(adds=1)


def _requant(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    integer, _ = _traffic(g, op, seen)
    return integer + _numel(g.tensors[op.outputs[0]].shape) * REQUANT, Work()  # a float model has no rescaling


def _shiftmax(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    shape = g.tensors[op.inputs[0]].shape
    n, rows = _numel(shape), _numel(shape[:-1])
    masked = _present(op, 1)
    integer, twin = _traffic(g, op, seen)
    integer += n * SHIFTMAX_ELEMENT + rows * SHIFTMAX_ROW + (n if masked else 0) * SHIFTMAX_MASK
    twin += n * SOFTMAX_ELEMENT + rows * SOFTMAX_ROW + (n if masked else 0) * flops(adds=1)  # an additive mask
    return integer, twin


def _ilayernorm(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    shape = g.tensors[op.inputs[0]].shape
    n, rows, channels = _numel(shape), _numel(shape[:-1]), shape[-1]
    integer, twin = _traffic(g, op, seen, float_outputs=1)  # a SmoothQuant twin output is the same float tensor
    integer += n * LAYERNORM_ELEMENT + len(op.outputs) * n * LAYERNORM_AFFINE + rows * LAYERNORM_ROW
    twin += n * LAYERNORM_FP_ELEMENT + rows * LAYERNORM_FP_ROW + Work(weight_bytes=2 * FLOAT_BYTES * channels)  # γ, β
    return integer, twin


def _shiftgelu(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    shape = g.tensors[op.inputs[0]].shape
    n, rows = _numel(shape), _numel(shape[:-1])
    integer, twin = _traffic(g, op, seen)
    return integer + n * SHIFTGELU_ELEMENT + rows * SHIFTGELU_ROW, twin + n * FP_GELU


def _lambda_shiftgelu(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # The engine tabulates x·σ(λx) once per session (Prepare); a run looks each byte up (the index: one add)
    # and, with per-channel output scales, requantizes it. One output scale folds into the byte table.
    n = _numel(g.tensors[op.inputs[0]].shape)
    per_channel = len(op.options["multiplier"]) > 1
    integer, twin = _traffic(g, op, seen)
    return integer + n * ints(adds=1) + (n if per_channel else 0) * REQUANT, twin + n * FP_GELU


def _lookup(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # The float function behind a table is a tanh, sigmoid, SiLU or GELU's tanh form: charged one tanh
    # (a ReLU would cost one compare, so this flatters the integer graph there).
    n = _numel(g.tensors[op.inputs[0]].shape)
    integer, twin = _traffic(g, op, seen, float_skip=(1,))
    return integer + n * ints(adds=1), twin + n * FP_TANH


def _lookup_requant(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # The converter's exact GELU (a table at conversion): as λ-ShiftGELU, the engine runs one output requant as a
    # byte table (the index: one add) and per-channel output scales as the table and a requant.
    n = _numel(g.tensors[op.inputs[0]].shape)
    per_channel = len(op.options["multiplier"]) > 1
    integer, twin = _traffic(g, op, seen, float_skip=(1,))
    return integer + n * ints(adds=1) + (n if per_channel else 0) * REQUANT, twin + n * FP_GELU


def _meanpool(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    inputs, outputs = _numel(g.tensors[op.inputs[0]].shape), _numel(g.tensors[op.outputs[0]].shape)
    integer, twin = _traffic(g, op, seen)
    return integer + inputs * ints(adds=1) + outputs * REQUANT, twin + inputs * flops(adds=1) + outputs * flops(1)


def _quantize(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    integer, _ = _traffic(g, op, seen)  # the float model takes its float input as it is
    return integer + _numel(g.tensors[op.inputs[0]].shape) * flops(1, 3), Work()  # x·inv_scale, round, clamp (2)


def _dequantize(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    integer, _ = _traffic(g, op, seen)
    return integer + _numel(g.tensors[op.inputs[0]].shape) * flops(1, 1), Work()  # int → float, · scale


def _alias(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    return Work(), Work()  # the engine aliases a reshape's output to its input: no work, no bytes


def _move(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    return _traffic(g, op, seen)  # transpose, concat, upsample: bytes in, bytes out, no arithmetic


def _slice(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    y = g.tensors[op.outputs[0]]  # reads only the elements it keeps
    integer, twin = _traffic(g, op, seen)
    x = g.tensors[op.inputs[0]]
    if not x.is_constant:
        integer.activation_bytes -= x.nbytes - y.nbytes
        twin.activation_bytes -= FLOAT_BYTES * (_numel(x.shape) - _numel(y.shape))
    return integer, twin


def _gather(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # Reads the rows it picks, not the whole table (a vocabulary is megabytes); bounds check and row offset per
    # index, the same integer work in the float model.
    table, indices, y = (g.tensors[i] for i in (*op.inputs, op.outputs[0]))
    picked, twin_picked = y.nbytes, FLOAT_BYTES * _numel(y.shape)
    rows = Work(weight_bytes=picked) if table.is_constant else Work(activation_bytes=picked)
    twin_rows = Work(weight_bytes=twin_picked) if table.is_constant else Work(activation_bytes=twin_picked)
    moved = Work(activation_bytes=indices.nbytes + y.nbytes)
    twin_moved = Work(activation_bytes=FLOAT_BYTES * (_numel(indices.shape) + _numel(y.shape)))
    check = _numel(indices.shape) * ints(1, 2)
    return moved + rows + check, twin_moved + twin_rows + check


def _argmax(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    n = _numel(g.tensors[op.inputs[0]].shape)
    integer, twin = _traffic(g, op, seen)
    return integer + n * ints(adds=2), twin + n * (flops(adds=1) + ints(adds=1))  # compare, keep the index


def _int_binary(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # Index arithmetic (position ids, masks, ALiBi) is the same integer work in the float model.
    n = _numel(g.tensors[op.outputs[0]].shape)
    work = n * (ints(mults=1) if op.options["op"] == 2 else ints(adds=1)) + n * ints(adds=2)  # ∘, saturate to int32
    integer, twin = _traffic(g, op, seen)
    return integer + work, twin + work


def _cumsum(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    work = _numel(g.tensors[op.outputs[0]].shape) * ints(adds=3)  # the running add, saturate to int32
    integer, twin = _traffic(g, op, seen)
    return integer + work, twin + work


def _rope(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # Reads the cos/sin rows of its positions only (as gather, once for every head); the float twin rotates with
    # fp32 tables (2 mults, 1 add an element). Both check each position and find its row.
    x, positions, cos, _ = (g.tensors[i] for i in op.inputs)
    n, picked = _numel(x.shape), 2 * x.shape[-2] * cos.shape[1]  # cos and sin: one row of D/2 per token
    rows = x.shape[-2] * ints(1, 2)
    integer = Work(activation_bytes=2 * x.nbytes + positions.nbytes, weight_bytes=picked * cos.nbytes // _numel(cos.shape))
    twin = Work(activation_bytes=FLOAT_BYTES * (2 * n + _numel(positions.shape)), weight_bytes=FLOAT_BYTES * picked)
    return integer + n * ROPE_ELEMENT + rows, twin + n * flops(2, 1) + rows


def _swiglu(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    n = _numel(g.tensors[op.outputs[0]].shape)
    integer, twin = _traffic(g, op, seen, float_skip=(2,))  # the SiLU table is the integer graph's only
    return integer + n * SWIGLU_ELEMENT, twin + n * (FP_SILU + flops(1))  # SiLU(gate) · up


def _cached_attention(g: Graph, op: Op, seen: set[int]) -> tuple[Work, Work]:
    # Counted for the run that fills the cache: p = T − S (at a dynamic graph's bound S = T, a prefill of the whole
    # context). Query i attends to the p + i + 1 rows up to its own (causal): only those pairs are counted, in both
    # products, Shiftmax and the twin's softmax. The caches are activation traffic: k and v written into them, then
    # the p + S rows of each kv head read back.
    q, k, _, positions, cache, _ = (g.tensors[i] for i in op.inputs)
    y = g.tensors[op.outputs[0]]
    heads, s, d = q.shape
    t = cache.shape[1]
    pairs = heads * (s * (t - s) + s * (s + 1) // 2)
    outputs = _numel(y.shape)
    # q, k and v read, k and v written into the caches, y written, both caches read whole (p + S = T rows)
    moved = q.nbytes + 4 * k.nbytes + positions.nbytes + y.nbytes + 2 * cache.nbytes
    elements = _numel(q.shape) + 4 * _numel(k.shape) + _numel(positions.shape) + outputs + 2 * _numel(cache.shape)
    integer = Work(int8_macs=2 * pairs * d, activation_bytes=moved)
    integer += pairs * SHIFTMAX_ELEMENT + heads * s * SHIFTMAX_ROW + outputs * REQUANT
    twin = Work(fp32_macs=2 * pairs * d, activation_bytes=FLOAT_BYTES * elements)
    return integer, twin + pairs * SOFTMAX_ELEMENT + heads * s * SOFTMAX_ROW


COUNTERS: dict[str, Callable[[Graph, Op, set[int]], tuple[Work, Work]]] = {
    "quantize": _quantize,
    "dequantize": _dequantize,
    "requant": _requant,
    "qlinear": _qlinear,
    "qmatmul": _qmatmul,
    "qadd": _qadd,
    "shiftmax": _shiftmax,
    "shiftgelu": _shiftgelu,
    "lambda_shiftgelu": _lambda_shiftgelu,
    "ilayernorm": _ilayernorm,
    "meanpool": _meanpool,
    "reshape": _alias,
    "transpose": _move,
    "concat": _move,
    "slice": _slice,
    "gather": _gather,
    "upsample_nearest": _move,
    "argmax": _argmax,
    "lookup": _lookup,
    "int_binary": _int_binary,
    "cumsum": _cumsum,
    "lookup_requant": _lookup_requant,
    "rope": _rope,
    "swiglu": _swiglu,
    "cached_attention": _cached_attention,
}


def _count(g: Graph) -> tuple[OpCounts, OpCounts]:
    integer = OpCounts(Work(), {}, {})
    twin = OpCounts(Work(), {}, {})
    seen: set[int] = set()
    for op in g.ops:
        counter = COUNTERS.get(op.kind)
        if counter is None:  # an op kind this model does not know: its bytes only, and said so
            for counts in (integer, twin):
                if op.kind not in counts.not_counted:
                    counts.not_counted.append(op.kind)
            counter = _move
        work = counter(g, op, seen)
        for counts, w in zip((integer, twin), work):
            counts.total += w
            counts.by_kind[op.kind] = counts.by_kind.get(op.kind, Work()) + w
            counts.ops_by_kind[op.kind] = counts.ops_by_kind.get(op.kind, 0) + 1
    return integer, twin


def count_ops(graph: Graph) -> OpCounts:
    """The integer graph's arithmetic and traffic per inference, per op kind and in total."""
    return _count(graph)[0]


def count_float_ops(graph: Graph) -> OpCounts:
    """The same for the float twin: the network this graph computes, run in fp32."""
    return _count(graph)[1]


def _energy(w: Work) -> dict[str, float]:
    compute, memory = w.energy_j(COMPUTE), w.energy_j(MEMORY)
    return {"compute_j": compute, "memory_j": memory, "total_j": compute + memory}


def estimate(graph: Graph) -> dict:
    """The energy estimate per inference, JSON-ready: the integer graph's, its float twin's, and their ratio."""
    integer, twin = _count(graph)
    e_int, e_float = _energy(integer.total), _energy(twin.total)
    at = f" at the dynamic length's bound {graph.dynamic[1]}" if graph.dynamic else ""
    return {
        "kind": "estimate",
        "source": SOURCE,
        "short_source": SHORT_SOURCE,
        "process": PROCESS,
        "model": graph.name,
        "unit_pj": UNIT_PJ,
        "counts": {
            "integer": integer.total.as_dict(),
            "float32": twin.total.as_dict(),
            "by_kind": {k: {"ops": integer.ops_by_kind[k], "integer": integer.by_kind[k].as_dict(nonzero=True),
                            "float32": twin.by_kind[k].as_dict(nonzero=True)} for k in integer.by_kind},
        },
        "integer": e_int,
        "float32": e_float,
        "ratio": e_float["total_j"] / e_int["total_j"] if e_int["total_j"] else math.nan,
        "not_counted": integer.not_counted,
        "note": (f"an estimate from op counts{at} times {PROCESS} energies per operation from the source, not a "
                 "measurement: weights read from DRAM once per inference, activations from a 32 KB SRAM; "
                 "float32 is the same network in fp32 (docs/energy_estimate.md)"),
    }


def _zoo_graph(name: str, weights: str) -> Graph:
    from intedge.converters import zoo

    # the counts depend on shapes alone, not on what calibration chose: two inputs are enough
    return zoo.get(name).calibrated(weights, 2).graph(batch=1, name=f"{name}-{weights}")


def main(argv: list[str] | None = None) -> int:
    from intedge.converters import ZOO_NAMES
    from intedge.ir import load

    p = argparse.ArgumentParser(prog="python -m intedge.profilers.estimate", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help=f"a .ieg file, or a zoo model ({', '.join(ZOO_NAMES)}) converted at batch 1")
    p.add_argument("--weights", choices=["w8", "w4"], default="w8", help="a zoo model's weights (default w8)")
    args = p.parse_args(argv)
    graph = _zoo_graph(args.model, args.weights) if args.model in ZOO_NAMES else load(args.model)
    print(json.dumps(estimate(graph), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
