"""The shared integer exponential: 2^(−u / 2^16) in Q15, by shifts and two multiplies.

Input u ≥ 0 is a base-2 exponent in Q16 (u = 2^16 means "halve once").
Split u = q·2^16 + f (q = u >> 16, f = u & 0xFFFF); then

    2^(−f/2^16) ≈ p(f) = 2^15 + (((C1 + ((C2·f) >> 16)) · f) >> 16)   (Q15)
    pow2_neg(u)  = (p(f) + ⌊2^q / 2⌋) >> q,   0 when q > 15

with C1 = −21951, C2 = 5567 (Q15). This is the second-order polynomial
1 − 0.66988·v + 0.16988·v² on v ∈ [0, 1), fitted for the smallest maximum
relative error (0.27 %) under p(0) = 1 and p(1) = ½, so the pieces join and
the row maximum maps to exactly 2^15. I-ViT's Shiftmax uses the first-order
2^−v ≈ 1 − v/2 (6 % worst relative error); this one costs one more multiply.
Every intermediate fits int32: |C2·f| < 2^29, |(C1 + ·)·f| < 2^31.
The floors make p non-increasing in f only up to 1 LSB (it rises by one at
~0.1 % of the 2^16 steps); the tests assert exactly that.
"""

from __future__ import annotations

from ._backend import ops_for

FRAC_BITS = 16  # Q of the exponent u
OUT_BITS = 15  # Q of the result: pow2_neg(0) = 2^15
C1, C2 = -21951, 5567
MAX_U = (32 << FRAC_BITS) - 1  # callers clamp u here; q ≤ 31 keeps shifts small


def pow2_neg(u):
    """2^(−u/2^16) · 2^15, rounded as above; u int64 in [0, MAX_U]."""
    xp = ops_for(u)
    q = u >> FRAC_BITS
    f = u & ((1 << FRAC_BITS) - 1)
    p = (1 << OUT_BITS) + (((C1 + ((C2 * f) >> FRAC_BITS)) * f) >> FRAC_BITS)
    half = (xp.int64(1) << q) >> 1
    return xp.where(q > OUT_BITS, 0, (p + half) >> q)
