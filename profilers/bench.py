"""`intedge bench`: intedge against the runtimes a user would pick instead, in
one process, on one machine state.

Every engine gets the same batch-1 input. The engines take turns in blocks of
runs (after warm-up), so a noisy neighbour slows all of them alike,
and the table quotes medians and ratios to ONNX Runtime int8, the usual
on-device baseline, and to the fastest other engine whose outputs are right:
each engine's first output on a few held-out inputs is compared with PyTorch
fp32's in the same run, so a peer whose int8 recipe breaks the model is
flagged rather than counted as fast. The GEMM micro-benchmark is the
`intedge-gemm-bench` binary (edge_runtime/tools/gemm_bench.cc).
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import statistics
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from intedge.extras import MissingExtraError

from . import onednn_gemm, peers

ENGINES = ("intedge-w8a8", "intedge-w4a8", "ort-fp32", "ort-int8", "executorch-xnnpack-fp32",
           "executorch-xnnpack-int8", "litert-int8-dynamic", "litert-int8-static", "torch-fp32")
BASELINE = "ort-int8"
UNPADDED = "intedge-w8a8-unpadded"  # intedge-w8a8 on the example with every key kept (BenchModel.unpadded)
# each peer engine's recipe in peers.py: ExecuTorch's pt2e static int8 (XNNPACKQuantizer); LiteRT's dynamic int8,
# and its static int8 on the fully connected layers only
EXECUTORCH_SCHEMES = {"executorch-xnnpack-int8": "static-int8"}
LITERT_SCHEMES = {"litert-int8-dynamic": "dynamic-int8", "litert-int8-static": "static-int8"}
NONLINEAR_OPS = ("shiftmax", "shiftgelu", "lambda_shiftgelu", "lookup_requant", "ilayernorm")  # lookup_requant: exact GELU
CALIBRATION_INPUTS = 8  # enough for ranges; speed does not depend on them
ROUNDS = 5  # blocks of runs per engine, interleaved
# Untimed runs open each block until this long has passed. After a pause (another engine's block, or any
# light work) an engine's first runs are slow (experiments/warmup_ramp; caches, predictors and the wide units
# all start cold): on the AMX Xeon, intedge's first MiniLM run took 1.26× its steady time and settled within
# about 14 ms, LiteRT's 1.16× and about 20 ms. One untimed run left a fast engine's next few timed runs in
# that ramp.
BLOCK_WARMUP_S = 0.05
_clock = time.perf_counter  # the interleaved runs' clock (a test replaces it)
# Held-out inputs (none of them a calibration input) on which every engine's first output is compared with
# PyTorch fp32's. A handful tells a working int8 recipe from a broken one; each peer loads once per input.
ACCURACY_INPUTS = 8
# Mean cosine below which an engine is "accuracy broken" and is not a peer to beat. Working int8 recipes score
# well above it (ONNX Runtime's dynamic int8 ~0.96 on MiniLM's embeddings, intedge 0.99, LiteRT dynamic 0.998),
# broken ones far below (ExecuTorch's pt2e static int8 0.40 on MiniLM, garbage ~0): 0.9 sits in the gap, so a
# peer's speed is not credited when its outputs are not the model's, nor a working one dropped.
ACCURACY_FLOOR = 0.9
# issue 19's targets: intedge W8A8's median against the fastest other engine that is not broken, and W4A8's
# against W8A8's
TARGET_VS_FASTEST = 0.60
TARGET_W4_VS_W8 = 1.05


@dataclass(frozen=True)
class BenchModel:
    name: str
    description: str
    build: Callable[[], torch.nn.Module]
    example: Callable[[], tuple[np.ndarray, ...]]  # one batch-1 input
    calibration: Callable[[int], list[tuple[np.ndarray, ...]]]
    held_out: Callable[[int], list[tuple[np.ndarray, ...]]]  # n batch-1 inputs, none a calibration input
    conversion: dict = field(default_factory=dict)
    # An input with an attention mask: the example with every position kept. intedge skips the keys a mask
    # drops (a padded sentence's tail), so its time on the example alone would hide the work it cannot skip.
    unpadded: Callable[[tuple[np.ndarray, ...]], tuple[np.ndarray, ...]] | None = None


def _deit_tiny() -> torch.nn.Module:
    from intedge.converters.zoo.vit import deit_tiny

    torch.manual_seed(0)  # random weights: speed only
    return deit_tiny().eval()


def _images(n: int, seed: int = 0) -> list[tuple[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((1, 3, 224, 224)).astype(np.float32),) for _ in range(n)]


def _minilm() -> BenchModel:
    from intedge.converters import zoo

    z = zoo.get("minilm")

    def test_sentences(n: int) -> list[tuple[np.ndarray, ...]]:  # the zoo keeps them apart from calibration's
        inputs, _ = z.test_set()
        return [tuple(x[k:k + 1] for x in inputs) for k in range(n)]

    return BenchModel("minilm", "all-MiniLM-L6-v2 (6 layers, dim 384), sequence length 128, real weights", z.build,
                      lambda: z.calibration_set(1)[0], z.calibration_set, test_sentences, z.conversion,
                      unpadded=lambda x: (x[0], np.ones_like(x[1])))


MODELS: dict[str, Callable[[], BenchModel]] = {
    # calibration images from seed 0, the timed one from seed 1, the held-out ones from seed 2
    "deit-tiny": lambda: BenchModel("deit-tiny", "DeiT-Tiny 224×224 (12 layers, dim 192, 3 heads), random weights",
                                    _deit_tiny, lambda: _images(1, seed=1)[0], _images,
                                    functools.partial(_images, seed=2)),
    "minilm": _minilm,
}


def accuracy_broken(cosine: float) -> bool:
    """Below ACCURACY_FLOOR; NaN (an all-zero output has no direction) is broken too."""
    return not cosine >= ACCURACY_FLOOR


def mean_cosine(outputs: np.ndarray, reference: np.ndarray) -> float:
    """Cosine similarity of each input's output (flattened) with the reference's, averaged over inputs."""
    from intedge.converters.zoo.minilm import mean_cosine as mean_row_cosine

    return mean_row_cosine(outputs.reshape(len(outputs), -1).astype(np.float64),
                           reference.reshape(len(reference), -1).astype(np.float64))


@dataclass
class EngineTime:
    engine: str
    median_ms: float
    p90_ms: float
    cosine: float  # first output against PyTorch fp32's, mean over the ACCURACY_INPUTS held-out inputs

    @property
    def timed_only(self) -> bool:
        """A timing of another engine's model on another input (UNPADDED): no accuracy of its own."""
        return self.engine == UNPADDED

    @property
    def broken(self) -> bool:
        return not self.timed_only and accuracy_broken(self.cosine)


@dataclass
class BenchResult:
    model: str
    description: str
    threads: int
    runs: int
    isa: str
    results: list[EngineTime]
    # bytes of the qlinear weights (with W4's group scales) and of the whole file, per intedge engine
    linear_weight_bytes: dict[str, int] = field(default_factory=dict)
    file_bytes: dict[str, int] = field(default_factory=dict)
    nonlinear_share: float | None = None  # of intedge-w8a8's op time
    skipped: dict[str, str] = field(default_factory=dict)  # engine → why
    # intedge-w8a8's GEMM work in one inference, and one core's measured int8 peak (intedge-gemm-bench --peak):
    # the model's time as a fraction of what the multiply instruction allows
    gemm_macs: int | None = None
    peak_gmacs: float | None = None

    def peak_fraction(self) -> float | None:
        """intedge-w8a8's GMAC/s end to end over the peak of all its threads' cores."""
        w8 = self.time_of("intedge-w8a8")
        if not (w8 and self.gemm_macs and self.peak_gmacs):
            return None
        return self.gemm_macs / (w8.median_ms * 1e6) / (self.peak_gmacs * self.threads)

    def time_of(self, engine: str) -> EngineTime | None:
        return next((r for r in self.results if r.engine == engine), None)

    def fastest_other(self) -> EngineTime | None:
        """The fastest engine that is not intedge's and whose accuracy is not broken (skipped ones never ran)."""
        others = [r for r in self.results if not r.engine.startswith("intedge-") and not r.broken]
        return min(others, key=lambda r: r.median_ms, default=None)

    def ratio_to_fastest_other(self, engine: str = "intedge-w8a8") -> float | None:
        """engine's median over the fastest other engine's."""
        ours, other = self.time_of(engine), self.fastest_other()
        return ours.median_ms / other.median_ms if ours and other else None

    def json(self) -> dict:
        other, ratio, unpadded = self.fastest_other(), self.ratio_to_fastest_other(), self.ratio_to_fastest_other(UNPADDED)
        return {"model": self.model, "threads": self.threads, "isa": self.isa, "runs": self.runs,
                "results": [{"engine": r.engine, "median_ms": round(r.median_ms, 4), "p90_ms": round(r.p90_ms, 4),
                             "cosine": None if math.isnan(r.cosine) else round(r.cosine, 6),
                             "accuracy_broken": r.broken}
                            for r in self.results],
                "accuracy_inputs": ACCURACY_INPUTS, "accuracy_floor": ACCURACY_FLOOR,
                "fastest_other": other.engine if other else None,  # among the engines that ran: see "skipped"
                "w8a8_vs_fastest_other": None if ratio is None else round(ratio, 4),
                "unpadded_vs_fastest_other": None if unpadded is None else round(unpadded, 4),
                "linear_weight_bytes": self.linear_weight_bytes, "file_bytes": self.file_bytes,
                "nonlinear_share": None if self.nonlinear_share is None else round(self.nonlinear_share, 4),
                "gemm_macs": self.gemm_macs, "peak_gmacs": self.peak_gmacs,
                "peak_fraction": None if self.peak_fraction() is None else round(self.peak_fraction(), 4),
                "skipped": self.skipped}


def linear_weight_bytes(path: Path) -> int:
    """Bytes of every qlinear's weight tensor and group scales in a .ieg (what W4 shrinks)."""
    from intedge.ir import load

    g = load(path)
    tids = {t for op in g.ops if op.kind == "qlinear" for k, t in enumerate(op.inputs) if k in (1, 3) and t >= 0}
    return sum(g.tensors[t].nbytes for t in tids)


def _feed(session, example: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    """The example as an intedge session's named inputs, in their dtypes."""
    return {spec.name: x.astype(spec.dtype) for spec, x in zip(session.inputs, example)}


def _first_tokens(inputs: tuple[np.ndarray, ...], seq: int | None) -> tuple[np.ndarray, ...]:
    return inputs if seq is None else tuple(np.ascontiguousarray(x[:, :seq]) for x in inputs)


class _Artifacts:
    """Each engine's model file, built once per `intedge bench` and shared by every thread count, and the
    inputs: the timed example and the held-out ones of the accuracy check."""

    def __init__(self, spec: BenchModel, engines: list[str], work: Path, progress: bool, seq: int | None = None):
        from intedge.converters.convert import Converter

        self.model = spec.build()
        # intedge: one graph of dynamic length (bound: the example's), run at seq; peers exported at seq
        self.example = _first_tokens(spec.example(), seq)
        self.held_out = [_first_tokens(x, seq) for x in spec.held_out(ACCURACY_INPUTS)]
        self.paths: dict[str, Path] = {}
        self.programs: dict[str, bytes] = {}  # the ExecuTorch and LiteRT engines' .pte and .tflite
        self.skipped: dict[str, str] = {}
        calibration = spec.calibration(CALIBRATION_INPUTS)
        onnx: Path | None = None
        steps = tqdm(engines, desc="preparing engines", disable=not progress, leave=False)
        for engine in steps:
            steps.set_postfix_str(engine)
            if engine.startswith("intedge-"):
                weights = engine.split("-")[1][:2]  # w8 / w4
                conv = Converter.calibrate(self.model, tuple(torch.from_numpy(x) for x in calibration[0]), calibration,
                                           progress=False, **(spec.conversion | {"weights": weights}))
                self.paths[engine] = work / f"{spec.name}-{weights}.ieg"
                name = f"{spec.name}-{weights}"
                (conv.dynamic_graph(name=name) if seq is not None else conv.graph(name=name)).save(self.paths[engine])
            else:
                try:  # a peer whose extra is not installed is left out, and the table says why
                    onnx = self._peer(engine, spec, work, onnx, [_first_tokens(x, seq) for x in calibration])
                except MissingExtraError as e:
                    self.skipped[engine] = str(e)

    def _peer(self, engine: str, spec: BenchModel, work: Path, onnx: Path | None,
              calibration: list[tuple[np.ndarray, ...]]) -> Path | None:
        """Prepares a peer engine; returns the ONNX export, made once for both ORT engines."""
        if engine.startswith("ort-"):
            onnx = onnx or peers.export_onnx(self.model, self.example, work / f"{spec.name}.onnx")
            self.paths[engine] = peers.quantize_onnx(onnx) if engine == "ort-int8" else onnx
        elif engine == "executorch-xnnpack-fp32":
            self.programs[engine] = peers.executorch_program(self.model, self.example)
        elif engine in EXECUTORCH_SCHEMES:
            self.programs[engine] = peers.executorch_int8_program(self.model, self.example, calibration,
                                                                  EXECUTORCH_SCHEMES[engine])
        elif engine in LITERT_SCHEMES:
            self.programs[engine] = peers.litert_int8_model(self.model, self.example, calibration,
                                                            LITERT_SCHEMES[engine])
        return onnx

    def runner(self, engine: str, threads: int, isa: str | None,
               inputs: tuple[np.ndarray, ...]) -> Callable[[], object]:
        """engine, ready to run on inputs (the peers are built for the example's shape; intedge's for its own)."""
        from intedge.runtime import Session

        if engine.startswith("intedge-"):
            session = Session(self.paths[engine], threads=threads, isa=isa)
            feed = _feed(session, inputs)
            return lambda: session.run(feed)
        if engine.startswith("ort-"):
            return peers.ort_runner(self.paths[engine], inputs, threads)
        if engine.startswith("executorch-"):
            return peers.executorch_runner(self.programs[engine], inputs, threads)
        if engine.startswith("litert-"):
            return peers.litert_runner(self.programs[engine], inputs, threads)
        return peers.torch_runner(self.model, inputs, threads)

    def first_outputs(self, engine: str, isa: str | None) -> np.ndarray:
        """engine's first output on each held-out input, stacked (one thread). An intedge session takes any
        input of its graph's shape; a peer is loaded again per input, as its runner is bound to one."""
        from intedge.runtime import Session

        if engine.startswith("intedge-"):
            session = Session(self.paths[engine], threads=1, isa=isa)
            first = session.outputs[0].name
            return np.concatenate([session.run(_feed(session, x))[first] for x in self.held_out])
        return peers.predict(functools.partial(self.runner, engine, 1, isa), self.held_out)


def _interleaved(runners: dict[str, Callable[[], object]], runs: int, warmup: int, progress: bool,
                 label: str) -> dict[str, list[float]]:
    """Engines take turns in ROUNDS blocks of runs. Blocks, not single runs, because idle thread pools spin
    for a while after a run (ORT's, XNNPACK's, ours), and an engine's first runs after a pause are slow:
    each block starts with BLOCK_WARMUP_S of untimed runs (at least one), so no engine is timed while
    another's threads still hold the cores or while its own first runs ramp up."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {engine: [] for engine in runners}
    rounds = min(ROUNDS, runs)
    with tqdm(total=runs * len(runners), desc=label, disable=not progress, leave=False) as bar:
        for k in range(rounds):
            block = runs * (k + 1) // rounds - runs * k // rounds
            for engine, run in runners.items():
                start = _clock()
                run()
                while _clock() - start < BLOCK_WARMUP_S:
                    run()
                for _ in range(block):
                    t0 = _clock()
                    run()
                    times[engine].append((_clock() - t0) * 1e3)
                bar.update(block)
    return times


def _nonlinear_share(path: Path, example, threads: int, isa: str | None, runs: int = 10) -> float:
    """Fraction of the op time that Shiftmax, GELU and LayerNorm take, from the engine's per-op profile."""
    from intedge.runtime import Session

    session = Session(path, threads=threads, isa=isa, profile=True)
    feed = _feed(session, example)
    for _ in range(runs):
        session.run(feed)
    ops = session.profile()
    total = sum(o.total_us for o in ops)
    return sum(o.total_us for o in ops if o.kind in NONLINEAR_OPS) / total if total else 0.0


def _cosines(art: _Artifacts, engines: list[str], isa: str | None, progress: bool) -> dict[str, float]:
    """Each engine's mean cosine to PyTorch fp32 on the held-out inputs."""
    reference = art.first_outputs("torch-fp32", isa)
    return {e: mean_cosine(art.first_outputs(e, isa), reference)
            for e in tqdm(engines, desc="checking accuracy", disable=not progress, leave=False)}


def run(model: str, threads: list[int], runs: int = 30, warmup: int = 5, engines: list[str] | None = None,
        isa: str | None = None, progress: bool = True, save: Path | None = None,
        seq: int | None = None) -> list[BenchResult]:
    """Benchmark `model` ("deit-tiny" or "minilm") on each thread count; one BenchResult per count.
    save: a folder to keep the converted and exported models in (default: a temporary one). seq (minilm):
    the first seq tokens of the example; intedge runs one graph of dynamic length (bound 128) at seq,
    the peers a model exported at seq."""
    from intedge.runtime import supported_isas

    spec = MODELS[model]()
    engines = list(engines or ENGINES)
    out = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(save or d)
        work.mkdir(parents=True, exist_ok=True)
        art = _Artifacts(spec, engines, work, progress, seq)
        ours = {e: path for e, path in art.paths.items() if e.startswith("intedge-")}
        weight_bytes = {e: linear_weight_bytes(path) for e, path in ours.items()}  # the same for every count
        file_bytes = {e: path.stat().st_size for e, path in ours.items()}
        active = [e for e in engines if e not in art.skipped]
        cosines = _cosines(art, active, isa, progress)  # outputs do not depend on the thread count
        unpadded = spec.unpadded(art.example) if spec.unpadded and "intedge-w8a8" in active else None
        if unpadded is not None:
            cosines[UNPADDED] = math.nan  # padding positions fed as tokens: no accuracy to measure
        # at a --seq shorter than the graph's bound its stated shapes overstate the work: no fraction then
        macs = graph_macs(ours["intedge-w8a8"]) if "intedge-w8a8" in ours and seq is None else None
        peak = measured_peak(isa)["peak_gmacs"] if macs else None
        for n in threads:
            runners = {e: art.runner(e, n, isa, art.example) for e in active}
            if unpadded is not None:
                runners[UNPADDED] = art.runner("intedge-w8a8", n, isa, unpadded)
            times = _interleaved(runners, runs, warmup, progress, f"{model}, {n} thread{'s' * (n > 1)}")
            del runners  # drop sessions (and their thread pools) before the next count
            description = spec.description if seq is None else (
                spec.description.replace("sequence length 128", f"sequence length {seq} (intedge: dynamic, bound 128)"))
            result = BenchResult(model, description, n, runs, isa or supported_isas()[-1],
                                 [EngineTime(e, float(np.median(t)), float(np.percentile(t, 90)), cosines[e])
                                  for e, t in times.items()], linear_weight_bytes=dict(weight_bytes),
                                 file_bytes=dict(file_bytes),
                                 skipped=dict(art.skipped), gemm_macs=macs, peak_gmacs=peak)
            if "intedge-w8a8" in art.paths:
                result.nonlinear_share = _nonlinear_share(art.paths["intedge-w8a8"], art.example, n, isa)
            out.append(result)
    return out


def format_table(r: BenchResult) -> str:
    base = r.time_of(BASELINE)
    lines = [f"{r.model}: {r.description}",
             f"batch 1, {r.threads} thread{'s' * (r.threads > 1)}, median of {r.runs} runs in {min(ROUNDS, r.runs)} interleaved blocks; "
             f"intedge kernels: {r.isa}",
             f"cosine: the first output's to PyTorch fp32's, mean over {ACCURACY_INPUTS} held-out inputs; below "
             f"{ACCURACY_FLOOR:.2f} an engine is marked accuracy broken and is no peer to beat",
             f"  {'engine':26} {'median ms':>10} {'p90 ms':>9} {'vs ' + BASELINE:>12} {'cosine':>8}"]
    for t in r.results:
        ratio = f"{t.median_ms / base.median_ms:.2f}x" if base else "-"
        cosine = "-" if t.timed_only else f"{t.cosine:.4f}"
        lines.append(f"  {t.engine:26} {t.median_ms:10.2f} {t.p90_ms:9.2f} {ratio:>12} {cosine:>8}"
                     + "  accuracy broken" * t.broken)
    for engine, why in r.skipped.items():
        lines.append(f"  {engine:26} skipped: {why}")
    w8, w4 = r.time_of("intedge-w8a8"), r.time_of("intedge-w4a8")
    other, ratio = r.fastest_other(), r.ratio_to_fastest_other()
    if ratio is not None:
        # without the skipped peers (LiteRT's, where its extra is missing) the ratio is no verdict on the target
        verdict = (f"issue-19 target ≤ {TARGET_VS_FASTEST:.2f}x" if not r.skipped else
                   f"no verdict on the ≤ {TARGET_VS_FASTEST:.2f}x target: {', '.join(r.skipped)} skipped")
        lines.append(f"  intedge-w8a8 vs fastest other engine ({other.engine}, not broken): {ratio:.2f}x ({verdict})")
    elif w8:
        lines.append("  intedge-w8a8 vs fastest other engine: no other engine ran whose accuracy is not broken")
    unpadded = r.ratio_to_fastest_other(UNPADDED)
    if unpadded is not None:
        lines.append(f"  {UNPADDED}: {unpadded:.2f}x the fastest other engine, the example with every key kept "
                     "(intedge skips the keys its attention mask drops; the peers compute them)")
    if w8 and w4:
        lw8, lw4 = r.linear_weight_bytes["intedge-w8a8"], r.linear_weight_bytes["intedge-w4a8"]
        f8, f4 = r.file_bytes["intedge-w8a8"], r.file_bytes["intedge-w4a8"]
        lines.append(f"  W4A8 vs W8A8: linear weights {lw4:,} / {lw8:,} bytes = {lw4 / lw8:.3f}; "
                     f"file {f4:,} / {f8:,} = {f4 / f8:.3f}; latency {w4.median_ms / w8.median_ms:.2f}x "
                     f"(issue-19 target ≤ {TARGET_W4_VS_W8:.2f}x)")
    if r.nonlinear_share is not None:
        lines.append(f"  nonlinear ops (Shiftmax, GELU, LayerNorm): {100 * r.nonlinear_share:.1f} % of "
                     "intedge-w8a8's op time")
    if r.peak_fraction() is not None:
        lines.append(f"  intedge-w8a8 end to end: {r.gemm_macs / 1e9:.3f} GMAC in its GEMMs at "
                     f"{r.gemm_macs / (w8.median_ms * 1e6):.0f} GMAC/s = {100 * r.peak_fraction():.0f} % of the "
                     f"measured {r.isa} peak ({r.peak_gmacs:.0f} GMAC/s a core × {r.threads})")
    return "\n".join(lines)


# --- the GEMM micro-benchmark -------------------------------------------------------------------------

# per weights kind: the qlinears' (w8, w4: DeiT-Tiny's fc1 and a square one) and DeiT-Tiny's attention products,
# whose right operand is an activation repacked every run (act-t: Q·Kᵀ, act: probabilities·V)
GEMM_SHAPES = {"w8": ("197x192x768", "1024x1024x1024"), "w4": ("197x192x768", "1024x1024x1024"),
               "act-t": ("197x64x197",), "act": ("197x197x64",)}


def gemm_binary() -> str:
    """intedge-gemm-bench: installed beside the `intedge` script by pip, else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "intedge-gemm-bench"
    found = str(beside) if beside.exists() else shutil.which("intedge-gemm-bench")
    if not found:
        raise FileNotFoundError("intedge-gemm-bench is not installed: pip install -e . builds it")
    return found


def gemm(shapes: dict[str, tuple[str, ...]] = GEMM_SHAPES, isa: str | None = None, runs: int = 50) -> list[dict]:
    """One dict per (weights kind, shape): the binary's JSON (GMAC/s, repack ms, the measured peak,
    peak_fraction); w8's also "onednn", oneDNN's int8 matmul on the shape beside intedge's (vendor_gemm),
    or {"skipped": why}."""
    rows = []
    for w, of_kind in shapes.items():
        if isa == "scalar" and w.startswith("act"):
            continue  # the scalar path runs attention products outside the GEMM kernels: nothing to time
        rows += _gemm_runs(w, of_kind, isa, runs)
    w8 = [r for r in rows if r["weights"] == "w8"]
    if w8:
        # oneDNN runs the CPU's best ISA whatever --isa says: beside another, its ratios would mislead
        from intedge.runtime import supported_isas

        best = supported_isas()[-1]
        vendor = (vendor_gemm(shapes["w8"], isa, runs) if isa in (None, best)
                  else f"oneDNN runs this CPU's best ISA ({best}), not --isa {isa}")
        for r in w8:
            r["onednn"] = {"skipped": vendor} if isinstance(vendor, str) else vendor[f"{r['m']}x{r['k']}x{r['n']}"]
    return rows


def _gemm_runs(weights: str, shapes: tuple[str, ...], isa: str | None, runs: int) -> list[dict]:
    cmd = [gemm_binary(), "--weights", weights, "--runs", str(runs)] + [a for s in shapes for a in ("--shape", s)]
    if isa:
        cmd += ["--isa", isa]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"intedge-gemm-bench failed: {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


VENDOR_ROUNDS = 3


def vendor_gemm(shapes: tuple[str, ...], isa: str | None, runs: int) -> dict[str, dict] | str:
    """oneDNN's int8 matmul (onednn_gemm) and intedge's w8 GEMM on each "MxKxN", taking turns
    VENDOR_ROUNDS times so that the machine's moods hit both: per shape {"median_ms", "kernel",
    "max_error" (oneDNN's), "intedge_ms", "ratio" (the median of the rounds' intedge / oneDNN)}, or why
    oneDNN is not here."""
    dims = [tuple(int(d) for d in s.split("x")) for s in shapes]
    theirs: dict[str, list[dict]] = {s: [] for s in shapes}
    ours: dict[str, list[float]] = {s: [] for s in shapes}
    for _ in range(VENDOR_ROUNDS):
        vendor = onednn_gemm.gemm_times(dims, runs)
        if isinstance(vendor, str):
            return vendor
        for s in shapes:
            theirs[s].append(vendor[s])
        for r in _gemm_runs("w8", shapes, isa, runs):
            ours[f"{r['m']}x{r['k']}x{r['n']}"].append(r["median_ms"])
    return {s: {"median_ms": statistics.median(v["median_ms"] for v in theirs[s]), "kernel": theirs[s][0]["kernel"],
                "max_error": max(v["max_error"] for v in theirs[s]), "intedge_ms": statistics.median(ours[s]),
                "ratio": statistics.median(o / v["median_ms"] for o, v in zip(ours[s], theirs[s], strict=True))}
            for s in shapes}


def measured_peak(isa: str | None = None) -> dict:
    """One core's measured int8 peak for isa (default: the best this CPU has): {"isa", "peak_gmacs",
    "step_gmacs"}; None for scalar's peak, and for the step except on AMX."""
    cmd = [gemm_binary(), "--peak"] + (["--isa", isa] if isa else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"intedge-gemm-bench --peak failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def graph_macs(path: Path) -> int:
    """Multiply-accumulates in one inference of a .ieg at its stated shapes (a dynamic graph's bound): every
    qlinear's and qmatmul's outputs × K, the work of the GEMM kernels."""
    from intedge.ir import load

    g = load(path)
    return sum(math.prod(g.tensors[op.outputs[0]].shape) * g.tensors[op.inputs[0]].shape[-1]
               for op in g.ops if op.kind in ("qlinear", "qmatmul"))


def format_gemm(rows: list[dict]) -> str:
    lines = ["int8 GEMM y[M,N] = requant(x[M,K]·w[N,K]ᵀ), one core, median; peak: the ISA's multiply instruction "
             "in a loop of independent sums, measured",
             "weights act-t / act: an attention product (Q·Kᵀ / probabilities·V), its right operand an activation "
             "repacked every run (int32 out; repack: that part of the time)",
             f"  {'M×K×N':16} {'weights':7} {'isa':11} {'ms':>8} {'repack':>8} {'GMAC/s':>8} {'peak':>8} {'of peak':>8}"]
    amx = next((r for r in rows if r.get("step_gmacs")), None)  # AMX only: its block step's own rate
    if amx:
        lines.insert(2, f"amx: the GEMM's block step (4 tile loads, 4 tdpbusd) on operands in L1, without their traffic "
                        f"or the epilogue: {amx['step_gmacs']:.1f} GMAC/s = "
                        f"{100 * amx['step_gmacs'] / amx['peak_gmacs']:.0f} % of the peak (each the best of 7 "
                        "rounds; they differ by a few % from run to run)")
    for r in rows:
        # null: no peak (scalar has no multiply instruction to time), no repack (a qlinear's weights)
        frac = f"{100 * r['peak_fraction']:.0f} %" if r["peak_gmacs"] else "-"
        peak = f"{r['peak_gmacs']:8.1f}" if r["peak_gmacs"] else f"{'-':>8}"
        repack = f"{r['repack_ms']:8.4f}" if r["repack_ms"] is not None else f"{'-':>8}"
        shape = f"{r['m']}x{r['k']}x{r['n']}"
        lines.append(f"  {shape:16} {r['weights']:7} {r['isa']:11} {r['median_ms']:8.3f} {repack} "
                     f"{r['gmacs']:8.1f} {peak} {frac:>8}")
    vendor = [r for r in rows if "onednn" in r]
    if vendor:
        lines.append(f"oneDNN's int8 matmul on the w8 shapes (torch's onednn.qlinear_pointwise, uint8 out, one core; "
                     f"oneDNN's own time of its kernel, without torch's dispatch), taking {VENDOR_ROUNDS} turns with "
                     "intedge's: medians, and the median of the turns' ratios")
    for r in vendor:
        shape, v = f"{r['m']}x{r['k']}x{r['n']}", r["onednn"]
        if "skipped" in v:
            lines.append(f"  {shape:16} skipped: {v['skipped']}")
            continue
        gmacs = r["m"] * r["k"] * r["n"] / (v["median_ms"] * 1e6)
        of_peak = f"{100 * gmacs / r['peak_gmacs']:.0f} % of the peak" if r["peak_gmacs"] else "no peak"
        verdict = (f"intedge w8 {v['intedge_ms']:.3f} ms, {v['ratio']:.2f}x its time" if v["max_error"] <= 1
                   else f"accuracy broken (off by {v['max_error']:.0f} from a float64 reference): not compared")
        lines.append(f"  {shape:16} {v['kernel']:30} {v['median_ms']:8.3f} ms {gmacs:8.1f} GMAC/s  {of_peak};  "
                     f"{verdict}")
    return "\n".join(lines)
