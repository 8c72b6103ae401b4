"""Any elementwise function of an int8 tensor, as a 256-entry table.

    lookup(x, table) = table[x + 128]

An int8 input takes 256 values, so f(x) at fixed input and output scales is
fully described by f's 256 results: the converter computes them once, from
the float function (ReLU, tanh, sigmoid, SiLU, hard-swish, GELU's tanh
form, torch.where(x > 0, x, a·x), ...), as round_half_even(f(s_in · q) /
s_out) saturated to int8. The table is exact by construction: it is the
best int8 answer for every input, and the engine only looks it up.
"""

from __future__ import annotations

import numpy as np

from ._backend import ops_for

TABLE_SIZE = 256


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
