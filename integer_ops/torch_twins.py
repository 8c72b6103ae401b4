"""Torch twins of the integer ops, for quantization-aware training.

Each module's forward returns exactly the integers of the numpy reference —
it calls the very same functions of this package on torch int64 tensors —
times the output scale, as a float tensor. Its backward is a straight-through
estimator: the gradient of the float op the integer op stands for (softmax,
GELU, LayerNorm, linear), evaluated at the float input. Rounding of the
inputs is straight-through as well.

`integer_forward(q)` exposes the pure integer function for tests and for the
converter, which checks that a QAT model and its exported graph agree bit
for bit.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import gelu, layernorm, matmul, quantize
from .requant import dyadic
from .shiftmax import OUT_SCALE, shiftmax, shiftmax_params


class _ValueOf(torch.autograd.Function):
    """Returns `exact` as the value, routes the gradient to `surrogate`."""

    @staticmethod
    def forward(ctx, surrogate, exact):
        return exact.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def fake_quantize(x: torch.Tensor, scale: float, dtype: str = "int8") -> torch.Tensor:
    """Integer codes of x (the graph's input quantizer), as int64."""
    info = torch.iinfo(getattr(torch, dtype))
    return torch.clamp(torch.round(x / scale), info.min, info.max).to(torch.int64)


def _straight_through(surrogate: torch.Tensor, exact_int: torch.Tensor, scale: float):
    return _ValueOf.apply(surrogate, exact_int.to(surrogate.dtype) * scale)


class QShiftmax(nn.Module):
    def __init__(self, scale_in: float):
        super().__init__()
        self.scale_in = scale_in
        self.params = shiftmax_params(scale_in)

    def integer_forward(self, q, mask=None):
        return shiftmax(q, mask=mask, **self.params)

    def forward(self, x):
        q = fake_quantize(x, self.scale_in, "int32")
        return _straight_through(torch.softmax(x, -1), self.integer_forward(q), OUT_SCALE)


class QShiftGELU(nn.Module):
    """I-ViT's ShiftGELU (gelu.shiftgelu) with a straight-through GELU gradient."""

    def __init__(self, scale_in: float, scale_out: float):
        super().__init__()
        self.scale_in, self.scale_out = scale_in, scale_out
        self.params = gelu.shiftgelu_params(scale_in, scale_out)

    def integer_forward(self, q):
        return gelu.shiftgelu(q, **self.params)

    def forward(self, x):
        q = fake_quantize(x, self.scale_in)
        surrogate = nn.functional.gelu(x)
        return _straight_through(surrogate, self.integer_forward(q), self.scale_out)


class QLambdaShiftGELU(QShiftGELU):
    """λ-ShiftGELU (gelu.lambda_shiftgelu); λ fixed at construction."""

    def __init__(self, scale_in: float, scale_out: float, lam: float = gelu.IVIT_LAMBDA):
        nn.Module.__init__(self)
        self.scale_in, self.scale_out = scale_in, scale_out
        self.params = gelu.lambda_shiftgelu_params(scale_in, scale_out, lam)

    def integer_forward(self, q):
        return gelu.lambda_shiftgelu(q, **self.params)


class QILayerNorm(nn.Module):
    """I-LayerNorm with trainable γ, β: the integer constants are refolded each step."""

    def __init__(self, channels: int, scale_in: float, scale_out: float, in_dtype: str = "int16"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(channels, dtype=torch.float64))
        self.scale_in, self.scale_out, self.in_dtype = scale_in, scale_out, in_dtype

    def integer_params(self) -> dict:
        p = layernorm.ilayernorm_params(
            self.weight.detach().numpy(), self.bias.detach().numpy(), self.scale_out
        )
        return {k: torch.as_tensor(np.asarray(v)) if k != "shift" else v for k, v in p.items()}

    def integer_forward(self, q):
        return layernorm.ilayernorm(q, **self.integer_params())

    def forward(self, x):
        q = fake_quantize(x, self.scale_in, self.in_dtype)
        surrogate = nn.functional.layer_norm(x, x.shape[-1:], self.weight.to(x.dtype), self.bias.to(x.dtype))
        return _straight_through(surrogate, self.integer_forward(q), self.scale_out)


class QLinear(nn.Module):
    """W8A8 linear: per-channel int8 weights, int32 bias, per-channel dyadic requant."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, scale_in: float, scale_out: float):
        super().__init__()
        self.weight = nn.Parameter(weight.detach().to(torch.float64).clone())
        self.bias = None if bias is None else nn.Parameter(bias.detach().to(torch.float64).clone())
        self.scale_in, self.scale_out = scale_in, scale_out

    def integer_params(self) -> dict:
        q, w_scales = quantize.quantize_per_channel(self.weight.detach().numpy())
        acc_scales = w_scales * self.scale_in
        bias = None
        if self.bias is not None:
            bias = torch.as_tensor(np.rint(self.bias.detach().numpy() / acc_scales).astype(np.int64))
        ms, ss = zip(*(dyadic(float(r)) for r in acc_scales / self.scale_out))
        return {
            "weight": torch.as_tensor(q.astype(np.int64)),
            "bias": bias,
            "multiplier": torch.as_tensor(np.array(ms, np.int64)),
            "shift": torch.as_tensor(np.array(ss, np.int64)),
        }

    def integer_forward(self, q):
        return matmul.qlinear(q, **self.integer_params())

    def forward(self, x):
        q = fake_quantize(x, self.scale_in)
        surrogate = nn.functional.linear(x, self.weight.to(x.dtype), None if self.bias is None else self.bias.to(x.dtype))
        return _straight_through(surrogate, self.integer_forward(q), self.scale_out)
