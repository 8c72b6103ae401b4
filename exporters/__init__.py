"""intedge.exporters — an integer graph in the runtimes phones carry, with the same integers.

    intedge.export(graph, "model.onnx")            # or .pte / .tflite; format= when the suffix says nothing
    run = intedge.exporters.load("model.onnx")     # the stock runtime: [inputs] → [outputs], graph order
    intedge.exporters.check(graph, run, intedge.exporters.random_feeds(graph, 2))   # [] when every output is ==

One module per format, each with `export(graph, path)` and `load(path, threads)`:
* to_pte.py    — ExecuTorch, portable kernels: the spec traced into integer ATen ops (torch_program.py);
* to_onnx.py   — ONNX Runtime: the same traced program, translated op by op;
* to_tflite.py — LiteRT: the IR's ops composed from TFLite builtins, int32 where TFLite lacks int64 ops;
* executorch_delegate.py — a `.pte` whose whole graph runs in intedge's engine inside ExecuTorch.
No exporter has a float op between the input quantizer and the output dequantizer (docs/exports.md).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from intedge.ir.graph import Graph

from .errors import ExportError
from .exactness import check, random_feeds

FORMATS = {"pte": "to_pte", "tflite": "to_tflite", "onnx": "to_onnx"}


def format_of(path, format: str | None = None) -> str:
    """The format named, else the one path's suffix names; ValueError when neither does."""
    fmt = format or Path(path).suffix.lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"{path}: say which format (one of {', '.join(FORMATS)}); the suffix {Path(path).suffix!r} "
                         "names none" if not format else f"unknown format {format!r}: one of {', '.join(FORMATS)}")
    return fmt


def exporter(format: str):
    """The module that writes and loads one format."""
    return importlib.import_module(f".{FORMATS[format_of('', format)]}", __name__)


def export(graph: Graph, path, format: str | None = None) -> Path:
    """Write graph as a .pte, .tflite or .onnx (format, else path's suffix). A graph with a dynamic
    dimension is exported at its bound: the artifacts are static."""
    path = Path(path)
    if graph.dynamic is not None:
        graph = graph.at_length(graph.dynamic[1])
    exporter(format_of(path, format)).export(graph.validate(), path)
    return path


def load(path, threads: int = 1, format: str | None = None):
    """A callable running the artifact in its stock runtime: list of input arrays in the graph's input
    order → list of output arrays in its output order."""
    return exporter(format_of(path, format)).load(Path(path), threads)


def input_specs(path, format: str | None = None) -> list[tuple[np.dtype, tuple[int, ...]]]:
    """Each input's dtype and shape, in the order load's callable takes them, as the runtime reports them."""
    return exporter(format_of(path, format)).input_specs(Path(path))


__all__ = ["FORMATS", "ExportError", "check", "export", "exporter", "format_of", "input_specs", "load",
           "random_feeds"]
