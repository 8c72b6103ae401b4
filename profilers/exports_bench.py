"""`intedge bench exports`: each export in its stock runtime, beside intedge's engine and that runtime's own int8 path.

For each zoo model and weight width: convert (batch 1), export to every format, check the artifact against
the reference executor (==) on the model's real test inputs and random ones, and time, at one thread in
this one process, interleaved: the artifact in its runtime, the .ieg in intedge's engine, and the standard
int8 path the runtime's ecosystem offers for the same float model (ExecuTorch XNNPACK pt2e static int8 for
W8 and 8da4w for W4; ONNX Runtime quantize_dynamic; LiteRT dynamic int8). The standard paths are also scored
on the test set: an exact export scores what intedge's graph scores, so its accuracy is the graph's.
The README's export tables are this command's output.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from intedge.extras import MissingExtraError

from . import peers
from .bench import _interleaved

MODELS = ("vit-fmnist", "segmenter-fmnist", "minilm")
WEIGHTS = ("w8", "w4")
CALIBRATION = 8


@dataclass
class ExportRow:
    model: str
    weights: str
    format: str
    exact: bool
    problems: list[str]
    artifact_bytes: int
    ieg_bytes: int
    export_s: float
    runtime_ms: float
    engine_ms: float
    delegate_ms: float | None = None  # .pte: the graph delegated to intedge's engine (IntedgeBackend)
    delegate_exact: bool | None = None
    standard: str | None = None  # the runtime's own int8 path for the float model
    standard_ms: float | None = None
    standard_bytes: int | None = None
    accuracy: float | None = None  # intedge's graph (every exact artifact's too)
    standard_accuracy: float | None = None
    float_accuracy: float | None = None
    metric: str = ""


@dataclass
class _Standard:
    label: str
    artifact: bytes | Path
    runner: Callable[[tuple[np.ndarray, ...]], Callable[[], object]]  # batch-1 input → a 1-thread call
    accuracy: float | None = None  # on the model's test inputs


def _ort_int8(model, example, calibration, work: Path, weights: str) -> _Standard:
    path = peers.quantize_onnx(peers.export_onnx(model, example, work / "float.onnx"))
    return _Standard("ONNX Runtime int8 (quantize_dynamic)", path, lambda x: peers.ort_runner(path, x, 1))


def _executorch_int8(model, example, calibration, work: Path, weights: str) -> _Standard:
    scheme = "static-int8" if weights == "w8" else "8da4w"
    program = peers.executorch_int8_program(model, example, calibration, scheme)
    return _Standard(f"ExecuTorch XNNPACK {'pt2e static int8' if weights == 'w8' else '8da4w'}", program,
                     functools.partial(peers.executorch_runner, program, threads=1))


def _litert_int8(model, example, calibration, work: Path, weights: str) -> _Standard:
    tflite = peers.litert_int8_model(model, example, calibration, "dynamic-int8")
    return _Standard("LiteRT dynamic int8 (ai-edge-quantizer)", tflite,
                     functools.partial(peers.litert_runner, tflite, threads=1))


# format → builder of its standard int8 path (model, example, calibration, work folder, weights)
STANDARD_PATHS: dict[str, Callable[..., _Standard]] = {"pte": _executorch_int8, "tflite": _litert_int8,
                                                       "onnx": _ort_int8}


@dataclass
class _Model:
    """One zoo model's float module, test inputs and scorer, shared by its W8 and W4 rows."""

    name: str
    module: torch.nn.Module
    spec: object
    inputs: tuple[np.ndarray, ...]
    targets: np.ndarray | None
    float_pred: np.ndarray = field(init=False)
    # each format's standard path, built and scored once: only ExecuTorch's differs between W8 and W4 rows
    standards: dict[tuple[str, str], _Standard | str] = field(default_factory=dict)

    def __post_init__(self):
        from intedge.converters.evaluate import predict_torch

        self.float_pred = predict_torch(self.module, self.inputs, 50)

    def score(self, pred: np.ndarray) -> float:
        return float(self.spec.evaluate(pred, self.float_pred if self.spec.metric == "cosine" else self.targets))


def run(models=MODELS, weights=WEIGHTS, formats=None, runs: int = 20, limit: int = 100,
        progress: bool = True) -> list[ExportRow]:
    from intedge import exporters
    from intedge.converters import zoo

    formats = list(formats or exporters.FORMATS)
    rows = []
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        for name in models:
            spec = zoo.get(name)
            inputs, targets = spec.test_set()
            m = _Model(name, spec.build(), spec, tuple(x[:limit] for x in inputs),
                       None if targets is None else targets[:limit])
            for w in weights:
                rows += _rows(m, w, formats, Path(d), runs, progress)
    return rows


def _rows(m: _Model, weights: str, formats: list[str], work: Path, runs: int, progress: bool) -> list[ExportRow]:
    """One model at one weight width: convert, then export, check and time each format."""
    from intedge import exporters
    from intedge.converters.evaluate import predict_graph
    from intedge.ir.graph import NUMPY_DTYPE
    from intedge.runtime import Session

    conv = m.spec.calibrated(weights, CALIBRATION, m.module)
    calibration = m.spec.calibration_set(CALIBRATION)  # the standard int8 paths calibrate on the same inputs
    g = conv.graph(batch=1, name=f"{m.name}-{weights}")
    ieg = work / f"{g.name}.ieg"
    g.save(ieg)
    accuracy = m.score(predict_graph(conv.graph(batch=50), m.inputs, 50, progress=False))
    example = [x[:1].astype(NUMPY_DTYPE[g.tensors[t].dtype]) for t, x in zip(g.inputs, m.inputs)]
    real = [{g.tensors[t].name: x for t, x in zip(g.inputs, example)}]
    session = Session(ieg, threads=1)
    feed = dict(zip((s.name for s in session.inputs), example))
    rows = []
    for fmt in tqdm(formats, desc=g.name, disable=not progress, leave=False):
        t0 = time.perf_counter()
        path = exporters.export(g, work / f"{g.name}.{fmt}")
        export_s = time.perf_counter() - t0
        artifact = exporters.load(path, threads=1)
        problems = exporters.check(g, artifact, real + exporters.random_feeds(g, 1))
        row = ExportRow(m.name, weights, fmt, not problems, problems, path.stat().st_size, ieg.stat().st_size,
                        export_s, 0.0, 0.0, accuracy=accuracy, metric=m.spec.metric,
                        float_accuracy=m.score(m.float_pred))
        runners = {"artifact": lambda: artifact(example), "engine": lambda: session.run(feed)}  # noqa: B023 - used now
        if fmt == "pte":  # the fast .pte too: the same graph delegated to intedge's engine inside ExecuTorch
            from intedge.exporters import executorch_delegate

            delegated = work / f"{g.name}-delegate.pte"
            executorch_delegate.export_delegated(g, delegated)
            run_delegated = executorch_delegate.load(delegated, threads=1)
            row.delegate_exact = not exporters.check(g, run_delegated, real + exporters.random_feeds(g, 1))
            runners["delegate"] = lambda: run_delegated(example)  # noqa: B023 - used now
        standard = _standard(fmt, m, calibration, work, weights)
        if isinstance(standard, str):
            row.standard = standard
        else:
            runners["standard"] = standard.runner(tuple(np.ascontiguousarray(x[:1]) for x in m.inputs))
            row.standard = standard.label
            row.standard_bytes = (len(standard.artifact) if isinstance(standard.artifact, bytes)
                                  else standard.artifact.stat().st_size)
            row.standard_accuracy = standard.accuracy
        times = _interleaved(runners, runs, 3, False, "")
        row.runtime_ms, row.engine_ms = float(np.median(times["artifact"])), float(np.median(times["engine"]))
        row.standard_ms = float(np.median(times["standard"])) if "standard" in times else None
        row.delegate_ms = float(np.median(times["delegate"])) if "delegate" in times else None
        rows.append(row)
    return rows


def _standard(fmt: str, m: _Model, calibration, work: Path, weights: str) -> _Standard | str:
    """The format's standard int8 path for the float model, scored on the test inputs, or why it is left out
    (its extra is missing); built once per model and format (and weights, for ExecuTorch's two schemes)."""
    key = (fmt, weights if fmt == "pte" else "")
    if key not in m.standards:
        try:
            standard = STANDARD_PATHS[fmt](m.module, tuple(x[:1] for x in m.inputs), calibration, work, weights)
            standard.accuracy = m.score(peers.predict(
                standard.runner, [tuple(x[k:k + 1] for x in m.inputs) for k in range(len(m.inputs[0]))]))
            m.standards[key] = standard
        except MissingExtraError as e:
            m.standards[key] = f"left out: {e}"
    return m.standards[key]


def format_tables(rows: list[ExportRow]) -> str:
    """One Markdown table per format."""
    out = []
    for fmt in dict.fromkeys(r.format for r in rows):
        delegated = fmt == "pte"
        out += [f"**.{fmt}** (1 thread, batch 1, medians; accuracy on the first test samples)", "",
                "| model | weights | bit-exact | bytes (.ieg) | runtime ms | " + ("delegated to intedge ms | " * delegated)
                + "intedge engine ms | standard int8 path | its ms | its bytes | accuracy: float / intedge / standard |",
                "|---|---|---|---|---|---|---|---|---|---|" + "---|" * delegated]
        for r in (r for r in rows if r.format == fmt):
            std = (f"{r.standard} | {r.standard_ms:.2f} | {r.standard_bytes:,}" if r.standard_ms is not None
                   else f"{r.standard} | — | —")
            acc = f"{r.float_accuracy:.3f} / {r.accuracy:.3f} / " + (
                f"{r.standard_accuracy:.3f}" if r.standard_accuracy is not None else "—")
            exact = "yes" if r.exact and r.delegate_exact is not False else "NO"
            delegate = f"{r.delegate_ms:.2f} | " if delegated else ""
            out.append(f"| {r.model} | {r.weights.upper()}A8 | {exact} | {r.artifact_bytes:,} ({r.ieg_bytes:,}) | "
                       f"{r.runtime_ms:.2f} | {delegate}{r.engine_ms:.2f} | {std} | {acc} ({r.metric}) |")
        out.append("")
    return "\n".join(out)


def json_rows(rows: list[ExportRow]) -> list[dict]:
    return [asdict(r) for r in rows]
