"""Integer-only residual add.

    qadd(a, b) = sat_T( (a·m_a + b·m_b + 2^(s−1)) >> s )

m_a / 2^s ≈ s_a / s_out and m_b / 2^s ≈ s_b / s_out share one shift
(requant.dyadic_shared), so the sum is rounded once, not once per arm. a and b
are int8 or int16 (I-ViT keeps the residual stream in 16 bits); b broadcasts
against a (a position embedding added to every image of a batch).
|a·m_a| < 2^46, so the sum is exact in int64.
"""

from __future__ import annotations

from ._backend import ops_for
from .requant import rounding_shift, saturate


def qadd(a, b, multiplier_a: int, multiplier_b: int, shift: int, out_dtype: str = "int8"):
    xp = ops_for(a)
    total = xp.int64(a) * multiplier_a + xp.int64(b) * multiplier_b
    return saturate(rounding_shift(total, shift), out_dtype)
