"""Zoo models converted at batch 1 for the engine tests, with test inputs: converted once per test
session (the first test that asks pays) and shared by every test file."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from intedge.converters import zoo
from intedge.ir.graph import Graph

_DIR = Path(tempfile.mkdtemp(prefix="intedge-zoo-graphs-"))


@functools.cache
def zoo_graph(name: str, weights: str) -> tuple[Graph, list[dict[str, np.ndarray]], Path]:
    """Zoo model `name` converted with 2 calibration inputs: (graph, two test feeds, its .ieg path).
    Callers share the result: copy before changing the graph."""
    spec = zoo.get(name)
    g = spec.calibrated(weights, 2).graph(batch=1, name=name)
    path = _DIR / f"{name}-{weights}.ieg"
    g.save(path)
    return g, spec.test_feeds(g, 2), path


@functools.cache
def lm_graph(name: str, weights: str, logits: str = "last") -> tuple[Graph, Path]:
    """Zoo language model `name` converted (2 calibration windows): (decoder graph with its tokenizer, .ieg path)."""
    from intedge import lm_commands

    g, _ = lm_commands.convert_model(name, weights, 2, progress=False, logits=logits)
    path = _DIR / f"{name}-{weights}-{logits}.ieg"
    g.save(path)
    return g, path
