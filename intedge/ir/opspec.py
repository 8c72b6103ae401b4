"""Every op kind of the IR, described once.

An entry says what the op takes and gives (inputs and outputs by role,
their dtypes, which must be constants), the options it carries with their
stored types, the rules a valid op obeys, the shape of its output, and the
reference function that computes it. Everything else is derived from here:

* the FlatBuffers option tables and OpKind codes in edge_runtime/schema/ieg.fbs,
  and the option-table check of the C++ container verifier;
* the C++ engine's checks of every op (edge_runtime/src/ops/op_checks_generated.cc);
* the Python validator (validate.py) and the option coercion of Graph.add_op;
* the reference executor's dispatch (reference.py);
* `intedge inspect --ops` and the op table in docs/ops.md.

`edge_runtime/schema/generate.sh` regenerates the derived files; CI fails
when they are stale. Adding an op: its entry here (with the next free
code), its numpy function in integer_ops/, its C++ kernels and Prepare.

Rules are expressions of the spec language (spec_lang.py), each with the
message both validators print when it fails; `{expr}` in a message prints
the expression's value. Checks run in this order, identically in Python and
C++: arity; each input's dtype and constness; each output's dtype; the
rules in order; the outputs' shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from intedge.integer_ops.index_math import INT_BINARY_OPS
from intedge.integer_ops.layernorm import MAX_CHANNELS

from .spec_lang import DTYPE_NAMES, Expr, Message, parse, parse_message

ACT = ("int8", "int16")  # activations
INTS = ("int8", "uint8", "int16", "int32")
MOVABLE = ("int8", "uint8", "int16", "int32", "int64", "float32")  # every dtype an activation can have
VECTOR_TYPES = {"[int]": np.int32, "[byte]": np.int8, "[long]": np.int64}
OPTION_RANGES = {"int": (-(2**31), 2**31 - 1), "byte": (-128, 127), "long": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True)
class Input:
    name: str
    dtypes: tuple[str, ...]
    constant: bool = False  # must be a constant (weights)
    optional: bool = False  # may be left out (tensor id -1), or past the end of the op's inputs
    many: bool = False  # one or more tensors (the rules see a list)
    state: bool = False  # must be a state tensor (Tensor.is_state), which the op updates in place


@dataclass(frozen=True)
class Output:
    name: str
    dtypes: tuple[str, ...] | str  # allowed dtypes, or an expression giving the one dtype (e.g. "x.dtype")
    shape: str | None  # an expression; None: any shape (the rules constrain it)
    many: int = 1  # up to this many outputs of this role (the rules then see a list)


@dataclass(frozen=True)
class Option:
    name: str
    type: str  # a FlatBuffers type: int, byte, long, float, bool, [int], [byte], [long]
    default: object = None  # None: the option is required
    doc: str = ""


@dataclass
class OpSpec:
    kind: str
    code: int  # the OpKind value in the file; never reused
    camel: str  # the kind in FlatBuffers' CamelCase (the option table is camel + "Options")
    doc: str
    inputs: tuple[Input, ...]
    output: Output
    reference: str  # the call that computes the output (each output i of a `many` output, with `i` bound)
    options: tuple[Option, ...] = ()
    where: dict[str, str] = field(default_factory=dict)  # named sub-expressions the rules may use
    rules: tuple[tuple[str, str], ...] = ()  # (condition, message)

    @property
    def table(self) -> str | None:
        """The FlatBuffers option table's name, or None when the op takes no options."""
        return self.camel + "Options" if self.options else None

    def role(self, j: int) -> Input:
        """The role of an op's input j (every input of a `many` role is that role)."""
        return self.inputs[min(j, len(self.inputs) - 1)]

    @property
    def min_inputs(self) -> int:
        return sum(not i.optional for i in self.inputs)

    @property
    def max_inputs(self) -> int | None:
        return None if any(i.many for i in self.inputs) else len(self.inputs)

    @cached_property
    def macros(self) -> dict[str, Expr]:
        out: dict[str, Expr] = {}
        for name, text in self.where.items():
            out[name] = parse(text, out)
        return out

    @cached_property
    def compiled_rules(self) -> list[tuple[Expr, Message]]:
        return [(parse(cond, self.macros), parse_message(msg, self.macros)) for cond, msg in self.rules]

    @cached_property
    def output_shape(self) -> Expr | None:
        return None if self.output.shape is None else parse(self.output.shape, self.macros)

    @cached_property
    def output_dtype(self) -> Expr | None:
        return parse(self.output.dtypes, self.macros) if isinstance(self.output.dtypes, str) else None

    @cached_property
    def reference_call(self) -> Expr:
        return parse(self.reference, self.macros, calls=None)


def _requant(multiplier="multiplier", shift="shift", what="", unless=None):
    """The dyadic requant's bounds (integer_ops/requant.py): multiplier in [0, 2^31), shift in [1, 62]."""
    guard = f"{unless} or " if unless else ""
    return (
        (f"{guard}0 <= {multiplier} < 2**31", f"{what}multiplier {{{multiplier}}} outside [0, 2^31)"),
        (f"{guard}1 <= {shift} <= 62", f"{what}shift {{{shift}}} outside [1, 62]"),
    )


def _per_channel_requant(count: str):
    return (
        (f"len(multiplier) == {count} and len(shift) == {count}", f"multiplier and shift need {{{count}}} entries"),
        ("all_between(multiplier, 0, 2**31 - 1)", "a multiplier is outside [0, 2^31)"),
        ("all_between(shift, 1, 62)", "a shift is outside [1, 62]"),
    )


def _tensor_or_channel_requant():
    """multiplier/shift vectors of 1 entry (per tensor) or x.shape[-1] (per channel of the last axis)."""
    return (
        ("len(multiplier) == len(shift) and len(multiplier) in (1, x.shape[-1])",
         "multiplier and shift need 1 or {x.shape[-1]} entries"),
        ("all_between(multiplier, 0, 2**31 - 1)", "a multiplier is outside [0, 2^31)"),
        ("all_between(shift, 1, 62)", "a shift is outside [1, 62]"),
    )


def _axis(rank="x.rank"):
    return (f"0 <= axis < {rank}", f"axis {{axis}} outside [0, {{{rank}}})")


OPS: list[OpSpec] = [
    OpSpec(
        "quantize", 0, "Quantize", "The input quantizer: y = saturate(round_half_even(x · inv_scale)); NaN → 0, ±inf saturate.",
        inputs=(Input("x", ("float32",)),),
        output=Output("y", ACT, "x.shape"),
        options=(Option("inv_scale", "float"),),
        rules=(("finite(inv_scale) and inv_scale > 0", "inv_scale {inv_scale} must be finite and > 0"),),
        reference="quantize_input(x, inv_scale, y.dtype)",
    ),
    OpSpec(
        "dequantize", 1, "Dequantize", "The output dequantizer: y = float32(x) · scale.",
        inputs=(Input("x", INTS),),
        output=Output("y", ("float32",), "x.shape"),
        options=(Option("scale", "float"),),
        rules=(("finite(scale) and scale > 0", "scale {scale} must be finite and > 0"),),
        reference="dequantize_output(x, scale)",
    ),
    OpSpec(
        "requant", 2, "Requant", "Dyadic requantization: y = saturate((x · multiplier + 2^(shift−1)) >> shift).",
        inputs=(Input("x", ("int8", "int16", "int32")),),
        output=Output("y", ACT, "x.shape"),
        options=(Option("multiplier", "int"), Option("shift", "byte")),
        rules=_requant(),
        reference="requantize(x, multiplier, shift, y.dtype)",
    ),
    OpSpec(
        "qlinear", 3, "QLinear",
        "y = requant(x · weightᵀ + bias) per output channel. Int4 weights compute with q4 · group scale "
        "(int8 again). With head_dim D > 0 the result [R, N] is stored as [N / D, R, D] (attention's head "
        "split, so no transpose follows).",
        inputs=(
            Input("x", ("int8",)),
            Input("weight", ("int8", "int4"), constant=True),
            Input("bias", ("int32",), constant=True, optional=True),
            Input("group_scales", ("int8",), constant=True, optional=True),
        ),
        output=Output("y", ACT, "x.shape[:-1] + [N] if head_dim == 0 else [N // head_dim, prod(x.shape[:-1]), head_dim]"),
        options=(
            Option("multiplier", "[int]", doc="one per output channel"),
            Option("shift", "[byte]", doc="one per output channel"),
            Option("group_size", "int", 0, "int4 weights: K elements per group scale"),
            Option("head_dim", "int", 0, "0, or D: store the output as [N / D, rows, D]"),
        ),
        where={"N": "weight.shape[0]", "K": "weight.shape[1]", "w4": "weight.dtype == int4"},
        rules=(
            ("x.rank >= 1", "input must have rank >= 1"),
            ("weight.rank == 2", "weight must be [N, K]"),
            ("x.shape[-1] == K", "input's last dim {x.shape[-1]} != weight K {K}"),
            ("w4 or (not group_scales.present and group_size == 0)", "int8 weights take no group scales"),
            ("not w4 or group_size in (32, 64, 128)", "group_size {group_size} must be 32, 64 or 128 for int4 weights"),
            ("not w4 or K % group_size == 0", "K {K} is not a multiple of group_size {group_size}"),
            ("not w4 or group_scales.present", "int4 weights need group scales (input 3)"),
            ("not w4 or group_scales.shape == [N, K // group_size]", "group scales must be [{N}, {K // group_size}]"),
            ("not w4 or (min_of(group_scales) >= 1 and max_of(group_scales) <= 16)", "group scales outside [1, 16]"),
            ("not bias.present or bias.shape == [N]", "bias must be [{N}]"),
            ("K * 128 * (128 if w4 else max_abs(weight)) + max_abs(bias) < 2**31",
             "K={K} with bias up to {max_abs(bias)} can overflow the int32 accumulator"),
            *_per_channel_requant("N"),
            ("head_dim == 0 or (head_dim > 0 and N % head_dim == 0)", "head_dim {head_dim} does not divide N {N}"),
        ),
        reference="qlinear(x, weight, bias, multiplier, shift, y.dtype, group_scales, group_size, head_dim)",
    ),
    OpSpec(
        "qmatmul", 4, "QMatMul",
        "y = requant(a · b) (b transposed with transpose_b) over the batch dims; an int32 output is the "
        "accumulator itself (Q·Kᵀ into Shiftmax).",
        inputs=(Input("a", ("int8", "uint8")), Input("b", ("int8",))),
        output=Output("y", ACT + ("int32",), "a.shape[:-1] + [N]"),
        options=(Option("transpose_b", "bool", False), Option("multiplier", "int"), Option("shift", "byte")),
        where={"K": "a.shape[-1]", "N": "b.shape[-2] if transpose_b else b.shape[-1]"},
        rules=(
            ("a.rank >= 2 and a.rank == b.rank", "inputs need the same rank >= 2"),
            ("a.shape[:-2] == b.shape[:-2]", "batch dims differ: {a.shape} vs {b.shape}"),
            ("K == (b.shape[-1] if transpose_b else b.shape[-2])", "inner dims differ: {a.shape} x {b.shape}"),
            ("K * 255 * 128 < 2**31", "K={K} can overflow the int32 accumulator"),
            *_requant(unless="y.dtype == int32"),
        ),
        reference="qmatmul(a, b, transpose_b, multiplier, shift, y.dtype)",
    ),
    OpSpec(
        "qadd", 5, "QAdd", "The residual add: y = saturate((a · multiplier_a + b · multiplier_b + 2^(shift−1)) >> shift); "
        "b broadcasts to a.",
        inputs=(Input("a", ACT), Input("b", ACT)),
        output=Output("y", ACT, "a.shape"),
        options=(Option("multiplier_a", "int"), Option("multiplier_b", "int"), Option("shift", "byte")),
        rules=(
            ("broadcasts(b.shape, a.shape)", "input b {b.shape} does not broadcast to {a.shape}"),
            *_requant("multiplier_a", what="a: "),
            *_requant("multiplier_b", what="b: "),
        ),
        reference="qadd(a, b, multiplier_a, multiplier_b, shift, y.dtype)",
    ),
    OpSpec(
        "shiftmax", 6, "Shiftmax", "I-ViT Shiftmax over the last axis → uint8 at scale 2^−8; where the mask is 0 the "
        "probability is 0.",
        inputs=(Input("x", ("int8", "int32")), Input("mask", INTS, optional=True)),
        output=Output("y", ("uint8",), "x.shape"),
        options=(Option("multiplier", "int"), Option("shift", "byte")),
        rules=(
            ("x.rank >= 1 and x.shape[-1] <= 2**16", "rows must be 1 to 65536 wide"),
            ("not mask.present or broadcasts(mask.shape, x.shape)", "mask {mask.shape} does not broadcast to {x.shape}"),
            *_requant(),
        ),
        reference="shiftmax(x, multiplier, shift, mask)",
    ),
    OpSpec(
        "shiftgelu", 7, "ShiftGelu", "I-ViT ShiftGELU (x · σ(1.702x) by shifts), ported to exact int64.",
        inputs=(Input("x", ("int8",)),),
        output=Output("y", ("int8",), "x.shape"),
        options=(Option("x0", "int"), Option("multiplier", "int"), Option("shift", "byte")),
        rules=(
            ("x.rank >= 1", "input must have rank >= 1"),
            ("-255 <= x0 <= -1", "x0 {x0} outside [-255, -1]"),
            *_requant(),
        ),
        reference="shiftgelu(x, x0, multiplier, shift)",
    ),
    OpSpec(
        "lambda_shiftgelu", 8, "LambdaShiftGelu", "λ-ShiftGELU (I-Segmenter, our definition): a pure function of each int8, then a "
        "requant per tensor or per channel of the last axis.",
        inputs=(Input("x", ("int8",)),),
        output=Output("y", ("int8",), "x.shape"),
        options=(Option("slope_multiplier", "int"), Option("slope_shift", "byte"), Option("multiplier", "[int]"),
                 Option("shift", "[byte]")),
        rules=(
            ("x.rank >= 1", "input must have rank >= 1"),
            *_requant("slope_multiplier", "slope_shift", "slope "),
            *_tensor_or_channel_requant(),
        ),
        reference="lambda_shiftgelu(x, slope_multiplier, slope_shift, multiplier, shift)",
    ),
    OpSpec(
        "ilayernorm", 9, "ILayerNorm",
        "I-LayerNorm over the last axis (RMSNorm with rms: no mean). With k outputs (k ≤ 2) the same statistics feed k affine maps: "
        "output i takes entries [i·C, (i+1)·C) of multiplier and bias and shift[i] (a LayerNorm and its "
        "SmoothQuant twin).",
        inputs=(Input("x", ACT),),
        output=Output("ys", ACT, "x.shape", many=2),
        options=(Option("multiplier", "[int]"), Option("bias", "[long]"), Option("shift", "[byte]"),
                 Option("rms", "bool", False, "RMSNorm: no mean is subtracted")),
        where={"C": "x.shape[-1]"},
        rules=(
            (f"x.rank >= 1 and C <= {MAX_CHANNELS}", f"channels must be 1 to {MAX_CHANNELS}"),
            ("len(multiplier) == len(ys) * C and len(bias) == len(ys) * C",
             "multiplier and bias need {len(ys) * C} entries"),
            ("all_between(bias, -(2**61), 2**61)", "bias outside [-2^61, 2^61]"),
            ("len(shift) == len(ys)", "shift needs {len(ys)} entries"),
            ("all_between(shift, 1, 62)", "a shift is outside [1, 62]"),
        ),
        reference="ilayernorm(x, multiplier[i * C:(i + 1) * C], bias[i * C:(i + 1) * C], shift[i], ys[i].dtype, rms)",
    ),
    OpSpec(
        "meanpool", 10, "MeanPool", "The mean over one axis, 1/L folded into the requant.",
        inputs=(Input("x", ACT + ("uint8",)),),
        output=Output("y", ACT, "x.shape[:axis] + x.shape[axis + 1:]"),
        options=(Option("axis", "int"), Option("multiplier", "int"), Option("shift", "byte")),
        rules=(_axis(), *_requant()),
        reference="meanpool(x, axis, multiplier, shift, y.dtype)",
    ),
    OpSpec(
        "reshape", 11, "Reshape", "The same elements under another shape (no work: the engine aliases them).",
        inputs=(Input("x", MOVABLE),),
        output=Output("y", "x.dtype", None),
        rules=(("prod(x.shape) == prod(y.shape)", "cannot reshape {x.shape} to {y.shape}"),),
        reference="reshape(x, y.shape)",
    ),
    OpSpec(
        "transpose", 12, "Transpose", "y = x.transpose(perm).",
        inputs=(Input("x", MOVABLE),),
        output=Output("y", "x.dtype", "permute(x.shape, perm)"),
        options=(Option("perm", "[int]"),),
        rules=(("len(perm) == x.rank and is_permutation(perm, x.rank)", "perm is not a permutation of rank {x.rank}"),),
        reference="transpose(x, perm)",
    ),
    OpSpec(
        "concat", 13, "Concat", "Inputs of one dtype and scale joined along an axis.",
        inputs=(Input("xs", MOVABLE, many=True),),
        output=Output("y", "xs[0].dtype",
                      "xs[0].shape[:axis] + [sum(t.shape[axis] for t in xs)] + xs[0].shape[axis + 1:]"),
        options=(Option("axis", "int"),),
        rules=(
            _axis("xs[0].rank"),
            ("all(t.dtype == xs[0].dtype and t.rank == xs[0].rank for t in xs)", "inputs differ in dtype or rank"),
            ("all(t.shape[:axis] + t.shape[axis + 1:] == xs[0].shape[:axis] + xs[0].shape[axis + 1:] for t in xs)",
             "inputs differ off the concat axis"),
            ("all(t.scale == xs[0].scale for t in xs)", "inputs have different scales"),
        ),
        reference="concat(xs, axis)",
    ),
    OpSpec(
        "slice", 14, "Slice", "Elements start, start + step, … below end of one axis.",
        inputs=(Input("x", MOVABLE),),
        output=Output("y", "x.dtype", "x.shape[:axis] + [(end - start - 1) // step + 1] + x.shape[axis + 1:]"),
        options=(Option("axis", "int"), Option("start", "long"), Option("end", "long"), Option("step", "long", 1)),
        rules=(
            _axis(),
            ("0 <= start <= end <= x.shape[axis] and step >= 1",
             "slice {start}:{end}:{step} invalid for dim {x.shape[axis]}"),
        ),
        reference="slice_axis(x, axis, start, end, step)",
    ),
    OpSpec(
        "gather", 15, "Gather", "Embedding lookup: y[..., :] = table[indices[...], :]; an index outside [0, V) is an "
        "error at run time.",
        inputs=(Input("table", ACT), Input("indices", ("int32",))),
        output=Output("y", "table.dtype", "indices.shape + [table.shape[1]]"),
        rules=(("table.rank == 2", "table must be [V, D]"),),
        reference="gather(table, indices)",
    ),
    OpSpec(
        "upsample_nearest", 16, "UpsampleNearest", "The last two axes grow by integer factors: y[..., i, j] = x[..., i // fh, j // fw].",
        inputs=(Input("x", INTS),),
        output=Output("y", "x.dtype", None),
        rules=(
            ("x.rank >= 2 and y.rank == x.rank", "needs rank >= 2 in and out"),
            ("x.shape[:-2] == y.shape[:-2]", "only the last two axes may grow"),
            ("y.shape[-2] % x.shape[-2] == 0 and y.shape[-1] % x.shape[-1] == 0",
             "{y.shape} is not an integer multiple of {x.shape}"),
        ),
        reference="upsample_nearest(x, y.shape)",
    ),
    OpSpec(
        "argmax", 17, "ArgMax", "The first index of the maximum along an axis, as int32.",
        inputs=(Input("x", INTS),),
        output=Output("y", ("int32",), "x.shape[:axis] + x.shape[axis + 1:]"),
        options=(Option("axis", "int"),),
        rules=(_axis(),),
        reference="argmax(x, axis)",
    ),
    OpSpec(
        "lookup", 18, "Lookup", "Any function of one int8 as a table: y = table[x + 128] (ReLU, tanh, SiLU, GELU's tanh form, "
        "...; the converter computes the 256 entries from the float function at the tensors' scales).",
        inputs=(Input("x", ("int8",)), Input("table", ("int8",), constant=True)),
        output=Output("y", ("int8",), "x.shape"),
        rules=(("table.shape == [256]", "table must be [256], not {table.shape}"),),
        reference="lookup(x, table)",
    ),
    OpSpec(
        "int_binary", 19, "IntBinary",
        "Integer index arithmetic: y = a ∘ b (b broadcasts to a) in int64, saturated to int32. op: 0 add, 1 sub, "
        "2 mul, 3 eq, 4 ne, 5 lt, 6 le, 7 gt, 8 ge, 9 and, 10 or (logical: 0 or 1), 11 min, 12 max.",
        inputs=(Input("a", INTS), Input("b", INTS)),
        output=Output("y", ("int32",), "a.shape"),
        options=(Option("op", "byte", doc="which operation (see above)"),),
        rules=(
            (f"0 <= op <= {len(INT_BINARY_OPS) - 1}", f"op {{op}} outside [0, {len(INT_BINARY_OPS) - 1}]"),
            ("broadcasts(b.shape, a.shape)", "input b {b.shape} does not broadcast to {a.shape}"),
        ),
        reference="int_binary(a, b, op)",
    ),
    OpSpec(
        "cumsum", 20, "CumSum", "The running sum along an axis, in int64, each result saturated to int32.",
        inputs=(Input("x", INTS),),
        output=Output("y", ("int32",), "x.shape"),
        options=(Option("axis", "int"),),
        rules=(_axis(),),
        reference="cumsum(x, axis)",
    ),
    OpSpec(
        "lookup_requant", 21, "LookupRequant",
        "Any function of one int8 tabulated as int32, then a requant per tensor or per channel of the last axis: "
        "y = requant(table[x + 128]) (GELU exactly, with SmoothQuant's per-channel output scales; the converter "
        "computes the 256 entries from the float function). |table| ≤ 2^30 keeps table · multiplier within int64 "
        "with margin.",
        inputs=(Input("x", ("int8",)), Input("table", ("int32",), constant=True)),
        output=Output("y", ("int8",), "x.shape"),
        options=(Option("multiplier", "[int]", doc="1 (per tensor) or C = x.shape[-1] (per channel)"),
                 Option("shift", "[byte]", doc="as many as multiplier")),
        rules=(
            ("x.rank >= 1", "input must have rank >= 1"),
            ("table.shape == [256]", "table must be [256], not {table.shape}"),
            ("max_abs(table) <= 2**30", "a table entry of magnitude {max_abs(table)} is outside [-2^30, 2^30]"),
            *_tensor_or_channel_requant(),
        ),
        reference="lookup_requant(x, table, multiplier, shift)",
    ),
    OpSpec(
        "rope", 22, "Rope",
        "Rotary position embedding (Llama's rotate-half pairs i, i + D/2) by int16 Q14 cos/sin tables at each "
        "token's position; the output keeps x's scale. A position outside the tables is an error at run time.",
        inputs=(
            Input("x", ("int8",)),
            Input("positions", ("int32",)),
            Input("cos", ("int16",), constant=True),
            Input("sin", ("int16",), constant=True),
        ),
        output=Output("y", ("int8",), "x.shape"),
        where={"D": "x.shape[-1]"},
        rules=(
            ("x.rank >= 2 and D % 2 == 0", "x must be [..., S, D] with D even"),
            ("positions.shape == [x.shape[-2]]", "positions must be [{x.shape[-2]}], one per token"),
            ("cos.rank == 2 and cos.shape[1] == D // 2 and sin.shape == cos.shape",
             "cos and sin must be [P, {D // 2}], of one shape"),
            ("max_abs(cos) <= 2**14 and max_abs(sin) <= 2**14", "cos/sin entries must be Q14, within [-2^14, 2^14]"),
        ),
        reference="rope(x, positions, cos, sin)",
    ),
    OpSpec(
        "swiglu", 23, "Swiglu",
        "SiLU(gate) · up in one requant: SiLU as an int16 table of the int8 gate, the product with up in int64.",
        inputs=(Input("gate", ("int8",)), Input("up", ("int8",)), Input("table", ("int16",), constant=True)),
        output=Output("y", ("int8",), "gate.shape"),
        options=(Option("multiplier", "int"), Option("shift", "byte")),
        rules=(
            ("gate.rank >= 1 and up.shape == gate.shape", "gate {gate.shape} and up {up.shape} must have one shape"),
            ("table.shape == [256]", "table must be [256], not {table.shape}"),
            *_requant(),
        ),
        reference="swiglu(gate, up, table, multiplier, shift)",
    ),
    OpSpec(
        "cached_attention", 24, "CachedAttention",
        "Causal grouped-query attention over a KV cache: k and v are written into rows p … p+S−1 of the int8 "
        "caches (state; p = positions[0], positions consecutive, an error at run time otherwise), then each "
        "query head attends to rows 0 … p+i (Shiftmax, then P·V requantized); heads merged into [S, Hq·D].",
        inputs=(
            Input("q", ("int8",)),
            Input("k", ("int8",)),
            Input("v", ("int8",)),
            Input("positions", ("int32",)),
            Input("k_cache", ("int8",), state=True),
            Input("v_cache", ("int8",), state=True),
        ),
        output=Output("y", ("int8",), "[S, Hq * D]"),
        options=(Option("multiplier", "int", doc="scores to Shiftmax's Q16 exponents"), Option("shift", "byte"),
                 Option("out_multiplier", "int", doc="probabilities · v to the output"), Option("out_shift", "byte")),
        where={"Hq": "q.shape[0]", "S": "q.shape[1]", "D": "q.shape[2]", "Hkv": "k.shape[0]", "T": "k_cache.shape[1]"},
        rules=(
            ("q.rank == 3 and k.rank == 3 and v.shape == k.shape", "q must be [Hq, S, D] and k, v one [Hkv, S, D]"),
            ("k.shape[1:] == [S, D] and Hq % Hkv == 0", "k {k.shape} does not fit q {q.shape} (Hq a multiple of Hkv)"),
            ("positions.shape == [S]", "positions must be [{S}], one per token"),
            ("k_cache.shape == [Hkv, T, D] and v_cache.shape == k_cache.shape", "the caches must be [{Hkv}, T, {D}]"),
            ("T >= S and T * 255 * 128 < 2**31 and D * 128 * 128 < 2**31", "cache length {T} or head dim {D} too large"),
            ("k_cache.scale == k.scale and v_cache.scale == v.scale", "a cache's scale differs from its rows'"),
            *_requant(),
            *_requant("out_multiplier", "out_shift", "out: "),
        ),
        reference="cached_attention(q, k, v, positions, k_cache, v_cache, multiplier, shift, out_multiplier, out_shift)",
    ),
]

BY_KIND: dict[str, OpSpec] = {s.kind: s for s in OPS}


def _check_spec() -> None:
    """The spec's own consistency (run at import: a broken entry fails every test at once)."""
    codes = [s.code for s in OPS]
    if codes != sorted(codes) or len(set(codes)) != len(codes):
        raise ValueError("op codes must be unique and in order (the option union's order follows them)")
    for s in OPS:
        names = [i.name for i in s.inputs] + [s.output.name] + [o.name for o in s.options] + list(s.where)
        if len(set(names)) != len(names) or set(names) & set(DTYPE_NAMES):
            raise ValueError(f"{s.kind}: role, option and where names must be distinct")
        for o in s.options:
            if o.type not in ("float", "bool", *OPTION_RANGES, *VECTOR_TYPES):
                raise ValueError(f"{s.kind}.{o.name}: unknown type {o.type}")
        if any(i.many for i in s.inputs) and len(s.inputs) != 1:
            raise ValueError(f"{s.kind}: a `many` input must be the only input")
        s.compiled_rules, s.output_shape, s.output_dtype, s.reference_call  # noqa: B018 - parse now



def coerce_options(kind: str, options: dict, where: str) -> dict:
    """Options with every field present and of its exact stored type.

    Floats become float32 values and vectors numpy arrays of their stored
    dtype, so what a graph holds in memory is what its file holds: the
    round trip is lossless by construction.
    """
    from .errors import InvalidGraphError

    if kind not in BY_KIND:
        raise InvalidGraphError(f"{where}: unknown op kind {kind!r}")
    fields = {o.name: o for o in BY_KIND[kind].options}
    extra = set(options) - set(fields)
    if extra:
        raise InvalidGraphError(f"{where}: {kind} has no option(s) {sorted(extra)}")
    out = {}
    for name, o in fields.items():
        if name not in options and o.default is None:
            raise InvalidGraphError(f"{where}: {kind} needs option {name!r}")
        value = options.get(name, o.default)
        if o.type == "float":
            out[name] = float(np.float32(value))
        elif o.type == "bool":
            out[name] = bool(value)
        elif o.type in OPTION_RANGES:
            lo, hi = OPTION_RANGES[o.type]
            if not lo <= int(value) <= hi:
                raise InvalidGraphError(f"{where}: option {name}={value} does not fit {o.type}")
            out[name] = int(value)
        else:
            arr = np.asarray(value)
            info = np.iinfo(VECTOR_TYPES[o.type])
            if arr.ndim != 1 or (arr.size and (arr.min() < info.min or arr.max() > info.max)):
                raise InvalidGraphError(f"{where}: option {name} must be a 1-D {o.type} vector")
            out[name] = arr.astype(VECTOR_TYPES[o.type])
    return out


_check_spec()
