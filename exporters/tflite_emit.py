"""TFLite builtins with inferred output types and shapes, and the exact integer compositions TFLite lacks.

Every method emits ops into a ModelBuilder and returns the result's tensor index; a Python int or
numpy array operand becomes a constant of the other operand's dtype. The compositions (why each is
exact is derived in to_tflite.py's docstring):

* shift_saturate — ⌊t / 2^s⌋ of int64 t, clamped to [lo, hi]: TFLite's RIGHT_SHIFT stops at 32 bits,
  so the clamp comes first, then the high word of a BITCAST to int32 pairs is ⌊t' / 2^32⌋;
* digit_search — the largest z with a monotone integer predicate, a few bits per step, by counting
  the candidates that pass: ⌊√w⌋ and ⌊2^46 / k⌋ without int64 division, which TFLite has not;
* table — a GATHER from a constant table, the form every pure function of a small integer takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tflite_builder import ModelBuilder

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DTYPE_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-(2**15), 2**15 - 1),
               "int32": (-(2**31), 2**31 - 1)}


@dataclass(frozen=True)
class Tensor:
    """A tensor of the model being built (an operand that is not a Tensor is a constant)."""

    index: int


class Emitter:
    def __init__(self, builder: ModelBuilder):
        self.b = builder
        self.prefix = "t"  # names the tensors of the op being lowered

    # --- plumbing -----------------------------------------------------------

    def dtype(self, x: Tensor) -> str:
        return self.b.dtype_of(x.index)

    def shape(self, x: Tensor) -> tuple[int, ...]:
        return self.b.shape_of(x.index)

    def const(self, value, dtype: str) -> Tensor:
        return Tensor(self.b.constant(value, dtype, f"{self.prefix}/const"))

    def input(self, name: str, dtype: str, shape) -> Tensor:
        return Tensor(self.b.tensor(name, dtype, shape))

    def emit(self, builtin: str, inputs: list[Tensor], dtype: str, shape, **options) -> Tensor:
        out = self.b.tensor(f"{self.prefix}/{builtin.lower()}:{len(self.b.tensors)}", dtype, shape)
        self.b.op(builtin, [x.index for x in inputs], [out], **options)
        return Tensor(out)

    def _tensor(self, value, like: Tensor) -> Tensor:
        return value if isinstance(value, Tensor) else self.const(value, self.dtype(like))

    # --- elementwise --------------------------------------------------------

    def binary(self, builtin: str, a: Tensor, b, out_dtype: str | None = None) -> Tensor:
        b = self._tensor(b, a)
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        return self.emit(builtin, [a, b], out_dtype or self.dtype(a), shape)

    def add(self, a, b):
        return self.binary("ADD", a, b)

    def sub(self, a, b):
        return self.binary("SUB", a, b)

    def mul(self, a, b):
        return self.binary("MUL", a, b)

    def floor_div(self, a, b):
        return self.binary("FLOOR_DIV", a, b)

    def maximum(self, a, b):
        return self.binary("MAXIMUM", a, b)

    def minimum(self, a, b):
        return self.binary("MINIMUM", a, b)

    def right_shift(self, a, b):
        return self.binary("RIGHT_SHIFT", a, b)

    def compare(self, builtin: str, a, b) -> Tensor:
        """A bool tensor. Only on int32/int64/float32: LiteRT 2.3's int8 and uint8 comparisons abort and its
        int16 NOT_EQUAL answers False everywhere."""
        if self.dtype(a) not in ("int32", "int64", "float32"):
            raise TypeError(f"{builtin} on {self.dtype(a)}: widen to int32 first")
        return self.binary(builtin, a, b, "bool")

    def clamp(self, x, lo, hi):
        return self.minimum(self.maximum(x, lo), hi)

    def cast(self, x: Tensor, dtype: str) -> Tensor:
        if self.dtype(x) == dtype:
            return x
        return self.emit("CAST", [x], dtype, self.shape(x))

    def select(self, cond: Tensor, a: Tensor, b) -> Tensor:
        b = self._tensor(b, a)
        shape = np.broadcast_shapes(self.shape(cond), self.shape(a), self.shape(b))
        return self.emit("SELECT_V2", [cond, a, b], self.dtype(a), shape)

    # --- shapes and reductions ----------------------------------------------

    def reshape(self, x: Tensor, shape) -> Tensor:
        shape = [int(d) for d in shape]
        if list(self.shape(x)) == shape:
            return x
        return self.emit("RESHAPE", [x, self.const(np.array(shape, np.int32), "int32")], self.dtype(x), shape,
                         newShape=shape)

    def transpose(self, x: Tensor, perm) -> Tensor:
        shape = [self.shape(x)[p] for p in perm]
        return self.emit("TRANSPOSE", [x, self.const(np.array(perm, np.int32), "int32")], self.dtype(x), shape)

    def reduce(self, builtin: str, x: Tensor, axis: int, keep: bool = True) -> Tensor:
        """SUM or REDUCE_MAX over one axis."""
        shape = list(self.shape(x))
        axis %= len(shape)
        shape = shape[:axis] + ([1] if keep else []) + shape[axis + 1:]
        return self.emit(builtin, [x, self.const(np.array([axis], np.int32), "int32")], self.dtype(x), shape,
                         keepDims=keep)

    def gather(self, params: Tensor, indices: Tensor, axis: int = 0) -> Tensor:
        p = self.shape(params)
        axis %= len(p)
        shape = p[:axis] + self.shape(indices) + p[axis + 1:]
        return self.emit("GATHER", [params, indices], self.dtype(params), shape, axis=axis)

    def table(self, values, dtype: str, index: Tensor) -> Tensor:
        """values[index]: a constant table looked up by an int32 tensor."""
        return self.gather(self.const(np.asarray(values).reshape(-1), dtype), index)

    # --- compositions -------------------------------------------------------

    def high_word(self, t: Tensor) -> Tensor:
        """⌊t / 2^32⌋ of int64 t as int32: the high half of its little-endian int32 pair."""
        pair = self.emit("BITCAST", [t], "int32", self.shape(t) + (2,))
        return self.gather(pair, self.const(np.int32(1), "int32"), axis=-1)

    def shift_saturate(self, t: Tensor, shift, lo: int, hi: int, out_dtype: str) -> Tensor:
        """clamp(⌊t / 2^shift⌋, lo, hi) for int64 t, as out_dtype; shift in [1, 62], an int or an array that
        broadcasts against t (per channel). With t = z·m + 2^(s−1) this is requant's rounding shift.

        The clamp is applied to t — t ∈ [lo·2^s, (hi+1)·2^s − 1] ⟺ ⌊t/2^s⌋ ∈ [lo, hi] — so afterwards
        |t| ≤ 2^(s+31): a shift s < 32 becomes a multiply by 2^(32−s) (|product| < 2^63 for |lo|, hi+1 ≤
        2^31) and the high word; s ≥ 32 takes the high word, then an int32 RIGHT_SHIFT by s − 32
        (arithmetic: the floor). A bound past int64 is dropped: t is within it anyway.
        """
        s = np.asarray(shift, np.int64)
        if s.min() < 1 or s.max() > 62:
            raise ValueError(f"shift {s.min()}..{s.max()} outside [1, 62]")
        powers = np.array([1 << int(k) for k in s.flat], object).reshape(s.shape)
        t = self.clamp(t, _clip64(lo * powers), _clip64((hi + 1) * powers - 1))
        if s.min() < 32:
            t = self.mul(t, np.left_shift(np.int64(1), np.maximum(32 - s, 0)))
        q = self.high_word(t)
        if s.max() > 32:
            q = self.right_shift(q, np.maximum(s - 32, 0).astype(np.int32))
        return self.cast(q, out_dtype)

    def rounding_shift32(self, x: Tensor, shift: int) -> Tensor:
        """(x + 2^(s−1)) >> s on int32 without forming the sum, which may pass 2^31:
        ⌊(x + 2^(s−1)) / 2^s⌋ = ⌊(⌊x / 2^(s−1)⌋ + 1) / 2⌋, whose + 1 cannot overflow for s ≥ 2."""
        if shift < 2:
            raise ValueError(f"rounding_shift32 needs a shift >= 2, got {shift}")
        return self.right_shift(self.add(self.right_shift(x, shift - 1), 1), 1)

    def count(self, cond: Tensor, dtype: str = "int32") -> Tensor:
        """How many of the last axis's conditions hold, keeping the axis."""
        return self.reduce("SUM", self.cast(cond, dtype), -1)

    def digit_search(self, bits: int, digit_bits: int, holds) -> Tensor:
        """The largest z in [0, 2^bits) with holds(z) (a bool tensor of z's shape: true up to the answer, false
        after), digit by digit from the top: z += 2^pos · #{d ∈ [1, 2^b): holds(z + d·2^pos)}. holds broadcasts
        the candidates [..., 2^b − 1] against its own operands (shape [..., 1]); z is int64 [..., 1]."""
        z, pos = None, bits
        while pos > 0:
            width = min(digit_bits, pos)
            pos -= width
            offsets = np.arange(1, 1 << width, dtype=np.int64) << pos
            cand = self.const(offsets, "int64") if z is None else self.add(z, offsets)
            step = self.mul(self.count(holds(cand), "int64"), np.int64(1) << pos)
            z = step if z is None else self.add(z, step)
        return z


def _clip64(values) -> np.ndarray:
    return np.array([min(max(v, INT64_MIN), INT64_MAX) for v in np.asarray(values, object).flat],
                    np.int64).reshape(np.shape(values))
