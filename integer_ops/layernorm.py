"""I-LayerNorm: integer layer normalization over the last axis (I-ViT, Li & Gu 2023, §3.5).

Input x: int8 or int16 (the residual stream), C channels. Output int8.

    μ = ⌊(2·256·Σx + C) / 2C⌋                256 × the mean, rounded half up
    y = 256·x − μ                             |y| < 2^24
    v = Σ y²                                  a sum, not divided by C; < 2^60
    j = max(0, (60 − bitlen(v)) >> 1)         normalize v to 59–60 bits
    k = isqrt(v << 2j)                        ⌊√v⌋·2^j, exactly (Newton, below)
    n = ((y << j) · ⌊2^46 / max(k, 1)⌋ + 2^15) >> 16   y/√v in Q30; |n| ≤ 2^30
    out = sat8((n · M_c + B_c + 2^(s−1)) >> s)

The mean keeps 8 fractional bits (I-ViT rounds it to an integer, which
costs up to half an input step on every element). C ≤ 4096.
y/k = x̂/√C with x̂ the unit-variance normalized value, so the affine
γ·x̂ + β at output scale S_out folds into per-channel integers
M_c ≈ γ_c·√C / (2^30·S_out) · 2^s (signed, |M_c| < 2^31) and
B_c ≈ β_c / S_out · 2^s (|B_c| ≤ 2^61): one multiply-add per element, with γ
of either sign. |y_i·2^j| ≤ k because y_i²·4^j ≤ v·4^j, hence the product
(y << j)·⌊2^46/k⌋ ≤ 2^46 and everything fits int64. The even shift 2j gives
the square root ~30 significant bits even when the row barely varies
(without it, ⌊√v⌋ of a small v is off by up to 1/√v: 3 % for two channels). LayerNorm's ε (1e−5 to 1e−12 of the variance) is dropped.

RMSNorm (rms=True) is the same with μ = 0: y/√v is then x/√(Σx²) = x̂/√C
for x̂ = x / rms(x), so the same (M_c, B_c, s) fold its γ (B_c = 0).

Compared with I-ViT: the reciprocal has 46 bits, not 31, and the square root
is exact. isqrt — Newton's method from k₀ = 2^⌈b/2⌉ (b = bit length of v),
so √v ≤ k₀ < 2√v. From above, Newton's iterates decrease monotonically to
⌊√v⌋ with relative error ε' ≤ ε²/2: 1 → 2^−1 → 2^−3 → 2^−7 → 2^−15 → 2^−31
→ 2^−63, so after 6 steps the error is below 1 for any v < 2^62, and a 7th
settles the floor.

Error bound asserted by the tests: max |out·S_out − LayerNorm(x)| ≤ 0.6 output
steps (the output rounding alone is 0.5). ISQRT_STEPS = 7 fixed steps of k ← min(k, (k + v//k) >> 1);
tests compare against math.isqrt on edge and random values.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import bit_length, ops_for
from .requant import QuantizationError, rounding_shift, saturate

ISQRT_STEPS = 7
RECIP_BITS = 46
NORM_BITS = 30  # n = y/k in Q30
MEAN_SCALE = 256  # the mean keeps 8 fractional bits
VAR_BITS = 60  # v is shifted up to this many bits before the square root
MAX_CHANNELS = 4096  # keeps v = Σ y² below 2^60
MAX_BIAS = 2**61
ERROR_BOUND = 0.6  # output steps


def isqrt(v):
    """⌊√v⌋ for int64 v ∈ [0, 2^62), elementwise."""
    xp = ops_for(v)
    k = xp.int64(1) << ((bit_length(v) + 1) >> 1)
    for _ in range(ISQRT_STEPS):
        k = xp.minimum(k, (k + v // xp.maximum(k, 1)) >> 1)
    return k


def ilayernorm(x, multiplier, bias, shift: int, out_dtype: str = "int8", rms: bool = False):
    xp = ops_for(x)
    x = xp.int64(x)
    c = x.shape[-1]
    mean = 0 if rms else (2 * MEAN_SCALE * xp.sum(x, -1) + c) // (2 * c)
    y = MEAN_SCALE * x - mean
    v = xp.sum(y * y, -1)
    j = xp.maximum(0, (VAR_BITS - bit_length(v)) >> 1)
    k = isqrt(v << (2 * j))
    n = rounding_shift((y << j) * ((1 << RECIP_BITS) // xp.maximum(k, 1)), RECIP_BITS - NORM_BITS)
    z = n * xp.int64(multiplier) + xp.int64(bias)
    return saturate(rounding_shift(z, shift), out_dtype)


def ilayernorm_params(gamma, beta, scale_out: float) -> dict:
    """Fold a float LayerNorm's γ, β and the output scale into (M_c, B_c, s)."""
    gamma = np.asarray(gamma, np.float64)
    beta = np.asarray(beta, np.float64)
    if not (np.all(np.isfinite(gamma)) and np.all(np.isfinite(beta))):
        raise QuantizationError("LayerNorm weights contain NaN or Inf")
    c = gamma.shape[0]
    m_real = gamma * math.sqrt(c) / (2.0**NORM_BITS * scale_out)
    b_real = beta / scale_out
    for s in range(62, 0, -1):
        m = np.rint(m_real * 2.0**s)
        b = np.rint(b_real * 2.0**s)
        if np.abs(m).max() < 2**31 and np.abs(b).max() <= MAX_BIAS:
            return {"multiplier": m.astype(np.int32), "bias": b.astype(np.int64), "shift": s}
    raise QuantizationError(f"LayerNorm γ/S_out too large for int32 multipliers (S_out={scale_out})")
