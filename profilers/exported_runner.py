"""intedge-bench's twin for exported artifacts: times a .pte, .tflite or .onnx in its own runtime's
Python API (ExecuTorch, LiteRT, ONNX Runtime) and prints the same JSON as intedge-bench, so
`intedge profile` reports and compares them alike. It runs as a process of its own, so that peak
RSS and page faults are the runtime's (plus the interpreter's, which the report says).

    python -m intedge.profilers.exported_runner model.tflite --runs 50 --warmup 5 --threads 1 [--progress]

Inputs are synthetic as in intedge-bench: floats uniform in [-1, 1], int8/uint8 all 1, other integers 0.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

# suffix → (module, distribution): what runs it
EXPORTED_SUFFIXES = {".pte": ("executorch.runtime", "executorch"), ".tflite": ("ai_edge_litert", "ai-edge-litert"),
                     ".onnx": ("onnxruntime", "onnxruntime")}


def _inputs(specs) -> list[np.ndarray]:
    rng = np.random.default_rng(12345)
    out = []
    for dtype, shape in specs:
        if dtype.kind == "f":
            out.append(rng.uniform(-1, 1, shape).astype(dtype))
        else:
            out.append(np.full(shape, 1 if dtype.itemsize == 1 else 0, dtype))
    return out


def _progress(on: bool, phase: str, fraction: float, last: list[float]) -> None:
    now = time.perf_counter()
    if on and (fraction >= 1 or now - last[0] > 0.2):
        last[0] = now
        print(f"progress {phase} {min(fraction, 1.0):.3f}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m intedge.profilers.exported_runner", description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    from intedge import exporters

    run = exporters.load(args.model, threads=args.threads)
    inputs = _inputs(exporters.input_specs(args.model))
    last = [0.0]
    for r in range(args.warmup):
        _progress(args.progress, "warmup", r / args.warmup, last)
        run(inputs)
    ms = []
    for r in range(args.runs):
        _progress(args.progress, "run", r / args.runs, last)
        t0 = time.perf_counter()
        run(inputs)
        ms.append((time.perf_counter() - t0) * 1e3)
    _progress(args.progress, "run", 1.0, last)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    runtime = EXPORTED_SUFFIXES[Path(args.model).suffix][1]
    print(json.dumps({
        "schema": "intedge-bench/2", "model": args.model, "isa": f"{runtime} {importlib.metadata.version(runtime)}",
        "threads": args.threads, "warmup": args.warmup, "runs": args.runs,
        "latency_ms": {"median": float(np.median(ms)), "p90": float(np.percentile(ms, 90)),
                       "p99": float(np.percentile(ms, 99)), "min": min(ms), "max": max(ms),
                       "mean": float(np.mean(ms)), "stdev": float(np.std(ms)), "samples": ms},
        "memory": {"model_file_bytes": Path(args.model).stat().st_size, "mapped_weight_bytes": None,
                   "packed_weight_bytes": None, "arena_bytes": None, "peak_rss_bytes": usage.ru_maxrss * 1024,
                   "minor_page_faults": usage.ru_minflt, "major_page_faults": usage.ru_majflt},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
