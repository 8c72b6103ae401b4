"""Integer GEMMs: qlinear (activations × weights) and qmatmul (activations × activations).

    acc[..., n] = Σ_k x[..., k] · w[n, k]                         (int32)
    qlinear     = requant(acc + bias[n], m[n], s[n])              (per channel)
    qmatmul     = requant(Σ_k a[..., i, k] · b[..., k, j], m, s)  (per tensor)

x, a: int8 (a may be uint8: the output of shiftmax); w, b: int8. For W4
weights, w = q4 · g (quantize.expand_int4) — the same int8 values, so one
definition covers W8A8 and W4A8. A qlinear may store its result head by
head (head_dim), the layout attention's Q, K and V want: no transpose op. A qmatmul whose output dtype is int32 skips
the requantization and returns the accumulator (Q·Kᵀ feeding shiftmax).

The accumulator is int32 in every executor: the validator admits a layer only
if K · max|x| · max|w| + max|bias| < 2^31, so it never wraps.
"""

from __future__ import annotations

from ._backend import ops_for
from .quantize import expand_int4
from .requant import requantize
from .shape_ops import split_heads


def qlinear(x, weight, bias, multiplier, shift, out_dtype: str = "int8", group_scales=None, group_size: int = 0,
            head_dim: int = 0):
    """x [..., K], weight [N, K], bias [N] int32 or None. W4: weight holds the int4 values and
    group_scales [N, K / group_size] their integer scales (w = q4 · g). head_dim D > 0 stores the
    [R, N] result as [N / D, R, D] (shape_ops.split_heads)."""
    xp = ops_for(x)
    if group_scales is not None:
        weight = expand_int4(weight, group_scales, group_size)
    acc = xp.matmul(xp.int64(x), xp.int64(weight).T)
    if bias is not None:
        acc = acc + xp.int64(bias)
    return split_heads(requantize(acc, multiplier, shift, out_dtype), head_dim)


def qmatmul(a, b, transpose_b: bool, multiplier: int, shift: int, out_dtype: str = "int8"):
    """a [..., M, K], b [..., K, N] (or [..., N, K] with transpose_b)."""
    xp = ops_for(a)
    b = xp.int64(b)
    acc = xp.matmul(xp.int64(a), b.swapaxes(-1, -2) if transpose_b else b)
    if out_dtype == "int32":
        return xp.cast(acc, "int32")
    return requantize(acc, multiplier, shift, out_dtype)
