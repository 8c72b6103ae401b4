"""GPTQ for W4 weights: round one input column at a time and push each
column's rounding error onto the columns not yet rounded, weighted by the
layer's input statistics (Frantar et al., 2023, "GPTQ: Accurate
Post-Training Quantization for Generative Pre-trained Transformers", Alg. 1).

Our int4 grid is w ≈ s_c · g · q4 with integer group scales g (see
integer_ops.quantize), so a group's g is chosen, by least squared error,
from the group's columns as they stand when the group is reached. The
result is the compensated float weight W' and the scales: rounding W' with
those scales (what lower.py and the QAT twin do) gives GPTQ's integers.
"""

from __future__ import annotations

import numpy as np

from intedge import integer_ops as iops
from intedge.integer_ops.quantize import INT4_MAX, INT4_MIN, best_group_scales, symmetric_scale

DAMPING = 0.01  # fraction of the mean diagonal added to XᵀX (the paper's λ)
BLOCK = 128  # columns per lazy batch (the paper's B); whole groups


def gram(x: np.ndarray) -> np.ndarray:
    """Σ xᵀx over the rows of x [..., K], in float64."""
    rows = np.asarray(x, np.float64).reshape(-1, x.shape[-1])
    return rows.T @ rows


def gptq_int4(w: np.ndarray, xtx: np.ndarray, group_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """w [N, K], xtx [K, K] (Σ xᵀx of the layer's calibration inputs) → (W' [N, K], g int8 [N, K/G], s_c [N]).

    group_size 0: per-channel int4 (g = 1 everywhere, s_c = max|w| / 7).
    """
    w = np.array(w, np.float64)
    n, k = w.shape
    if group_size:
        _, _, s_c = iops.quantize_int4_grouped(w, group_size)  # the channel scales of the least-error search
    else:
        s_c = symmetric_scale(np.abs(w).max(axis=1), bits=4)
    gs = group_size or k
    h = np.array(xtx, np.float64)
    dead = np.diag(h) == 0  # inputs that were always 0: their weights cannot matter
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h[np.diag_indices(k)] += DAMPING * np.mean(np.diag(h))
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper Cholesky factor of H⁻¹
    g = np.ones((n, k // gs), np.int8)
    block = max(BLOCK, gs if group_size else 0)
    for b0 in range(0, k, block):  # GPTQ's lazy batches: rank-1 updates inside a block, one product after it
        b1 = min(b0 + block, k)
        errors = np.zeros((n, b1 - b0))
        for col in range(b0, b1):
            if col % gs == 0 and group_size:
                g[:, col // gs], _ = best_group_scales(w[:, col:col + gs] / s_c[:, None])
            scale = s_c * g[:, col // gs]
            q = np.clip(np.rint(w[:, col] / scale), INT4_MIN, INT4_MAX)
            err = (w[:, col] - q * scale) / u[col, col]
            w[:, col + 1:b1] -= np.outer(err, u[col, col + 1:b1])
            errors[:, col - b0] = err
        w[:, b1:] -= errors @ u[b0:b1, b1:]
    return w, g, s_c
