"""The reference executor: runs any valid graph with the ops of intedge.integer_ops.

It is the oracle every other executor (the C++ runtime on each ISA, the
exports) is compared against with ==. `kernels="scalar-cpp"` runs the same
walk with the C++ scalar kernels instead, which is how tests check those
kernels on whole graphs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from . import integer_ops as iops
from .integer_ops import shape_ops
from .ir.errors import InvalidGraphError
from .ir.graph import NUMPY_DTYPE, Graph


class ExecutionError(RuntimeError):
    """Bad inputs to run(), or a data-dependent fault (an index out of range)."""


def _kernels(lib, qlinear, qadd, shiftmax) -> dict:
    """The op table over `lib`, a namespace with integer_ops' function names and signatures."""
    return {
        "quantize": lambda g, op, x: lib.quantize_input(x, op.options["inv_scale"], _out_dtype(g, op)),
        "dequantize": lambda g, op, x: lib.dequantize_output(x, op.options["scale"]),
        "requant": lambda g, op, x: lib.requantize(x, op.options["multiplier"], op.options["shift"], _out_dtype(g, op)),
        "qlinear": qlinear,
        "qmatmul": lambda g, op, a, b: lib.qmatmul(a, b, out_dtype=_out_dtype(g, op), **op.options),
        "qadd": lambda g, op, a, b: qadd(a, b, out_dtype=_out_dtype(g, op), **op.options),
        "shiftmax": lambda g, op, x, mask=None: shiftmax(x, mask, **op.options),
        "shiftgelu": lambda g, op, x: lib.shiftgelu(x, **op.options),
        "lambda_shiftgelu": lambda g, op, x: lib.lambda_shiftgelu(x, **op.options),
        "ilayernorm": lambda g, op, x: lib.ilayernorm(x, out_dtype=_out_dtype(g, op), **op.options),
        "meanpool": lambda g, op, x: lib.meanpool(x, out_dtype=_out_dtype(g, op), **op.options),
        "gather": lambda g, op, table, idx: lib.gather(table, idx),
        "argmax": lambda g, op, x: lib.argmax(x, op.options["axis"]),
        "upsample_nearest": lambda g, op, x: lib.upsample_nearest(x, *_upsample_factors(g, op)),
    } | _SHAPE_KERNELS


def _numpy_kernels():
    lib = SimpleNamespace(**vars(iops), gather=shape_ops.gather, argmax=shape_ops.argmax, upsample_nearest=shape_ops.upsample_nearest)
    return _kernels(lib, _qlinear_numpy, iops.qadd, lambda x, mask, **o: iops.shiftmax(x, mask=mask, **o))


def _cpp_kernels():
    from intedge import _runtime

    k = _runtime.kernels

    def qadd(a, b, **o):  # the kernel takes equal shapes; broadcasting is the executor's job
        return k.qadd(a, np.broadcast_to(b, a.shape), **o)

    def shiftmax(x, mask, **o):
        keep = None if mask is None else np.broadcast_to(mask != 0, x.shape).astype(np.uint8)
        return k.shiftmax(x, keep=keep, **o)

    return _kernels(k, _qlinear_cpp, qadd, shiftmax)


# Data movement: the same numpy code under both kernel sets.
_SHAPE_KERNELS = {
    "reshape": lambda g, op, x: shape_ops.reshape(x, g.tensors[op.outputs[0]].shape),
    "transpose": lambda g, op, x: shape_ops.transpose(x, op.options["perm"]),
    "concat": lambda g, op, *xs: shape_ops.concat(xs, op.options["axis"]),
    "slice": lambda g, op, x: shape_ops.slice_axis(x, **op.options),
}


def _out_dtype(g: Graph, op) -> str:
    return g.tensors[op.outputs[0]].dtype


def _upsample_factors(g: Graph, op) -> tuple[int, int]:
    i, o = g.tensors[op.inputs[0]].shape, g.tensors[op.outputs[0]].shape
    return o[-2] // i[-2], o[-1] // i[-1]


def _qlinear_numpy(g, op, x, w, bias=None, group_scales=None):
    if g.tensors[op.inputs[1]].dtype == "int4":
        w = iops.expand_int4(w, group_scales, op.options["group_size"])
    return iops.qlinear(x, w, bias, op.options["multiplier"], op.options["shift"], _out_dtype(g, op))


def _qlinear_cpp(g, op, x, w, bias=None, group_scales=None):
    from intedge import _runtime

    k, o = _runtime.kernels, op.options
    if g.tensors[op.inputs[1]].dtype == "int4":
        packed = iops.pack_int4(w)
        return k.qlinear_w4(x, packed, group_scales, o["group_size"], bias, o["multiplier"], o["shift"], _out_dtype(g, op))
    return k.qlinear(x, w, bias, o["multiplier"], o["shift"], _out_dtype(g, op))


_KERNEL_SETS = {"numpy": _numpy_kernels, "scalar-cpp": _cpp_kernels}


def numpy_kernels() -> dict:
    """The spec's op table; its functions take numpy arrays or torch int tensors alike (the QAT twin's use)."""
    return _numpy_kernels()


def execute(graph: Graph, values: dict, table: dict, op_indices) -> None:
    """Run graph.ops[k] for k in op_indices, reading and writing values {tensor id: array}."""
    for k in op_indices:
        op = graph.ops[k]
        args = [values[i] if i != -1 else None for i in op.inputs]
        try:
            out = table[op.kind](graph, op, *args)
        except IndexError as e:
            raise ExecutionError(f"op {k} ({op.name or op.kind}): {e}") from None
        expected = graph.tensors[op.outputs[0]]
        if str(out.dtype).removeprefix("torch.") != NUMPY_DTYPE[expected.dtype].name or tuple(out.shape) != expected.shape:
            raise InvalidGraphError(f"op {k} ({op.kind}) produced {out.dtype}{list(out.shape)}, declared {expected.dtype}{list(expected.shape)}")
        values[op.outputs[0]] = out


def run(graph: Graph, inputs: dict[str, np.ndarray], kernels: str = "numpy", keep_intermediates: bool = False):
    """Run `graph` on named inputs; returns {output name: array}.

    inputs must match each graph input's dtype and shape exactly (no silent
    casts: a float image for an int8 input is a caller's bug worth hearing
    about). With keep_intermediates, every tensor's value is returned.
    """
    if kernels not in _KERNEL_SETS:
        raise ValueError(f"kernels must be one of {sorted(_KERNEL_SETS)}, got {kernels!r}")
    table = _KERNEL_SETS[kernels]()
    values: dict[int, np.ndarray] = {i: t.data for i, t in enumerate(graph.tensors) if t.is_constant}
    names = {graph.tensors[i].name: i for i in graph.inputs}
    missing = sorted(set(names) - set(inputs))
    unknown = sorted(set(inputs) - set(names))
    if missing or unknown:
        raise ExecutionError(f"inputs: missing {missing}, unexpected {unknown}")
    for name, tid in names.items():
        t, x = graph.tensors[tid], np.asarray(inputs[name])
        if x.dtype != NUMPY_DTYPE[t.dtype] or tuple(x.shape) != t.shape:
            raise ExecutionError(f"input {name!r}: expected {t.dtype}{list(t.shape)}, got {x.dtype}{list(x.shape)}")
        values[tid] = x
    execute(graph, values, table, range(len(graph.ops)))
    if keep_intermediates:
        return {graph.tensors[i].name: v for i, v in values.items()}
    return {graph.tensors[i].name: values[i] for i in graph.outputs}
