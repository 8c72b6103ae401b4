"""Lowering: float graph + calibrated ranges → the integer graph (intedge IR).

Two steps. `plan` fixes every value's integer dtype and scale once, from the
calibration ranges. `emit` then turns each float node into a short fragment
of integer ops, computing the integer constants (weights, biases, dyadic
multipliers, I-LayerNorm and GELU constants) from the float constants it is
given — the model's own, or the QAT twin's current ones, which is how the
twin and the exported graph stay bit-identical.

Dtypes: GEMM and attention inputs are int8 (W8A8 / W4A8). The residual
stream (values only ever added or normalized: residual adds, LayerNorm
outputs that feed them, embedding lookups) is int16 when `wide_residual` is
on, as qadd and I-LayerNorm take and give int16; Q·Kᵀ stays an int32
accumulator straight into Shiftmax; Softmax outputs are uint8 at 2^−8.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import numpy as np
import torch

from intedge import integer_ops as iops
from intedge.integer_ops import gelu as gelu_ops
from intedge.integer_ops._backend import dtype_range
from intedge.integer_ops.quantize import GROUP_SIZES
from intedge.integer_ops.shiftmax import OUT_SCALE
from intedge.ir.graph import Graph

from .calibrate import Ranges
from .errors import ConversionError
from .float_graph import FloatGraph, FNode, at_batch

WEIGHT_BITS = ("w8", "w4")
GELUS = ("table", "lambda", "shiftgelu")
PASS_THROUGH = ("reshape", "transpose", "slice", "upsample", "scale")
QMAX = {"int8": 127, "int16": 32767}


@dataclass
class QuantConfig:
    weights: str | dict[str, str] = "w8"  # "w8" | "w4", or {fnmatch pattern of a layer name: "w8"|"w4"}
    group_size: int = 32  # int4 groups: 32, 64, 128; 0 = per-channel int4
    gelu: str = "table"  # "table" (GELU at the 256 int8 inputs), "lambda" (λ-ShiftGELU, fitted λ), "shiftgelu" (I-ViT)
    wide_residual: bool = True

    def __post_init__(self):
        widths = self.weights.values() if isinstance(self.weights, dict) else [self.weights]
        for w in widths:
            if w not in WEIGHT_BITS:
                raise ConversionError(f"weights must be one of {WEIGHT_BITS} (W8A8, W4A8), got {w!r}")
        if self.group_size not in GROUP_SIZES + (0,):
            raise ConversionError(f"group_size must be one of {GROUP_SIZES} or 0 (per-channel), got {self.group_size}")
        if self.gelu not in GELUS:
            raise ConversionError(f"gelu must be one of {GELUS}, got {self.gelu!r}")

    def weight_bits(self, layer: str) -> str:
        if isinstance(self.weights, str):
            return self.weights
        for pattern, bits in self.weights.items():
            if fnmatch.fnmatch(layer, pattern):
                return bits
        return self.weights.get("*", "w8")

    def int4(self, weight_name: str, k: int) -> bool:
        """Whether a linear's weight (named as in the model, K inputs) goes to int4: asked for, and K splits
        into 32-wide blocks and whole groups (others stay int8)."""
        gs = self.group_size
        return (self.weight_bits(weight_name.removesuffix(".weight")) == "w4" and k % 32 == 0
                and (gs == 0 or k % gs == 0))


@dataclass
class QuantPlan:
    dtypes: dict[str, str] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)
    lambdas: dict[str, float] = field(default_factory=dict)  # GELU node → fitted λ
    int4_scales: dict[str, tuple] = field(default_factory=dict)  # weight → (g, s_c) fixed by GPTQ
    config: QuantConfig = field(default_factory=QuantConfig)


def _accepts_wide(g: FloatGraph, v: str, consumers) -> bool:
    """True when every use of v (looking through shape ops) takes int16."""
    for n in consumers.get(v, []):
        if n.kind in PASS_THROUGH and n.kind != "scale":
            if not _accepts_wide(g, n.output, consumers):
                return False
        elif n.kind not in ("add", "layernorm", "mean"):
            return False
    return True


def _adds_constant(g: FloatGraph, n: FNode) -> bool:
    """x + a constant: a position table in the residual stream, or, added to attention scores (Swin's
    relative position bias), an int32 add before Shiftmax."""
    return n.kind == "add" and n.inputs[1] in g.consts


def _feeds_only_softmax(g: FloatGraph, v: str, consumers) -> bool:
    uses = consumers.get(v, [])
    return bool(uses) and all(n.kind == "softmax" and n.inputs[0] == v or
                              (n.kind in PASS_THROUGH or _adds_constant(g, n) and n.inputs[0] == v)
                              and _feeds_only_softmax(g, n.output, consumers) for n in uses)


def plan(g: FloatGraph, ranges: Ranges, config: QuantConfig) -> QuantPlan:
    p = QuantPlan(config=config)
    consumers = g.consumers()

    def anchor(v: str, wide_ok: bool = True):
        dtype = "int16" if wide_ok and config.wide_residual and _accepts_wide(g, v, consumers) else "int8"
        amax = ranges.amax(v, bits=16 if dtype == "int16" else 8)
        p.dtypes[v], p.scales[v] = dtype, (amax / QMAX[dtype] if amax > 0 else 1.0)

    for i in g.inputs:
        if i.kind == "float":
            anchor(i.name, wide_ok=False)
        else:
            p.dtypes[i.name], p.scales[i.name] = ("int32" if i.kind == "index" else "int8"), 1.0
    forced = _concat_scales(g, ranges, consumers)
    for n in g.nodes:
        v, x = n.output, (n.inputs[0] if n.inputs else None)
        if v in forced:
            p.dtypes[v], p.scales[v] = forced[v]
        elif n.kind in PASS_THROUGH:
            p.dtypes[v] = p.dtypes[x]
            p.scales[v] = p.scales[x] * n.attrs.get("factor", 1.0)
        elif n.kind == "concat":
            p.dtypes[v], p.scales[v] = forced[n.output]
        elif n.kind == "softmax":
            p.dtypes[v], p.scales[v] = "uint8", OUT_SCALE
        elif n.kind == "matmul" and _feeds_only_softmax(g, v, consumers):
            p.dtypes[v], p.scales[v] = "int32", p.scales[n.inputs[0]] * p.scales[n.inputs[1]]
        elif n.kind == "add" and p.dtypes.get(x) == "int32":  # a score bias (see _adds_constant)
            p.dtypes[v], p.scales[v] = "int32", p.scales[x]
        elif n.kind in ("int_binary", "cumsum"):
            p.dtypes[v], p.scales[v] = "int32", 1.0
        elif n.kind == "masked_sum":
            p.dtypes[v], p.scales[v] = "int32", p.scales[x]
        elif n.kind == "embedding":  # the table is stored at the output's dtype and scale
            dtype = "int16" if config.wide_residual and _accepts_wide(g, v, consumers) else "int8"
            p.dtypes[v], p.scales[v] = dtype, float(g.consts[n.consts["weight"]].abs().max()) / QMAX[dtype] or 1.0
        else:  # linear, matmul, gelu, elementwise, layernorm, add, mean
            anchor(v, wide_ok=n.kind in ("linear", "add", "mean", "layernorm"))
        if _adds_constant(g, n) and p.dtypes[v] != "int32":
            # a constant operand's scale is fixed here, once: emitting at another length (a dynamic
            # graph's shorter position table) must give the same integers for the entries both have
            amax = float(g.consts[n.inputs[1]].abs().max())
            p.scales[n.inputs[1]] = amax / QMAX[p.dtypes[v]] if amax else 1.0
        if n.kind == "gelu" and config.gelu == "lambda":
            q = np.clip(np.rint(ranges.samples(x) / p.scales[x]), -128, 127).astype(np.int64)
            hist = np.bincount(q + 128, minlength=256)
            p.lambdas[v] = iops.fit_lambda(hist, p.scales[x])
    return p


def _concat_scales(g: FloatGraph, ranges: Ranges, consumers) -> dict[str, tuple[str, float]]:
    """Concat inputs share the output's scale: producers that requantize anyway take it directly."""
    producer = g.producer()
    forced = {}
    for n in g.nodes:
        if n.kind != "concat":
            continue
        scale = (ranges.amax(n.output) / 127) or 1.0
        forced[n.output] = ("int8", scale)
        for v in n.inputs:
            src = producer.get(v)
            if src is not None and src.kind not in PASS_THROUGH + ("concat", "softmax") and len(consumers[v]) == 1:
                forced[v] = ("int8", scale)
    return forced


# --- emission ---------------------------------------------------------------------------------------


@dataclass
class Lowered:
    graph: Graph
    tensor: dict[str, int]  # float-graph value → IR tensor id
    fragments: list[tuple[FNode, int, int]]  # node, first op, end op
    # values whose IR tensor holds them untransposed (a Kᵀ read by qmatmuls as transpose_b): the float
    # graph's value is that tensor permuted by this perm
    views: dict[str, list[int]] = field(default_factory=dict)


class _Emitter:
    def __init__(self, g: FloatGraph, p: QuantPlan, consts: dict[str, torch.Tensor], name: str):
        self.g, self.p, self.consts = g, p, consts
        self.ir = Graph(name=name)
        self.tid: dict[str, int] = {}
        self.consumers = g.consumers()
        self.views: dict[str, list[int]] = {}

    def const(self, name: str) -> np.ndarray:
        """A constant as float64, at its shape in this graph (which may be at another batch size)."""
        c = self.consts[name].detach()
        return (at_batch(c, self.g.shapes[name]) if name in self.g.shapes else c).double().numpy()

    def value(self, v: str, shape=None) -> int:
        return self.ir.add_tensor(v, self.p.dtypes[v], shape or self.g.shapes[v], self.p.scales[v])

    def quantized_const(self, name: str, dtype: str, scale: float, shape=None) -> int:
        """name's constant in `dtype` at `scale`, broadcast to `shape` (a class token at another batch size)."""
        lo, hi = dtype_range(dtype)
        value = self.const(name)
        q = np.clip(np.rint(value / scale), lo, hi)
        q = q if shape is None else np.broadcast_to(q, shape)
        return self.ir.add_constant(name, q.astype(dtype), dtype, scale)

    def requant_to(self, v: str, dtype: str, scale: float, tag: str) -> int:
        if self.p.dtypes[v] == dtype and self.p.scales[v] == scale:
            return self.tid[v]
        m, s = iops.dyadic(self.p.scales[v] / scale)
        out = self.ir.add_tensor(f"{v}.{tag}", dtype, self.g.shapes[v], scale)
        self.ir.add_op("requant", [self.tid[v]], [out], name=f"{v}.{tag}", multiplier=m, shift=s)
        return out


def emit(g: FloatGraph, p: QuantPlan, consts: dict[str, torch.Tensor] | None = None, name: str = "model") -> Lowered:
    e = _Emitter(g, p, g.consts if consts is None else consts, name)
    for i in g.inputs:
        if i.kind == "float":
            raw = e.ir.add_tensor(i.name, "float32", i.shape)
            e.tid[i.name] = e.ir.add_tensor(i.name + ".q", p.dtypes[i.name], i.shape, p.scales[i.name])
            e.ir.add_op("quantize", [raw], [e.tid[i.name]], name=i.name, inv_scale=1.0 / p.scales[i.name])
        else:
            raw = e.ir.add_tensor(i.name, p.dtypes[i.name], i.shape)
            e.tid[i.name] = raw
        e.ir.inputs.append(raw)
    fragments = []
    for n in g.nodes:
        start = len(e.ir.ops)
        _EMIT[n.kind](e, n)
        fragments.append((n, start, len(e.ir.ops)))
    for k, v in enumerate(g.outputs):
        out = e.ir.add_tensor("output" if len(g.outputs) == 1 else f"output{k}", "float32", g.shapes[v])
        e.ir.add_op("dequantize", [e.tid[v]], [out], name=f"output{k}", scale=p.scales[v])
        e.ir.outputs.append(out)
    return Lowered(e.ir, e.tid, fragments, e.views)


def _out(e: _Emitter, n: FNode) -> int:
    e.tid[n.output] = e.value(n.output)
    return e.tid[n.output]


def quantized_weight(p: QuantPlan, name: str, w: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, int]:
    """A linear's weight w [N, K] as the graph stores it: (q int8 or int4 values, integer group scales g
    or None, per-channel scale s [N], group size), so that w ≈ s · g · q (g repeated over each group)."""
    gs = p.config.group_size
    if not p.config.int4(name, w.shape[1]):
        q, s_w = iops.quantize_per_channel(w)
        return q, None, s_w, 0
    if name in p.int4_scales:
        g_, s_c = p.int4_scales[name]
        q4 = iops.quantize_int4_with_scales(w, g_, s_c)
    elif gs == 0:
        q4, s_c = iops.quantize_int4_per_channel(w)
    else:
        q4, g_, s_c = iops.quantize_int4_grouped(w, gs)
    if gs == 0:  # per-channel: unit group scales on the kernels' 32-wide blocks
        gs, g_ = 32, np.ones((w.shape[0], w.shape[1] // 32), np.int8)
    return q4, g_, s_c, gs


def dequantized_weight(p: QuantPlan, name: str, w: np.ndarray) -> np.ndarray:
    """The float weight the graph's integers stand for."""
    q, g_, s, gs = quantized_weight(p, name, w)
    step = np.ones_like(w) if g_ is None else np.repeat(np.asarray(g_, np.float64), gs, axis=1)
    return q * step * s[:, None]


def _weights(e: _Emitter, n: FNode, scale_x: float):
    """(weight tensor id, group-scale id or -1, per-channel accumulator scales, group_size)."""
    name = n.consts["weight"]
    q, g_, s, gs = quantized_weight(e.p, name, e.const(name))
    if g_ is None:
        return e.ir.add_constant(name, q, "int8"), -1, s * scale_x, 0
    wid = e.ir.add_constant(name, q, "int4")
    gid = e.ir.add_constant(name + ".group_scales", g_, "int8")
    return wid, gid, s * scale_x, gs


def _emit_linear(e: _Emitter, n: FNode):
    x = n.inputs[0]
    wid, gid, acc, gs = _weights(e, n, e.p.scales[x])
    bid = -1
    if n.consts.get("bias") is not None:
        b = np.rint(e.const(n.consts["bias"]) / acc)
        if np.abs(b).max() >= 2**30:
            raise ConversionError(f"{n.source}: bias of {n.output} does not fit the int32 accumulator at these scales")
        bid = e.ir.add_constant(n.consts["bias"], b.astype(np.int32), "int32")
    ms, ss = zip(*(iops.dyadic(float(r)) for r in acc / e.p.scales[n.output]))
    inputs = [e.tid[x], wid, bid] + ([gid] if gid != -1 else [])
    e.ir.add_op("qlinear", inputs, [_out(e, n)], name=n.output, multiplier=np.array(ms), shift=np.array(ss), group_size=gs)


def _emit_matmul(e: _Emitter, n: FNode):
    a, b = n.inputs
    m, s = (0, 0) if e.p.dtypes[n.output] == "int32" else iops.dyadic(e.p.scales[a] * e.p.scales[b] / e.p.scales[n.output])
    e.ir.add_op("qmatmul", [e.tid[a], e.tid[b]], [_out(e, n)], name=n.output, transpose_b=b in e.views,
                multiplier=m, shift=s)


def _emit_transpose(e: _Emitter, n: FNode):
    """A transpose of the last two axes that only qmatmuls read, as their right operand (attention's Kᵀ),
    is not emitted: they read its input with transpose_b, and the engine packs it as it is."""
    perm, rank = list(n.attrs["perm"]), len(n.attrs["perm"])
    uses = e.consumers.get(n.output, [])
    if (perm == list(range(rank - 2)) + [rank - 1, rank - 2] and uses and n.output not in e.g.outputs
            and all(u.kind == "matmul" and u.inputs[1] == n.output and u.inputs[0] != n.output for u in uses)):
        e.tid[n.output] = e.tid[n.inputs[0]]
        e.views[n.output] = perm
        return
    e.ir.add_op("transpose", [e.tid[n.inputs[0]]], [_out(e, n)], name=n.output, perm=np.array(perm))


def _emit_softmax(e: _Emitter, n: FNode):
    inputs = [e.tid[n.inputs[0]]]
    if len(n.inputs) > 1 and n.inputs[1] in e.g.consts:  # a constant mask (causal, Swin's shifted windows)
        keep = e.const(n.inputs[1]).reshape(n.attrs["mask_shape"]) != 0
        inputs.append(e.ir.add_constant(n.inputs[1], keep.astype(np.int8), "int8"))
    elif len(n.inputs) > 1:
        mask = e.ir.add_tensor(n.output + ".mask", "int8", n.attrs["mask_shape"])
        e.ir.add_op("reshape", [e.tid[n.inputs[1]]], [mask], name=n.output + ".mask")
        inputs.append(mask)
    e.ir.add_op("shiftmax", inputs, [_out(e, n)], name=n.output, **iops.shiftmax_params(e.p.scales[n.inputs[0]]))


def _emit_gelu(e: _Emitter, n: FNode):
    s_in, s_out = e.p.scales[n.inputs[0]], e.p.scales[n.output]
    gelu = e.p.config.gelu
    if "channel_scale" in n.consts:  # smoothed: the output requantization also divides channel j by s_j
        if gelu == "shiftgelu":
            raise ConversionError("smoothing a GELU needs --gelu table or lambda (I-ViT's ShiftGELU has one output scale)")
        s_out = s_out * e.const(n.consts["channel_scale"])
    x, y = e.tid[n.inputs[0]], _out(e, n)
    if gelu == "table":  # GELU itself at the 256 int8 inputs, tabulated here like any lookup table
        params = iops.requant_table_for(gelu_ops.gelu_float, s_in, s_out)
        tid = e.ir.add_constant(n.output + ".table", params.pop("table"), "int32")
        e.ir.add_op("lookup_requant", [x, tid], [y], name=n.output, **params)
    elif gelu == "lambda":
        e.ir.add_op("lambda_shiftgelu", [x], [y], name=n.output,
                    **gelu_ops.lambda_shiftgelu_params(s_in, s_out, e.p.lambdas[n.output]))
    else:
        e.ir.add_op("shiftgelu", [x], [y], name=n.output, **gelu_ops.shiftgelu_params(s_in, s_out))


def _emit_layernorm(e: _Emitter, n: FNode):
    params = iops.ilayernorm_params(e.const(n.consts["weight"]), e.const(n.consts["bias"]), e.p.scales[n.output])
    e.ir.add_op("ilayernorm", [e.tid[n.inputs[0]]], [_out(e, n)], name=n.output, **params | {"shift": [params["shift"]]})


def _emit_add(e: _Emitter, n: FNode):
    a, b = n.inputs
    if e.p.dtypes[n.output] == "int32":  # a score bias: the constant at the int32 scores' scale, added exactly
        bias = np.clip(np.rint(e.const(b) / e.p.scales[a]), -(2**30), 2**30)
        bid = e.ir.add_constant(b, bias.astype(np.int32), "int32")
        e.ir.add_op("int_binary", [e.tid[a], bid], [_out(e, n)], name=n.output, op=iops.INT_BINARY_CODES["add"])
        return
    if b in e.g.consts:
        bid = e.quantized_const(b, e.p.dtypes[n.output], e.p.scales[b])
    else:
        bid = e.tid[b]
    s_b = e.p.scales[b]
    s_out = e.p.scales[n.output]
    (ma, mb), s = iops.dyadic_shared([e.p.scales[a] / s_out, s_b / s_out])
    e.ir.add_op("qadd", [e.tid[a], bid], [_out(e, n)], name=n.output, multiplier_a=ma, multiplier_b=mb, shift=s)


def _emit_shape(kind: str, options):
    def emit_op(e: _Emitter, n: FNode):
        e.ir.add_op(kind, [e.tid[n.inputs[0]]], [_out(e, n)], name=n.output, **options(n))
    return emit_op


def _emit_scale(e: _Emitter, n: FNode):
    e.tid[n.output] = e.tid[n.inputs[0]]  # same integers, the plan's scale carries the factor


def _emit_concat(e: _Emitter, n: FNode):
    dtype, scale = e.p.dtypes[n.output], e.p.scales[n.output]
    ids = [e.quantized_const(v, dtype, scale, e.g.shapes[v]) if v in e.g.consts else e.requant_to(v, dtype, scale, "to_concat")
           for v in n.inputs]
    e.ir.add_op("concat", ids, [_out(e, n)], name=n.output, axis=n.attrs["axis"])


def _emit_embedding(e: _Emitter, n: FNode):
    table = e.quantized_const(n.consts["weight"], e.p.dtypes[n.output], e.p.scales[n.output])
    e.ir.add_op("gather", [table, e.tid[n.inputs[0]]], [_out(e, n)], name=n.output)


def _emit_mean(e: _Emitter, n: FNode):
    x, axis = n.inputs[0], n.attrs["axis"]
    m, s = iops.dyadic(e.p.scales[x] / (e.g.shapes[x][axis] * e.p.scales[n.output]))
    e.ir.add_op("meanpool", [e.tid[x]], [_out(e, n)], name=n.output, axis=axis, multiplier=m, shift=s)


def _emit_masked_sum(e: _Emitter, n: FNode):
    x, mask = n.inputs
    b, s, d = e.g.shapes[x]
    row = e.ir.add_tensor(n.output + ".mask", "int8", (b, 1, s))
    e.ir.add_op("reshape", [e.tid[mask]], [row], name=n.output + ".mask")
    summed = e.ir.add_tensor(n.output + ".sum", "int32", (b, 1, d), e.p.scales[n.output])
    e.ir.add_op("qmatmul", [row, e.tid[x]], [summed], name=n.output, transpose_b=False, multiplier=0, shift=0)
    e.ir.add_op("reshape", [summed], [_out(e, n)], name=n.output + ".flatten")


def _emit_elementwise(e: _Emitter, n: FNode):
    x = n.inputs[0]
    if e.p.dtypes[x] != "int8":
        raise ConversionError(f"{n.source}: the elementwise function {n.attrs['ops']} needs an int8 input, "
                              f"not {e.p.dtypes[x]}")
    fn = n.attrs["fn"]
    table = iops.table_for(lambda v: fn(torch.from_numpy(v)).double().numpy(), e.p.scales[x], e.p.scales[n.output])
    tid = e.ir.add_constant(n.output + ".table", table, "int8")
    e.ir.add_op("lookup", [e.tid[x], tid], [_out(e, n)], name=n.output)


def _emit_int_binary(e: _Emitter, n: FNode):
    a, b = n.inputs
    bid = e.ir.add_constant(b, np.rint(e.const(b)).astype(np.int32), "int32") if b in e.g.consts else e.tid[b]
    e.ir.add_op("int_binary", [e.tid[a], bid], [_out(e, n)], name=n.output, op=iops.INT_BINARY_CODES[n.attrs["op"]])


_EMIT = {
    "linear": _emit_linear,
    "matmul": _emit_matmul,
    "softmax": _emit_softmax,
    "gelu": _emit_gelu,
    "layernorm": _emit_layernorm,
    "add": _emit_add,
    "scale": _emit_scale,
    "reshape": _emit_shape("reshape", lambda n: {}),
    "transpose": _emit_transpose,
    "slice": _emit_shape("slice", lambda n: {k: n.attrs[k] for k in ("axis", "start", "end", "step")}),
    "upsample": _emit_shape("upsample_nearest", lambda n: {}),
    "concat": _emit_concat,
    "embedding": _emit_embedding,
    "mean": _emit_mean,
    "masked_sum": _emit_masked_sum,
    "elementwise": _emit_elementwise,
    "int_binary": _emit_int_binary,
    "cumsum": _emit_shape("cumsum", lambda n: {"axis": n.attrs["axis"]}),
}
