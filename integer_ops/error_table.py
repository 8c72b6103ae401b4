"""Measured error of each integer nonlinearity against its float function.

    python -m intedge.integer_ops.error_table

Prints the Markdown table the README shows. Inputs are seeded, so the figures
are reproducible; the bounds the tests assert are in each module's docstring.
"""

from __future__ import annotations

import numpy as np

from . import gelu, layernorm
from .shiftmax import OUT_SCALE, shiftmax, shiftmax_params


def _softmax_rows(rng, scale, width, sigma):
    x = np.clip(np.rint(rng.normal(0, sigma, (256, width)) / scale), -(2**31), 2**31 - 1).astype(np.int32)
    xf = x * scale
    ref = np.exp(xf - xf.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    err = np.abs(shiftmax(x, **shiftmax_params(scale)) * OUT_SCALE - ref)
    return err.max(), err.mean()


def _gelu_errors(rng, scale, tails: bool):
    raw = rng.standard_t(2, (64, 197)) * 12 if tails else rng.normal(0, 30, (64, 197))
    x = np.clip(np.rint(raw), -128, 127).astype(np.int8)
    target = gelu.gelu_float(x * scale)
    s_out = float(np.abs(gelu.gelu_float(np.arange(-128, 128) * scale)).max() / 127)
    hist = np.bincount(x.ravel().astype(np.int64) + 128, minlength=256)
    lam = gelu.fit_lambda(hist, scale)
    out = {}
    for name, y in (
        ("ShiftGELU (I-ViT)", gelu.shiftgelu(x, **gelu.shiftgelu_params(scale, s_out))),
        ("λ-ShiftGELU, λ = 1.702", gelu.lambda_shiftgelu(x, **gelu.lambda_shiftgelu_params(scale, s_out))),
        (f"λ-ShiftGELU, fitted λ = {lam:.3f}", gelu.lambda_shiftgelu(x, **gelu.lambda_shiftgelu_params(scale, s_out, lam))),
    ):
        err = np.abs(y * s_out - target) / s_out
        out[name] = (err.max(), err.mean())
    return out


def _layernorm_errors(rng, dtype, channels):
    info = np.iinfo(dtype)
    sd = info.max / 8
    x = np.clip(rng.normal(0, sd, (256, channels)) + rng.normal(0, sd, (256, 1)), info.min, info.max).astype(dtype)
    gamma, beta = rng.uniform(-2, 2, channels), rng.uniform(-1, 1, channels)
    xf = x.astype(np.float64)
    ref = (xf - xf.mean(-1, keepdims=True)) / np.sqrt(xf.var(-1, keepdims=True)) * gamma + beta
    s_out = np.abs(ref).max() / 127
    err = np.abs(layernorm.ilayernorm(x, **layernorm.ilayernorm_params(gamma, beta, s_out)) * s_out - ref) / s_out
    return err.max(), err.mean()


def rows() -> list[tuple[str, str, str, float, float]]:
    rng = np.random.default_rng(0)
    out = []
    for width in (197, 1024):
        for scale in (0.01, 0.05):
            mx, mean = _softmax_rows(rng, scale, width, 2.0)
            out.append(("Shiftmax", f"{width}-wide rows, N(0, 2) logits, S = {scale}", "abs. probability", mx, mean))
    for tails in (False, True):
        for scale in (0.02, 0.05):
            dist = "Student-t(2) ×12 (long tail)" if tails else "N(0, 30)"
            for name, (mx, mean) in _gelu_errors(rng, scale, tails).items():
                out.append((name, f"int8 {dist}, S = {scale}", "output steps", mx, mean))
    for dtype, channels in (("int8", 192), ("int16", 384), ("int16", 768)):
        mx, mean = _layernorm_errors(rng, dtype, channels)
        out.append(("I-LayerNorm", f"{dtype} input, C = {channels}, random γ, β", "output steps", mx, mean))
    return out


def main() -> None:
    print("| op | input | unit | max error | mean error |")
    print("|---|---|---|---|---|")
    for op, setting, unit, mx, mean in rows():
        print(f"| {op} | {setting} | {unit} | {mx:.4f} | {mean:.4f} |")


if __name__ == "__main__":
    main()
