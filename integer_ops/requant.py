"""Dyadic requantization — how a real-valued scale ratio becomes integers.

A ratio r = s_in / s_out is carried as a pair (m, s), r ≈ m / 2^s, with
0 ≤ m < 2^31 and 1 ≤ s ≤ 62, and applied to an integer z as

    requant(z) = sat_T( (z·m + 2^(s−1)) >> s )                    (1)

with `>>` the arithmetic (floor) shift of an int64, i.e. round-half-up
(toward +∞): requant(−2.5 → −2), requant(2.5 → 3). sat_T clamps to the
output dtype's range. z is at most 32 bits and m at most 31, so z·m + 2^61
fits int64: every executor computes (1) exactly in 64 bits.

Why this rounding: it is one add and one shift, the same instruction
sequence on every ISA (a rounding shift, `srshl`, on Arm), and it needs no
float. Source: I-BERT (Kim et al., 2021) §3.1 "dyadic numbers"; the
half-up form is our choice, written down here and used everywhere.

`dyadic(r)` picks m with 31 significant bits: |m·2^−s − r| ≤ r·2^−31 for
r ∈ [2^−31, 2^30); below 2^−31 the shift caps at 62 and the error is at most
2^−63 in absolute terms.
"""

from __future__ import annotations

import math

from ._backend import dtype_range, ops_for

MAX_MULTIPLIER = 2**31 - 1
MIN_SHIFT, MAX_SHIFT = 1, 62


class QuantizationError(ValueError):
    """A scale or ratio that the integer arithmetic cannot represent."""


def dyadic(ratio: float) -> tuple[int, int]:
    """(m, s) with m / 2^s ≈ ratio, 0 ≤ m < 2^31, 1 ≤ s ≤ 62."""
    if not (math.isfinite(ratio) and ratio > 0):
        raise QuantizationError(f"scale ratio must be finite and > 0, got {ratio!r}")
    mantissa, exponent = math.frexp(ratio)  # ratio = mantissa · 2^exponent
    m, s = round(mantissa * 2**31), 31 - exponent
    if m == 2**31:
        m, s = 2**30, s - 1
    if s < MIN_SHIFT:
        raise QuantizationError(f"scale ratio {ratio!r} is too large (must be < 2^30)")
    if s > MAX_SHIFT:
        m, s = round(ratio * 2.0**MAX_SHIFT), MAX_SHIFT
    return m, s


def dyadic_shared(ratios: list[float]) -> tuple[list[int], int]:
    """Multipliers for several ratios that share one shift (see qadd).

    The largest ratio gets full 31-bit precision; the others are rounded at
    the same shift, so each has absolute error ≤ 2^−(s+1).
    """
    _, s = dyadic(max(ratios))
    ms = [round(r * 2.0**s) for r in ratios]
    if min(ratios) < 0 or max(ms) > MAX_MULTIPLIER:
        raise QuantizationError(f"cannot share a shift between ratios {ratios}")
    return ms, s


def rounding_shift(x, shift):
    """(x + 2^(shift−1)) >> shift on int64 values, shift ≥ 1 (scalar or array)."""
    if isinstance(shift, int):
        return (x + (1 << (shift - 1))) >> shift
    shift = ops_for(x).int64(shift)  # torch would keep an int8 shift in int8
    return (x + (ops_for(x).int64(1) << (shift - 1))) >> shift


def saturate(x, dtype: str):
    """Clamp int64 values to dtype's range and cast."""
    xp = ops_for(x)
    lo, hi = dtype_range(dtype)
    return xp.cast(xp.clip(x, lo, hi), dtype)


def requantize(z, multiplier, shift, dtype: str = "int8"):
    """Equation (1). multiplier/shift: ints, or arrays along z's last axis."""
    xp = ops_for(z)
    z = xp.int64(z)
    m = xp.int64(multiplier) if not isinstance(multiplier, int) else multiplier
    return saturate(rounding_shift(z * m, shift), dtype)
