"""The QAT twins compute the numpy reference's integers exactly, and pass gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from intedge import integer_ops as iops
from intedge.integer_ops import torch_twins as tt
from intedge.integer_ops.gelu import gelu_float
from intedge.integer_ops.shiftmax import OUT_SCALE

SETTINGS = settings(max_examples=25, deadline=None)


def _both(fn, x, *args, **kw):
    """fn on numpy and on torch; returns the two results as int64 numpy."""
    a = np.asarray(fn(x, *args, **kw)).astype(np.int64)
    t_args = [torch.as_tensor(v) if isinstance(v, np.ndarray) else v for v in args]
    t_kw = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    b = fn(torch.as_tensor(x), *t_args, **t_kw).to(torch.int64).numpy()
    return a, b


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.floats(0.002, 0.1))
def test_shiftmax_twin(seed, scale):
    rng = np.random.default_rng(seed)
    x = rng.integers(-(2**20), 2**20, (3, 50)).astype(np.int32)
    mask = rng.integers(0, 2, (1, 50)).astype(np.int32)
    a, b = _both(iops.shiftmax, x, mask=mask, **iops.shiftmax_params(scale))
    assert np.array_equal(a, b)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 0.1))
def test_gelu_twins(seed, scale):
    x = np.random.default_rng(seed).integers(-128, 128, (4, 64)).astype(np.int8)
    x[0, :2] = (-128, 127)
    a, b = _both(iops.shiftgelu, x, **iops.shiftgelu_params(scale, scale))
    assert np.array_equal(a, b)
    a, b = _both(iops.lambda_shiftgelu, x, **iops.lambda_shiftgelu_params(scale, scale, 1.6))
    assert np.array_equal(a, b)
    for s_out in (scale, np.linspace(0.5, 2, 64) * scale):  # per tensor and per channel
        a, b = _both(iops.lookup_requant, x, **iops.requant_table_for(gelu_float, scale, s_out))
        assert np.array_equal(a, b)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([np.int8, np.int16]))
def test_layernorm_and_linear_twins(seed, dtype):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (3, 48)).astype(dtype)
    p = iops.ilayernorm_params(rng.uniform(-2, 2, 48), rng.uniform(-1, 1, 48), 0.02)
    a, b = _both(iops.ilayernorm, x, **p)
    assert np.array_equal(a, b)
    xi = rng.integers(-128, 128, (5, 48)).astype(np.int8)
    w = rng.integers(-127, 128, (7, 48)).astype(np.int8)
    bias = rng.integers(-1000, 1000, 7).astype(np.int32)
    mult = rng.integers(0, 2**31, 7).astype(np.int32)
    shift = rng.integers(20, 40, 7).astype(np.int8)
    a, b = _both(iops.qlinear, xi, w, bias, mult, shift, "int16")
    assert np.array_equal(a, b)
    a, b = _both(iops.qadd, x, x[::-1].copy(), 2**30, 3 * 2**29, 31, "int16")
    assert np.array_equal(a, b)
    a, b = _both(iops.meanpool, x, 1, 2**30, 36, "int8")
    assert np.array_equal(a, b)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([np.int8, np.uint8, np.int16, np.int32]))
def test_index_math_lookup_and_uint8_meanpool_twins(seed, dtype):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (3, 4, 5), endpoint=True).astype(dtype)
    x[0, 0, :2] = (info.min, info.max)
    b = rng.integers(-(2**31), 2**31, (4, 1)).astype(np.int32)  # broadcast over x's last axis
    b[0, 0] = -(2**31)
    for op in range(len(iops.INT_BINARY_OPS)):
        a, t = _both(iops.int_binary, x, b, op)
        assert np.array_equal(a, t), iops.INT_BINARY_OPS[op][0]
    for axis in range(3):
        a, t = _both(iops.cumsum, x, axis)
        assert np.array_equal(a, t)
    x8 = rng.integers(-128, 128, (4, 64)).astype(np.int8)
    a, t = _both(iops.lookup, x8, rng.integers(-128, 128, 256).astype(np.int8))
    assert np.array_equal(a, t)
    u8 = rng.integers(0, 256, (2, 12, 3)).astype(np.uint8)
    a, t = _both(iops.meanpool, u8, 0, 2**30, 31, "int8")
    assert np.array_equal(a, t)


@pytest.mark.parametrize(
    "module, x",
    [
        (tt.QShiftmax(0.01), torch.randn(2, 4, 9) * 3),
        (tt.QShiftGELU(0.05, 0.05), torch.randn(3, 32) * 2),
        (tt.QLambdaShiftGELU(0.05, 0.05, 1.65), torch.randn(3, 32) * 2),
        (tt.QILayerNorm(16, 0.001, 0.03), torch.randn(4, 16) * 5),
        (tt.QLinear(torch.randn(8, 16), torch.randn(8), 0.05, 0.1), torch.randn(5, 16) * 2),
    ],
)
def test_module_forward_is_integer_and_backward_flows(module, x):
    torch.manual_seed(0)
    x = x.to(torch.float64).requires_grad_(True)
    y = module(x)
    scale_in = module.scale_in
    dtype = {tt.QShiftmax: "int32", tt.QILayerNorm: "int16"}.get(type(module), "int8")
    exact = module.integer_forward(tt.fake_quantize(x.detach(), scale_in, dtype))
    assert torch.equal(y.detach(), exact.to(torch.float64) * getattr(module, "scale_out", OUT_SCALE))
    (y * torch.arange(y.shape[-1])).sum().backward()  # a plain sum has zero gradient through softmax/LN
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    params = list(module.parameters())
    assert all(p.grad is not None for p in params)


def test_decoder_ops_take_torch_tensors_and_give_the_same_integers():
    """RoPE, SwiGLU and RMSNorm are written once, for numpy and torch alike (the twin a decoder's QAT would use;
    cached_attention updates its caches in place and is numpy only)."""
    rng = np.random.default_rng(0)
    cos, sin = iops.rope_tables(16, 32, 1e4)
    x = rng.integers(-128, 128, (2, 5, 16)).astype(np.int8)
    pos = np.arange(3, 8, dtype=np.int32)
    got = iops.rope(*(torch.from_numpy(a) for a in (x, pos, cos, sin)))
    assert np.array_equal(got.numpy(), iops.rope(x, pos, cos, sin))
    table, _ = iops.silu_table(0.05)
    g, u = (rng.integers(-128, 128, (3, 7)).astype(np.int8) for _ in range(2))
    got = iops.swiglu(torch.from_numpy(g), torch.from_numpy(u), torch.from_numpy(table), 123456789, 40)
    assert np.array_equal(got.numpy(), iops.swiglu(g, u, table, 123456789, 40))
    h = rng.integers(-3000, 3000, (3, 32)).astype(np.int16)
    p = iops.ilayernorm_params(rng.uniform(0.5, 1.5, 32), np.zeros(32), 0.03)
    got = iops.ilayernorm(torch.from_numpy(h), torch.from_numpy(p["multiplier"]), torch.from_numpy(p["bias"]),
                          p["shift"], rms=True)
    assert np.array_equal(got.numpy(), iops.ilayernorm(h, p["multiplier"], p["bias"], p["shift"], rms=True))
