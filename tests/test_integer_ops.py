"""The integer spec itself: exactness claims and measured error bounds against float."""

import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import INT_DTYPES, int_arrays

from intedge import integer_ops as iops
from intedge.integer_ops import gelu, layernorm
from intedge.integer_ops.exp2 import MAX_U, pow2_neg
from intedge.integer_ops.shiftmax import ERROR_BOUND as SHIFTMAX_BOUND
from intedge.integer_ops.shiftmax import OUT_SCALE as SHIFTMAX_SCALE


@given(st.lists(st.integers(0, 2**62 - 1), min_size=1, max_size=50))
def test_isqrt_is_exact(values):
    v = np.array(values, np.int64)
    assert iops.isqrt(v).tolist() == [math.isqrt(x) for x in values]


def test_isqrt_edges():
    edges = [0, 1, 2, 3, 4, 2**48 - 1, 2**48, 2**56 - 1, 2**62 - 1]
    edges += [k * k + d for k in (1, 255, 65535, 2**31 - 1) for d in (-1, 0, 1) if k * k + d >= 0]
    edges += list(range(100_000))
    v = np.array(edges, np.int64)
    assert iops.isqrt(v).tolist() == [math.isqrt(x) for x in edges]


@given(st.floats(2.0**-31, 2.0**30 - 1, allow_nan=False))
def test_dyadic_error_bound(r):
    m, s = iops.dyadic(r)
    assert 0 <= m < 2**31 and 1 <= s <= 62
    assert abs(m / 2.0**s - r) <= r * 2.0**-31


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan, 2.0**31])
def test_dyadic_rejects(bad):
    with pytest.raises(iops.QuantizationError):
        iops.dyadic(bad)


@given(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=20), st.integers(0, 2**31 - 1), st.integers(1, 62))
def test_requantize_matches_python_integers(z, m, s):
    got = iops.requantize(np.array(z, np.int64), m, s, "int16").tolist()
    want = [max(-32768, min(32767, (v * m + (1 << (s - 1))) >> s)) for v in z]
    assert got == want


def test_requantize_rounds_half_up():
    assert iops.requantize(np.array([-5, -3, 3, 5]), 1, 1).tolist() == [-2, -1, 2, 3]


def test_float64_matmul_is_exact():
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (7, 4099)).astype(np.int8)
    a[0] = -128
    b = rng.integers(-128, 128, (4099, 5)).astype(np.int8)
    b[:, 0] = -128
    want = np.einsum("ik,kj->ij", a.astype(np.int64), b.astype(np.int64))
    assert np.array_equal(iops.qmatmul(a, b, False, 0, 1, "int32"), want.astype(np.int32))


@given(st.integers(1, 8).map(lambda n: n * 32), st.sampled_from([32, 64, 128]))
def test_int4_grouped_roundtrip(k, group):
    k = max(k, group) // group * group
    w = np.random.default_rng(k).normal(0, 1, (3, k))
    q4, g, s_c = iops.quantize_int4_grouped(w, group)
    assert q4.min() >= -8 and q4.max() <= 7 and g.min() >= 1 and g.max() <= 16
    w8 = iops.expand_int4(q4, g, group)
    assert np.array_equal(w8.astype(np.int16), q4.astype(np.int16) * np.repeat(g, group, axis=1))
    assert np.array_equal(iops.unpack_int4(iops.pack_int4(q4)), q4)
    # No worse, channel by channel, than the plain rule it replaces: s_c maps the channel's max to 7 · 16,
    # each group takes the smallest g covering its range, nearest rounding.
    s_plain = np.abs(w).max(axis=1) / (7 * 16)
    groups = w.reshape(3, -1, group) / s_plain[:, None, None]
    g_plain = np.clip(np.ceil(np.abs(groups).max(axis=2) / 7 - 1e-9), 1, 16)
    plain = np.clip(np.rint(groups / g_plain[..., None]), -8, 7) * g_plain[..., None] * s_plain[:, None, None]
    err_plain = ((plain.reshape(3, -1) - w) ** 2).sum(axis=1)
    assert np.all(((w8 * s_c[:, None] - w) ** 2).sum(axis=1) <= err_plain + 1e-12)


def test_pow2_neg_endpoints_and_monotone():
    u = np.arange(0, 17 << 16, 7, dtype=np.int64)
    e = pow2_neg(u)
    assert pow2_neg(np.int64(0)) == 2**15 and pow2_neg(np.int64(1 << 16)) == 2**14
    assert np.diff(e).max() <= 1  # non-increasing up to the 1-LSB floor of the polynomial
    assert pow2_neg(np.int64(MAX_U)) == 0
    ref = 2.0 ** (15 - u / 65536.0)
    mask = u < (8 << 16)
    assert np.max(np.abs(e[mask] - ref[mask]) / ref[mask]) < 0.0028 + 2.0**-7


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.002, 0.1), st.sampled_from([1, 7, 197, 1024]), st.floats(0.5, 4.0), st.integers(0, 2**32 - 1))
def test_shiftmax_error_bound(scale, width, sigma, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, sigma, (8, width))
    x = np.clip(np.rint(logits / scale), -(2**31), 2**31 - 1).astype(np.int32)
    y = iops.shiftmax(x, **iops.shiftmax_params(scale)) * SHIFTMAX_SCALE
    assert np.abs(y - _softmax(x * scale)).max() <= SHIFTMAX_BOUND


@pytest.mark.parametrize("scale", [0.01, 0.02, 0.05, 0.1])
def test_lambda_shiftgelu_error_bound(scale):
    x = np.arange(-128, 128).astype(np.int8)
    s_out = gelu.gelu_float(127 * scale) / 127
    y = iops.lambda_shiftgelu(x, **iops.lambda_shiftgelu_params(scale, s_out))
    assert np.abs(y * s_out - gelu.gelu_float(x * scale)).max() / s_out <= gelu.ERROR_BOUND_LAMBDA


@settings(max_examples=20, deadline=None)
@given(st.floats(0.01, 0.1), st.integers(0, 2**32 - 1))
def test_shiftgelu_error_bound(scale, seed):
    rng = np.random.default_rng(seed)
    x = np.clip(np.rint(rng.normal(0, 40, (16, 64))), -128, 127).astype(np.int8)
    s_out = gelu.gelu_float(127 * scale) / 127
    y = iops.shiftgelu(x, **iops.shiftgelu_params(scale, s_out))
    assert np.abs(y * s_out - gelu.gelu_float(x * scale)).max() / s_out <= gelu.ERROR_BOUND_SHIFTGELU


def test_fit_lambda_beats_fixed_slope_on_narrow_activations():
    scale = 0.05
    x = np.arange(-128, 128)
    hist = np.exp(-0.5 * (x / 20.0) ** 2)
    lam = iops.fit_lambda(hist, scale)
    target = gelu.gelu_float(x * scale)

    def weighted_err(l):
        p = iops.lambda_shiftgelu_params(scale, scale * 2.0**-15, l)
        y = gelu._lambda_x_sigma(x.astype(np.int64), p["slope_multiplier"], p["slope_shift"]) * scale * 2.0**-15
        return np.sum(hist * (y - target) ** 2)

    assert lam != gelu.IVIT_LAMBDA and weighted_err(lam) < weighted_err(gelu.IVIT_LAMBDA)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["int8", "int16"]), st.sampled_from([1, 2, 64, 192, 768]), st.integers(0, 2**32 - 1))
def test_ilayernorm_error_bound(dtype, channels, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    sd = info.max / 8
    x = np.clip(rng.normal(0, sd, (8, channels)) + rng.normal(0, sd, (8, 1)), info.min, info.max).astype(dtype)
    gamma, beta = rng.uniform(-2, 2, channels), rng.uniform(-1, 1, channels)
    xf = x.astype(np.float64)
    var = xf.var(-1, keepdims=True)
    norm = np.where(var > 0, (xf - xf.mean(-1, keepdims=True)) / np.sqrt(np.where(var > 0, var, 1)), 0)
    ref = norm * gamma + beta
    s_out = np.abs(ref).max() / 127
    y = iops.ilayernorm(x, **iops.ilayernorm_params(gamma, beta, s_out))
    assert np.abs(y * s_out - ref).max() / s_out <= layernorm.ERROR_BOUND


def test_quantize_input_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.5, 1.5, -0.5, 1e30], np.float32)
    assert iops.quantize_input(x, 1.0).tolist() == [0, 127, -128, 0, 2, 0, 127]


# --- index arithmetic and table lookups, one element at a time in Python integers ------------

# Each op code's meaning, by Python's operators: independent of index_math's array expressions.
BINARY_BY_CODE = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "eq": operator.eq, "ne": operator.ne,
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "and": lambda u, v: u != 0 and v != 0, "or": lambda u, v: u != 0 or v != 0, "min": min, "max": max,
}


def _int32(v) -> int:
    return max(-(2**31), min(2**31 - 1, int(v)))


def test_int_binary_codes_are_the_files():
    """The codes are stored in files: they are the spec's doc order, forever."""
    assert [name for name, _ in iops.INT_BINARY_OPS] == list(BINARY_BY_CODE)
    assert iops.INT_BINARY_CODES == {name: code for code, name in enumerate(BINARY_BY_CODE)}


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(INT_DTYPES), st.sampled_from(INT_DTYPES), st.sampled_from(list(BINARY_BY_CODE)))
def test_int_binary_matches_python_integers(data, a_dtype, b_dtype, name):
    a_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    kept = a_shape[len(a_shape) - data.draw(st.integers(0, len(a_shape))):]  # b: a suffix of a's dims, some 1
    b_shape = tuple(d if data.draw(st.booleans()) else 1 for d in kept)
    a, b = data.draw(int_arrays(a_dtype, a_shape)), data.draw(int_arrays(b_dtype, b_shape))
    y = iops.int_binary(a, b, iops.INT_BINARY_CODES[name])
    assert y.dtype == np.int32 and y.shape == a.shape
    lead = len(a_shape) - len(b_shape)
    for i in np.ndindex(a_shape):
        j = tuple(0 if n == 1 else k for k, n in zip(i[lead:], b_shape))
        assert y[i] == _int32(BINARY_BY_CODE[name](int(a[i]), int(b[j]))), (i, a[i], b[j])


def test_int_binary_saturates_the_int64_result():
    hi, lo = 2**31 - 1, -(2**31)
    a, b = np.array([hi, lo, lo, hi], np.int32), np.array([hi, hi, lo, -1], np.int32)
    code = iops.INT_BINARY_CODES
    assert iops.int_binary(a, b, code["add"]).tolist() == [hi, -1, lo, hi - 1]
    assert iops.int_binary(a, b, code["sub"]).tolist() == [0, lo, 0, hi]
    assert iops.int_binary(a, b, code["mul"]).tolist() == [hi, lo, hi, -hi]


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from(INT_DTYPES))
def test_cumsum_matches_python_integers(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=6))
    axis = data.draw(st.integers(0, len(shape) - 1))
    x = data.draw(int_arrays(dtype, shape))
    y = iops.cumsum(x, axis)
    assert y.dtype == np.int32 and y.shape == x.shape
    for i in np.ndindex(shape):
        line = [int(x[i[:axis] + (k,) + i[axis + 1 :]]) for k in range(i[axis] + 1)]
        assert y[i] == _int32(sum(line))


def test_cumsum_saturates_each_result_not_the_running_sum():
    hi, lo = 2**31 - 1, -(2**31)
    assert iops.cumsum(np.array([hi, hi, lo, lo], np.int32), 0).tolist() == [hi, hi, 2**31 - 2, -2]


@given(hnp.arrays(np.int8, hnp.array_shapes(min_dims=0, max_dims=3)), hnp.arrays(np.int8, 256))
def test_lookup_is_the_table_entry(x, table):
    y = iops.lookup(x, table)
    assert y.dtype == np.int8 and y.shape == x.shape
    assert all(y[i] == table[int(x[i]) + 128] for i in np.ndindex(x.shape))


def _requant_one(z: int, m: int, s: int) -> int:
    """requant.py's equation (1) to int8, in Python integers."""
    return min(max((z * m + (1 << (s - 1))) >> s, -128), 127)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from([(5,), (3, 1), (2, 7), (2, 3, 64)]), st.booleans())
def test_lookup_requant_is_the_requantized_table_entry(data, shape, per_channel):
    """Element by element in Python integers: y = requant(table[x + 128], m_c, s_c), c the last axis."""
    x = data.draw(int_arrays(np.int8, shape))
    table = data.draw(hnp.arrays(np.int32, 256, elements=st.integers(-(2**30), 2**30)))
    n = shape[-1] if per_channel else 1
    mult = np.array(data.draw(st.lists(st.integers(0, 2**31 - 1), min_size=n, max_size=n)), np.int32)
    shift = np.array(data.draw(st.lists(st.integers(1, 62), min_size=n, max_size=n)), np.int8)
    y = iops.lookup_requant(x, table, mult, shift)
    assert y.dtype == np.int8 and y.shape == x.shape
    for i in np.ndindex(shape):
        c = i[-1] if per_channel else 0
        assert y[i] == _requant_one(int(table[int(x[i]) + 128]), int(mult[c]), int(shift[c]))
    if not per_channel:  # per tensor: ints work as well as 1-entry vectors
        assert np.array_equal(iops.lookup_requant(x, table, int(mult[0]), int(shift[0])), y)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from([1, 64]))
def test_lambda_shiftgelu_is_lookup_requant_of_its_table(data, channels):
    x = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
    slope = (data.draw(st.integers(0, 2**31 - 1)), data.draw(st.integers(1, 62)))
    mult = np.array(data.draw(st.lists(st.integers(0, 2**31 - 1), min_size=channels, max_size=channels)), np.int32)
    shift = np.array(data.draw(st.lists(st.integers(1, 62), min_size=channels, max_size=channels)), np.int8)
    table = iops.lambda_shiftgelu_table(*slope)
    assert table.dtype == np.int32 and table.shape == (256,) and np.abs(table).max() <= 2**22
    assert np.array_equal(iops.lambda_shiftgelu(x, *slope, mult, shift), iops.lookup_requant(x, table, mult, shift))


@pytest.mark.parametrize("s_in", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("per_channel", [False, True])
def test_requant_table_for_gives_the_nearest_int8_gelu(s_in, per_channel):
    """GELU through lookup_requant at per-channel output scales is round(GELU(x·s_in) / s_out_c), saturated, on
    every input: the nearest int8, and the same as round-half-to-even wherever GELU is not within 2^−20 of a tie."""
    x = np.repeat(np.arange(-128, 128, dtype=np.int8)[:, None], 16, 1)
    peak = gelu.gelu_float(127 * s_in) / 127
    s_out = peak * np.linspace(0.25, 1.5, 16) if per_channel else peak
    p = iops.requant_table_for(gelu.gelu_float, s_in, s_out)
    assert p["table"].dtype == np.int32 and np.abs(p["table"]).max() == 2**30
    assert len(p["multiplier"]) == len(p["shift"]) == (16 if per_channel else 1)
    want = gelu.gelu_float(x * s_in) / s_out
    y = iops.lookup_requant(x, **p)
    assert np.abs(y - np.clip(want, -128, 127)).max() <= 0.5 + 2.0**-20
    clear = np.abs(want - np.floor(want) - 0.5) > 2.0**-20  # ties go either way: round half up or to even
    assert clear.mean() > 0.95 and np.array_equal(y[clear], np.clip(np.rint(want), -128, 127)[clear])


@pytest.mark.parametrize("fn", [np.tanh, lambda v: np.maximum(v, 0), lambda v: v / (1 + np.exp(-v)), np.exp])
@pytest.mark.parametrize("scales", [(0.05, 1 / 127), (0.02, 0.02), (0.1, 0.5)])
def test_table_for_gives_the_nearest_int8(fn, scales):
    s_in, s_out = scales
    table = iops.table_for(fn, s_in, s_out)
    for q, t in zip(range(-128, 128), table.tolist()):
        want = min(127.0, max(-128.0, float(fn(np.float64(q * s_in))) / s_out))
        assert abs(t - want) <= 0.5, (q, t, want)
