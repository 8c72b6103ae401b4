"""oneDNN's int8 matmul: the GEMM micro-benchmark's vendor reference (issue 19).

torch's CPU build carries oneDNN, and its int8 linear (`onednn::qlinear_pointwise` on weights packed
once by `qlinear_prepack`, what torch's x86 quantization lowers a linear layer to) picks oneDNN's best
kernel for the CPU: brgemm on AMX tiles where the kernel grants them, AVX-512 VNNI or AVX2 otherwise.
It does the work intedge's w8 GEMM does: uint8 rows, int8 weights with a scale a column, int32 sums
and a bias, requantized to 8 bits. So "x % of the peak" can be read beside what Intel's own library
reaches on the same core in the same run.

oneDNN times each primitive itself (ONEDNN_VERBOSE's exec_time, ms): that is the time quoted, not the
Python call's, which adds tens of µs of torch dispatch a call. The weights' reorder into oneDNN's
layout runs once, in the prepack, not in the timed calls (its verbose lines say so). A child process
runs the calls, because oneDNN reads ONEDNN_VERBOSE once, when it starts. Its outputs are checked
against a float64 reference of the same requant (off by at most 1 where its rounding differs), so a
broken peer is not counted. oneDNN picks the CPU's best ISA itself.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

_WARMUP = 10
_ERRORS = "intedge-onednn-errors: "  # marks the child's own line among oneDNN's


def parse_exec_times(verbose: str) -> dict[str, tuple[str, list[float]]]:
    """ONEDNN_VERBOSE's matmul exec lines → {problem ("MxK:KxN"): (kernel, [ms, ...])}."""
    found: dict[str, tuple[str, list[float]]] = {}
    for line in verbose.splitlines():
        f = line.split(",")
        # onednn_verbose,v1,primitive,exec,cpu,matmul,<kernel>,<prop>,<memory>,<attrs>,<aux>,<problem>,<ms>
        if len(f) >= 13 and f[0] == "onednn_verbose" and f[2:4] == ["primitive", "exec"] and f[5] == "matmul":
            found.setdefault(f[-2], (f[6], []))[1].append(float(f[-1]))
    return found


def _child(shapes: list[tuple[int, int, int]], runs: int) -> None:
    """Runs each shape's int8 linear _WARMUP + runs times (ONEDNN_VERBOSE set by the parent, so oneDNN
    prints its times) and prints, marked _ERRORS, each shape's largest error against float64."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    errors = {}
    for m, k, n in shapes:
        x = torch.randint(0, 256, (m, k), dtype=torch.uint8)
        w = torch.randint(-127, 128, (n, k), dtype=torch.int8)
        x_scale, w_scale, bias = 0.02, torch.rand(n) * 0.01 + 0.001, torch.randn(n) * 10
        exact = (x.double() @ w.double().t()) * x_scale * w_scale.double() + bias.double()
        out_scale = float(exact.std()) / 40  # outputs spread over uint8 around a zero point of 128, few saturated
        args = (x, x_scale, 0, torch.ops.onednn.qlinear_prepack(w, [m, k]), w_scale,
                torch.zeros(n, dtype=torch.long), bias, out_scale, 128, torch.uint8, "none", [], "")
        for _ in range(_WARMUP + runs):
            y = torch.ops.onednn.qlinear_pointwise(*args)
        expected = torch.clamp(torch.round(exact / out_scale) + 128, 0, 255)
        errors[f"{m}x{k}:{k}x{n}"] = float((y.double() - expected).abs().max())
    print(_ERRORS + json.dumps(errors), flush=True)


def gemm_times(shapes: list[tuple[int, int, int]], runs: int) -> dict[str, dict] | str:
    """Per shape "MxKxN": {"median_ms", "kernel", "max_error"} of oneDNN's int8 matmul on one core, or a
    string saying why there is none (no torch, a torch without oneDNN, no times printed)."""
    try:
        import torch
    except ImportError:
        return "no torch here (the 'torch' extra)"
    if not torch.backends.mkldnn.is_available():
        return "this torch has no oneDNN"
    code = f"from {__name__} import _child; _child({shapes!r}, {runs})"
    # A timestamp field, if the caller's environment asks for one, would shift the fields parsed.
    env = os.environ | {"ONEDNN_VERBOSE": "1", "ONEDNN_VERBOSE_TIMESTAMP": "0", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        said = done.stderr.strip().splitlines()
        return f"the oneDNN run failed: {said[-1] if said else f'exit status {done.returncode}'}"
    said = [line[len(_ERRORS):] for line in done.stdout.splitlines() if line.startswith(_ERRORS)]
    if not said:
        return "the oneDNN run printed no check of its outputs"
    errors, times = json.loads(said[-1]), parse_exec_times(done.stdout)
    out = {}
    for m, k, n in shapes:
        problem = f"{m}x{k}:{k}x{n}"
        kernel, ms = times.get(problem, ("", []))
        if len(ms) != _WARMUP + runs:  # each call one matmul: else the times are not the calls'
            return f"oneDNN printed {len(ms)} matmul times for {problem}, not the {_WARMUP + runs} calls'"
        out[f"{m}x{k}x{n}"] = {"median_ms": statistics.median(ms[_WARMUP:]), "kernel": kernel,
                                "max_error": errors[problem]}
    return out
