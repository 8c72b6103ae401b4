"""`.onnx`: the traced spec (torch_program.py) translated op by op into ONNX nodes.

The program is a flat list of integer ATen ops whose integers are the
spec's by construction; each becomes the ONNX nodes below, chosen so that
ONNX Runtime computes the same integers for every input (opset 21, default
providers and graph optimizations). Going through torch's own ONNX exporter
is no option: it lowers floor division through float32, inexact past 2^24.

Export-time work, so the runtime does none:
* every node whose inputs are all constants (weights transposed and cast,
  int4 weights expanded to q4 · group scale, activation tables, Shiftmax
  and GELU constants) is evaluated by torch on the program's own constants
  and stored as an initializer — torch's result is the program's result;
  one of more than 16 integers is stored in the narrowest integer type that
  holds its values, behind a Cast that ONNX Runtime folds when it loads;
* an integer cast that widens is deferred: the ONNX tensor keeps its narrow
  integers and the layout ops (Reshape, Transpose, Expand, Slice, Concat,
  Gather) move them as they are; the Cast is emitted only for an op that
  computes. So the spec's int32 matmul of int8/uint8 operands widened to
  int32 becomes MatMulInteger on the int8/uint8 tensors (exact: the same
  int32 sums, which a valid graph keeps in range), and int32 stays int32.
  An int8 left operand goes in as uint8 a + 128 (its top bit flipped, then
  a wrapping Cast) with zero point 128: MatMulInteger subtracts it again in
  its int32 sums, and ONNX Runtime runs uint8 × int8 about 10× faster than
  int8 × int8.

ATen op → ONNX, where it is not one node of the same meaning:
* `bitwise_right_shift` (arithmetic, on signed integers) — ONNX BitShift is
  unsigned only. With b bits, u = x + 2^(b−1) (x reinterpreted as unsigned
  with its top bit flipped) lies in [0, 2^b), and 2^(b−1) is a multiple of
  2^s, so ⌊x / 2^s⌋ = (u >> s) − (2^(b−1) >> s): both shifts and the
  subtraction are on unsigned integers, where ONNX Runtime wraps by
  definition, and the difference fits the signed type. A shift outside
  [0, b) acts as b − 1 (a sign fill), as torch's does.
* `bitwise_left_shift`: BitShift LEFT of x reinterpreted as unsigned,
  reinterpreted back (two's complement, no overflow to go wrong); a shift
  outside [0, b) gives 0, as torch's does.
* `div` with rounding_mode="floor" — integer Div truncates toward zero.
  With q = Div(a, b) and r = a − q·b (exact: |q·b| ≤ |a|), the floor is q − 1
  exactly when r ≠ 0 and r's sign differs from b's, i.e. when r · sign(b) < 0
  (|r| < |b|, so no overflow); for a positive constant divisor, when r < 0.
  Division by 0 and of the minimum integer by −1 are undefined, as in C;
  the spec does neither (its divisors are max(·, 1) or positive constants).
* `mm`/`bmm` of widened int8/uint8 operands: MatMulInteger (above); other
  integer matmuls: MatMul in the program's dtype.
* `index` (gather, the only indexing the spec traces): Gather, which
  refuses an index out of range as the spec's gather does.
* `ne`: Not(Equal); `clamp`: Clip; `amax`/`sum`: ReduceMax/ReduceSum;
  `view`, `squeeze`, `unsqueeze`: Reshape to the static shape.
Float ops occur only where the program has them: in the input quantizer
(Mul, IsNaN, Equal, Where, Round — half to even, as the spec — Clip, Cast)
and the output dequantizer (Cast, Mul). An op outside this table raises
ExportError naming it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intedge.extras import require
from intedge.ir.graph import Graph

from .errors import ExportError, refuse_decoder_graphs

SUFFIX = ".onnx"
OPSET = 21


@dataclass(frozen=True)
class _Value:
    """A tensor of the program in the ONNX graph: `name` holds integers of dtype `stored` that the program
    reads as `dtype` (a widening integer cast not emitted yet), or exactly `dtype` when the two agree."""

    name: str
    stored: np.dtype
    dtype: np.dtype


_UNSIGNED = {np.dtype(s): np.dtype(u) for s, u in (("int8", "uint8"), ("int16", "uint16"), ("int32", "uint32"),
                                                   ("int64", "uint64"))}


def _is_int(dtype: np.dtype) -> bool:
    return dtype == np.bool_ or np.issubdtype(dtype, np.integer)


def _widens(src: np.dtype, dst: np.dtype) -> bool:
    """Every value of integer (or bool) dtype src is a value of integer dtype dst."""
    if not (_is_int(src) and _is_int(dst) and dst != np.bool_):
        return False
    return src == np.bool_ or (np.iinfo(dst).min <= np.iinfo(src).min and np.iinfo(src).max <= np.iinfo(dst).max)


_NARROW_ABOVE = 16  # elements: a smaller constant is stored as it is


def _narrowest(array: np.ndarray) -> np.dtype:
    """The smallest integer dtype holding every value of array (its own dtype when not integer)."""
    if array.dtype == np.bool_ or not _is_int(array.dtype) or not array.size:
        return array.dtype
    lo, hi = int(array.min()), int(array.max())
    return next(d for d in map(np.dtype, ("int8", "uint8", "int16", "uint16", "int32", "uint32", array.dtype))
                if np.iinfo(d).min <= lo and hi <= np.iinfo(d).max)


def _np_dtype(torch_dtype) -> np.dtype:
    import torch

    return np.dtype(torch.empty((), dtype=torch_dtype).numpy().dtype)


class _Onnx:
    """The ONNX graph being written: nodes, initializers (deduplicated) and unique tensor names."""

    def __init__(self, reserved: set[str]):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.initializers = [], []
        self._names = set(reserved)
        self._constants: dict[tuple, str] = {}
        self._casts: dict[tuple[str, np.dtype], str] = {}

    def fresh(self, base: str) -> str:
        name, k = base, 0
        while name in self._names:
            k += 1
            name = f"{base}.{k}"
        self._names.add(name)
        return name

    def constant(self, array, dtype=None) -> str:
        """The name of an initializer holding array (as dtype); one initializer per distinct value."""
        array = np.ascontiguousarray(np.asarray(array, dtype))
        small = _narrowest(array)
        if array.size > _NARROW_ABOVE and small.itemsize < array.itemsize:
            return self.cast(self.constant(array.astype(small)), array.dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._constants:
            name = self.fresh(f"const{len(self._constants)}")
            self.initializers.append(self.numpy_helper.from_array(array, name))
            self._constants[key] = name
        return self._constants[key]

    def node(self, op_type: str, inputs, base: str = "t", **attrs) -> str:
        """Append one node; inputs are tensor names, arrays (made initializers) or None (an omitted input)."""
        names = ["" if x is None else x if isinstance(x, str) else self.constant(x) for x in inputs]
        out = self.fresh(base)
        self.nodes.append(self.helper.make_node(op_type, names, [out], name=out, **attrs))
        return out

    def cast(self, name: str, dtype: np.dtype) -> str:
        key = (name, np.dtype(dtype))
        if key not in self._casts:
            self._casts[key] = self.node("Cast", [name], f"{name}.{np.dtype(dtype).name}",
                                         to=self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
        return self._casts[key]


def arithmetic_shift_right(onnx: _Onnx, x: str, shift, dtype: np.dtype) -> str:
    """⌊x / 2^shift⌋ for signed x of dtype (a name); shift a name of an integer tensor or an integer array."""
    unsigned, bits = _UNSIGNED[dtype], dtype.itemsize * 8
    half = np.array(1 << (bits - 1), unsigned)
    if isinstance(shift, str):
        shift = onnx.node("Min", [onnx.cast(shift, unsigned), np.array(bits - 1, unsigned)])
        bias = onnx.node("BitShift", [half, shift], direction="RIGHT")
    else:
        shift = np.where((shift >= 0) & (shift < bits), shift, bits - 1).astype(unsigned)
        bias = half >> shift
    u = onnx.node("BitwiseXor", [onnx.cast(x, unsigned), half])
    return onnx.cast(onnx.node("Sub", [onnx.node("BitShift", [u, shift], direction="RIGHT"), bias]), dtype)


def shift_left(onnx: _Onnx, x: str, shift, dtype: np.dtype) -> str:
    """x · 2^shift in two's complement (0 for a shift outside [0, bits)); shift a name or an integer array."""
    unsigned, bits = _UNSIGNED[dtype], dtype.itemsize * 8
    if not isinstance(shift, str) and ((shift >= 0) & (shift < bits)).all():
        return onnx.cast(onnx.node("BitShift", [onnx.cast(x, unsigned), shift.astype(unsigned)], direction="LEFT"),
                         dtype)
    shift = onnx.cast(shift, unsigned) if isinstance(shift, str) else shift.astype(unsigned)
    inside = onnx.node("Less", [shift, np.array(bits, unsigned)])
    shifted = onnx.node("BitShift", [onnx.cast(x, unsigned), onnx.node("Min", [shift, np.array(bits - 1, unsigned)])],
                        direction="LEFT")
    return onnx.node("Where", [inside, onnx.cast(shifted, dtype), np.array(0, dtype)])


def floor_divide(onnx: _Onnx, a, b, dtype: np.dtype) -> str:
    """⌊a / b⌋ for integers of dtype; a and b are names or arrays (b ≠ 0)."""
    q = onnx.node("Div", [a, b])
    r = onnx.node("Sub", [a, onnx.node("Mul", [q, b])])
    sign = onnx.node("Sign", [b]) if isinstance(b, str) else np.sign(b).astype(dtype)
    if not isinstance(sign, str) and (sign == 1).all():
        late = onnx.node("Less", [r, np.array(0, dtype)])
    else:  # r · sign(b) fits (|r| < |b|) and is negative exactly when r ≠ 0 has the other sign
        late = onnx.node("Less", [onnx.node("Mul", [r, sign]), np.array(0, dtype)])
    return onnx.node("Sub", [q, onnx.cast(late, dtype)])


class _Translator:
    """One ExportedProgram → one ONNX model: program inputs and outputs renamed to the graph's."""

    def __init__(self, exported, input_names: list[str], output_names: list[str]):
        self.exported, self.input_names, self.output_names = exported, input_names, output_names
        self.onnx = _Onnx(set(input_names) | set(output_names))
        self.values: dict = {}  # fx node → _Value, or a constant as an np.ndarray

    # -- values -----------------------------------------------------------------------------------------------
    def wide(self, v, dtype) -> str:
        """The name of a tensor holding v as dtype: a deferred cast emitted, a constant made an initializer."""
        dtype = np.dtype(dtype)
        if isinstance(v, _Value):
            return v.name if v.stored == dtype else self.onnx.cast(v.name, dtype)
        return self.onnx.constant(v, dtype)

    def operand(self, v, dtype):
        """v as a name of dtype, or as an np.ndarray of dtype when constant (the compositions branch on those)."""
        return self.wide(v, dtype) if isinstance(v, _Value) else np.asarray(v, dtype)

    def narrow(self, v) -> tuple[str, np.dtype] | None:
        """v as an int8/uint8 tensor of the same integers (its name and dtype), or None when it has other values."""
        small = v.stored if isinstance(v, _Value) else _narrowest(v)
        if small not in (np.int8, np.uint8):
            return None
        return (v.name if isinstance(v, _Value) else self.onnx.constant(v, small)), small

    @staticmethod
    def meta(node):
        val = node.meta["val"]
        return _np_dtype(val.dtype), tuple(int(d) for d in val.shape)

    def result(self, node, name: str, stored=None) -> _Value:
        dtype = self.meta(node)[0]
        return _Value(name, np.dtype(stored or dtype), dtype)

    def moved(self, node, op_type: str, x, *inputs, **attrs) -> _Value:
        """A layout op: the stored integers move as they are, a deferred cast stays deferred."""
        x = x if isinstance(x, _Value) else _Value(self.onnx.constant(x), x.dtype, x.dtype)
        return self.result(node, self.onnx.node(op_type, [x.name, *inputs], node.name, **attrs), x.stored)

    # -- the program --------------------------------------------------------------------------------------------
    def model(self):
        import torch
        from torch.export.graph_signature import InputKind, OutputKind

        ep = self.exported
        helper = self.onnx.helper
        placeholders = [n for n in ep.graph.nodes if n.op == "placeholder"]
        user = iter(self.input_names)
        inputs = []
        for node, spec in zip(placeholders, ep.graph_signature.input_specs):
            if spec.kind == InputKind.USER_INPUT:
                dtype, shape = self.meta(node)
                self.values[node] = _Value(next(user), dtype, dtype)
                inputs.append(helper.make_tensor_value_info(self.values[node].name,
                                                            helper.np_dtype_to_tensor_dtype(dtype), shape))
            else:
                source = ep.constants if spec.target in ep.constants else ep.state_dict
                self.values[node] = source[spec.target].detach().numpy()
        for node in ep.graph.nodes:
            if node.op == "call_function" and node.target is not torch.ops.aten._assert_tensor_metadata.default:
                self.values[node] = self.translate(node)
        (returned,) = [n.args[0] for n in ep.graph.nodes if n.op == "output"]
        user_out = [r for r, s in zip(returned, ep.graph_signature.output_specs) if s.kind == OutputKind.USER_OUTPUT]
        outputs = []
        for node, name in zip(user_out, self.output_names):
            dtype, shape = self.meta(node)
            self.onnx.nodes.append(helper.make_node("Identity", [self.wide(self.values[node], dtype)], [name], name=name))
            outputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dtype), shape))
        graph = helper.make_graph(self.onnx.nodes, "intedge", inputs, outputs, self.onnx.initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="intedge",
                                 ir_version=10)

    def translate(self, node):
        """A constant when every input is one (torch computes it now), else the ONNX nodes of the op's table entry."""
        import inspect

        import torch
        from torch.utils._pytree import tree_flatten, tree_map

        args, kwargs = tree_map(lambda a: self.values[a] if isinstance(a, torch.fx.Node) else a, (node.args, node.kwargs))
        if not any(isinstance(a, _Value) for a in tree_flatten((args, kwargs))[0]):
            as_torch = tree_map(lambda a: torch.from_numpy(a) if isinstance(a, np.ndarray) else a, (args, kwargs))
            return node.target(*as_torch[0], **as_torch[1]).numpy()
        handler = _handlers().get(node.target)
        if handler is None:
            raise ExportError(f"{node.target} ({node.name}) has no ONNX translation")
        try:
            inspect.signature(handler).bind(self, node, *args, **kwargs)
        except TypeError as e:
            raise ExportError(f"{node.target} ({node.name}): this form is not translated ({e})") from None
        return handler(self, node, *args, **kwargs)


# -- one handler per ATen op (or family); each takes the translator, the fx node and the op's arguments --------------

def _operand_dtype(node) -> np.dtype:
    """The dtype torch computes node's op in: its operands' promoted dtype (a comparison's result is bool)."""
    import torch

    operands = [a.meta["val"] if isinstance(a, torch.fx.Node) else a for a in node.args]
    return _np_dtype(operands[0].dtype if len(operands) == 1 else torch.result_type(*operands))


def _elementwise(op_type: str, compare: bool = False):
    """An ONNX op of the same meaning, on operands in the program's dtype (the promoted one, for a comparison)."""

    def handler(t: _Translator, node, *operands):
        dtype = _operand_dtype(node) if compare else t.meta(node)[0]
        return t.result(node, t.onnx.node(op_type, [t.wide(a, dtype) for a in operands], node.name))

    return handler


def _not_equal(t: _Translator, node, a, b):
    equal = _elementwise("Equal", compare=True)(t, node, a, b)
    return t.result(node, t.onnx.node("Not", [equal.name], node.name))


def _where(t: _Translator, node, cond, a, b):
    dtype = t.meta(node)[0]
    return t.result(node, t.onnx.node("Where", [t.wide(cond, np.bool_), t.wide(a, dtype), t.wide(b, dtype)], node.name))


def _clamp(t: _Translator, node, x, min=None, max=None):
    dtype = t.meta(node)[0]
    bounds = [None if b is None else np.array(b, dtype) for b in (min, max)]
    return t.result(node, t.onnx.node("Clip", [t.wide(x, dtype), *bounds], node.name))


def _divide(t: _Translator, node, a, b, *, rounding_mode):
    dtype = t.meta(node)[0]
    if rounding_mode != "floor" or not _is_int(dtype):
        raise ExportError(f"{node.target} ({node.name}): only integer floor division is translated, "
                                f"not rounding_mode={rounding_mode!r} on {dtype}")
    return t.result(node, floor_divide(t.onnx, t.operand(a, dtype), t.operand(b, dtype), dtype))


def _shift(compose):
    def handler(t: _Translator, node, x, shift):
        dtype = t.meta(node)[0]
        if dtype not in _UNSIGNED:
            raise ExportError(f"{node.target} ({node.name}) on {dtype}: only signed shifts are translated")
        return t.result(node, compose(t.onnx, t.wide(x, dtype), t.operand(shift, dtype), dtype))

    return handler


def _reduce(op_type: str):
    def handler(t: _Translator, node, x, dim=None, keepdim=False, *, dtype=None):
        axes = np.array([] if dim is None else np.atleast_1d(dim), np.int64)
        return t.result(node, t.onnx.node(op_type, [t.wide(x, t.meta(node)[0]), axes], node.name,
                                          keepdims=int(keepdim)))

    return handler


def _argmax(t: _Translator, node, x, dim=None, keepdim=False):
    # Widening keeps the order, so the stored integers have the same argmax (the first, as torch's).
    x = x.name
    if dim is None:
        flat = t.onnx.node("Reshape", [x, np.array([-1], np.int64)])
        index = t.onnx.node("ArgMax", [flat], axis=0, keepdims=0)
        return t.result(node, t.onnx.node("Reshape", [index, np.array(t.meta(node)[1], np.int64)], node.name))
    return t.result(node, t.onnx.node("ArgMax", [x], node.name, axis=dim, keepdims=int(keepdim)))


def _cumsum(t: _Translator, node, x, dim, *, dtype=None):
    return t.result(node, t.onnx.node("CumSum", [t.wide(x, t.meta(node)[0]), np.array(dim, np.int64)], node.name))


def _to_copy(t: _Translator, node, x, *, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False,
             memory_format=None):
    target = t.meta(node)[0]
    if x.stored == target or _widens(x.stored, target):
        return _Value(x.name, x.stored, target)
    # The stored integers are the values the program casts, so a Cast from them gives the program's result.
    return t.result(node, t.onnx.cast(x.name, target))


def _same(t: _Translator, node, x, *, memory_format=None):
    return x


def _reshape(t: _Translator, node, x, *shape_args):
    return t.moved(node, "Reshape", x, np.array(t.meta(node)[1], np.int64))


def _permute(t: _Translator, node, x, dims):
    return t.moved(node, "Transpose", x, perm=[d % len(dims) for d in dims])


def _expand(t: _Translator, node, x, size, *, implicit=False):
    return t.moved(node, "Expand", x, np.array(t.meta(node)[1], np.int64))


def _slice(t: _Translator, node, x, dim=0, start=None, end=None, step=1):
    start, end, step = slice(start, end, step).indices(int(node.args[0].meta["val"].shape[dim]))
    return t.moved(node, "Slice", x, *(np.array([v], np.int64) for v in (start, end, dim, step)))


def _cat(t: _Translator, node, tensors, dim=0):
    stored = {v.stored if isinstance(v, _Value) else None for v in tensors}
    if len(stored) == 1 and None not in stored:
        return t.result(node, t.onnx.node("Concat", [v.name for v in tensors], node.name, axis=dim), stored.pop())
    dtype = t.meta(node)[0]
    return t.result(node, t.onnx.node("Concat", [t.wide(v, dtype) for v in tensors], node.name, axis=dim))


def _index(t: _Translator, node, x, indices):
    axes = [k for k, i in enumerate(indices) if i is not None]
    if len(axes) != 1 or indices[axes[0]].dtype == np.bool_:
        raise ExportError(f"{node.target} ({node.name}): only indexing one axis by integers is translated")
    index = indices[axes[0]]
    index = t.wide(index, index.stored if isinstance(index, _Value) and index.stored in (np.int32, np.int64)
                   else np.int64)
    return t.moved(node, "Gather", x, index, axis=axes[0])


def _matmul(t: _Translator, node, a, b):
    dtype = t.meta(node)[0]
    narrow = [t.narrow(a), t.narrow(b)]
    if dtype == np.int32 and None not in narrow:
        (a8, a_dtype), (b8, _) = narrow
        zero = None
        if a_dtype == np.int8:  # ONNX Runtime's fast kernels take uint8 activations: a + 128, zero point 128
            a8 = t.onnx.cast(t.onnx.node("BitwiseXor", [a8, np.array(-128, np.int8)]), np.uint8)
            zero = np.array(128, np.uint8)
        return t.result(node, t.onnx.node("MatMulInteger", [a8, b8, zero], node.name))
    return t.result(node, t.onnx.node("MatMul", [t.wide(a, dtype), t.wide(b, dtype)], node.name))


@functools.cache
def _handlers() -> dict:
    import torch

    aten = torch.ops.aten
    return {
        aten.add.Tensor: _elementwise("Add"), aten.sub.Tensor: _elementwise("Sub"), aten.mul.Tensor: _elementwise("Mul"),
        aten.maximum.default: _elementwise("Max"), aten.minimum.default: _elementwise("Min"),
        aten.bitwise_and.Scalar: _elementwise("BitwiseAnd"),
        aten.abs.default: _elementwise("Abs"), aten.neg.default: _elementwise("Neg"),
        aten.round.default: _elementwise("Round"), aten.isnan.default: _elementwise("IsNaN", compare=True),
        aten.eq.Scalar: _elementwise("Equal", True), aten.gt.Scalar: _elementwise("Greater", True),
        aten.ge.Scalar: _elementwise("GreaterOrEqual", True),
        aten.ne.Scalar: _not_equal, aten.ne.Tensor: _not_equal,
        aten.where.self: _where, aten.clamp.default: _clamp, aten.div.Tensor_mode: _divide,
        aten.bitwise_right_shift.Tensor: _shift(arithmetic_shift_right),
        aten.bitwise_right_shift.Tensor_Scalar: _shift(arithmetic_shift_right),
        aten.bitwise_left_shift.Tensor: _shift(shift_left), aten.bitwise_left_shift.Tensor_Scalar: _shift(shift_left),
        aten.sum.dim_IntList: _reduce("ReduceSum"), aten.amax.default: _reduce("ReduceMax"),
        aten.argmax.default: _argmax, aten.cumsum.default: _cumsum,
        aten._to_copy.default: _to_copy, aten.clone.default: _same,
        aten.view.default: _reshape, aten.squeeze.dims: _reshape,
        aten.unsqueeze.default: _reshape, aten.permute.default: _permute, aten.expand.default: _expand,
        aten.slice.Tensor: _slice, aten.cat.default: _cat, aten.index.Tensor: _index,
        aten.mm.default: _matmul, aten.bmm.default: _matmul,
    }


def translate(exported, input_names: list[str], output_names: list[str]):
    """An ExportedProgram of integer ATen ops as an ONNX ModelProto whose inputs and outputs bear these names."""
    return _Translator(exported, input_names, output_names).model()


def export(graph: Graph, path: Path) -> None:
    refuse_decoder_graphs(graph, "the .onnx export")
    require("torch", "torch", "the .onnx export")
    onnx = require("onnx", "peers", "the .onnx export")
    from .torch_program import program

    names = [graph.tensors[i].name for i in graph.inputs], [graph.tensors[i].name for i in graph.outputs]
    onnx.save(translate(program(graph), *names), str(path))


_ONNX_TYPES = {"tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(int16)": "int16", "tensor(int32)": "int32",
               "tensor(int64)": "int64", "tensor(float)": "float32"}


def input_specs(path: Path) -> list[tuple[np.dtype, tuple[int, ...]]]:
    ort = require("onnxruntime", "peers", "running a .onnx")
    inputs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()
    return [(np.dtype(_ONNX_TYPES[i.type]), tuple(i.shape)) for i in inputs]


def load(path: Path, threads: int = 1):
    """A callable running the model in ONNX Runtime (CPU, default graph optimizations, `threads` intra-op
    threads): list of arrays in the graph's input order → list of arrays in its output order."""
    ort = require("onnxruntime", "peers", "running a .onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(inputs):
        return session.run(None, dict(zip(names, inputs)))

    return run
