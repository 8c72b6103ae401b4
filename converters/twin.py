"""The QAT twin: the integer graph as a trainable torch module.

Forward runs the very integer ops of the graph (the spec's kernel table,
on torch int tensors) with integer constants recomputed from the twin's
float parameters at every step, so its values are exactly the graph's.
Backward is straight-through per float node: the gradient of the float op
(linear, softmax, GELU, LayerNorm, ...) evaluated at the node's quantized
inputs. `to_graph()` emits the graph from the current parameters: what was
trained is what ships, bit for bit.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from intedge import reference
from intedge.integer_ops.torch_twins import _ValueOf

from . import lower
from .float_graph import FLOAT_OPS, node_consts, value_of


def _key(name: str) -> str:
    return name.replace(".", "__")


class QATTwin(nn.Module):
    def __init__(self, converter, batch: int | None = None):
        super().__init__()
        self.converter, self.batch = converter, batch
        self.float_graph = converter.float_graph if batch is None else converter.recapture(batch)
        self.plan = converter.plan
        self.params = nn.ParameterDict({_key(k): nn.Parameter(v.detach().clone().float())
                                        for k, v in converter.consts.items()})
        self._table = reference.numpy_kernels()

    def consts(self) -> dict[str, torch.Tensor]:
        return {k: self.params[_key(k)] for k in self.converter.consts}

    def _run(self, inputs: tuple) -> tuple[dict, dict, lower.Lowered]:
        g = self.float_graph
        consts = self.consts()
        lowered = lower.emit(g, self.plan, {k: v.detach() for k, v in consts.items()})
        ir = lowered.graph
        ints = {i: torch.from_numpy(t.data.copy()) for i, t in enumerate(ir.tensors) if t.is_constant}
        floats = {}
        for spec, x, tid in zip(g.inputs, inputs, ir.inputs):
            x = torch.as_tensor(x)
            ints[tid] = x.float() if spec.kind == "float" else x.to(getattr(torch, ir.tensors[tid].dtype))
        first = lowered.fragments[0][1] if lowered.fragments else len(ir.ops)
        reference.execute(ir, ints, self._table, range(first))  # input quantizers
        for spec, x in zip(g.inputs, inputs):
            q = ints[lowered.tensor[spec.name]]
            floats[spec.name] = (q.double() * self.plan.scales[spec.name]).float() if spec.kind == "float" else torch.as_tensor(x)
        for n, start, end in lowered.fragments:
            reference.execute(ir, ints, self._table, range(start, end))
            args = [value_of(g, floats, v, consts) for v in n.inputs]
            surrogate = FLOAT_OPS[n.kind](n, node_consts(g, n, consts), *args)
            q = ints[lowered.tensor[n.output]]
            if n.output in lowered.views:  # held untransposed for its qmatmuls (lower._emit_transpose)
                q = q.permute(lowered.views[n.output])
            exact = (q.double() * self.plan.scales[n.output]).float()
            floats[n.output] = _ValueOf.apply(surrogate, exact)
        return floats, ints, lowered

    def forward(self, *inputs):
        floats, _, _ = self._run(inputs)
        outs = [floats[v] for v in self.float_graph.outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def integer_outputs(self, *inputs) -> list[np.ndarray]:
        """The integers the graph dequantizes at its outputs, as the twin computes them."""
        with torch.no_grad():
            _, ints, lowered = self._run(inputs)
        return [ints[lowered.tensor[v]].numpy() for v in self.float_graph.outputs]

    def to_graph(self, name: str = "model"):
        """The integer graph of the current parameters, at the twin's batch size."""
        return self.converter.graph(self.batch, {k: v.detach() for k, v in self.consts().items()}, name)
