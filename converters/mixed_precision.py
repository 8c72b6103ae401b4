"""Mixed W4/W8 weights under a byte budget: the linears whose int4 weights cost the model most stay int8.

`--weights w4 --budget 0.6` keeps the linears' weight bytes within 60 % of
their W8 bytes. Every linear that can go to int4 is first rounded to it
(GPTQ); then each one's sensitivity is measured as the error its int4
weights alone add at the model's output (1 − cosine to float, on
calibration inputs, every other layer in float: error_report's weight
probe). Layers go back to int8 greedily while the budget allows: the most
sensitive per byte first, or the most sensitive first, whichever keeps more
of the error away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import lower
from .error_report import WEIGHTS, layer_errors
from .errors import ConversionError

SENSITIVITY_SAMPLES = 8  # calibration inputs the sensitivities are measured on


@dataclass
class Assignment:
    int8: list[str]  # layers kept at W8 (their weight names)
    int4: list[str]
    sensitivity: dict[str, float]  # weight name → 1 − cos at the output with only its int4 weights
    bytes: int  # weight bytes of all linears under this assignment
    w8_bytes: int

    def table(self) -> str:
        lines = [f"mixed precision: {len(self.int4)} linear(s) W4, {len(self.int8)} kept W8 of the {len(self.sensitivity)} "
                 f"that can be W4: the linears' weights take {self.bytes:,} bytes, {self.bytes / self.w8_bytes:.1%} "
                 f"of their {self.w8_bytes:,} at W8",
                 f"  {'layer':48} {'weights':7} {'int4 alone: 1 − cos':>20}"]
        for name, err in sorted(self.sensitivity.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {name.removesuffix('.weight'):48} {'W8' if name in self.int8 else 'W4':7} {err:20.2e}")
        return "\n".join(lines)


def weight_bytes(shape, int4: bool, group_size: int) -> int:
    """Bytes of a [N, K] weight in the graph: int8, or int4 nibbles plus one int8 group scale per group."""
    n, k = shape
    return n * k // 2 + n * (k // (group_size or 32)) if int4 else n * k


def check_budget(budget: float, w4_bytes: int, w8_bytes: int) -> None:
    """Refuse a budget below what every eligible linear at W4 takes, naming the least that works."""
    if w4_bytes > budget * w8_bytes:
        least = math.ceil(w4_bytes / w8_bytes * 100) / 100
        raise ConversionError(f"--budget {budget}: with every linear that can be W4 at W4, the linears' weights "
                              f"take {w4_bytes / w8_bytes:.1%} of their W8 bytes; ask for at least {least:.2f}")


def floor_of(g, consts: dict, config: lower.QuantConfig) -> tuple[int, int]:
    """(weight bytes with every eligible linear at W4, at W8) of the linears in g: a budget's floor."""
    shapes = [tuple(consts[n.consts["weight"]].shape) for n in g.nodes if n.kind == "linear"]
    names = [n.consts["weight"] for n in g.nodes if n.kind == "linear"]
    w4 = sum(weight_bytes(s, config.int4(w, s[1]), config.group_size) for w, s in zip(names, shapes))
    return w4, sum(n * k for n, k in shapes)


def assign(conv, items, budget: float, progress: bool = True) -> Assignment:
    """Choose which of conv's int4 linears stay int8 so the weight bytes fit `budget` × W8's (conv is
    calibrated at W4 with GPTQ done; its plan and constants are changed in place to the assignment)."""
    g, plan = conv.float_graph, conv.plan
    gs = plan.config.group_size
    linears = [n for n in g.nodes if n.kind == "linear"]
    shapes = {n.consts["weight"]: tuple(conv.consts[n.consts["weight"]].shape) for n in linears}
    int4 = [w for w, shape in shapes.items() if plan.config.int4(w, shape[1])]
    total, w8_bytes = floor_of(g, conv.consts, plan.config)
    check_budget(budget, total, w8_bytes)
    lowered = lower.emit(g, plan, conv.consts)
    by_weight = {n.consts["weight"]: n for n in linears}
    index = {n.output: k for k, n in enumerate(g.nodes)}
    jobs = [(WEIGHTS, by_weight[w].output, index[by_weight[w].output], 0, 0) for w in int4]
    sums = layer_errors(conv, items[:SENSITIVITY_SAMPLES], jobs, lowered, progress)
    count = sum(int(item[0].shape[0]) for item in items[:SENSITIVITY_SAMPLES])
    sensitivity = {w: sums[(WEIGHTS, by_weight[w].output)][2] / count for w in int4}
    extra = {w: shapes[w][0] * shapes[w][1] - weight_bytes(shapes[w], True, gs) for w in int4}

    def greedy(order: list[str]) -> list[str]:
        kept, room = [], budget * w8_bytes - total
        for w in order:
            if extra[w] <= room:
                kept.append(w)
                room -= extra[w]
        return kept

    # a knapsack, greedily: most sensitive per byte first, or most sensitive first; the better of the two
    tries = [greedy(sorted(int4, key=lambda w: -sensitivity[w] / extra[w])),
             greedy(sorted(int4, key=lambda w: -sensitivity[w]))]
    kept = max(tries, key=lambda ws: sum(sensitivity[w] for w in ws))
    total += sum(extra[w] for w in kept)
    for w in kept:  # back to the float weights (GPTQ had moved them toward its int4 grid) and int8
        conv.consts[w] = conv.float_consts[w]
        del plan.int4_scales[w]
    plan.config = lower.QuantConfig({w.removesuffix(".weight"): "w8" for w in kept} | {"*": "w4"}, gs,
                                    plan.config.gelu, plan.config.wide_residual)
    return Assignment(kept, [w for w in int4 if w not in kept], sensitivity, total, w8_bytes)
