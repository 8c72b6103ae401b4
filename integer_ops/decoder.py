"""The integer ops a Llama-style decoder adds: RoPE, SwiGLU and causal attention over a KV cache.

RMSNorm is I-LayerNorm without the mean (layernorm.py, rms=True).

RoPE rotates each pair (x_i, x_{i+D/2}) of a head (the rotate-half layout of
`transformers`' Llama) by the angle p·θ_i of the token's position p:

    c, s = cos[p, i], sin[p, i]          int16, Q14: round(2^14 · cos(p·θ_i))
    y_i       = sat8((x_i·c − x_{i+D/2}·s + 2^13) >> 14)
    y_{i+D/2} = sat8((x_{i+D/2}·c + x_i·s + 2^13) >> 14)

A rotation keeps the length, so y keeps x's scale. Q14 puts the tables'
rounding (≤ 2^−15) far below the int8 output step; the rounding of y adds
half a step, as any requant does. |x·c| + |x·s| ≤ 2^8·2^15 fits int32.

SwiGLU is SiLU(gate)·up, in one op: SiLU of an int8 is a 256-entry table
(int16, at the scale that puts its peak at 2^15 − 1: 15 significant bits),
and the product with `up` is requantized once:

    y = sat8((table[gate + 128] · up · m + 2^(s−1)) >> s)     |table·up| < 2^22

Attention over a KV cache: q [Hq, S, D], k and v [Hkv, S, D] for S new
tokens at consecutive positions p … p+S−1 (p = positions[0]), the caches
k_cache, v_cache [Hkv, T, D] (state: they keep their rows between runs).
The op first writes k, v into rows p … p+S−1 of the caches, then for each
query head h (grouped-query attention: it reads kv head h // (Hq / Hkv))

    scores = q[h] · k_cache[g, :p+S]ᵀ                        int32 [S, p+S]
    probs  = shiftmax(scores, m, s, keep = j ≤ p + i)        uint8, causal
    out    = requant(probs · v_cache[g, :p+S], m_o, s_o)     int8 [S, D]

and stores out as y[i, h·D:(h+1)·D] (heads merged, the layout o_proj
takes). The causal mask needs no input: query i sits at position p + i.
Positions must be consecutive and end at or below T; a prefix of the
cache written by earlier runs (rows < p) is what this run attends to, so a
prompt is prefilled once and each decode step appends one row.
"""

from __future__ import annotations

import numpy as np

from ._backend import ops_for
from .requant import requantize, rounding_shift, saturate
from .shiftmax import shiftmax

ROPE_FRAC_BITS = 14
SILU_TABLE_PEAK = 2**15 - 1


def rope_tables(head_dim: int, positions: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin [positions, head_dim / 2] in Q14 for Llama's frequencies θ_i = theta^(−2i / D)."""
    inv_freq = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.outer(np.arange(positions, dtype=np.float64), inv_freq)
    one = 2**ROPE_FRAC_BITS
    return (np.rint(np.cos(angles) * one).astype(np.int16), np.rint(np.sin(angles) * one).astype(np.int16))


def rope(x, positions, cos, sin):
    """x [..., S, D] int8 (heads first), positions int32 [S] into the tables' rows → int8, x's shape."""
    xp = ops_for(x)
    half = x.shape[-1] // 2
    pos = xp.int64(positions)
    if pos.shape[0] and (int(pos.min()) < 0 or int(pos.max()) >= cos.shape[0]):
        raise IndexError(f"a position is outside [0, {cos.shape[0]}): the tables cover {cos.shape[0]} positions")
    c, s = xp.take(xp.int64(cos), pos), xp.take(xp.int64(sin), pos)
    x = xp.int64(x)
    x1, x2 = x[..., :half], x[..., half:]
    y1 = rounding_shift(x1 * c - x2 * s, ROPE_FRAC_BITS)
    y2 = rounding_shift(x2 * c + x1 * s, ROPE_FRAC_BITS)
    return saturate(xp.concat([y1, y2], -1), "int8")


def silu_table(in_scale: float) -> tuple[np.ndarray, float]:
    """SwiGLU's int16 table of SiLU(in_scale · q) and its scale."""
    x = np.arange(-128, 128, dtype=np.float64) * in_scale
    f = x / (1 + np.exp(-x))
    peak = float(np.abs(f).max())
    scale = peak / SILU_TABLE_PEAK if peak > 0 else 1.0
    return np.rint(f / scale).astype(np.int16), scale


def swiglu(gate, up, table, multiplier: int, shift: int):
    """gate, up int8 of one shape, table int16 [256] → int8."""
    xp = ops_for(gate)
    silu = xp.take(xp.int64(table), xp.int64(gate) + 128)
    return saturate(rounding_shift(silu * xp.int64(up) * multiplier, shift), "int8")


def cache_start(positions, length: int) -> int:
    """p: the first position, after checking the positions are p, p+1, … and end at or below `length`."""
    pos = np.asarray(positions, np.int64)
    p = int(pos[0])
    if p < 0 or p + len(pos) > length or not np.array_equal(pos, p + np.arange(len(pos))):
        raise IndexError(f"positions must be consecutive and within the cache's {length} rows, "
                         f"got {pos[:4].tolist()}{'…' if len(pos) > 4 else ''} for {len(pos)} tokens")
    return p


def cached_attention(q, k, v, positions, k_cache, v_cache, multiplier: int, shift: int, out_multiplier: int,
                     out_shift: int):
    """Writes k, v into the caches at the positions (in place), then causal grouped-query attention of q over
    the cache's first p + S rows → int8 [S, Hq · D]."""
    heads, s_new, d = q.shape
    groups = heads // k.shape[0]
    p = cache_start(positions, k_cache.shape[1])
    k_cache[:, p:p + s_new] = k
    v_cache[:, p:p + s_new] = v
    t = p + s_new
    keys = np.repeat(np.asarray(k_cache[:, :t], np.int64), groups, axis=0)  # [Hq, t, D]
    values = np.repeat(np.asarray(v_cache[:, :t], np.int64), groups, axis=0)
    scores = np.matmul(np.asarray(q, np.int64), keys.swapaxes(-1, -2))  # [Hq, S, t]
    keep = np.arange(t)[None, :] <= p + np.arange(s_new)[:, None]
    probs = shiftmax(scores, multiplier, shift, keep)
    out = requantize(np.matmul(np.asarray(probs, np.int64), values), out_multiplier, out_shift, "int8")
    return np.ascontiguousarray(out.transpose(1, 0, 2).reshape(s_new, heads * d))
