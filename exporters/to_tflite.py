"""`.tflite`: each IR op composed from TFLite builtins that compute the spec's integers exactly.

LiteRT has no int64 shift or division, no int32×int32 matmul and no left shift, and its int8
comparisons are broken (tflite_emit.Emitter.compare). What each op becomes, and why it is exact:

* Requantization (requant, qlinear, qmatmul, qadd, meanpool, I-LayerNorm's affine): t = z·m + 2^(s−1)
  is formed in int64 (MUL, ADD work there; |t| < 2^63 by each op's rules), then Emitter.shift_saturate:
  clamp t to [lo·2^s, (hi+1)·2^s − 1], the only t whose ⌊t/2^s⌋ lies in the output's range, so the
  clamp is the spec's saturation; then ⌊t/2^s⌋ as the high word of the int64 (BITCAST to an int32
  pair, little-endian) after a multiply by 2^(32−s) when s < 32, or followed by an int32 arithmetic
  RIGHT_SHIFT by s − 32 when s > 32. A bias folds into the additive constant: (acc + b)·m + 2^(s−1).
* qlinear / qmatmul: BATCH_MATMUL int8×int8→int32, exact since a valid graph's accumulators fit int32.
  W4 weights are expanded to q4·g (int8) at export. head_dim D: the weight as [N/D, D, K] against
  x as [1, R, K] gives [N/D, R, D] directly. A uint8 `a` (Shiftmax's output) is a − 128 in int8:
  a·b = (a − 128)·b + 128·Σ_k b.
* Functions of one small integer become a GATHER from a constant table computed with the spec's own
  functions: lookup, λ-ShiftGELU and lookup_requant (256 entries, or 256 per channel), ShiftGELU (65536 entries indexed
  by the pair (row max, x): its e and e_max depend only on those), and Shiftmax's 2^−u, whose entry
  is a function of d = rowmax − x alone and is 0 once u ≥ 2^20: the table covers d up to that point
  (or 255 for int8 input). The rest of Shiftmax is int32: Σe < 2^31 (int64 at 65536 columns),
  ⌊(2^31 − 1)/Σ⌋ by FLOOR_DIV, and the final rounding shift as ((e·k >> 22) + 1) >> 1, which equals
  (e·k + 2^22) >> 23 without the sum passing 2^31.
* I-LayerNorm: the mean ⌊(512·Σx + C)/2C⌋ splits Σx = 2C·a + b so both FLOOR_DIVs stay in int32;
  v = Σy² in int64; j = max(0, (60 − bitlen v) >> 1) = #{i ∈ [1, 30] : v < 2^(60−2i)}; ⌊√(v·4^j)⌋ and
  ⌊2^46/k⌋ are each the largest z with z² ≤ w, resp. z·k ≤ 2^46, found digit by digit
  (Emitter.digit_search) — unique answers, so any exact search gives the spec's Newton result.
  When v = 0 every y is 0 and the reciprocal is never observed.
* The input quantizer: f32 multiply; NaN → 0 (SELECT on y == y); clamp to the output range; round half
  to even as (y + 1.5·2^23) − 1.5·2^23 (|y| ≤ 2^15 after the clamp: the float add rounds to an
  integer, ties to even; the ROUND builtin is missing from the reference resolver); CAST.
  The dequantizer: CAST to f32, one multiply. No other op touches a float.
* int_binary and cumsum: int32 when the operands are at most 16 bits (no overflow), else int64 and
  a clamp to int32; comparisons on int32, then CAST from bool.
Ops whose inputs are all constants are evaluated at export by the reference and stored as buffers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intedge.integer_ops import exp2, expand_int4, lambda_shiftgelu, lookup_requant, shiftgelu
from intedge.integer_ops.requant import rounding_shift
from intedge.ir.graph import Graph
from intedge.reference import execute, numpy_kernels

from .errors import ExportError, refuse_decoder_graphs
from .tflite_builder import ModelBuilder
from .tflite_emit import DTYPE_RANGE, Emitter, Tensor

SUFFIX = ".tflite"
SUM_MAX = 2**31 - 1
EXP_TABLE_LIMIT = 1 << 16  # Shiftmax's 2^−u table (int32 entries); past it, 2^−u is computed
DIGIT_BITS = 6  # isqrt and reciprocal search: 63 candidates per step



def export(graph: Graph, path: Path) -> None:
    Path(path).write_bytes(to_bytes(graph))


def to_bytes(graph: Graph) -> bytes:
    refuse_decoder_graphs(graph, "the .tflite export", rms_norm=True)  # its I-LayerNorm subtracts the mean
    return _Lowering(graph).model()


def input_specs(path: Path) -> list[tuple[np.dtype, tuple[int, ...]]]:
    from ai_edge_litert.interpreter import Interpreter

    return [(np.dtype(d["dtype"]), tuple(int(n) for n in d["shape"]))
            for d in Interpreter(model_path=str(path)).get_input_details()]


def load(path: Path, threads: int = 1, *, reference_kernels: bool = False):
    """A callable running the file in LiteRT's interpreter (default resolver with XNNPACK, or with
    reference_kernels its BUILTIN_REF resolver): input arrays in the graph's order → output arrays."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    interpreter = Interpreter(model_path=str(path), num_threads=threads, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    inputs = [d["index"] for d in interpreter.get_input_details()]
    outputs = [d["index"] for d in interpreter.get_output_details()]

    def run(arrays):
        for index, x in zip(inputs, arrays):
            interpreter.set_tensor(index, np.ascontiguousarray(x))
        interpreter.invoke()
        return [interpreter.get_tensor(index).copy() for index in outputs]

    return run


class _Lowering:
    def __init__(self, graph: Graph):
        self.g = graph
        self.e = Emitter(ModelBuilder(f"intedge {graph.name}".strip()))
        self.constants = {i: t.data for i, t in enumerate(graph.tensors) if t.is_constant}
        self.values: dict[int, Tensor] = {}  # IR tensor id → model tensor
        self.widened: dict[Tensor, Tensor] = {}  # a tensor → its int32 form

    def model(self) -> bytes:
        e = self.e
        for tid in self.g.inputs:
            t = self.g.tensors[tid]
            self.values[tid] = e.input(t.name, t.dtype, t.shape)
        for k, op in enumerate(self.g.ops):
            if all(i == -1 or i in self.constants for i in op.inputs):
                execute(self.g, self.constants, numpy_kernels(), [k])
                continue
            e.prefix = op.name or f"{op.kind}{k}"
            first_new = len(e.b.tensors)
            lower = getattr(self, f"_{op.kind}", None)
            if lower is None:
                raise ExportError(f"op {k} ({op.name or op.kind}): {op.kind} has no TFLite lowering")
            try:
                results = lower(op, self.g.tensors[op.outputs[0]])
            except (ValueError, TypeError) as err:
                raise ExportError(f"op {k} ({op.name or op.kind}): {err}") from err
            for tid, out in zip(op.outputs, results if isinstance(results, list) else [results]):
                if out.index >= first_new and e.b.tensors[out.index].buffer == 0:
                    e.b.tensors[out.index].name = self.g.tensors[tid].name
                self.values[tid] = out
        return e.b.finish([self.values[i].index for i in self.g.inputs],
                          [self.value(i).index for i in self.g.outputs])

    # --- operands -------------------------------------------------------------

    def value(self, tid: int) -> Tensor:
        if tid not in self.values:
            t = self.g.tensors[tid]
            self.values[tid] = self.e.const(self.constants[tid], t.dtype)
        return self.values[tid]

    def wide(self, x: Tensor) -> Tensor:
        """x as int32 (cast once, reused)."""
        if self.e.dtype(x) == "int32":
            return x
        if x not in self.widened:
            self.widened[x] = self.e.cast(x, "int32")
        return self.widened[x]

    def inputs(self, op) -> list[Tensor | None]:
        return [None if i == -1 else self.value(i) for i in op.inputs]

    def requant(self, z: Tensor, multiplier, shift, dtype: str, offset=0) -> Tensor:
        """sat((z + offset)·m + 2^(s−1)) >> s) with per-channel arrays broadcasting against z."""
        m = np.asarray(multiplier, np.int64)
        s = np.asarray(shift, np.int64)
        e = self.e
        t = e.add(e.mul(e.cast(z, "int64"), m), np.asarray(offset, np.int64) * m + (np.int64(1) << (s - 1)))
        return e.shift_saturate(t, s, *DTYPE_RANGE[dtype], dtype)

    # --- the ops ----------------------------------------------------------------

    def _quantize(self, op, y):
        e = self.e
        (x,) = self.inputs(op)
        lo, hi = DTYPE_RANGE[y.dtype]
        v = e.mul(x, np.float32(op.options["inv_scale"]))
        v = e.clamp(e.select(e.compare("EQUAL", v, v), v, np.float32(0)), np.float32(lo), np.float32(hi))
        magic = np.float32(1.5 * 2**23)
        return e.cast(e.sub(e.add(v, magic), magic), y.dtype)

    def _dequantize(self, op, y):
        (x,) = self.inputs(op)
        return self.e.mul(self.e.cast(x, "float32"), np.float32(op.options["scale"]))

    def _requant(self, op, y):
        (x,) = self.inputs(op)
        return self.requant(x, op.options["multiplier"], op.options["shift"], y.dtype)

    def _qlinear(self, op, y):
        e, o = self.e, op.options
        x = self.value(op.inputs[0])
        weight, bias, scales = (self.constants.get(i) for i in (op.inputs + [-1, -1])[1:4])
        if scales is not None:
            weight = expand_int4(weight, scales, o["group_size"])
        n, k = weight.shape
        rows = int(np.prod(e.shape(x)[:-1]))
        m, s = np.asarray(o["multiplier"], np.int64), np.asarray(o["shift"], np.int64)
        offset = np.zeros(n, np.int64) if bias is None else np.asarray(bias, np.int64)
        d = o["head_dim"]
        if d:  # [1, R, K] × [N/D, D, K]ᵀ = [N/D, R, D]: the head split for free
            lhs, rhs, out_shape = e.reshape(x, [1, rows, k]), weight.reshape(n // d, d, k), [n // d, rows, d]
            m, s, offset = (a.reshape(n // d, 1, d) for a in (m, s, offset))
        else:
            lhs, rhs, out_shape = e.reshape(x, [rows, k]), weight, [rows, n]
        acc = e.emit("BATCH_MATMUL", [lhs, e.const(rhs, "int8")], "int32", out_shape, adjY=True)
        return e.reshape(self.requant(acc, m, s, y.dtype, offset), y.shape)

    def _qmatmul(self, op, y):
        e, o = self.e, op.options
        a, b = self.inputs(op)
        transpose_b = o["transpose_b"]
        out_shape = list(e.shape(a)[:-1]) + [e.shape(b)[-2 if transpose_b else -1]]
        unsigned = e.dtype(a) == "uint8"
        if unsigned:  # a·b = (a − 128)·b + 128·Σ_k b: BATCH_MATMUL has no uint8
            a = e.cast(e.sub(self.wide(a), 128), "int8")
        acc = e.emit("BATCH_MATMUL", [a, b], "int32", out_shape, adjY=transpose_b)
        if unsigned:
            colsum = e.reduce("SUM", self.wide(b), -1 if transpose_b else -2)
            acc = e.add(acc, e.mul(e.reshape(colsum, out_shape[:-2] + [1, out_shape[-1]]), 128))
        if y.dtype == "int32":
            return acc
        return self.requant(acc, o["multiplier"], o["shift"], y.dtype)

    def _qadd(self, op, y):
        e, o = self.e, op.options
        a, b = self.inputs(op)
        ma, mb, s = o["multiplier_a"], o["multiplier_b"], o["shift"]
        if ma == mb:  # (a + b)·m: one int64 multiply; a + b fits int32 (int16 inputs)
            return self.requant(e.add(self.wide(a), self.wide(b)), ma, s, y.dtype)
        t = e.add(e.mul(e.cast(a, "int64"), ma), e.mul(e.cast(b, "int64"), mb))
        return e.shift_saturate(e.add(t, np.int64(1) << (s - 1)), s, *DTYPE_RANGE[y.dtype], y.dtype)

    def _meanpool(self, op, y):
        e, o = self.e, op.options
        (x,) = self.inputs(op)
        x = self.wide(x)
        if e.shape(x)[o["axis"]] >= 1 << 16:  # Σ of 2^16 int16 values can pass 2^31
            x = e.cast(x, "int64")
        total = e.reduce("SUM", x, o["axis"], keep=False)
        return self.requant(total, o["multiplier"], o["shift"], y.dtype)

    def _shiftmax(self, op, y):
        e, o = self.e, op.options
        x, mask = (self.inputs(op) + [None])[:2]
        narrow = e.dtype(x) == "int8"
        x = self.wide(x)
        keep = None if mask is None else e.compare("NOT_EQUAL", self.wide(mask), 0)
        # masked elements take no part in the row maximum; int8 rows keep rowmax − x inside int32
        masked_x = x if keep is None else e.select(keep, x, -(2**24) if narrow else -(2**31))
        row_max = e.reduce("REDUCE_MAX", masked_x, -1)
        cap, table = _exp_table(o["multiplier"], o["shift"], 255 if narrow else SUM_MAX)  # the spec clamps d there
        if narrow:
            d = e.minimum(e.sub(row_max, x), cap)
        else:  # rowmax − x can pass 2^31: subtract in int64, then clamp
            d = e.sub(e.cast(row_max, "int64"), e.cast(x, "int64"))
            d = e.cast(e.minimum(d, cap), "int32") if table is not None else e.minimum(d, SUM_MAX)
        if table is not None:
            ex = e.table(table, "int32", d if keep is None else e.select(keep, d, cap + 1))  # table[cap + 1] = 0
        else:  # u = min((d·m + 2^(s−1)) >> s, 2^20): pow2_neg is 0 from 2^20 on, as at MAX_U
            u = e.shift_saturate(e.add(e.mul(d, o["multiplier"]), np.int64(1) << (o["shift"] - 1)), o["shift"],
                                 0, 1 << 20, "int32")
            ex = pow2_neg(e, u)
            ex = ex if keep is None else e.select(keep, ex, 0)
        if e.shape(x)[-1] << exp2.OUT_BITS > SUM_MAX:
            total = e.cast(e.minimum(e.reduce("SUM", e.cast(ex, "int64"), -1), SUM_MAX), "int32")
        else:
            total = e.reduce("SUM", ex, -1)
        k = e.floor_div(e.const(np.int32(SUM_MAX), "int32"), e.maximum(total, 1))
        probs = e.minimum(e.rounding_shift32(e.mul(ex, k), 23), 255)  # e·k ≤ 2^31 − 1
        out = e.cast(probs, "uint8")
        self.widened[out] = probs
        return out

    def _shiftgelu(self, op, y):
        e, o = self.e, op.options
        (x,) = self.inputs(op)
        values = np.arange(-128, 128, dtype=np.int64)
        # row r has maximum r − 128 and every x up to it: its outputs are the table for that maximum
        grid = np.minimum(values[None, :], values[:, None])
        table = shiftgelu(grid, o["x0"], o["multiplier"], o["shift"])
        x = self.wide(x)
        row_max = e.reduce("REDUCE_MAX", x, -1)
        return e.table(table, "int8", e.add(e.add(e.mul(row_max, 256), x), 128 * 257))

    def _lambda_shiftgelu(self, op, y):
        e, o = self.e, op.options
        (x,) = self.inputs(op)
        channels = len(o["multiplier"])
        values = np.repeat(np.arange(-128, 128, dtype=np.int64)[:, None], channels, 1)
        table = lambda_shiftgelu(values, o["slope_multiplier"], o["slope_shift"], o["multiplier"], o["shift"])
        return e.table(table.T, "int8", e.add(self.wide(x), 128 + 256 * np.arange(channels, dtype=np.int32)))

    def _lookup_requant(self, op, y):
        e, o = self.e, op.options
        (x, table) = op.inputs
        channels = len(o["multiplier"])
        values = np.repeat(np.arange(-128, 128, dtype=np.int8)[:, None], channels, 1)
        table = lookup_requant(values, self.constants[table], o["multiplier"], o["shift"])  # [256, channels] int8
        return e.table(table.T, "int8", e.add(self.wide(self.value(x)), 128 + 256 * np.arange(channels, dtype=np.int32)))

    def _lookup(self, op, y):
        (x, table) = op.inputs
        return self.e.table(self.constants[table], "int8", self.e.add(self.wide(self.value(x)), 128))

    def _ilayernorm(self, op, y):
        e, o = self.e, op.options
        (x,) = self.inputs(op)
        x = self.wide(x)
        c = e.shape(x)[-1]
        total = e.reduce("SUM", x, -1)  # |Σx| ≤ 2^27
        a = e.floor_div(total, 2 * c)
        b = e.sub(total, e.mul(a, 2 * c))
        mean = e.add(e.mul(a, 512), e.floor_div(e.add(e.mul(b, 512), c), 2 * c))
        yc = e.sub(e.mul(x, 256), mean)  # |y| < 2^24
        y64 = e.cast(yc, "int64")
        v = e.reduce("SUM", e.mul(y64, y64), -1)
        j = e.count(e.compare("LESS", v, np.int64(1) << np.arange(58, -1, -2, dtype=np.int64)))
        w = e.mul(v, e.table(np.int64(1) << (2 * np.arange(31, dtype=np.int64)), "int64", j))
        root = e.digit_search(30, DIGIT_BITS, lambda z: e.compare("LESS_EQUAL", e.mul(z, z), w))
        recip = e.digit_search(18, DIGIT_BITS, lambda z: e.compare("LESS_EQUAL", e.mul(z, root), np.int64(1) << 46))
        yj = e.mul(yc, e.table(np.int32(1) << np.arange(31, dtype=np.int32), "int32", j))  # |y·2^j| ≤ k < 2^30
        n = e.high_word(e.add(e.mul(e.cast(yj, "int64"), e.mul(recip, 1 << 16)), np.int64(1) << 31))
        n = e.cast(n, "int64")
        outs = []
        for i, tid in enumerate(op.outputs):
            m = np.asarray(o["multiplier"][i * c:(i + 1) * c], np.int64)
            s = int(o["shift"][i])
            bias = np.asarray(o["bias"][i * c:(i + 1) * c], np.int64) + (np.int64(1) << (s - 1))
            dtype = self.g.tensors[tid].dtype
            outs.append(e.shift_saturate(e.add(e.mul(n, m), bias), s, *DTYPE_RANGE[dtype], dtype))
        return outs

    def _reshape(self, op, y):
        (x,) = self.inputs(op)
        return self.e.emit("RESHAPE", [x, self.e.const(np.array(y.shape, np.int32), "int32")], y.dtype, y.shape,
                           newShape=list(y.shape))

    def _transpose(self, op, y):
        (x,) = self.inputs(op)
        return self.e.transpose(x, [int(p) for p in op.options["perm"]])

    def _concat(self, op, y):
        return self.e.emit("CONCATENATION", self.inputs(op), y.dtype, y.shape, axis=op.options["axis"])

    def _slice(self, op, y):
        e, o = self.e, op.options
        (x,) = self.inputs(op)
        rank, axis = len(e.shape(x)), o["axis"]
        begin, end, stride = np.zeros(rank, np.int32), np.array(e.shape(x), np.int32), np.ones(rank, np.int32)
        begin[axis], end[axis], stride[axis] = o["start"], o["end"], o["step"]
        return e.emit("STRIDED_SLICE", [x] + [e.const(v, "int32") for v in (begin, end, stride)], y.dtype, y.shape)

    def _gather(self, op, y):
        table, indices = self.inputs(op)
        return self.e.gather(table, indices)

    def _upsample_nearest(self, op, y):
        e = self.e
        (x,) = self.inputs(op)
        for axis in (-2, -1):
            size, out = e.shape(x)[axis], y.shape[axis]
            x = e.gather(x, e.const(np.arange(out) // (out // size), "int32"), axis)
        return x

    def _argmax(self, op, y):
        e = self.e
        (x,) = self.inputs(op)
        if e.dtype(x) == "int16":  # ARG_MAX takes no int16
            x = self.wide(x)
        axis = e.const(np.array([op.options["axis"]], np.int32), "int32")
        return e.emit("ARG_MAX", [x, axis], "int32", y.shape, outputType=2)  # TensorType.INT32

    def _int_binary(self, op, y):
        e = self.e
        a, b = self.inputs(op)
        name = _INT_BINARY[op.options["op"]]
        short = all(e.dtype(t) != "int32" for t in (a, b))  # ±, × of 16-bit values fit int32
        a, b = self.wide(a), self.wide(b)
        if name in ("ADD", "SUB", "MUL"):
            if short:
                return e.binary(name, a, b)
            wide = e.binary(name, e.cast(a, "int64"), e.cast(b, "int64"))
            return e.cast(e.clamp(wide, -(2**31), 2**31 - 1), "int32")
        if name in ("MINIMUM", "MAXIMUM"):
            return e.binary(name, a, b)
        if name in ("LOGICAL_AND", "LOGICAL_OR"):
            return e.cast(e.binary(name, e.compare("NOT_EQUAL", a, 0), e.compare("NOT_EQUAL", b, 0)), "int32")
        return e.cast(e.compare(name, a, b), "int32")

    def _cumsum(self, op, y):
        e = self.e
        (x,) = self.inputs(op)
        axis = e.const(np.int32(op.options["axis"]), "int32")
        if e.dtype(x) != "int32" and e.shape(x)[op.options["axis"]] < 1 << 16:
            return e.emit("CUMSUM", [self.wide(x), axis], "int32", y.shape)
        running = e.emit("CUMSUM", [e.cast(x, "int64"), axis], "int64", y.shape)
        return e.cast(e.clamp(running, -(2**31), 2**31 - 1), "int32")


_INT_BINARY = ("ADD", "SUB", "MUL", "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL",
               "LOGICAL_AND", "LOGICAL_OR", "MINIMUM", "MAXIMUM")


def pow2_neg(e: Emitter, u: Tensor) -> Tensor:
    """exp2.pow2_neg on int32 u ∈ [0, 2^20] (its intermediates fit int32, as its docstring shows);
    (p + ⌊2^q/2⌋) >> q with the half from a table that is 0 at q = 16, where p ≤ 2^15 shifts to 0."""
    q = e.right_shift(u, exp2.FRAC_BITS)
    f = e.sub(u, e.mul(q, 1 << exp2.FRAC_BITS))
    p = e.right_shift(e.mul(e.add(e.right_shift(e.mul(f, exp2.C2), exp2.FRAC_BITS), exp2.C1), f), exp2.FRAC_BITS)
    half = e.table([(1 << i) >> 1 for i in range(exp2.OUT_BITS + 1)] + [0], "int32", q)
    return e.right_shift(e.add(e.add(p, 1 << exp2.OUT_BITS), half), q)


def _exp_table(multiplier: int, shift: int, d_max: int) -> tuple[int, np.ndarray | None]:
    """Shiftmax's e = 2^−u as a function of d = rowmax − x: (cap, table) with table[min(d, cap)] = e(d) and
    table[cap + 1] = 0 for masked elements; table None past EXP_TABLE_LIMIT entries. e(d) is constant from
    cap on: from the first d with u ≥ 2^20 (e = 0) when multiplier > 0, from d = 0 when it is 0; d_max
    bounds d otherwise."""
    zero_from = 2 ** (shift + 20) - 2 ** (shift - 1)  # d·m + 2^(s−1) ≥ 2^(s+20) ⟺ u ≥ 2^20
    cap = min(-(-zero_from // multiplier) if multiplier else 0, d_max)
    if cap + 2 > EXP_TABLE_LIMIT:
        return cap, None
    d = np.arange(cap + 1, dtype=np.int64)
    u = np.minimum(rounding_shift(d * multiplier, shift), exp2.MAX_U)
    return cap, np.append(exp2.pow2_neg(u), 0).astype(np.int32)
