"""The runtimes our users would pick instead of intedge, each wrapped as a
ready-to-call function on one fixed batch: ONNX Runtime (fp32 and
quantize_dynamic int8), ExecuTorch with XNNPACK (fp32, pt2e static int8,
8da4w), LiteRT (litert-torch + ai-edge-quantizer: dynamic and static int8),
and eager PyTorch. `intedge bench` times them beside intedge; `intedge eval`
scores ORT int8; `predict` runs any of them over a test set for scoring.
"""

from __future__ import annotations

import contextlib
import copy
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
    a loaded program crashes), so each thread count gets its own load, and the pool is resized only when its
    size changes: a second program loaded at the same count leaves the first one's pool alone."""
    with quiet():
        from executorch.extension.pybindings import portable_lib

        if portable_lib._threadpool_get_thread_count() != threads:
            portable_lib._unsafe_reset_threadpool(threads)
        module = portable_lib._load_for_executorch_from_buffer(program)
    args = tuple(torch.from_numpy(x) for x in example)

    def run(keep=program):  # the loaded module reads `program` in place: the bytes must live as long as it
        return module.forward(args)

    return run


EXECUTORCH_INT8 = ("static-int8", "8da4w")
LITERT_INT8 = ("dynamic-int8", "static-int8")
INT4_GROUP = 32  # 8da4w's weight group: XNNPACK's blockwise int4 kernels take multiples of 32
_LITERT_SIGNATURE = "serving_default"  # litert-torch's default signature; its inputs are args_0, args_1, ...


def _dense(inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Copies with ordinary strides: numpy gives an axis added by x[None] stride 0, which torch.export
    records on the placeholder and ExecuTorch's memory planning then refuses ("0 in strides is not
    supported"). The zoo's calibration and test inputs are built that way."""
    return tuple(x.copy() for x in inputs)


def _check_scheme(peer: str, scheme: str, schemes: tuple[str, ...]) -> None:
    if scheme not in schemes:
        raise ValueError(f"{peer} int8 scheme {scheme!r}: expected one of {', '.join(schemes)}")


def _integer_scalars(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """XNNPACKQuantizer turns the scalar of every add and mul into a float32 constant, in integer index
    arithmetic too (transformers' attention mask: arange + 0), whose result then fails as an index
    ("tensors used as indices must be long"). Give such a constant its integer users' dtype back."""
    for node in graph.graph.nodes:
        if node.op != "get_attr":
            continue
        owner, _, name = node.target.rpartition(".")
        module = graph.get_submodule(owner)
        value = getattr(module, name)
        dtypes = {user.meta["val"].dtype for user in node.users if isinstance(user.meta.get("val"), torch.Tensor)}
        if value.dim() == 0 and value.is_floating_point() and len(dtypes) == 1 and not next(iter(dtypes)).is_floating_point:
            setattr(module, name, value.to(dtypes.pop()))
    return graph


def executorch_int8_program(model: torch.nn.Module, example: tuple[np.ndarray, ...],
                            calibration: list[tuple[np.ndarray, ...]], scheme: str) -> bytes:
    """The model quantized the way ExecuTorch documents for XNNPACK, lowered as executorch_program does.

    "static-int8": pt2e with XNNPACKQuantizer's symmetric per-channel config, activation ranges from the
    calibration inputs (weights and activations int8). "8da4w": torchao's int8 dynamic activations with
    int4 weights in groups of INT4_GROUP, the recipe of executorch's LLM export; it needs no calibration,
    and a Linear whose input width is not a multiple of the group stays fp32.
    """
    _check_scheme("ExecuTorch", scheme, EXECUTORCH_INT8)
    require("executorch", "peers", f"ExecuTorch {scheme}")
    example = _dense(example)
    with quiet():
        if scheme == "static-int8":
            from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
                XNNPACKQuantizer,
                get_symmetric_quantization_config,
            )
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

            quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
            graph = torch.export.export(model, tuple(torch.from_numpy(x) for x in example)).module()
            prepared = _integer_scalars(prepare_pt2e(graph, quantizer))
            with torch.no_grad():
                for item in calibration:
                    prepared(*(torch.from_numpy(x) for x in item))
            quantized = convert_pt2e(prepared)
        else:
            from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
            from torchao.quantization.granularity import PerGroup

            quantized = copy.deepcopy(model)  # quantize_ swaps the weights in place
            config = Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                           weight_granularity=PerGroup(INT4_GROUP))
            quantize_(quantized, config, filter_fn=lambda m, _: isinstance(m, torch.nn.Linear)
                      and m.in_features % INT4_GROUP == 0)
    return executorch_program(quantized, example)


def litert_int8_model(model: torch.nn.Module, example: tuple[np.ndarray, ...],
                      calibration: list[tuple[np.ndarray, ...]], scheme: str) -> bytes:
    """The model converted by litert-torch (no TensorFlow) and quantized by ai-edge-quantizer: a .tflite's bytes.

    "dynamic-int8": int8 per-channel weights on every op the quantizer supports, activations quantized per
    run. "static-int8": int8 weights and int8 activations on the fully connected layers only, with ranges
    from the calibration inputs; the rest (LayerNorm, softmax, GELU, attention's matmuls) stays fp32, as
    the quantizer's whole-model recipe makes the model's input and output int8 and, on transformers,
    costs accuracy that a user would not ship.
    """
    _check_scheme("LiteRT", scheme, LITERT_INT8)
    with quiet():  # importing litert-torch loads torchao, whose CUDA kernels fail to load on a CPU build, loudly
        litert_torch = require("litert_torch", "litert", f"LiteRT {scheme}")
        require("ai_edge_quantizer", "litert", f"LiteRT {scheme}")
        from ai_edge_quantizer import quantizer, recipe

        litert_torch.config.show_progress = False  # its progress bars go to stdout, which quiet() leaves alone
        float_model = litert_torch.convert(model.eval(), tuple(torch.from_numpy(x) for x in _dense(example)))
        q = quantizer.Quantizer(float_model.model_content())
        if scheme == "dynamic-int8":
            q.load_quantization_recipe(recipe.dynamic_wi8_afp32())
            ranges = None
        else:
            q.add_static_config(".*", recipe.TFLOperationName.FULLY_CONNECTED, activation_num_bits=8,
                                weight_num_bits=8)
            _, feed = _litert_signature(float_model.model_content(), threads=1)
            ranges = q.calibrate({_LITERT_SIGNATURE: [feed(item) for item in calibration]}, num_threads=1)
        return bytes(q.quantize(ranges, enable_progress_report=False).quantized_model)


def _litert_signature(model: bytes, threads: int):
    """The .tflite's default signature in LiteRT's interpreter (XNNPACK delegate, the default) on `threads`
    threads, and what turns batch-1 inputs into its feed: cast to the model's input types, as litert-torch
    turns int64 token ids into int32 and the interpreter refuses the mismatch."""
    interpreter_lib = require("ai_edge_litert.interpreter", "peers", "LiteRT")
    with quiet():
        runner = interpreter_lib.Interpreter(model_content=model, num_threads=threads).get_signature_runner(
            _LITERT_SIGNATURE)
    types = {name: detail["dtype"] for name, detail in runner.get_input_details().items()}

    def feed(inputs: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
        return {f"args_{k}": x.astype(types[f"args_{k}"], copy=False) for k, x in enumerate(inputs)}

    return runner, feed


def litert_runner(model: bytes, example: tuple[np.ndarray, ...], threads: int) -> Callable[[], object]:
    """A .tflite in LiteRT's interpreter; its outputs as a list, in the model's order."""
    runner, feed = _litert_signature(model, threads)
    inputs = feed(example)

    def run():
        outputs = runner(**inputs)
        return [outputs[f"output_{k}"] for k in range(len(outputs))]

    return run


def predict(runner: Callable[[tuple[np.ndarray, ...]], Callable[[], object]],
            inputs: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """A peer's first output on each batch-1 input, stacked, for a zoo model's `evaluate`.

    runner builds the peer's ready-to-call function for one input, e.g.
    functools.partial(executorch_runner, program, threads=1). The peers are built for one fixed shape, so
    each input gets its own runner: a program or interpreter load per input, milliseconds.
    """
    outputs = []
    for item in inputs:
        out = runner(item)()
        first = torch.as_tensor(out if isinstance(out, torch.Tensor) else out[0])
        outputs.append(first.detach().numpy().copy())  # a copy: ExecuTorch's outputs live in its planned memory
    return np.concatenate(outputs)
