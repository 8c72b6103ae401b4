"""`intedge.convert`: a PyTorch model and calibration inputs → an integer-only graph.

    g = intedge.convert(model, example_inputs, calibration=batches, weights="w8")

The steps, each its own module: capture (torch.export → float graph),
smooth (optional SmoothQuant scaling folded into LayerNorm and linear
weights), calibrate (activation ranges), gptq (int4 weights with error
compensation), lower (plan dtypes and scales, then emit integer ops),
fuse (the head splits and LayerNorm twins the engine runs as one op).
`Converter` keeps what those steps decided, so the same plan can be emitted
again at another batch size, or from the QAT twin's fine-tuned weights.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from intedge.ir.graph import Graph

from . import calibrate as cal
from . import float_graph, lower, smooth
from .capture import capture
from .errors import ConversionError
from .float_graph import FloatGraph
from .fuse import fuse
from .gptq import gptq_int4


class Converter:
    def __init__(self, model: torch.nn.Module, example_inputs, graph: FloatGraph, plan: lower.QuantPlan,
                 consts: dict[str, torch.Tensor], smoothed: bool):
        self.model, self.example_inputs, self.smoothed = model, example_inputs, smoothed
        self.float_graph, self.plan, self.consts = graph, plan, consts

    @classmethod
    def calibrate(cls, model, example_inputs, calibration, weights="w8", method="minmax", percentile=99.99,
                  smooth_alpha: float | None = None, group_size: int = 32, gelu: str = "lambda",
                  wide_residual: bool = True, gptq: bool = True, progress: bool = True) -> Converter:
        """Capture, smooth, calibrate and plan. gptq: round int4 weights with GPTQ's error compensation
        (else to the nearest point of the least-error grid)."""
        config = lower.QuantConfig(weights, group_size, gelu, wide_residual)
        ranges = cal.Ranges(method, percentile)
        example_inputs = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
        g = capture(model, example_inputs)
        items = cal.as_input_tuples(g, calibration)
        smoothed = bool(smooth_alpha)  # None or 0: off
        if smoothed:
            g = smooth.prepare(g)
            consts = smooth.smooth(g, cal.calibrate(g, items, cal.Ranges(), None, progress), g.consts, smooth_alpha)
        else:
            consts = dict(g.consts)
        int4 = {n.consts["weight"]: n.inputs[0] for n in g.nodes
                if n.kind == "linear" and gptq and config.int4(n.consts["weight"], consts[n.consts["weight"]].shape[1])}
        ranges.gram_of = set(int4.values())
        cal.calibrate(g, items, ranges, consts, progress)
        plan = lower.plan(g, ranges, config)
        for name, x in tqdm(int4.items(), desc="GPTQ", unit="layer", disable=not progress or not int4):
            w, group_scales, s_c = gptq_int4(consts[name].double().numpy(), ranges.grams[x], group_size)
            consts[name] = torch.from_numpy(w).to(consts[name].dtype)
            plan.int4_scales[name] = (group_scales, s_c)
        return cls(model, example_inputs, g, plan, consts, smoothed)

    def graph(self, batch: int | None = None, consts: dict[str, torch.Tensor] | None = None, name: str = "model") -> Graph:
        """The integer graph, at the captured batch size or another one."""
        g = self.float_graph if batch is None else self.recapture(batch)
        return fuse(lower.emit(g, self.plan, self.consts if consts is None else consts, name).graph).validate()

    def recapture(self, batch: int) -> FloatGraph:
        inputs = tuple(x[:1].expand(batch, *x.shape[1:]).contiguous() for x in self.example_inputs)
        g = capture(self.model, inputs)
        g = smooth.prepare(g) if self.smoothed else g
        if [n.output for n in g.nodes] != [n.output for n in self.float_graph.nodes] or not self._same_constants(g):
            raise ConversionError(f"the model traces differently at batch {batch}; convert at that batch size")
        return g

    def _same_constants(self, g: FloatGraph) -> bool:
        """Whether every constant whose shape depends on the batch is the captured one at g's batch
        (float_graph.at_batch: what emitting at that batch will use)."""
        try:
            return all(torch.equal(float_graph.at_batch(self.float_graph.consts[k], g.shapes[k]), c)
                       for k, c in g.consts.items() if k in g.shapes and g.shapes[k] != self.float_graph.shapes[k])
        except ValueError:
            return False


def convert(model: torch.nn.Module, example_inputs, calibration, weights="w8", **options) -> Graph:
    """An integer-only graph of `model` (see Converter.calibrate for the options)."""
    return Converter.calibrate(model, example_inputs, calibration, weights, **options).graph()
