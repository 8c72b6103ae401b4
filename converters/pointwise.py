"""Pointwise regions: any elementwise float function of one activation becomes one op.

ReLU, ReLU6, tanh, sigmoid, SiLU, hard-swish, GELU's tanh form, x · σ(x),
torch.where(x > 0, x, 0.1 · x), clamp, ...: each ATen node that is
elementwise, whose activation operands all derive from the same value x
through such nodes (its other operands being scalars), extends x's region
instead of becoming a node. Where a region's value is used by anything else,
capture emits it as a single float-graph node whose function re-evaluates
the region's ATen nodes on any tensor: lowering tabulates it at the int8
input's 256 values (integer_ops/table.py), calibration and the QAT twin run
it in float.

Two one-node regions keep their own lowering: x · c for a scalar c > 0
(a change of scale, no op at all) and exact-erf GELU (I-ViT's integer
forms, the default).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

aten = torch.ops.aten

POINTWISE = {
    aten.relu.default, aten.relu6.default, aten.hardtanh.default, aten.tanh.default, aten.sigmoid.default,
    aten.silu.default, aten.hardswish.default, aten.hardsigmoid.default, aten.gelu.default, aten.elu.default,
    aten.leaky_relu.default, aten.softplus.default, aten.mish.default, aten.erf.default, aten.exp.default,
    aten.abs.default, aten.neg.default, aten.sqrt.default, aten.rsqrt.default, aten.reciprocal.default,
    aten.square.default, aten.clamp.default, aten.clamp_min.default, aten.clamp_max.default,
    aten.pow.Tensor_Scalar, aten.mul.Tensor, aten.mul.Scalar, aten.div.Tensor, aten.div.Scalar,
    aten.add.Tensor, aten.add.Scalar, aten.sub.Tensor, aten.sub.Scalar, aten.rsub.Scalar,
    aten.gt.Scalar, aten.lt.Scalar, aten.ge.Scalar, aten.le.Scalar, aten.gt.Tensor, aten.lt.Tensor,
    aten.ge.Tensor, aten.le.Tensor, aten.where.self, aten.where.ScalarSelf, aten.where.ScalarOther,
    aten.masked_fill.Scalar, aten.logical_not.default, aten.sin.default, aten.cos.default,
}
# ops a region passes through unchanged (value and dtype)
TRANSPARENT = {aten.contiguous.default, aten.clone.default, aten.dropout.default, aten.alias.default,
               aten.detach.default, aten.feature_dropout.default}
_SCALE_OPS = {aten.mul.Tensor, aten.mul.Scalar, aten.div.Tensor, aten.div.Scalar}


@dataclass(frozen=True)
class Pointwise:
    """A value computed elementwise from the activation `root` (produced by the ATen node root_node)."""
    root: str
    root_node: torch.fx.Node
    node: torch.fx.Node


def is_scalar(v) -> bool:
    return isinstance(v, (int, float, bool)) or (isinstance(v, torch.Tensor) and v.numel() == 1)


def region_root(n: torch.fx.Node, env: dict) -> tuple[str, torch.fx.Node] | None:
    """The common root when n extends a pointwise region: every activation operand is a region of one
    root (or that root itself), and every other operand is a scalar."""
    if n.target not in POINTWISE or not (n.meta["val"].dtype.is_floating_point or n.meta["val"].dtype == torch.bool):
        return None
    roots = set()
    for a in n.all_input_nodes:
        v = env[a]
        if isinstance(v, Pointwise):
            roots.add((v.root, v.root_node))
        elif isinstance(v, str):
            if not a.meta["val"].dtype.is_floating_point:
                return None
            roots.add((v, a))
        elif not is_scalar(v):
            return None
    return roots.pop() if len(roots) == 1 else None


def evaluate(region: Pointwise, x: torch.Tensor, env: dict) -> torch.Tensor:
    """The region's value with its root set to x (any shape: the ATen nodes are elementwise)."""
    memo: dict[torch.fx.Node, object] = {region.root_node: x}

    def ev(node):
        if node not in memo:
            value = env[node]
            if isinstance(value, Pointwise):
                args = torch.fx.node.map_arg(node.args, ev)
                kwargs = torch.fx.node.map_arg(node.kwargs, ev)
                value = node.target(*args, **kwargs)
            memo[node] = value
        return memo[node]

    return ev(region.node)


def scalar_factor(region: Pointwise, env: dict) -> float | None:
    """c when the region is exactly x · c or x / c of its root with a scalar c > 0, else None."""
    n = region.node
    if n.target not in _SCALE_OPS or n.args[0] is not region.root_node or len(n.args) != 2:
        return None
    c = env[n.args[1]] if isinstance(n.args[1], torch.fx.Node) else n.args[1]
    if not is_scalar(c) or float(c) <= 0:
        return None
    return float(c) if n.target in (aten.mul.Tensor, aten.mul.Scalar) else 1.0 / float(c)


def is_exact_gelu(region: Pointwise) -> bool:
    n = region.node
    return (n.target == aten.gelu.default and n.args[0] is region.root_node
            and n.kwargs.get("approximate", "none") == "none")


def describe(region: Pointwise, env: dict) -> str:
    """The region's ATen ops, root first ("mul.Tensor(sigmoid(x))" reads as silu written by hand)."""
    names, seen = [], set()

    def walk(node):
        if node in seen or not isinstance(env.get(node), Pointwise):
            return
        seen.add(node)
        for a in node.all_input_nodes:
            walk(a)
        names.append(str(node.target).removeprefix("aten."))

    walk(region.node)
    return " → ".join(names)
