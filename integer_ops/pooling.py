"""Integer mean over one axis (token pooling).

    meanpool(x) = sat_T( (Σ_axis x · m + 2^(s−1)) >> s ),  m / 2^s ≈ s_in / (s_out · L)

with L the length of the pooled axis folded into the multiplier: no
division at run time. Σ is int64 (|Σ| ≤ L · 2^15).
"""

from __future__ import annotations

from ._backend import ops_for
from .requant import requantize


def meanpool(x, axis: int, multiplier: int, shift: int, out_dtype: str = "int8"):
    xp = ops_for(x)
    total = xp.sum(xp.int64(x), axis)
    return requantize(total.squeeze(axis), multiplier, shift, out_dtype)
