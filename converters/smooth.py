"""SmoothQuant-style outlier smoothing (Xiao et al. 2023), folded into the weights.

For an activation X feeding linear layers, each channel j is divided by
s_j = max|X_j|^α / max|W_:,j|^(1−α) and every consuming linear's input
column j is multiplied by it. The float function is unchanged; the outlier
channels shrink, so int8 keeps more resolution on the rest (BERT has such
channels). Where the division goes:
* after a LayerNorm: into its γ_j and β_j;
* after a GELU: into the λ-ShiftGELU's per-channel output requantization
  (BERT's GELU outputs span 0.1 to 25: per-tensor int8 loses the small ones).

`prepare` makes room for both, structurally, before calibration: in post-LN
models (BERT) a LayerNorm's output also feeds the residual add, which must
see it unscaled, so the linears get their own copy of that LayerNorm (same
statistics, smoothed γ and β; one more I-LayerNorm per block); and each GELU
feeding only linears gets a per-channel scale constant (ones until smoothed).
"""

from __future__ import annotations

import copy
import dataclasses

import torch

from .calibrate import Ranges
from .float_graph import FloatGraph

SUFFIX = ".smoothed"
CHANNEL_SCALE = ".channel_scale"
GELU_OUTLIER_QUANTILE = 0.9


def prepare(g: FloatGraph) -> FloatGraph:
    """A copy of g ready for smoothing (see the module docstring); the same float function."""
    g = copy.copy(g)
    g.consts, g.shapes = dict(g.consts), dict(g.shapes)
    consumers = g.consumers()
    rewired: dict[int, list[str]] = {}  # id(linear node) → its new inputs
    nodes = []
    for n in g.nodes:
        users = consumers.get(n.output, [])
        linears = [u for u in users if u.kind == "linear"]
        if n.kind == "gelu" and users and len(linears) == len(users) and n.output not in g.outputs:
            n = dataclasses.replace(n, consts={"channel_scale": n.output + CHANNEL_SCALE})
            g.consts[n.consts["channel_scale"]] = torch.ones(g.shapes[n.output][-1])
        nodes.append(n)
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
    """New constants with every LayerNorm → linears and GELU → linears edge smoothed (g from prepare)."""
    if not 0 < alpha < 1:
        raise ValueError(f"smoothing alpha must be in (0, 1), got {alpha}")
    consts = dict(consts)
    consumers = g.consumers()
    for n in g.nodes:
        users = consumers.get(n.output, [])
        if n.kind not in ("layernorm", "gelu") or not users or any(u.kind != "linear" for u in users):
            continue
        act_max = ranges.channel_max[n.output].clamp(min=1e-5)
        if n.kind == "gelu":
            s = _gelu_channel_scales(act_max)
            consts[n.consts["channel_scale"]] = consts[n.consts["channel_scale"]] * s
        else:
            w_max = torch.stack([consts[u.consts["weight"]].abs().amax(0) for u in users]).amax(0).clamp(min=1e-5)
            s = (act_max**alpha / w_max ** (1 - alpha)).clamp(min=1e-2, max=1e2)
            for role in ("weight", "bias"):
                consts[n.consts[role]] = consts[n.consts[role]] / s
        for u in users:
            consts[u.consts["weight"]] = consts[u.consts["weight"]] * s
    return consts


def _gelu_channel_scales(act_max: torch.Tensor) -> torch.Tensor:
    """Shrink only the outlier channels down to the 90th-percentile channel range.

    The α-balanced rule would also grow small channels and push the GELU's
    range into fc2's weight columns; measured on MiniLM it made things worse.
    """
    return (act_max / act_max.quantile(GELU_OUTLIER_QUANTILE)).clamp(min=1)
