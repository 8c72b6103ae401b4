"""`.pte`: the traced spec (torch_program.py) on ExecuTorch's portable kernels.

Every op of the program is an integer ATen op with a portable kernel, so
the file runs in any ExecuTorch runtime with the portable (or optimized)
kernel library linked — no delegate, no custom op. It is the fallback that
runs anywhere; executorch_delegate.py makes the fast one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intedge.extras import require
from intedge.ir.graph import Graph

from . import executorch_delegate
from .errors import refuse_decoder_graphs
from .executorch_delegate import INPUT_NAMES_METHOD, SCALAR_TYPES

SUFFIX = ".pte"


def export(graph: Graph, path: Path) -> None:
    refuse_decoder_graphs(graph, "the .pte export")
    require("torch", "torch", "the .pte export")
    require("executorch", "peers", "the .pte export")
    from executorch.exir import EdgeCompileConfig, to_edge

    from .torch_program import SHIFT_OPS, traced

    edge = to_edge(traced(graph), compile_config=EdgeCompileConfig(_core_aten_ops_exception_list=list(SHIFT_OPS)))
    Path(path).write_bytes(edge.to_executorch().buffer)


def input_specs(path: Path) -> list[tuple[np.dtype, tuple[int, ...]]]:
    Runtime = require("executorch.runtime", "peers", "running a .pte").Runtime
    meta = Runtime.get().load_program(Path(path)).metadata("forward")
    return [(np.dtype(SCALAR_TYPES.get(t.dtype(), "V")), tuple(t.sizes()))
            for t in map(meta.input_tensor_meta, range(meta.num_inputs()))]


def load(path: Path, threads: int = 1):
    """A callable running the file's forward method in ExecuTorch's Python runtime: list of arrays in the
    graph's input order → list of arrays in its output order. ExecuTorch's portable kernels use one thread;
    a .pte delegated to intedge's engine (export_delegated) runs with `threads`."""
    import torch

    Runtime = require("executorch.runtime", "peers", "running a .pte").Runtime

    program = Runtime.get().load_program(Path(path))
    if INPUT_NAMES_METHOD in program.method_names:  # written by export_delegated: intedge's backend runs it
        return executorch_delegate.load(path, threads)
    method = program.load_method("forward")

    def run(inputs):
        return [t.numpy() for t in method.execute([torch.from_numpy(x) for x in inputs])]

    return run
