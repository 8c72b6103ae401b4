"""Zoo models converted at batch 1 for the engine tests, with test inputs: converted once per test
session (the first test that asks pays) and shared by every test file."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
import torch

from intedge.converters import zoo
from intedge.converters.convert import Converter
from intedge.ir.graph import NUMPY_DTYPE, Graph

_DIR = Path(tempfile.mkdtemp(prefix="intedge-zoo-graphs-"))


@functools.cache
def zoo_graph(name: str, weights: str) -> tuple[Graph, list[dict[str, np.ndarray]], Path]:
    """Zoo model `name` converted with 2 calibration inputs: (graph, two test feeds, its .ieg path).
    Callers share the result: copy before changing the graph."""
    spec = zoo.get(name)
    items = spec.calibration_set(2)
    conv = Converter.calibrate(spec.build(), tuple(torch.from_numpy(x) for x in items[0]), items, weights=weights,
                               progress=False, **spec.conversion)
    g = conv.graph(batch=1, name=name)
    path = _DIR / f"{name}-{weights}.ieg"
    g.save(path)
    inputs, _ = spec.test_set()
    feeds = [{g.tensors[t].name: x[k:k + 1].astype(NUMPY_DTYPE[g.tensors[t].dtype]) for t, x in zip(g.inputs, inputs)}
             for k in range(2)]
    return g, feeds, path
