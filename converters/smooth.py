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

How much to migrate is chosen per edge with alpha="auto" (AWQ's idea, Lin
et al. 2024, on SmoothQuant's scales): every candidate scaling is tried on
calibration rows of the activation, with the activation on its int8 grid and
the consumers' weights on theirs (int8 per channel, or int4 per group), and
the one whose consumers' outputs are closest to float is kept. Candidates: no
smoothing and α ∈ ALPHA_GRID after a LayerNorm; after a GELU, the outlier
shrink raised to each power in GELU_STRENGTHS.
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
ALPHA_GRID = tuple(round(0.1 * k, 1) for k in range(1, 10))
GELU_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


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


def edges(g: FloatGraph) -> list[tuple]:
    """(LayerNorm or GELU node, its consuming linears): every edge smoothing scales."""
    consumers = g.consumers()
    out = []
    for n in g.nodes:
        users = consumers.get(n.output, [])
        if n.kind in ("layernorm", "gelu") and users and all(u.kind == "linear" for u in users):
            out.append((n, users))
    return out


def smooth(g: FloatGraph, ranges: Ranges, consts: dict[str, torch.Tensor], alpha: float | str = 0.5,
           int4=lambda weight_name, k: False) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """New constants with every LayerNorm → linears and GELU → linears edge smoothed (g from prepare),
    and the strength each edge got. alpha: one α for every LayerNorm edge, or "auto" (searched per
    edge; ranges must hold rows of each edge's activation). int4(weight name, K): whether a consumer's
    weights go to int4, for the search."""
    if alpha != "auto" and not 0 < alpha < 1:
        raise ValueError(f"smoothing alpha must be in (0, 1) or 'auto', got {alpha}")
    consts = dict(consts)
    chosen = {}
    for n, users in edges(g):
        act_max = ranges.channel_max[n.output].clamp(min=1e-5)
        weights = [consts[u.consts["weight"]] for u in users]
        if n.kind == "gelu":
            candidates = {f"strength {b}": _gelu_channel_scales(act_max) ** b for b in
                          (GELU_STRENGTHS if alpha == "auto" else (1.0,))}
        else:
            w_max = torch.stack([w.abs().amax(0) for w in weights]).amax(0).clamp(min=1e-5)
            alphas = ALPHA_GRID if alpha == "auto" else (alpha,)
            candidates = {f"alpha {a}": (act_max**a / w_max ** (1 - a)).clamp(min=1e-2, max=1e2) for a in alphas}
            if alpha == "auto":
                candidates["off"] = torch.ones_like(act_max)
        if len(candidates) > 1:
            low_bits = [int4(u.consts["weight"], w.shape[1]) for u, w in zip(users, weights)]
            rows = ranges.rows(n.output)
            label = min(candidates, key=lambda c: _edge_error(rows, act_max, weights, low_bits, candidates[c]))
        else:
            label = next(iter(candidates))
        chosen[n.output] = label
        s = candidates[label]
        if n.kind == "gelu":
            consts[n.consts["channel_scale"]] = consts[n.consts["channel_scale"]] * s
        else:
            for role in ("weight", "bias"):
                consts[n.consts[role]] = consts[n.consts[role]] / s
        for u in users:
            consts[u.consts["weight"]] = consts[u.consts["weight"]] * s
    return consts, chosen


def _edge_error(x: torch.Tensor, act_max: torch.Tensor, weights: list[torch.Tensor], int4: list[bool],
                s: torch.Tensor) -> float:
    """Relative squared error of the consumers' outputs on rows x when the activation is divided by s and
    put on its int8 grid (the calibrated max of x / s), and each weight times s on its own grid."""
    step = float((act_max / s).max()) / 127
    xq = torch.clamp(torch.round(x / s / step), -128, 127) * step
    err = ref = 0.0
    for w, low in zip(weights, int4):
        y = x @ w.T
        err += float(((xq @ _fake_weight(w * s, low).T - y) ** 2).sum())
        ref += float((y**2).sum())
    return err / ref if ref else 0.0


def _fake_weight(w: torch.Tensor, int4: bool) -> torch.Tensor:
    """w on an int8 grid per output channel, or (a cheap stand-in for the W4 grid) int4 per 32 inputs."""
    if not int4:
        step = w.abs().amax(1, keepdim=True).clamp(min=1e-12) / 127
        return torch.round(w / step) * step
    groups = w.reshape(w.shape[0], -1, 32)
    step = groups.abs().amax(-1, keepdim=True).clamp(min=1e-12) / 7
    return (torch.clamp(torch.round(groups / step), -8, 7) * step).reshape(w.shape)


def _gelu_channel_scales(act_max: torch.Tensor) -> torch.Tensor:
    """Shrink only the outlier channels down to the 90th-percentile channel range.

    The α-balanced rule would also grow small channels and push the GELU's
    range into fc2's weight columns; measured on MiniLM it made things worse.
    """
    return (act_max / act_max.quantile(GELU_OUTLIER_QUANTILE)).clamp(min=1)
