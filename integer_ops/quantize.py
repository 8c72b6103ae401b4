"""Quantizers: float weights and activations → integers, and back at the edges.

Symmetric everywhere (zero point 0):  q = clamp(rint(x / s), −qmax, qmax),
s = max|x| / qmax, qmax = 2^(b−1) − 1. Weights per output channel (axis 0),
activations per tensor. `rint` is round-half-to-even; these functions run at
conversion time, so their rounding is a choice of constants, not of kernels.

The two float ops that may appear in a graph — the input quantizer and the
output dequantizer — are defined in float32 with one IEEE multiply each, so
every executor reproduces them bit for bit:

    quantize_input(x)    = sat_T(rint_f32(f32(x) · f32(inv_scale)))   (NaN → 0)
    dequantize_output(q) = f32(q) · f32(scale)

W4 (QServe-style progressive quantization, Lin et al. 2024; integer group
scales as in "Integer Scale", Li et al. 2024): w ≈ s_c · g · q4 with a float
per-channel scale s_c, an integer group scale g ∈ [1, 16] per `group_size`
consecutive inputs, and q4 ∈ [−8, 7]. Then q4 · g ∈ [−128, 112] is an int8,
so the inner product stays int8 × int8 → int32 and the only per-channel
factor, s_c, folds into the requantization multiplier like any W8 scale.
"""

from __future__ import annotations

import numpy as np

from ._backend import dtype_range, ops_for
from .requant import QuantizationError

INT4_MIN, INT4_MAX = -8, 7
GROUP_SCALE_MAX = 16  # 16 · −8 = −128: the largest g keeping q4 · g in int8
INT4_CHANNEL_SHRINKS = (1.0, 0.9, 0.8, 0.7, 0.6)  # s_c candidates, as fractions of the range-covering scale
GROUP_SIZES = (32, 64, 128)


def symmetric_scale(absmax, bits: int = 8):
    """s = max|x| / (2^(b−1) − 1); an all-zero range gets s = 1."""
    absmax = np.asarray(absmax, dtype=np.float64)
    if not np.all(np.isfinite(absmax)):
        raise QuantizationError("range contains NaN or Inf")
    return np.where(absmax > 0, absmax / (2 ** (bits - 1) - 1), 1.0)


def quantize_symmetric(x, scale, bits: int = 8) -> np.ndarray:
    qmax = 2 ** (bits - 1) - 1
    q = np.clip(np.rint(np.asarray(x, np.float64) / scale), -qmax, qmax)
    return q.astype(np.int8 if bits <= 8 else np.int16 if bits <= 16 else np.int32)


def quantize_per_tensor(x, bits: int = 8):
    scale = float(symmetric_scale(np.max(np.abs(x)), bits))
    return quantize_symmetric(x, scale, bits), scale


def quantize_per_channel(w, bits: int = 8):
    """Per output channel (axis 0) symmetric quantization → (q, scales[N])."""
    w = np.asarray(w, np.float64)
    absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scales = symmetric_scale(absmax, bits)
    shape = (-1,) + (1,) * (w.ndim - 1)
    return quantize_symmetric(w, scales.reshape(shape), bits), scales


def best_group_scales(x):
    """x [..., G]: one group of weights in units of s_c → (g int8 [...], squared error [...]): the g in
    [1, 16] whose int4 grid g · [−8, 7] rounds the group with the least squared error."""
    x = np.asarray(x, np.float32)  # conversion time, not kernels: float32 halves the traffic of [..., G, 16]
    g_values = np.arange(1, GROUP_SCALE_MAX + 1, dtype=np.float32)
    diff = x[..., None] - np.clip(np.rint(x[..., None] / g_values), INT4_MIN, INT4_MAX) * g_values  # [..., G, 16]
    err = np.einsum("...gk,...gk->...k", diff, diff)
    pick = err.argmin(axis=-1)
    return (pick + 1).astype(np.int8), np.take_along_axis(err, pick[..., None], -1)[..., 0].astype(np.float64)


def quantize_int4_grouped(w, group_size: int):
    """w [N, K] → (q4 int8 [N, K] in [−8, 7], g int8 [N, K/G] in [1, 16], s_c [N]).

    w ≈ s_c · g · q4. The integer g is coarse (g = 3 and g = 4 differ by a
    third), so a nearest-range rule wastes much of int4's resolution. Instead,
    per group, every g in [1, 16] is tried and the one with the least squared
    error kept; per channel, s_c is tried at a few fractions of the
    range-covering value (a smaller s_c gives finer g steps and clips only the
    rare outlier group) and the least total error kept.
    """
    w = np.asarray(w, np.float64)
    n, k = w.shape
    if group_size not in GROUP_SIZES:
        raise QuantizationError(f"group size must be one of {GROUP_SIZES}, got {group_size}")
    if k % group_size:
        raise QuantizationError(f"K={k} is not a multiple of the group size {group_size}")
    groups = w.reshape(n, k // group_size, group_size)
    amax = np.abs(w).max(axis=1)
    if not np.all(np.isfinite(amax)):
        raise QuantizationError("weights contain NaN or Inf")
    s_full = np.where(amax > 0, amax / (INT4_MAX * GROUP_SCALE_MAX), 1.0)
    best_err = np.full(n, np.inf)
    s_c = s_full.copy()
    g = np.ones((n, k // group_size), np.int8)
    for shrink in INT4_CHANNEL_SHRINKS:
        s = s_full * shrink
        g_s, err = best_group_scales(groups / s[:, None, None])
        total = err.sum(axis=1) * s**2
        better = total < best_err
        best_err = np.where(better, total, best_err)
        s_c = np.where(better, s, s_c)
        g = np.where(better[:, None], g_s, g)
    return quantize_int4_with_scales(w, g, s_c), g.astype(np.int8), s_c


def quantize_int4_with_scales(w, g, s_c) -> np.ndarray:
    """q4 = clip(rint(w / (s_c · g))): the int4 weights of fixed scales (g [N, K/G] repeats over each group)."""
    w = np.asarray(w, np.float64)
    step = s_c[:, None] * np.repeat(np.asarray(g, np.float64), w.shape[1] // g.shape[1], axis=1)
    return np.clip(np.rint(w / step), INT4_MIN, INT4_MAX).astype(np.int8)


def quantize_int4_per_channel(w):
    """w [N, K] → (q4 int8 [N, K] in [−8, 7], s_c [N]): plain per-channel int4 (group scales all 1)."""
    return quantize_per_channel(w, bits=4)


def expand_int4(q4, group_scales, group_size: int) -> np.ndarray:
    """The int8 weights an int4 layer computes with: q4 · g (exact, in int8)."""
    xp = ops_for(q4)
    g = xp.repeat(xp.int64(group_scales), group_size, -1)
    return xp.cast(xp.int64(q4) * g, "int8")


def pack_int4(q4) -> np.ndarray:
    """[..., K] int values in [−8, 7] → [..., K/2] uint8, even index in the low nibble."""
    q4 = np.asarray(q4)
    if q4.shape[-1] % 2:
        raise QuantizationError(f"int4 packing needs an even last dimension, got {q4.shape}")
    if q4.size and (q4.min() < INT4_MIN or q4.max() > INT4_MAX):
        raise QuantizationError("int4 values must lie in [-8, 7]")
    nib = q4.astype(np.uint8) & 0x0F
    return (nib[..., 0::2] | (nib[..., 1::2] << 4)).astype(np.uint8)


def unpack_int4(packed) -> np.ndarray:
    """Inverse of pack_int4: sign-extend each nibble."""
    p = np.asarray(packed, np.uint8)
    lo = (p & 0x0F).astype(np.int8)
    hi = (p >> 4).astype(np.int8)
    out = np.stack([lo, hi], axis=-1).reshape(*p.shape[:-1], p.shape[-1] * 2)
    return np.where(out > 7, out - 16, out).astype(np.int8)


def quantize_input(x, inv_scale: float, dtype: str = "int8") -> np.ndarray:
    """The graph's input quantizer (float32 → int), exactly as every executor runs it."""
    lo, hi = dtype_range(dtype)
    xp = ops_for(x)
    with np.errstate(over="ignore", invalid="ignore"):  # ±inf saturates below, as in C++
        y = xp.float32(x) * np.float32(inv_scale)
    return xp.rint_clip(y, lo, hi, dtype)


def dequantize_output(q, scale: float) -> np.ndarray:
    return ops_for(q).float32(q) * np.float32(scale)
