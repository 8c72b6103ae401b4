"""Does an exported artifact compute the reference's integers? Run it in its runtime and compare with ==."""

from __future__ import annotations

import numpy as np

from intedge import reference
from intedge.ir.graph import NUMPY_DTYPE, Graph


def _index_bound(graph: Graph, tid: int) -> int:
    """Integer inputs take values in [0, bound): the row count of the tables they index, else 2 (a mask)."""
    rows = [graph.tensors[op.inputs[0]].shape[0] for op in graph.ops if op.kind == "gather" and op.inputs[1] == tid]
    return min(rows, default=2)


def random_feeds(graph: Graph, count: int = 2, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Seeded inputs for a static graph: floats spread past the input quantizer's range (so some saturate),
    token ids inside their tables, masks of 0 and 1."""
    rng = np.random.default_rng(seed)
    inv_scales = {op.inputs[0]: op.options["inv_scale"] for op in graph.ops if op.kind == "quantize"}
    feeds = []
    for _ in range(count):
        feed = {}
        for tid in graph.inputs:
            t = graph.tensors[tid]
            if t.dtype == "float32":
                reach = 1.2 * 127 / inv_scales.get(tid, 127.0)
                feed[t.name] = rng.uniform(-reach, reach, t.shape).astype(np.float32)
            else:
                feed[t.name] = rng.integers(0, _index_bound(graph, tid), t.shape).astype(NUMPY_DTYPE[t.dtype])
        feeds.append(feed)
    return feeds


def check(graph: Graph, run, feeds: list[dict[str, np.ndarray]]) -> list[str]:
    """Problems found running `run` (exporters.load's callable) on feeds: one line per output that differs
    from reference.run, with how many elements and by how much. Empty when every output is equal."""
    names = [graph.tensors[i].name for i in graph.outputs]
    problems = []
    for k, feed in enumerate(feeds):
        want = reference.run(graph, feed)
        got = run([feed[graph.tensors[i].name] for i in graph.inputs])
        for name, g in zip(names, got):
            w = want[name]
            if g.dtype != w.dtype or g.shape != w.shape:
                problems.append(f"feed {k}, {name}: {g.dtype}{list(g.shape)}, expected {w.dtype}{list(w.shape)}")
                continue
            bad = g != w
            if bad.any():
                diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
                first = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
                problems.append(f"feed {k}, {name}: {int(bad.sum())} of {bad.size} elements differ, max |diff| "
                                f"{diff.max():.6g}, first at {list(map(int, first))}: {g[first]} vs {w[first]}")
    return problems
