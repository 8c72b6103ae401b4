"""Any elementwise function of an int8 tensor, as a 256-entry table.

    lookup(x, table) = table[x + 128]
    lookup_requant(x, table, m, s) = requant(table[x + 128], m_c, s_c)   (int32 table, c: x's last axis)

An int8 input takes 256 values, so f(x) at fixed input and output scales is
fully described by f's 256 results: the converter computes them once, from
the float function (ReLU, tanh, sigmoid, SiLU, hard-swish, GELU's tanh
form, torch.where(x > 0, x, a·x), ...), as round_half_even(f(s_in · q) /
s_out) saturated to int8. The table is exact by construction: it is the
best int8 answer for every input, and the engine only looks it up.

lookup_requant is the same idea where one int8 table per tensor is not
enough: with SmoothQuant the output has one scale per channel of the last
axis, so the table holds f at one fine int32 scale s_t (|entry| ≤ 2^30) and
each channel c requantizes it by m_c / 2^s_c ≈ s_t / s_out_c (requant.py's
equation (1), to int8). With requant_table_for's s_t (the peak |f| at
2^30) the table's rounding and the multiplier's 31 bits together move
f / s_out_c by about P · 2^−30 output steps, P the peak in output steps,
so the result is round(f(s_in · q) / s_out_c) except within that distance
of a tie (where the requant rounds half up): an exact GELU. λ-ShiftGELU (gelu.py) is this op
with its table computed from (slope_multiplier, slope_shift).
"""

from __future__ import annotations

import numpy as np

from ._backend import ops_for
from .requant import dyadic, requantize

TABLE_SIZE = 256
MAX_TABLE_ENTRY = 2**30  # |table| of lookup_requant: table · multiplier + 2^61 stays below 2^62


def lookup(x, table):
    xp = ops_for(x)
    return xp.take(table, xp.int64(x) + 128)


def table_for(fn, in_scale: float, out_scale: float) -> np.ndarray:
    """The int8 table of y = fn(x) for x at in_scale and y at out_scale; fn maps a float64 array elementwise."""
    x = np.arange(-128, 128, dtype=np.float64) * in_scale
    y = np.asarray(fn(x), dtype=np.float64) / out_scale
    with np.errstate(invalid="ignore"):
        y = np.nan_to_num(y, nan=0.0, posinf=127, neginf=-128)
    return np.clip(np.rint(y), -128, 127).astype(np.int8)


def lookup_requant(x, table, multiplier, shift):
    """requant(table[x + 128]) to int8: table int32 [256]; multiplier/shift ints, or arrays of 1 or C entries
    (per channel of x's last axis)."""
    xp = ops_for(x)
    return requantize(xp.take(table, xp.int64(x) + 128), multiplier, shift, "int8")


def requant_table_for(fn, in_scale: float, out_scale) -> dict:
    """lookup_requant's table, multiplier and shift for y = fn(x), x at in_scale and y at out_scale: one scale,
    or one per channel of the last axis. fn maps a float64 array elementwise and must be finite on the 256
    inputs. The table's scale puts its largest |entry| at 2^30."""
    f = np.asarray(fn(np.arange(-128, 128, dtype=np.float64) * in_scale), dtype=np.float64)
    if f.shape != (TABLE_SIZE,) or not np.all(np.isfinite(f)):
        raise ValueError("fn must give 256 finite values")
    peak = float(np.abs(f).max())
    table_scale = peak / MAX_TABLE_ENTRY if peak > 0 else 1.0
    table = np.clip(np.rint(f / table_scale), -MAX_TABLE_ENTRY, MAX_TABLE_ENTRY).astype(np.int32)
    m, s = zip(*(dyadic(table_scale / float(so)) for so in np.atleast_1d(out_scale)))
    return {"table": table, "multiplier": np.array(m, np.int32), "shift": np.array(s, np.int8)}
