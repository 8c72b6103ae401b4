"""The float graph: what capture makes of a model, before any quantization.

A flat list of FNodes over named values. Every kind here is one building block
that lowering (lower.py) turns into integer ops; `run` evaluates the graph in
float torch, for calibration and as the QAT twin's gradient path. Values are
graph inputs (float images, int token ids, a 0/1 attention mask), constants
(the model's parameters, folded), or node outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from intedge import integer_ops as iops

# kind → number of value inputs (None: any)
KINDS = {
    "linear": 1,  # consts: weight [N, K], bias [N] or None
    "matmul": 2,  # two activations, a @ b
    "softmax": None,  # x [, mask input]: softmax over the last axis, masked where mask == 0
    "gelu": 1,  # consts: channel_scale (optional, from smoothing): GELU(x) / s per channel
    "layernorm": 1,  # consts: weight, bias; attrs: eps
    "add": 2,  # either side may be a constant (position embeddings)
    "scale": 1,  # attrs: factor > 0 (x * factor): changes the scale, not the integers
    "reshape": 1,  # attrs: shape
    "transpose": 1,  # attrs: perm
    "concat": None,  # attrs: axis; inputs may be constants (class token)
    "slice": 1,  # attrs: axis, start, end, step
    "embedding": 1,  # consts: weight [V, D]; input: int token ids
    "mean": 1,  # attrs: axis
    "masked_sum": 2,  # x [B, S, D], mask input [B, S] (0/1) → Σ_s mask·x [B, D]
    "upsample": 1,  # attrs: factor_h, factor_w (nearest, last two axes)
    "elementwise": 1,  # attrs: fn (tensor → tensor, elementwise), ops (its ATen ops, for messages)
    "int_binary": 2,  # attrs: op (integer_ops.INT_BINARY_OPS' name); integer values, b may be a constant
    "cumsum": 1,  # attrs: axis; an integer value
}


@dataclass
class FNode:
    kind: str
    inputs: list[str]
    output: str
    attrs: dict = field(default_factory=dict)
    consts: dict[str, str | None] = field(default_factory=dict)  # role → name of a constant
    source: str = ""  # "file:line: code" in the user's model


@dataclass
class GraphInput:
    name: str
    kind: str  # "float", "index" (token ids), "mask" (0/1 attention mask)
    shape: tuple[int, ...]


@dataclass
class FloatGraph:
    inputs: list[GraphInput]
    consts: dict[str, torch.Tensor]
    nodes: list[FNode]
    outputs: list[str]
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # every value's shape

    def producer(self) -> dict[str, FNode]:
        return {n.output: n for n in self.nodes}

    def consumers(self) -> dict[str, list[FNode]]:
        out: dict[str, list[FNode]] = {}
        for n in self.nodes:
            for v in n.inputs:
                out.setdefault(v, []).append(n)
        return out

    def input_kinds(self) -> dict[str, str]:
        return {i.name: i.kind for i in self.inputs}


def _softmax(x, mask=None):
    if mask is not None:
        x = x.masked_fill(mask == 0, -math.inf)
    return torch.softmax(x, -1)


FLOAT_OPS: dict[str, Callable] = {
    "linear": lambda n, c, x: F.linear(x, c["weight"], c.get("bias")),
    "matmul": lambda n, c, a, b: a @ b,
    "softmax": lambda n, c, x, mask=None: _softmax(x, None if mask is None else mask.reshape(n.attrs["mask_shape"])),
    "gelu": lambda n, c, x: F.gelu(x) / c["channel_scale"] if "channel_scale" in c else F.gelu(x),
    "layernorm": lambda n, c, x: F.layer_norm(x, x.shape[-1:], c["weight"], c["bias"], n.attrs["eps"]),
    "add": lambda n, c, a, b: a + b,
    "scale": lambda n, c, x: x * n.attrs["factor"],
    "reshape": lambda n, c, x: x.reshape(n.attrs["shape"]),
    "transpose": lambda n, c, x: x.permute(n.attrs["perm"]),
    "concat": lambda n, c, *xs: torch.cat(xs, n.attrs["axis"]),
    "slice": lambda n, c, x: x[(slice(None),) * n.attrs["axis"] + (slice(n.attrs["start"], n.attrs["end"], n.attrs["step"]),)],
    "embedding": lambda n, c, idx: F.embedding(idx.long(), c["weight"]),
    "mean": lambda n, c, x: x.mean(n.attrs["axis"]),
    "masked_sum": lambda n, c, x, mask: (x * mask.to(x.dtype).unsqueeze(-1)).sum(1),
    "upsample": lambda n, c, x: x.repeat_interleave(n.attrs["factor_h"], -2).repeat_interleave(n.attrs["factor_w"], -1),
    "elementwise": lambda n, c, x: n.attrs["fn"](x),
    "int_binary": lambda n, c, a, b: iops.int_binary(a.long(), b.long(), iops.INT_BINARY_CODES[n.attrs["op"]]),
    "cumsum": lambda n, c, x: iops.cumsum(x.long(), n.attrs["axis"]),
}


def node_consts(g: FloatGraph, n: FNode, consts: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    consts = g.consts if consts is None else consts
    return {role: consts[name] for role, name in n.consts.items() if name is not None}


def at_batch(c: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A constant captured at batch 1, at its shape in the graph captured at another batch: broadcast (a
    class token), or repeated along the first axis (Swin's per-window masks, batch-major: [B · windows, ...])."""
    shape = tuple(shape)
    if tuple(c.shape) == shape:
        return c
    if c.dim() == len(shape) and all(a in (1, b) for a, b in zip(c.shape, shape)):
        return c.expand(shape)
    if c.dim() == len(shape) and shape[0] % c.shape[0] == 0 and tuple(c.shape[1:]) == shape[1:]:
        return c.repeat(shape[0] // c.shape[0], *[1] * (len(shape) - 1))
    raise ValueError(f"a constant of shape {tuple(c.shape)} has no counterpart of shape {shape}")


def value_of(g: FloatGraph, values: dict, name: str, consts: dict[str, torch.Tensor] | None = None):
    if name in values:
        return values[name]
    c = (g.consts if consts is None else consts)[name]
    return at_batch(c, g.shapes[name]) if name in g.shapes else c


def run(g: FloatGraph, inputs: dict[str, torch.Tensor], observe: Callable[[str, torch.Tensor], None] | None = None,
        consts: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Evaluate in float; `observe(name, value)` sees every input and node output (calibration)."""
    values = dict(inputs)
    if observe:
        for i in g.inputs:
            if i.kind == "float":
                observe(i.name, values[i.name])
    run_nodes(g, values, 0, observe, consts)
    return {o: values[o] for o in g.outputs}


def run_nodes(g: FloatGraph, values: dict[str, torch.Tensor], start: int = 0,
              observe: Callable[[str, torch.Tensor], None] | None = None,
              consts: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Evaluate g.nodes[start:] in float into `values`, which holds every value they read from before."""
    for n in g.nodes[start:]:
        args = [value_of(g, values, v, consts) for v in n.inputs]
        values[n.output] = FLOAT_OPS[n.kind](n, node_consts(g, n, consts), *args)
        if observe:
            observe(n.output, values[n.output])
    return values
