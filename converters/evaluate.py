"""`intedge eval`: a zoo model's float accuracy beside its integer graph's, on the real test set.

Also runs ONNX Runtime's `quantize_dynamic` (int8 weights, dynamic int8
activations, float elsewhere) on the same inputs in the same run, as the peer a
user would otherwise pick.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from intedge import reference
from intedge.extras import MissingExtraError
from intedge.ir.graph import NUMPY_DTYPE
from intedge.runtime import Session

from . import zoo
from .calibration_data import user_calibration
from .convert import Converter
from .error_report import REPORT_SAMPLES, ErrorReport, error_report
from .mixed_precision import Assignment
from .qat import finetune
from .zoo.splits import check_disjoint


@dataclass
class EvalResult:
    model: str
    weights: str
    metric: str
    float: float
    integer: float
    peers: dict[str, float] = field(default_factory=dict)
    samples: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    split: str = "test"
    mixed: Assignment | None = None  # with a weight budget: which linears stayed W8
    report: ErrorReport | None = None  # with report=True: where the error comes from

    def json(self) -> dict:
        out = {"model": self.model, "weights": self.weights, "metric": self.metric, "split": self.split,
               "float": round(self.float, 4), "integer": round(self.integer, 4),
               "peers": {k: round(v, 4) for k, v in self.peers.items()}}
        if self.mixed:
            out["w8_layers"] = [w.removesuffix(".weight") for w in self.mixed.int8]
        if self.report:
            out["report"] = self.report.json()
        return out


def _batches(inputs: tuple[np.ndarray, ...], batch: int):
    n = len(inputs[0])
    for i in range(0, n, batch):
        chunk = [x[i:i + batch] for x in inputs]
        short = batch - len(chunk[0])
        if short:  # pad the last batch by repeating its first row; padded rows are dropped after
            chunk = [np.concatenate([c, np.repeat(c[:1], short, 0)]) for c in chunk]
        yield chunk, batch - short


def predict_graph(graph, inputs, batch: int, kernels: str = "engine", progress: bool = True) -> np.ndarray:
    """The graph's first output over `inputs` in chunks of `batch` (graph is built at that batch).

    kernels: "engine" (the C++ engine), or the reference executor's "numpy" or "scalar-cpp".
    """
    names = [graph.tensors[i] for i in graph.inputs]
    with tempfile.TemporaryDirectory() as d:
        if kernels == "engine":
            graph.save(Path(d) / "g.ieg")
            session = Session(Path(d) / "g.ieg", threads=os.cpu_count() or 1)
            run = session.run
        else:
            run = lambda feed: reference.run(graph, feed, kernels=kernels)  # noqa: E731
        outs = []
        for chunk, keep in tqdm(list(_batches(inputs, batch)), desc="integer graph", disable=not progress):
            feed = {t.name: x.astype(NUMPY_DTYPE[t.dtype]) for t, x in zip(names, chunk)}
            outs.append(next(iter(run(feed).values()))[:keep])
    return np.concatenate(outs)


def predict_torch(model, inputs, batch: int) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([model(*(torch.from_numpy(x) for x in chunk)).numpy()[:keep]
                               for chunk, keep in _batches(inputs, batch)])


def ort_int8(model, inputs, batch: int) -> np.ndarray:
    """ONNX Runtime quantize_dynamic (QInt8 weights) predictions."""
    from intedge.profilers import peers

    with tempfile.TemporaryDirectory() as d:
        fp32 = peers.export_onnx(model, tuple(x[:batch] for x in inputs), Path(d) / "model.onnx")
        session = peers.ort_session(peers.quantize_onnx(fp32))
        names = peers.input_names(len(inputs))
        return np.concatenate([session.run(None, dict(zip(names, chunk)))[0][:keep]
                               for chunk, keep in _batches(inputs, batch)])


QAT_SAMPLES = 640  # unlabeled training inputs per QAT run (MiniLM has ~760 beyond its test sentences)


def evaluate(name: str, calib: int | None = None, limit: int | None = None, batch: int = 50, kernels: str = "engine", peers: bool = True,
             progress: bool = True, save_to: Path | None = None, qat_epochs: int = 0, split: str = "test",
             calib_data: Path | None = None, report: bool = False, **options) -> EvalResult:
    """Score float, integer and peer; with save_to, also write the batch-1 integer graph there. calib: how
    many calibration inputs (default: the zoo model's calibration_size).

    qat_epochs > 0: fine-tune the graph's QAT twin that many epochs on the model's training inputs
    (distillation from the float model, qat.finetune) before scoring.

    split: "test" (the accuracy table's) or "validation" (held out from calibration, QAT and test data, for
    tuning); calib_data: a user's own calibration set (calibration_data.py) instead of the zoo's. report: also
    measure where the error comes from (error_report.py), on the first REPORT_SAMPLES calibration inputs.

    options go to Converter.calibrate (weights, method, smooth_alpha, group_size, gelu, ...), over the
    zoo model's own defaults.
    """
    if peers:  # before minutes of scoring, not after
        from intedge.profilers.peers import require_ort

        try:
            require_ort("the ONNX Runtime peer")
        except MissingExtraError as e:
            raise MissingExtraError(f"{e} (or leave the peer out: --no-peers)") from None
    spec = zoo.get(name)
    times = {}
    t0 = time.perf_counter()
    model = spec.build()
    inputs, targets = spec.scored_set(split)
    if limit:
        inputs = tuple(x[:limit] for x in inputs)
        targets = None if targets is None else targets[:limit]
    calib = calib or spec.calibration_size
    items = spec.calibration_set(calib) if calib_data is None else user_calibration(spec, calib_data, calib)
    if calib_data is not None and progress:
        print(f"calibrating on {len(items)} input(s) from {calib_data}", file=sys.stderr)
    check_disjoint(items, inputs, "calibration", split)  # what tuned the conversion is never what scores it
    options = spec.conversion | options
    conv = Converter.calibrate(model, tuple(torch.from_numpy(x) for x in items[0]), items, progress=progress, **options)
    if qat_epochs:
        check_disjoint(training := spec.training_set(QAT_SAMPLES), inputs, "QAT training", split)
        finetune(conv, training, epochs=qat_epochs, progress=progress)
    graph = conv.graph(batch=batch)
    if save_to:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        conv.graph(name=name).save(save_to)
    times["convert"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    float_pred = predict_torch(model, inputs, batch)
    int_pred = predict_graph(graph, inputs, batch, kernels, progress)
    times["evaluate"] = time.perf_counter() - t0
    if spec.metric == "cosine":  # the float model's own embeddings are the reference
        score = lambda pred: spec.evaluate(pred, float_pred)  # noqa: E731
    else:
        score = lambda pred: spec.evaluate(pred, targets)  # noqa: E731
    result = EvalResult(name, options.get("weights", "w8"), spec.metric, score(float_pred), score(int_pred),
                        samples=len(inputs[0]), seconds=times, split=split, mixed=conv.mixed)
    if report:
        result.report = error_report(conv, [tuple(torch.from_numpy(x) for x in item) for item in items[:REPORT_SAMPLES]],
                                     name, progress)
    if peers:
        result.peers["ort-int8"] = score(ort_int8(model, inputs, batch))
    return result
