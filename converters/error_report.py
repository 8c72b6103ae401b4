"""Where a conversion's error comes from: each layer's quantization alone, and the whole graph's.

For every float node that becomes integer ops, the float model is run with
that one node replaced by what the graph computes for it — its inputs
rounded to their integer grids, its integer ops (the reference executor's),
its output dequantized — and everything else in float. The error that adds
at the model's output (1 − cosine to the float output, averaged over the
inputs) is that layer's share. A linear is probed twice, to tell its two
error sources apart: its weights alone (the graph's integer weights, float
activations) and its activations alone (input and output on their int8
grids, float weights). Roundings shared by two neighbours are counted in
both, so the shares need not add up to the whole graph's error, which is
reported beside them together with each value's error as it accumulates
through the fully integer graph (the QAT twin's exact values).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from intedge import reference
from intedge.integer_ops._backend import dtype_range

from . import calibrate, float_graph, lower
from .twin import QATTwin

REPORT_SAMPLES = 16  # calibration inputs the report runs (each runs the model once per layer)

# what a node's error is called, by kind: the parts of a transformer the summary adds up
PARTS = {"softmax": "Shiftmax", "layernorm": "I-LayerNorm", "gelu": "GELU", "add": "residual adds",
         "matmul": "attention matmuls", "embedding": "embeddings", "mean": "pooling", "masked_sum": "pooling",
         "elementwise": "lookup tables", "concat": "concat"}
WEIGHTS, ACTIVATIONS = "linear weights", "activations into linears"
EXACT = ("int_binary", "cumsum") + lower.PASS_THROUGH  # no error of their own: integer, or moves only


@dataclass
class LayerError:
    name: str  # the float graph's value (the model's layer path for linears)
    part: str  # PARTS' name, WEIGHTS or ACTIVATIONS
    dtype: str  # the output's integer dtype; for weights int8 or int4 (group g)
    amax: float  # the range the output's scale covers
    scale: float
    local: float  # ‖probe − float‖ / ‖float‖ at this value, this layer alone
    output: float  # 1 − cos at the model's output, this layer alone
    accumulated: float  # ‖graph − float‖ / ‖float‖ at this value in the whole integer graph
    source: str = ""


@dataclass
class ErrorReport:
    model: str
    weights: str
    samples: int
    whole: float  # 1 − cos at the model's output, the whole integer graph
    layers: list[LayerError]

    def by_part(self) -> dict[str, float]:
        """Σ of the layers' output errors per part, largest first."""
        out: dict[str, float] = {}
        for layer in self.layers:
            out[layer.part] = out.get(layer.part, 0.0) + layer.output
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def table(self, top: int = 15) -> str:
        """The summary by part, then the `top` layers that cost the most."""
        weights = f"{self.weights.upper()}A8" if self.weights in ("w8", "w4") else "W4/W8 mixed, A8"
        lines = [f"where the error comes from ({self.model}, {weights}, {self.samples} calibration "
                 f"inputs): 1 − cosine at the output",
                 f"  whole integer graph: {self.whole:.2e}", "  each part alone (sum over its layers):"]
        total = sum(self.by_part().values()) or 1.0
        lines += [f"    {part:26} {err:.2e}  {100 * err / total:5.1f} %" for part, err in self.by_part().items()]
        lines.append(f"  the {min(top, len(self.layers))} layers that add the most error at the output, each alone:")
        lines.append(f"    {'value':44} {'part':26} {'dtype':6} {'range':>9} {'scale':>9} {'alone':>9} "
                     f"{'output':>9} {'in graph':>9}")
        for e in sorted(self.layers, key=lambda e: -e.output)[:top]:
            lines.append(f"    {e.name[-44:]:44} {e.part:26} {e.dtype:6} {e.amax:9.3g} {e.scale:9.3g} "
                         f"{e.local:9.2e} {e.output:9.2e} {e.accumulated:9.2e}")
        lines += ["  output: 1 − cos at the model's output with only this layer integer; alone: ‖layer − float‖ / "
                  "‖float‖ at the layer then;",
                  "  in graph: that ratio at the layer in the whole integer graph; range, scale: the grid of the "
                  "layer's output (its input's",
                  "  for activations into linears), dtype that grid's (the weights' for linear weights). Two layers "
                  "that share a rounding",
                  "  both count it, so the parts add up to more than the whole graph's error."]
        return "\n".join(lines)

    def json(self) -> dict:
        return {"model": self.model, "weights": self.weights, "samples": self.samples, "whole": self.whole,
                "by_part": self.by_part(), "layers": [asdict(e) for e in self.layers]}


def _one_minus_cos(a: torch.Tensor, b: torch.Tensor) -> float:
    """1 − cos between a and b, sample by sample (axis 0), summed."""
    a, b = a.reshape(a.shape[0], -1).double(), b.reshape(b.shape[0], -1).double()
    return float((1 - F.cosine_similarity(a, b, dim=1, eps=1e-30)).sum())


def _relative(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """(‖a − b‖², ‖b‖²)."""
    a, b = a.double(), b.double()
    return float(((a - b) ** 2).sum()), float((b**2).sum())


class _Probe:
    """Runs one layer of the graph on float values: inputs rounded to their grids, the layer's integer ops."""

    def __init__(self, conv, lowered: lower.Lowered):
        self.conv, self.lowered, self.plan = conv, lowered, conv.plan
        self.constants = {i: t.data for i, t in enumerate(lowered.graph.tensors) if t.is_constant}
        self.kernels = reference.numpy_kernels()

    def rounded(self, v: str, x: torch.Tensor) -> torch.Tensor:
        """x on v's integer grid, as integers (the plan's dtype and scale)."""
        dtype = self.plan.dtypes[v]
        if not x.is_floating_point():
            return x.to(getattr(torch, dtype))
        lo, hi = dtype_range(dtype)
        return torch.clamp(torch.round(x.double() / self.plan.scales[v]), lo, hi).to(getattr(torch, dtype))

    def fake(self, v: str, x: torch.Tensor) -> torch.Tensor:
        """x rounded to v's grid, back in float."""
        return (self.rounded(v, x).double() * self.plan.scales[v]).float()

    def integer(self, n, start: int, end: int, values: dict) -> torch.Tensor:
        """The node's value as the graph computes it from its inputs' float values."""
        ints = dict(self.constants)
        for v in n.inputs:
            if v in self.conv.float_graph.consts:  # emitted inside the fragment
                continue
            x = values[v]
            perm = self.lowered.views.get(v)
            if perm is not None:  # the tensor holds it untransposed (lower._emit_transpose)
                x = x.permute(list(np.argsort(perm)))
            ints[self.lowered.tensor[v]] = self.rounded(v, x).numpy()
        reference.execute(self.lowered.graph, ints, self.kernels, range(start, end))
        q = torch.from_numpy(np.asarray(ints[self.lowered.tensor[n.output]]))
        return (q.double() * self.plan.scales[n.output]).float()


def jobs_of(conv, lowered: lower.Lowered) -> list[tuple]:
    """(part, value, node index or −1 for an input, first op, end op) of every probe the report runs."""
    g = conv.float_graph
    index = {n.output: k for k, n in enumerate(g.nodes)}
    jobs = [("input quantizer", i.name, -1, 0, 0) for i in g.inputs if i.kind == "float"]
    for n, start, end in lowered.fragments:
        if end == start or n.kind in EXACT:
            continue
        if n.kind == "linear":
            jobs += [(WEIGHTS, n.output, index[n.output], start, end), (ACTIVATIONS, n.output, index[n.output], start, end)]
        elif n.kind == "add" and n.inputs[1] in g.consts:  # a position table, not the residual stream
            jobs.append(("position tables", n.output, index[n.output], start, end))
        else:
            jobs.append((PARTS[n.kind], n.output, index[n.output], start, end))
    return jobs


def layer_errors(conv, items, jobs: list[tuple], lowered: lower.Lowered, progress: bool = True, each_input=None
                 ) -> dict[tuple[str, str], list[float]]:
    """Run each job's probe on every item: {(part, value): [Σ‖probe − float‖², Σ‖float‖², Σ(1 − cos) at the
    output]}, the first two over real tokens only where the model has an attention mask (calibrate.py).
    each_input(item, float values, float output, rows) is called once per item, for more statistics; rows(x)
    gives x's real tokens."""
    g, plan = conv.float_graph, conv.plan
    probe = _Probe(conv, lowered)
    sums = {(part, name): [0.0, 0.0, 0.0] for part, name, *_ in jobs}
    dequantized = {n.consts["weight"]: torch.from_numpy(lower.dequantized_weight(
        plan, n.consts["weight"], conv.consts[n.consts["weight"]].double().numpy())).float()
        for n in g.nodes if n.kind == "linear" and any(j[0] == WEIGHTS and j[1] == n.output for j in jobs)}
    with torch.no_grad():
        for item in tqdm(items, desc="probing layers", unit="input", disable=not progress):
            feeds = {s.name: x for s, x in zip(g.inputs, item)}
            values = float_graph.run_nodes(g, dict(feeds), 0, None, conv.float_consts)
            y = torch.cat([values[o].reshape(values[o].shape[0], -1) for o in g.outputs], 1)
            keep = calibrate.real_tokens(g, item)
            rows = (lambda x: x) if keep is None else (lambda x, keep=keep: calibrate.on_tokens(x, keep))
            if each_input:
                each_input(item, values, y, rows)
            for part, name, k, start, end in jobs:
                if k < 0:  # the input quantizer
                    probed = dict(values) | {name: probe.fake(name, values[name])}
                    begin = 0
                else:
                    probed = dict(values)
                    probed[name] = _probed_value(probe, g.nodes[k], part, start, end, values, dequantized)
                    begin = k + 1
                float_graph.run_nodes(g, probed, begin, None, conv.float_consts)
                out = torch.cat([probed[o].reshape(y.shape[0], -1) for o in g.outputs], 1)
                err, ref = _relative(rows(probed[name]), rows(values[name]))
                s = sums[(part, name)]
                s[0] += err
                s[1] += ref
                s[2] += _one_minus_cos(out, y)
    return sums


def error_report(conv, items: list[tuple[torch.Tensor, ...]], model: str = "model", progress: bool = True) -> ErrorReport:
    """The per-layer report of a calibrated Converter on `items` (input tuples at the captured shapes)."""
    g, plan = conv.float_graph, conv.plan
    lowered = lower.emit(g, plan, conv.consts)
    twin = QATTwin(conv)
    jobs = jobs_of(conv, lowered)
    accumulated: dict[str, list[float]] = {}
    whole = [0.0]

    def whole_graph(item, values, y, rows):
        exact, _, _ = twin._run(item)
        whole[0] += _one_minus_cos(torch.cat([exact[o].reshape(y.shape[0], -1) for o in g.outputs], 1), y)
        for n in g.nodes:
            if n.output in plan.dtypes and n.kind not in EXACT:
                acc = accumulated.setdefault(n.output, [0.0, 0.0])
                err, ref = _relative(rows(exact[n.output]), rows(values[n.output]))
                acc[0] += err
                acc[1] += ref

    sums = layer_errors(conv, items, jobs, lowered, progress, whole_graph)
    count = sum(int(item[0].shape[0]) for item in items)
    layers = []
    for part, name, k, *_ in jobs:
        err, ref, cos = sums[(part, name)]
        acc = accumulated.get(name, [err, ref])
        shown, label = name, name  # whose grid the row shows: the output's, an activation row's input's
        if part in (WEIGHTS, ACTIVATIONS):
            weight = g.nodes[k].consts["weight"]
            label = weight.removesuffix(".weight")  # the model's layer path
            shown = g.nodes[k].inputs[0] if part == ACTIVATIONS else name
        dtype = plan.dtypes[shown]
        if part == WEIGHTS:
            dtype = "int4" if plan.config.int4(weight, conv.consts[weight].shape[1]) else "int8"
        layers.append(LayerError(label, part, dtype, plan.scales[shown] * lower.QMAX.get(plan.dtypes[shown], 1),
                                 plan.scales[shown], math.sqrt(err / ref) if ref else 0.0, cos / count,
                                 math.sqrt(acc[0] / acc[1]) if acc[1] else 0.0,
                                 g.nodes[k].source if k >= 0 else ""))
    weights = plan.config.weights if isinstance(plan.config.weights, str) else "mixed"
    return ErrorReport(model, weights, count, whole[0] / count, layers)


def _probed_value(probe: _Probe, n, part: str, start: int, end: int, values: dict, dequantized: dict) -> torch.Tensor:
    if part == WEIGHTS:  # float activations, the graph's weights
        x = values[n.inputs[0]]
        bias = probe.conv.float_consts[n.consts["bias"]] if n.consts.get("bias") is not None else None
        return F.linear(x, dequantized[n.consts["weight"]], bias)
    if part == ACTIVATIONS:  # the graph's activation grids, float weights
        x = probe.fake(n.inputs[0], values[n.inputs[0]])
        c = float_graph.node_consts(probe.conv.float_graph, n, probe.conv.float_consts)
        return probe.fake(n.output, F.linear(x, c["weight"], c.get("bias")))
    return probe.integer(n, start, end, values)
