"""`intedge bench`: intedge against the runtimes a user would pick instead, in
one process, on one machine state.

Every engine gets the same batch-1 input. The engines take turns in blocks of
runs (after warm-up), so a noisy neighbour slows all of them alike,
and the table quotes medians and ratios to ONNX Runtime int8, the usual
on-device baseline. The GEMM micro-benchmark is the `intedge-gemm-bench`
binary (edge_runtime/tools/gemm_bench.cc).
"""

from __future__ import annotations

import json
import math
import shutil
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

from . import peers

ENGINES = ("intedge-w8a8", "intedge-w4a8", "ort-fp32", "ort-int8", "executorch-xnnpack-fp32", "torch-fp32")
BASELINE = "ort-int8"
NONLINEAR_OPS = ("shiftmax", "shiftgelu", "lambda_shiftgelu", "lookup_requant", "ilayernorm")  # lookup_requant: exact GELU
CALIBRATION_INPUTS = 8  # enough for ranges; speed does not depend on them
ROUNDS = 5  # blocks of runs per engine, interleaved


@dataclass(frozen=True)
class BenchModel:
    name: str
    description: str
    build: Callable[[], torch.nn.Module]
    example: Callable[[], tuple[np.ndarray, ...]]  # one batch-1 input
    calibration: Callable[[int], list[tuple[np.ndarray, ...]]]
    conversion: dict = field(default_factory=dict)


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
    return BenchModel("minilm", "all-MiniLM-L6-v2 (6 layers, dim 384), sequence length 128, real weights", z.build,
                      lambda: z.calibration_set(1)[0], z.calibration_set, z.conversion)


MODELS: dict[str, Callable[[], BenchModel]] = {
    "deit-tiny": lambda: BenchModel("deit-tiny", "DeiT-Tiny 224×224 (12 layers, dim 192, 3 heads), random weights",
                                    _deit_tiny, lambda: _images(1, seed=1)[0], _images),
    "minilm": _minilm,
}


@dataclass
class EngineTime:
    engine: str
    median_ms: float
    p90_ms: float


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

    def time_of(self, engine: str) -> EngineTime | None:
        return next((r for r in self.results if r.engine == engine), None)

    def json(self) -> dict:
        return {"model": self.model, "threads": self.threads, "isa": self.isa, "runs": self.runs,
                "results": [{"engine": r.engine, "median_ms": round(r.median_ms, 4), "p90_ms": round(r.p90_ms, 4)}
                            for r in self.results],
                "linear_weight_bytes": self.linear_weight_bytes, "file_bytes": self.file_bytes,
                "nonlinear_share": None if self.nonlinear_share is None else round(self.nonlinear_share, 4),
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


class _Artifacts:
    """Each engine's model file, built once per `intedge bench` and shared by every thread count."""

    def __init__(self, spec: BenchModel, engines: list[str], work: Path, progress: bool, seq: int | None = None):
        from intedge.converters.convert import Converter

        self.model = spec.build()
        self.example = spec.example()
        if seq is not None:  # intedge: one graph of dynamic length (bound: the example's), run at seq; peers at seq
            self.example = tuple(np.ascontiguousarray(x[:, :seq]) for x in self.example)
        self.paths: dict[str, Path] = {}
        self.skipped: dict[str, str] = {}
        self.executorch: bytes | None = None
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
                    onnx = self._peer(engine, spec, work, onnx)
                except MissingExtraError as e:
                    self.skipped[engine] = str(e)

    def _peer(self, engine: str, spec: BenchModel, work: Path, onnx: Path | None) -> Path | None:
        """Prepares a peer engine; returns the ONNX export, made once for both ORT engines."""
        if engine.startswith("ort-"):
            onnx = onnx or peers.export_onnx(self.model, self.example, work / f"{spec.name}.onnx")
            self.paths[engine] = peers.quantize_onnx(onnx) if engine == "ort-int8" else onnx
        elif engine == "executorch-xnnpack-fp32":
            self.executorch = peers.executorch_program(self.model, self.example)
        return onnx

    def runner(self, engine: str, threads: int, isa: str | None) -> Callable[[], object]:
        from intedge.runtime import Session

        if engine.startswith("intedge-"):
            session = Session(self.paths[engine], threads=threads, isa=isa)
            feed = _feed(session, self.example)
            return lambda: session.run(feed)
        if engine.startswith("ort-"):
            return peers.ort_runner(self.paths[engine], self.example, threads)
        if engine == "executorch-xnnpack-fp32":
            return peers.executorch_runner(self.executorch, self.example, threads)
        return peers.torch_runner(self.model, self.example, threads)


def _interleaved(runners: dict[str, Callable[[], object]], runs: int, warmup: int, progress: bool,
                 label: str) -> dict[str, list[float]]:
    """Engines take turns in ROUNDS blocks of runs. Blocks, not single runs, because idle thread pools spin
    for a while after a run (ORT's, XNNPACK's, ours): each block starts with an untimed run, so no engine is
    timed while another's threads still hold the cores."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {engine: [] for engine in runners}
    rounds = min(ROUNDS, runs)
    with tqdm(total=runs * len(runners), desc=label, disable=not progress, leave=False) as bar:
        for k in range(rounds):
            block = runs * (k + 1) // rounds - runs * k // rounds
            for engine, run in runners.items():
                run()
                for _ in range(block):
                    t0 = time.perf_counter()
                    run()
                    times[engine].append((time.perf_counter() - t0) * 1e3)
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
        for n in threads:
            runners = {e: art.runner(e, n, isa) for e in active}
            times = _interleaved(runners, runs, warmup, progress, f"{model}, {n} thread{'s' * (n > 1)}")
            del runners  # drop sessions (and their thread pools) before the next count
            description = spec.description if seq is None else (
                spec.description.replace("sequence length 128", f"sequence length {seq} (intedge: dynamic, bound 128)"))
            result = BenchResult(model, description, n, runs, isa or supported_isas()[-1],
                                 [EngineTime(e, float(np.median(t)), float(np.percentile(t, 90)))
                                  for e, t in times.items()], linear_weight_bytes=dict(weight_bytes),
                                 file_bytes=dict(file_bytes),
                                 skipped=dict(art.skipped))
            if "intedge-w8a8" in art.paths:
                result.nonlinear_share = _nonlinear_share(art.paths["intedge-w8a8"], art.example, n, isa)
            out.append(result)
    return out


def format_table(r: BenchResult) -> str:
    base = r.time_of(BASELINE)
    lines = [f"{r.model}: {r.description}",
             f"batch 1, {r.threads} thread{'s' * (r.threads > 1)}, median of {r.runs} runs in {min(ROUNDS, r.runs)} interleaved blocks; "
             f"intedge kernels: {r.isa}",
             f"  {'engine':26} {'median ms':>10} {'p90 ms':>9} {'vs ' + BASELINE:>12}"]
    for t in r.results:
        ratio = f"{t.median_ms / base.median_ms:.2f}x" if base else "-"
        lines.append(f"  {t.engine:26} {t.median_ms:10.2f} {t.p90_ms:9.2f} {ratio:>12}")
    for engine, why in r.skipped.items():
        lines.append(f"  {engine:26} skipped: {why}")
    w8, w4 = r.time_of("intedge-w8a8"), r.time_of("intedge-w4a8")
    if w8 and w4:
        lw8, lw4 = r.linear_weight_bytes["intedge-w8a8"], r.linear_weight_bytes["intedge-w4a8"]
        f8, f4 = r.file_bytes["intedge-w8a8"], r.file_bytes["intedge-w4a8"]
        lines.append(f"  W4A8 vs W8A8: linear weights {lw4:,} / {lw8:,} bytes = {lw4 / lw8:.3f}; "
                     f"file {f4:,} / {f8:,} = {f4 / f8:.3f}; latency {w4.median_ms / w8.median_ms:.2f}x")
    if r.nonlinear_share is not None:
        lines.append(f"  nonlinear ops (Shiftmax, GELU, LayerNorm): {100 * r.nonlinear_share:.1f} % of "
                     "intedge-w8a8's op time")
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
    peak_fraction)."""
    rows = []
    for w, of_kind in shapes.items():
        cmd = [gemm_binary(), "--weights", w, "--runs", str(runs)] + [a for s in of_kind for a in ("--shape", s)]
        if isa:
            cmd += ["--isa", isa]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"intedge-gemm-bench failed: {done.stderr.strip()}")
        rows += [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return rows


def measured_peak(isa: str | None = None) -> dict:
    """One core's measured int8 peak for isa (default: the best this CPU has): {"isa", "peak_gmacs"}; 0 for
    scalar."""
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
    for r in rows:
        frac = f"{100 * r['peak_fraction']:.0f} %" if r["peak_gmacs"] else "-"
        shape = f"{r['m']}x{r['k']}x{r['n']}"
        repack = f"{r['repack_ms']:8.4f}" if r["weights"].startswith("act") else f"{'-':>8}"
        lines.append(f"  {shape:16} {r['weights']:7} {r['isa']:11} {r['median_ms']:8.3f} {repack} "
                     f"{r['gmacs']:8.1f} {r['peak_gmacs']:8.1f} {frac:>8}")
    return "\n".join(lines)
