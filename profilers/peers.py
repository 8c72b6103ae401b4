"""The runtimes our users would pick instead of intedge, each wrapped as a
ready-to-call function on one fixed batch: ONNX Runtime (fp32 and
quantize_dynamic int8), ExecuTorch with XNNPACK, and eager PyTorch.
`intedge bench` times them beside intedge; `intedge eval` scores ORT int8.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from intedge.extras import require


@contextlib.contextmanager
def quiet():
    """Silence the peers' advice (torch.onnx, the ORT quantizer, ExecuTorch's C++ logs on fd 2): noise in
    a results table. Errors still raise."""
    logging.disable(logging.WARNING)
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        logging.disable(logging.NOTSET)


def input_names(count: int) -> list[str]:
    return [f"input{k}" for k in range(count)]


def export_onnx(model: torch.nn.Module, example: tuple[np.ndarray, ...], path: Path) -> Path:
    """The model as ONNX at path: torch.onnx's dynamo exporter, or its TorchScript exporter where the dynamo
    one fails (it cannot lower transformers' Swin, whose reshapes of transposed windows it rejects)."""
    for module in ("onnx", "onnxscript"):
        require(module, "peers", "the ONNX export")
    with quiet():
        args = tuple(torch.from_numpy(x) for x in example)
        try:
            torch.onnx.export(model, args, str(path), input_names=input_names(len(args)), dynamo=True, verbose=False)
        except Exception:  # noqa: BLE001 - the dynamo exporter raises many kinds; the fallback is the check
            torch.onnx.export(model, args, str(path), input_names=input_names(len(args)), dynamo=False)
    return path


def require_ort(feature: str) -> None:
    """What the ONNX Runtime peers need (the export and the runtime), checked up front."""
    for module in ("onnx", "onnxscript", "onnxruntime"):
        require(module, "peers", feature)


def quantize_onnx(path: Path) -> Path:
    """ORT's quantize_dynamic of an ONNX model (QInt8 weights, activations quantized per run), written
    beside it as *.int8.onnx."""
    require("onnxruntime", "peers", "ONNX Runtime int8")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = path.with_suffix(".int8.onnx")
    with quiet():
        quantize_dynamic(str(path), str(int8), weight_type=QuantType.QInt8)
    return int8


def ort_session(path: Path, threads: int | None = None):
    ort = require("onnxruntime", "peers", "ONNX Runtime")

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_runner(path: Path, example: tuple[np.ndarray, ...], threads: int) -> Callable[[], object]:
    session = ort_session(path, threads)
    feed = dict(zip(input_names(len(example)), example))
    return lambda: session.run(None, feed)


def torch_runner(model: torch.nn.Module, example: tuple[np.ndarray, ...], threads: int) -> Callable[[], object]:
    """Eager PyTorch fp32. torch's intra-op thread count is process-wide: the caller sets it per round."""
    args = tuple(torch.from_numpy(x) for x in example)

    def run():
        torch.set_num_threads(threads)
        with torch.no_grad():
            return model(*args)

    return run


def executorch_program(model: torch.nn.Module, example: tuple[np.ndarray, ...]) -> bytes:
    """The model lowered to ExecuTorch with every supported op delegated to XNNPACK (fp32): a .pte's bytes."""
    with quiet():
        require("executorch", "peers", "ExecuTorch")
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        exported = torch.export.export(model, tuple(torch.from_numpy(x) for x in example))
        return to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch().buffer


def executorch_runner(program: bytes, example: tuple[np.ndarray, ...], threads: int) -> Callable[[], object]:
    """XNNPACK's thread pool is process-wide and must be sized before the program loads (resizing it under
    a loaded program crashes), so each thread count gets its own load."""
    with quiet():
        from executorch.extension.pybindings import portable_lib

        portable_lib._unsafe_reset_threadpool(threads)
        module = portable_lib._load_for_executorch_from_buffer(program)
    args = tuple(torch.from_numpy(x) for x in example)
    return lambda: module.forward(args)
