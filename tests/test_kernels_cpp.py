"""The C++ scalar kernels (intedge._runtime.kernels) against the numpy spec, with ==."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import INT_DTYPES, int_arrays

from intedge import _runtime
from intedge import integer_ops as iops
from intedge.integer_ops import shape_ops

K = _runtime.kernels
SETTINGS = settings(max_examples=60, deadline=None)


multipliers = st.one_of(st.integers(0, 2**31 - 1), st.sampled_from([0, 1, 2**30, 2**31 - 1]))
shifts = st.integers(1, 62)


@SETTINGS
@given(st.data(), st.integers(1, 5), st.integers(1, 9), st.integers(1, 70), st.sampled_from(["int8", "int16"]))
def test_qlinear_w8(data, m, n, k, out_dtype):
    x = data.draw(int_arrays(np.int8, (m, k)))
    w = data.draw(int_arrays(np.int8, (n, k)))
    bias = data.draw(st.none() | hnp.arrays(np.int32, n, elements=st.integers(-(2**20), 2**20)))
    mult = np.array(data.draw(st.lists(multipliers, min_size=n, max_size=n)), np.int32)
    shift = np.array(data.draw(st.lists(shifts, min_size=n, max_size=n)), np.int8)
    want = iops.qlinear(x, w, bias, mult, shift, out_dtype)
    assert np.array_equal(K.qlinear(x, w, bias, mult, shift, out_dtype), want)


@SETTINGS
@given(st.data(), st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.sampled_from([32, 64, 128]))
def test_qlinear_w4(data, m, n, groups, group):
    k = groups * group
    x = data.draw(int_arrays(np.int8, (m, k)))
    q4 = data.draw(hnp.arrays(np.int8, (n, k), elements=st.integers(-8, 7)))
    gs = data.draw(hnp.arrays(np.int8, (n, groups), elements=st.integers(1, 16)))
    mult = np.full(n, data.draw(multipliers), np.int32)
    shift = np.full(n, data.draw(shifts), np.int8)
    want = iops.qlinear(x, iops.expand_int4(q4, gs, group), None, mult, shift)
    assert np.array_equal(K.qlinear_w4(x, iops.pack_int4(q4), gs, group, None, mult, shift), want)


@SETTINGS
@given(st.data(), st.sampled_from([np.int8, np.uint8]), st.booleans(), st.sampled_from(["int8", "int16", "int32"]))
def test_qmatmul(data, a_dtype, transpose_b, out_dtype):
    b_, m, n, k = (data.draw(st.integers(1, 6)) for _ in range(4))
    a = data.draw(int_arrays(a_dtype, (b_, m, k)))
    b = data.draw(int_arrays(np.int8, (b_, n, k) if transpose_b else (b_, k, n)))
    mult, shift = data.draw(multipliers), data.draw(shifts)
    want = iops.qmatmul(a, b, transpose_b, mult, shift, out_dtype)
    assert np.array_equal(K.qmatmul(a, b, transpose_b, mult, shift, out_dtype), want)


@SETTINGS
@given(st.data(), st.sampled_from([np.int8, np.int32]), st.sampled_from([1, 2, 5, 197, 4096]), st.booleans())
def test_shiftmax(data, dtype, width, masked):
    x = data.draw(int_arrays(dtype, (2, width)))
    keep = data.draw(hnp.arrays(np.uint8, (2, width), elements=st.integers(0, 1))) if masked else None
    mult, shift = data.draw(multipliers), data.draw(shifts)
    want = iops.shiftmax(x, mult, shift, mask=keep)
    assert np.array_equal(K.shiftmax(x, mult, shift, keep), want)


def test_shiftmax_edge_rows():
    rows = np.array([[127] * 8, [-128] * 8, [-128] * 7 + [127], [0] * 8], np.int8)
    p = iops.shiftmax_params(0.05)
    keep = np.ones_like(rows, np.uint8)
    keep[3] = 0  # a fully masked row gives zeros
    want = iops.shiftmax(rows, mask=keep, **p)
    assert np.array_equal(K.shiftmax(rows, keep=keep, **p), want)
    assert want[3].sum() == 0 and want[0].tolist() == [32] * 8 and want[2, -1] == 255
    long_row = np.zeros((1, 65536), np.int32)  # the sum saturates: 65536 · 2^15 = 2^31
    assert np.array_equal(K.shiftmax(long_row, **p), iops.shiftmax(long_row, **p))


@SETTINGS
@given(st.data(), st.integers(-255, -1), st.sampled_from([1, 3, 64, 1000]))
def test_shiftgelu(data, x0, width):
    x = data.draw(int_arrays(np.int8, (3, width)))
    mult, shift = data.draw(multipliers), data.draw(shifts)
    assert np.array_equal(K.shiftgelu(x, x0, mult, shift), iops.shiftgelu(x, x0, mult, shift))


@SETTINGS
@given(st.data(), st.sampled_from([1, 64]))
def test_lambda_shiftgelu(data, channels):
    x = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
    mult = np.array([data.draw(multipliers) for _ in range(channels)], np.int32)
    shift = np.array([data.draw(shifts) for _ in range(channels)], np.int8)
    args = (data.draw(multipliers), data.draw(shifts), mult, shift)
    assert np.array_equal(K.lambda_shiftgelu(x, *args), iops.lambda_shiftgelu(x, *args))


@SETTINGS
@given(st.data(), st.sampled_from([1, 3, 64, 77]), st.booleans())
def test_lookup_requant(data, channels, per_channel):
    x = data.draw(int_arrays(np.int8, (2, 3, channels)))
    x.flat[:2] = (-128, 127)
    table = data.draw(hnp.arrays(np.int32, 256, elements=st.integers(-(2**30), 2**30)))
    n = channels if per_channel else 1
    mult = np.array([data.draw(multipliers) for _ in range(n)], np.int32)
    shift = np.array([data.draw(shifts) for _ in range(n)], np.int8)
    assert np.array_equal(K.lookup_requant(x, table, mult, shift), iops.lookup_requant(x, table, mult, shift))


@pytest.mark.parametrize("rms", [False, True], ids=["layernorm", "rmsnorm"])
@SETTINGS
@given(st.data(), st.sampled_from([np.int8, np.int16]), st.sampled_from([1, 2, 3, 64, 192, 4096]), st.sampled_from(["int8", "int16"]))
def test_ilayernorm(rms, data, dtype, channels, out):
    x = data.draw(int_arrays(dtype, (2, channels)))
    mult = data.draw(hnp.arrays(np.int32, channels, elements=st.integers(-(2**31), 2**31 - 1)))
    bias = data.draw(hnp.arrays(np.int64, channels, elements=st.integers(-(2**61), 2**61)))
    shift = data.draw(shifts)
    want = iops.ilayernorm(x, mult, bias, shift, out, rms=rms)
    assert np.array_equal(K.ilayernorm(x, mult, bias, shift, out, rms=rms), want)


@SETTINGS
@given(st.data(), st.sampled_from([np.int8, np.int16]), st.sampled_from([np.int8, np.int16]), st.sampled_from(["int8", "int16"]))
def test_qadd(data, a_dtype, b_dtype, out):
    a = data.draw(int_arrays(a_dtype, (3, 17)))
    b = data.draw(int_arrays(b_dtype, (3, 17)))
    ma, mb, s = data.draw(multipliers), data.draw(multipliers), data.draw(shifts)
    assert np.array_equal(K.qadd(a, b, ma, mb, s, out), iops.qadd(a, b, ma, mb, s, out))


@SETTINGS
@given(st.data(), st.sampled_from([np.int8, np.int16, np.int32]), st.sampled_from(["int8", "int16"]))
def test_requantize(data, dtype, out):
    z = data.draw(int_arrays(dtype, (33,)))
    m, s = data.draw(multipliers), data.draw(shifts)
    assert np.array_equal(K.requantize(z, m, s, out), iops.requantize(z, m, s, out))


@SETTINGS
@given(st.data(), st.sampled_from([np.int8, np.int16, np.uint8]), st.integers(0, 2))
def test_meanpool(data, dtype, axis):
    x = data.draw(int_arrays(dtype, (3, 200, 5)))
    m, s = data.draw(multipliers), data.draw(shifts)
    assert np.array_equal(K.meanpool(x, axis, m, s, "int16"), iops.meanpool(x, axis, m, s, "int16"))


@SETTINGS
@given(hnp.arrays(np.float32, 50), st.floats(0.0009765625, 1024.0, width=32), st.sampled_from(["int8", "int16"]))
def test_quantize_and_dequantize(x, inv_scale, dtype):
    q = iops.quantize_input(x, inv_scale, dtype)
    assert np.array_equal(K.quantize_input(x, inv_scale, dtype), q)
    assert np.array_equal(K.dequantize_output(q, 1 / inv_scale), iops.dequantize_output(q, 1 / inv_scale))


def test_index_ops():
    rng = np.random.default_rng(0)
    table = rng.integers(-128, 128, (11, 6)).astype(np.int8)
    idx = rng.integers(0, 11, (2, 3)).astype(np.int32)
    assert np.array_equal(K.gather(table, idx), shape_ops.gather(table, idx))
    with pytest.raises(IndexError, match="11"):
        K.gather(table, np.array([0, 11], np.int32))
    with pytest.raises(shape_ops.IndexOutOfRange):
        shape_ops.gather(table, np.array([-1], np.int32))
    x = rng.integers(-3, 3, (2, 5, 3, 4)).astype(np.int16)  # small range: many ties
    for axis in range(4):
        assert np.array_equal(K.argmax(x, axis), shape_ops.argmax(x, axis))
    assert np.array_equal(K.upsample_nearest(x, 2, 3), shape_ops.upsample_nearest(x, x.shape[:-2] + (x.shape[-2] * 2, x.shape[-1] * 3)))


@SETTINGS
@given(st.data(), st.sampled_from(INT_DTYPES), st.sampled_from(INT_DTYPES))
def test_int_binary(data, a_dtype, b_dtype):
    a = data.draw(int_arrays(a_dtype, (3, 17)))
    b = data.draw(int_arrays(b_dtype, (3, 17)))
    for op in range(len(iops.INT_BINARY_OPS)):
        assert np.array_equal(K.int_binary(a, b, op), iops.int_binary(a, b, op)), iops.INT_BINARY_OPS[op][0]


@SETTINGS
@given(st.data(), st.sampled_from(INT_DTYPES), st.integers(0, 2))
def test_cumsum(data, dtype, axis):
    x = data.draw(int_arrays(dtype, (3, 40, 4)))
    assert np.array_equal(K.cumsum(x, axis), iops.cumsum(x, axis))


@SETTINGS
@given(int_arrays(np.int8, (5, 77)), int_arrays(np.int8, 256))
def test_lookup(x, table):
    assert np.array_equal(K.lookup(x, table), iops.lookup(x, table))


def test_kernels_reject_bad_dtypes():
    with pytest.raises(TypeError):
        K.shiftmax(np.zeros((2, 2), np.int16), 1, 1)
    with pytest.raises(ValueError):
        K.qlinear(np.zeros((1, 3), np.int8), np.zeros((2, 4), np.int8), None, np.ones(2, np.int32), np.ones(2, np.int8))
    with pytest.raises(TypeError):
        K.lookup(np.zeros(4, np.int16), np.zeros(256, np.int8))
    with pytest.raises(ValueError, match="256"):
        K.lookup(np.zeros(4, np.int8), np.zeros(255, np.int8))
    one = (np.ones(1, np.int32), np.ones(1, np.int8))
    with pytest.raises(TypeError):
        K.lookup_requant(np.zeros(4, np.int8), np.zeros(256, np.int8), *one)
    with pytest.raises(ValueError, match="256"):
        K.lookup_requant(np.zeros(4, np.int8), np.zeros(255, np.int32), *one)
    with pytest.raises(ValueError, match="1 or C"):
        K.lookup_requant(np.zeros((2, 4), np.int8), np.zeros(256, np.int32), np.ones(3, np.int32), np.ones(3, np.int8))
    with pytest.raises(ValueError, match="13"):
        K.int_binary(np.zeros(4, np.int32), np.zeros(4, np.int32), len(iops.INT_BINARY_OPS))
    with pytest.raises(TypeError):
        K.cumsum(np.zeros(4, np.int64), 0)
