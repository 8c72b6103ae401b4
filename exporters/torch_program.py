"""An integer graph as a torch program: the spec itself, traced into integer ATen ops.

`IntegerProgram(graph)` is an nn.Module whose forward walks the graph with
the reference executor and the spec's own functions (integer_ops), which
take torch tensors as well as numpy arrays. `torch.export` turns that walk
into a flat program of integer ATen ops — int64 arithmetic, shifts, int32
matmuls, gathers, reductions — whose integers are the spec's by
construction: nothing is re-implemented here. The `.pte` exporter lowers
that program to ExecuTorch's portable kernels and the `.onnx` exporter
translates it op by op.

Two of the spec's spellings do not survive tracing as they are and are
replaced while exporting, never eagerly:
* the float64 BLAS matmul (integer_ops/_backend.py) becomes an int32 matmul;
* gather's range check is data-dependent control flow; the exported gather
  is a plain index, and each runtime refuses an index out of range itself.
Python's `>>` and `<<` trace as `aten.__rshift__`/`__lshift__`, which are
not core ATen: `traced()` renames them `bitwise_right_shift` /
`bitwise_left_shift` (arithmetic on signed integers, as the spec's).
"""

from __future__ import annotations

import numpy as np
import torch

from intedge.ir.errors import InvalidGraphError
from intedge.ir.graph import Graph
from intedge.reference import execute, numpy_kernels

_aten = torch.ops.aten

# The shift ops every exporter's runtime is asked for: ExecuTorch keeps them out of core ATen.
SHIFT_OPS = (_aten.bitwise_right_shift.Tensor, _aten.bitwise_right_shift.Tensor_Scalar,
             _aten.bitwise_left_shift.Tensor, _aten.bitwise_left_shift.Tensor_Scalar)

# Python's shifts as the ATen ops of the same meaning that runtimes implement (arithmetic on signed ints)
_SHIFTS = {
    _aten.__rshift__.Scalar: _aten.bitwise_right_shift.Tensor_Scalar,
    _aten.__rshift__.Tensor: _aten.bitwise_right_shift.Tensor,
    _aten.__lshift__.Scalar: _aten.bitwise_left_shift.Tensor_Scalar,
    _aten.__lshift__.Tensor: _aten.bitwise_left_shift.Tensor,
}


def _gather(table, indices):
    return table[indices.long()]


class IntegerProgram(torch.nn.Module):
    """forward(*inputs in graph.inputs order) → outputs in graph.outputs order, the spec's integers."""

    def __init__(self, graph: Graph):
        super().__init__()
        if graph.dynamic is not None:
            raise InvalidGraphError(f"the graph has a dynamic dimension {graph.dynamic[0]!r}: export a static "
                                    "graph (Graph.at_length)")
        self.graph = graph
        for i, t in enumerate(graph.tensors):
            if t.is_constant:  # buffers, so torch.export stores each constant once in the program
                self.register_buffer(f"c{i}", torch.from_numpy(np.array(t.data)), persistent=False)
        self.kernels = numpy_kernels() | {"gather": _gather}

    def forward(self, *inputs):
        g = self.graph
        values = {i: getattr(self, f"c{i}") for i, t in enumerate(g.tensors) if t.is_constant}
        values.update(zip(g.inputs, inputs))
        execute(g, values, self.kernels, range(len(g.ops)))
        return tuple(values[i] for i in g.outputs)


def example_inputs(graph: Graph) -> tuple[torch.Tensor, ...]:
    """Zeros of each input's dtype and shape: tracing needs shapes only."""
    from intedge.ir.graph import NUMPY_DTYPE

    return tuple(torch.from_numpy(np.zeros(graph.tensors[i].shape, NUMPY_DTYPE[graph.tensors[i].dtype]))
                 for i in graph.inputs)


def traced(graph: Graph) -> torch.export.ExportedProgram:
    """The graph as torch.export traces IntegerProgram: ATen ops as written, shifts renamed (SHIFT_OPS).
    ExecuTorch's to_edge decomposes it itself."""
    with torch.no_grad():
        exported = torch.export.export(IntegerProgram(graph), example_inputs(graph))
    for node in list(exported.graph.nodes):
        if node.op != "call_function":
            continue
        if node.target == _aten._assert_tensor_metadata.default:  # each .to() leaves one; runtimes need not check
            exported.graph.erase_node(node)
        elif node.target in _SHIFTS:
            node.target = _SHIFTS[node.target]
    exported.graph_module.recompile()
    return exported


def program(graph: Graph) -> torch.export.ExportedProgram:
    """The graph as an ExportedProgram of core ATen ops plus the signed shifts (SHIFT_OPS)."""
    return traced(graph).run_decompositions(torch._decomp.core_aten_decompositions())
