"""Integer index arithmetic: what models compute from token ids and masks.

RoBERTa's position ids (cumsum(ids != pad) · (ids != pad) + pad), token-type
and attention-mask plumbing, and the constant biases added to attention's
int32 scores (Swin's relative position bias) are exact integer expressions;
they stay integer here instead of being rejected or run in float.

* int_binary(a, b, op): a ∘ b with b broadcast to a, computed in int64 and
  saturated to int32. Comparisons and the logical and/or give 0 or 1.
* cumsum(x, axis): the running sum along an axis, in int64, each result
  saturated to int32.
"""

from __future__ import annotations

from ._backend import ops_for

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# op code → (name, a, b ↦ int64 result); the codes are stored in files: never reorder
INT_BINARY_OPS = (
    ("add", lambda xp, a, b: a + b),
    ("sub", lambda xp, a, b: a - b),
    ("mul", lambda xp, a, b: a * b),
    ("eq", lambda xp, a, b: a == b),
    ("ne", lambda xp, a, b: a != b),
    ("lt", lambda xp, a, b: a < b),
    ("le", lambda xp, a, b: a <= b),
    ("gt", lambda xp, a, b: a > b),
    ("ge", lambda xp, a, b: a >= b),
    ("and", lambda xp, a, b: (a != 0) & (b != 0)),
    ("or", lambda xp, a, b: (a != 0) | (b != 0)),
    ("min", lambda xp, a, b: xp.minimum(a, b)),
    ("max", lambda xp, a, b: xp.maximum(a, b)),
)
INT_BINARY_CODES = {name: code for code, (name, _) in enumerate(INT_BINARY_OPS)}


def int_binary(a, b, op: int):
    xp = ops_for(a)
    a64, b64 = xp.int64(a), xp.int64(b)  # |a · b| < 2^62: int64 holds every result before saturation
    y = xp.int64(INT_BINARY_OPS[op][1](xp, a64, b64))
    return xp.cast(xp.clip(y, INT32_MIN, INT32_MAX), "int32")


def cumsum(x, axis: int):
    xp = ops_for(x)
    return xp.cast(xp.clip(xp.cumsum(xp.int64(x), axis), INT32_MIN, INT32_MAX), "int32")
