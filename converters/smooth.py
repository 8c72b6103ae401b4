"""SmoothQuant-style outlier smoothing (Xiao et al. 2023), folded into the weights.

For a LayerNorm feeding linear layers, each channel j is divided by
s_j = max|X_j|^α / max|W_:,j|^(1−α): the LayerNorm's γ_j and β_j are divided
by s_j and every consuming linear's input column j is multiplied by it. The
float function is unchanged; the activation's outlier channels shrink, so int8
keeps more resolution on the rest (BERT has such channels).

In post-LN models (BERT) a LayerNorm's output also feeds the residual add,
which must see it unscaled: `split_shared_layernorms` first gives the linears
their own copy of such a LayerNorm (same statistics, smoothed γ and β), at
the cost of one more I-LayerNorm per block.
"""

from __future__ import annotations

import copy
import dataclasses

import torch

from .calibrate import Ranges
from .float_graph import FloatGraph

SUFFIX = ".smoothed"


def split_shared_layernorms(g: FloatGraph) -> FloatGraph:
    """A copy of g where every LayerNorm feeding both linears and other ops has a twin for the linears."""
    g = copy.copy(g)
    g.consts, g.shapes = dict(g.consts), dict(g.shapes)
    consumers = g.consumers()
    rewired: dict[int, list[str]] = {}  # id(linear node) → its new inputs
    nodes = []
    for n in g.nodes:
        nodes.append(n)
        users = consumers.get(n.output, [])
        linears = [u for u in users if u.kind == "linear"]
        if n.kind != "layernorm" or not linears or (len(linears) == len(users) and n.output not in g.outputs):
            continue
        twin = copy.deepcopy(n)
        twin.output += SUFFIX
        for role in ("weight", "bias"):
            twin.consts[role] = n.consts[role] + SUFFIX
            g.consts[twin.consts[role]] = g.consts[n.consts[role]].clone()
        g.shapes[twin.output] = g.shapes[n.output]
        nodes.append(twin)
        for u in linears:
            rewired[id(u)] = [twin.output if v == n.output else v for v in u.inputs]
    g.nodes = [dataclasses.replace(n, inputs=rewired[id(n)]) if id(n) in rewired else n for n in nodes]
    return g


def smooth(g: FloatGraph, ranges: Ranges, consts: dict[str, torch.Tensor], alpha: float = 0.5) -> dict[str, torch.Tensor]:
    """New constants with every LayerNorm → linears edge smoothed (g from split_shared_layernorms)."""
    if not 0 < alpha < 1:
        raise ValueError(f"smoothing alpha must be in (0, 1), got {alpha}")
    consts = dict(consts)
    consumers = g.consumers()
    for n in g.nodes:
        users = consumers.get(n.output, [])
        if n.kind != "layernorm" or not users or any(u.kind != "linear" for u in users):
            continue
        act_max = ranges.channel_max[n.output].clamp(min=1e-5)
        w_max = torch.stack([consts[u.consts["weight"]].abs().amax(0) for u in users]).amax(0).clamp(min=1e-5)
        s = (act_max**alpha / w_max ** (1 - alpha)).clamp(min=1e-2, max=1e2)
        for role in ("weight", "bias"):
            consts[n.consts[role]] = consts[n.consts[role]] / s
        for u in users:
            consts[u.consts["weight"]] = consts[u.consts["weight"]] * s
    return consts
