"""The reference executor: runs any valid graph with the ops of intedge.integer_ops.

It is the oracle every other executor (the C++ runtime on each ISA, the
exports) is compared against with ==. Which function computes an op, and
with which arguments, is the op's `reference` call in the op spec
(intedge/ir/opspec.py); this module only walks the graph. A kernel set is
the namespace those calls resolve in: "numpy" is integer_ops itself (whose
functions take torch int tensors too, the QAT twin's use), and
"scalar-cpp" the C++ scalar kernels with the same signatures, which is how
tests check those kernels on whole graphs.
"""

from __future__ import annotations

import numpy as np

from . import integer_ops as iops
from .integer_ops import shape_ops
from .ir.errors import InvalidGraphError
from .ir.graph import NUMPY_DTYPE, Graph
from .ir.opspec import BY_KIND
from .ir.spec_lang import Dims, fmt
from .ir.validate import op_names


class ExecutionError(RuntimeError):
    """Bad inputs to run(), or a data-dependent fault (an index out of range)."""


def check_input_names(names: list[str], inputs: dict) -> None:
    """Refuse inputs whose names are not the graph's, saying which are missing and which are not its."""
    missing, unknown = sorted(set(names) - set(inputs)), sorted(set(inputs) - set(names))
    problems = ([f"missing {missing}"] if missing else []) + ([f"not the graph's {unknown}"] if unknown else [])
    if problems:
        raise ExecutionError(f"inputs: {', '.join(problems)} (the graph takes {names})")


def check_inputs(graph: Graph, inputs: dict) -> None:
    """Refuse inputs whose names, dtypes or shapes are not a static graph's (no silent casts)."""
    names = {graph.tensors[i].name: i for i in graph.inputs}
    check_input_names(list(names), inputs)
    for name, tid in names.items():
        t, x = graph.tensors[tid], np.asarray(inputs[name])
        if x.dtype != NUMPY_DTYPE[t.dtype] or tuple(x.shape) != t.shape:
            raise ExecutionError(f"input {name!r}: expected {t.dtype}{list(t.shape)}, got {x.dtype}{list(x.shape)}")


def _numpy_kernels() -> dict:
    return vars(iops) | vars(shape_ops)


def _cpp_kernels() -> dict:
    """The C++ scalar kernels, adapted where the spec's call passes what the kernel takes otherwise."""
    from intedge import _runtime

    k = _runtime.kernels

    def qlinear(x, weight, bias, multiplier, shift, out_dtype, group_scales=None, group_size=0, head_dim=0):
        if group_scales is not None:
            y = k.qlinear_w4(x, iops.pack_int4(weight), group_scales, group_size, bias, multiplier, shift, out_dtype)
        else:
            y = k.qlinear(x, weight, bias, multiplier, shift, out_dtype)
        return shape_ops.split_heads(y, head_dim)

    def broadcasting_b(kernel):  # qadd's and int_binary's kernels take equal shapes: b is broadcast here
        return lambda a, b, *args: kernel(a, np.broadcast_to(b, a.shape), *args)

    def shiftmax(x, multiplier, shift, mask=None):
        keep = None if mask is None else np.broadcast_to(mask != 0, x.shape).astype(np.uint8)
        return k.shiftmax(x, multiplier, shift, keep=keep)

    def upsample_nearest(x, shape):
        return k.upsample_nearest(x, *shape_ops.upsample_factors(x, shape))

    # The rest by name: their arguments are the spec's (rope, swiglu and cached_attention too, the last writing
    # the state arrays it is given in place, as the numpy one does).
    kernels = {name: getattr(k, name) for name in dir(k) if not name.startswith("_")}
    return vars(shape_ops) | kernels | {"qlinear": qlinear, "qadd": broadcasting_b(k.qadd),
                                        "int_binary": broadcasting_b(k.int_binary), "shiftmax": shiftmax,
                                        "upsample_nearest": upsample_nearest}


_KERNEL_SETS = {"numpy": _numpy_kernels, "scalar-cpp": _cpp_kernels}


def numpy_kernels() -> dict:
    """The spec's kernel set; its functions take numpy arrays or torch int tensors alike (the QAT twin's use)."""
    return _numpy_kernels()


class _Output:
    """What a reference call sees of an output: its declared dtype and shape."""

    def __init__(self, t):
        self.dtype, self.shape = t.dtype, Dims(t.shape)


def execute(graph: Graph, values: dict, kernels: dict, op_indices) -> None:
    """Run graph.ops[k] for k in op_indices, reading and writing values {tensor id: array}."""
    for k in op_indices:
        op = graph.ops[k]
        spec = BY_KIND[op.kind]
        names = kernels | op_names(graph, op, spec, values.__getitem__, lambda tid: _Output(graph.tensors[tid]),
                                   absent=None)
        try:
            if spec.output.many > 1:
                outs = [spec.reference_call.call(names | {"i": i}) for i in range(len(op.outputs))]
            else:
                outs = [spec.reference_call.call(names)]
        except IndexError as e:  # a data-dependent index out of range (gather, rope, the cache's positions)
            raise ExecutionError(f"op {k} ({op.name or op.kind}): {e}") from None
        for tid, out in zip(op.outputs, outs):
            expected = graph.tensors[tid]
            if str(out.dtype).removeprefix("torch.") != NUMPY_DTYPE[expected.dtype].name or tuple(out.shape) != expected.shape:
                raise InvalidGraphError(f"op {k} ({op.kind}) produced {out.dtype}{list(out.shape)}, declared {expected.dtype}{list(expected.shape)}")
            values[tid] = out


def new_state(graph: Graph) -> dict[str, np.ndarray]:
    """Zeros for each state tensor of the graph, by name: what a session starts with."""
    return {graph.tensors[i].name: np.zeros(graph.tensors[i].shape, NUMPY_DTYPE[graph.tensors[i].dtype])
            for i in graph.state_tensors()}


def run(graph: Graph, inputs: dict[str, np.ndarray], kernels: str = "numpy", keep_intermediates: bool = False,
        check_finite: bool = True, state: dict[str, np.ndarray] | None = None):
    """Run `graph` on named inputs; returns {output name: array}.

    inputs must match each graph input's dtype and shape exactly (no silent
    casts: a float image for an int8 input is a caller's bug worth hearing
    about). check_finite refuses float inputs holding NaN or ±inf, as the
    engine does; without it NaN quantizes to 0 and ±inf saturates. A graph
    with a dynamic dimension runs at the length its inputs carry (1 to its
    bound): Graph.at_length. With
    keep_intermediates, every tensor's value is returned. state: the
    graph's state tensors by name (new_state(graph)), which the run
    updates in place, as a session keeps them from run to run; None runs
    from zeros and forgets them.
    """
    if kernels not in _KERNEL_SETS:
        raise ValueError(f"kernels must be one of {sorted(_KERNEL_SETS)}, got {kernels!r}")
    table = _KERNEL_SETS[kernels]()
    values: dict[int, np.ndarray] = {i: t.data for i, t in enumerate(graph.tensors) if t.is_constant}
    names = {graph.tensors[i].name: i for i in graph.inputs}
    check_input_names(list(names), inputs)
    if graph.dynamic is not None:  # run the static graph of the inputs' length
        try:
            s = graph.length_of({tid: np.shape(inputs[name]) for name, tid in names.items()})
        except ValueError as e:
            raise ExecutionError(str(e)) from None
        dim = graph.dynamic[0]
        graph = graph.at_length(s)
        try:  # the rules hold at the bound and at length 1, not always between (a broadcast): as the engine, check
            graph.validate()
        except InvalidGraphError as e:
            raise ExecutionError(f"at {dim} = {s}: {e}") from None
        values = {i: t.data for i, t in enumerate(graph.tensors) if t.is_constant}
    check_inputs(graph, inputs)
    state = new_state(graph) if state is None else state
    for tid in graph.state_tensors():
        values[tid] = state[graph.tensors[tid].name]
    for name, tid in names.items():
        x = np.asarray(inputs[name])
        if check_finite and x.dtype.kind == "f" and not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x.reshape(-1)))[0])
            raise ExecutionError(f"input '{name}': element {bad} is {fmt(x.reshape(-1)[bad])} (refused: check_finite is on)")
        values[tid] = x
    execute(graph, values, table, range(len(graph.ops)))
    if keep_intermediates:
        return {graph.tensors[i].name: v for i, v in values.items()}
    return {graph.tensors[i].name: values[i] for i in graph.outputs}


__all__ = ["ExecutionError", "check_inputs", "execute", "new_state", "numpy_kernels", "run"]
