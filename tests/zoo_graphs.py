"""Zoo models converted at batch 1 for the engine tests, with two test inputs each."""

from __future__ import annotations

import torch

from intedge.converters import zoo
from intedge.converters.convert import Converter
from intedge.ir.graph import NUMPY_DTYPE


def zoo_graph(name: str, weights: str, path, samples: int = 2):
    """Convert zoo model `name` (2 calibration inputs), save it to path; returns (graph, [feed, ...])."""
    spec = zoo.get(name)
    items = spec.calibration_set(2)
    conv = Converter.calibrate(spec.build(), tuple(torch.from_numpy(x) for x in items[0]), items, weights=weights,
                               progress=False, **spec.conversion)
    g = conv.graph(batch=1, name=name)
    g.save(path)
    inputs, _ = spec.test_set()
    feeds = [{g.tensors[t].name: x[k:k + 1].astype(NUMPY_DTYPE[g.tensors[t].dtype]) for t, x in zip(g.inputs, inputs)}
             for k in range(samples)]
    return g, feeds
