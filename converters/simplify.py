"""Float-graph simplifications that change no value the model computes.

A transpose followed, through reshapes only, by a transpose that puts every
element back in its original order is a reshape. The patch embedding of a
ViT does that: capture lowers conv2d to a GEMM whose output is channels-last
and transposes it to PyTorch's NCHW, and the model's flatten(2).transpose(1, 2)
moves the channels back last. Without this every executor would copy the
tensor twice.
"""

from __future__ import annotations

import math

import numpy as np

from .float_graph import FloatGraph, FNode


def _apply(n: FNode, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return x.reshape(shape) if n.kind == "reshape" else x.transpose(n.attrs["perm"])


def fold_transpose_pairs(g: FloatGraph) -> FloatGraph:
    """g with every order-preserving transpose … transpose chain replaced by one reshape (in place)."""
    producer, consumers, outputs = g.producer(), g.consumers(), set(g.outputs)
    dead: set[str] = set()
    for n in g.nodes:
        if n.kind != "transpose":
            continue
        chain, v = [], n.inputs[0]  # the nodes before n, back to a transpose, each read only by the next
        while v in producer and v not in outputs and len(consumers.get(v, [])) == 1:
            chain.append(producer[v])
            if producer[v].kind != "reshape":
                break
            v = producer[v].inputs[0]
        if not chain or chain[-1].kind != "transpose":
            continue
        source = chain[-1].inputs[0]
        x = np.arange(math.prod(g.shapes[source])).reshape(g.shapes[source])
        for p in reversed(chain):
            x = _apply(p, x, g.shapes[p.output])
        if np.array_equal(_apply(n, x, g.shapes[n.output]).ravel(), np.arange(x.size)):
            n.kind, n.inputs, n.attrs = "reshape", [source], {"shape": g.shapes[n.output]}
            dead.update(p.output for p in chain)
    g.nodes = [n for n in g.nodes if n.output not in dead]
    for v in dead:
        del g.shapes[v]
    return g
