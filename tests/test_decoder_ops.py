"""The decoder's ops (rope, swiglu, cached_attention, ilayernorm rms) in C++ against their numpy definitions
(integer_ops/decoder.py, layernorm.py), with ==: each kernel on every path this machine runs, the ops in the
engine where a graph needs no state, the run-time position errors in the spec's words, and the decoder fixture
through the reference executor on the C++ scalar kernels, prefill then decode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import int_arrays

from intedge import _runtime, reference
from intedge import integer_ops as iops
from intedge.integer_ops.decoder import cache_start
from intedge.ir import Graph, write_ieg
from intedge.reference import ExecutionError
from intedge.runtime import Session, supported_isas

K = _runtime.kernels
ISAS = supported_isas()
SETTINGS = settings(max_examples=40, deadline=None)

multipliers = st.one_of(st.integers(0, 2**31 - 1), st.sampled_from([0, 1, 2**30, 2**31 - 1]))
shifts = st.integers(1, 62)
q14 = st.one_of(st.integers(-(2**14), 2**14), st.sampled_from([-(2**14), 2**14, 0]))


def tables(data, rows: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    return tuple(data.draw(hnp.arrays(np.int16, (rows, half), elements=q14)) for _ in range(2))


@SETTINGS
@given(st.data(), st.integers(1, 3), st.integers(1, 6), st.sampled_from([2, 6, 16, 34, 64, 130]), st.integers(1, 30))
def test_rope(data, heads, s, d, p):
    x = data.draw(int_arrays(np.int8, (heads, s, d)))
    positions = data.draw(hnp.arrays(np.int32, s, elements=st.integers(0, p - 1)))
    cos, sin = tables(data, p, d // 2)
    want = iops.rope(x, positions, cos, sin)
    for isa in ISAS:
        assert np.array_equal(K.rope(x, positions, cos, sin, isa=isa), want), isa


@SETTINGS
@given(st.data(), st.sampled_from([(1,), (3, 5), (2, 97), (200,)]), multipliers, shifts)
def test_swiglu(data, shape, mult, shift):
    gate, up = data.draw(int_arrays(np.int8, shape)), data.draw(int_arrays(np.int8, shape))
    table = data.draw(int_arrays(np.int16, 256))
    want = iops.swiglu(gate, up, table, mult, shift)
    for isa in ISAS:  # shifts below 25 take the SIMD builds' int64 fallback
        assert np.array_equal(K.swiglu(gate, up, table, mult, shift, isa=isa), want), isa


def test_swiglu_with_silu_table_and_extremes():
    table, s_table = iops.silu_table(4 / 127)
    m, sh = iops.dyadic(s_table * (4 / 127) / (6 / 127))
    x = np.arange(-128, 128, dtype=np.int8)
    gate, up = np.repeat(x, 256), np.tile(x, 256)  # every pair
    want = iops.swiglu(gate, up, table, m, sh)
    assert want.min() == -128 or want.max() == 127 or len(np.unique(want)) > 100
    for isa in ISAS:
        assert np.array_equal(K.swiglu(gate, up, table, m, sh, isa=isa), want), isa


@st.composite
def attention_cases(draw):
    kv_heads, ratio = draw(st.integers(1, 3)), draw(st.sampled_from([1, 2, 4]))
    d, t = draw(st.sampled_from([1, 5, 16, 64, 70])), draw(st.integers(1, 40))
    s = draw(st.integers(1, t))
    p = draw(st.integers(0, t - s))
    q = draw(int_arrays(np.int8, (kv_heads * ratio, s, d)))
    k, v = (draw(int_arrays(np.int8, (kv_heads, s, d))) for _ in range(2))
    caches = [draw(int_arrays(np.int8, (kv_heads, t, d))) for _ in range(2)]  # rows < p: earlier runs'
    scores = iops.shiftmax_params(draw(st.floats(1e-4, 0.05)))
    out = (draw(st.integers(2**30, 2**31 - 1)), draw(st.integers(20, 45)))
    return q, k, v, np.arange(p, p + s, dtype=np.int32), caches, (scores["multiplier"], scores["shift"], *out)


@SETTINGS
@given(attention_cases())
def test_cached_attention(case):
    q, k, v, positions, (k_cache, v_cache), consts = case
    want_k, want_v = k_cache.copy(), v_cache.copy()
    want = iops.cached_attention(q, k, v, positions, want_k, want_v, *consts)
    for isa in ISAS:
        got_k, got_v = k_cache.copy(), v_cache.copy()
        got = K.cached_attention(q, k, v, positions, got_k, got_v, *consts, isa=isa)
        assert np.array_equal(got, want) and got.shape == want.shape, isa
        assert np.array_equal(got_k, want_k) and np.array_equal(got_v, want_v), isa  # written in place


def test_cached_attention_decode_over_a_long_cache():
    """S = 1 at the end of a 2048-row cache, GQA 4: the shape a decode step has."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.integers(-128, 128, shape, dtype=np.int8) for shape in ((8, 1, 64), (2, 1, 64), (2, 1, 64)))
    caches = [rng.integers(-128, 128, (2, 2048, 64), dtype=np.int8) for _ in range(2)]
    scores = iops.shiftmax_params(1 / 64)
    consts = (scores["multiplier"], scores["shift"], 2**30 + 12345, 40)
    positions = np.array([2047], np.int32)
    want = iops.cached_attention(q, k, v, positions, *[c.copy() for c in caches], *consts)
    for isa in ISAS:
        got_caches = [c.copy() for c in caches]
        assert np.array_equal(K.cached_attention(q, k, v, positions, *got_caches, *consts, isa=isa), want), isa
        assert np.array_equal(got_caches[0][:, 2047], k[:, 0]) and np.array_equal(got_caches[1][:, 2047], v[:, 0])


def numpy_error(fn, *args) -> str:
    with pytest.raises(IndexError) as e:
        fn(*args)
    return str(e.value)


def test_position_errors_have_the_spec_words():
    cos, sin = iops.rope_tables(8, 5, 1e4)
    x = np.zeros((2, 3, 8), np.int8)
    for positions in ([0, 1, 5], [-1, 0, 1]):
        pos = np.array(positions, np.int32)
        want = numpy_error(iops.rope, x, pos, cos, sin)
        for isa in ISAS:
            with pytest.raises(IndexError) as e:
                K.rope(x, pos, cos, sin, isa=isa)
            assert str(e.value) == want
    q, kv = np.zeros((2, 6, 4), np.int8), np.zeros((1, 6, 4), np.int8)
    for positions in ([3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 5, 6], [-1, 0, 1, 2, 3, 4], [4, 5, 6, 7, 8, 9]):
        pos = np.array(positions, np.int32)
        caches = [np.zeros((1, 8, 4), np.int8) for _ in range(2)]
        want = numpy_error(cache_start, pos, 8)
        assert want.startswith("positions must be consecutive") and "…" in want
        with pytest.raises(IndexError) as e:
            K.cached_attention(q, kv, kv, pos, *caches, 2**30, 20, 2**30, 40)
        assert str(e.value) == want
    short = numpy_error(cache_start, np.array([2, 4], np.int32), 8)
    with pytest.raises(IndexError, match="got \\[2, 4\\] for 2 tokens$") as e:
        K.cached_attention(q[:, :2], kv[:, :2], kv[:, :2], np.array([2, 4], np.int32),
                           *[np.zeros((1, 8, 4), np.int8) for _ in range(2)], 2**30, 20, 2**30, 40)
    assert str(e.value) == short


def test_caches_must_be_writable_int8_arrays():
    q, kv, pos = np.zeros((1, 1, 4), np.int8), np.zeros((1, 1, 4), np.int8), np.zeros(1, np.int32)
    cache = np.zeros((1, 8, 4), np.int8)
    with pytest.raises(TypeError, match="in place"):
        K.cached_attention(q, kv, kv, pos, np.zeros((1, 8, 4), np.int16), cache, 2**30, 20, 2**30, 40)
    with pytest.raises(TypeError, match="in place"):
        K.cached_attention(q, kv, kv, pos, cache, np.zeros((1, 4, 8), np.int8).swapaxes(1, 2), 2**30, 20, 2**30, 40)
    frozen = cache.copy()
    frozen.flags.writeable = False
    with pytest.raises(TypeError, match="in place"):
        K.cached_attention(q, kv, kv, pos, frozen, cache, 2**30, 20, 2**30, 40)


# --- the ops in the engine (graphs without state: rope, swiglu, RMSNorm) -----

def rope_swiglu_graph(s: int = 5, d: int = 16, p: int = 12) -> Graph:
    """x [2, S, D] → rope → swiglu(rope, x) → RMSNorm, the shapes a decoder gives them."""
    g = Graph(name="rope_swiglu")
    x = g.add_tensor("x", "int8", (2, s, d), 4 / 127)
    pos = g.add_tensor("positions", "int32", (s,))
    cos, sin = iops.rope_tables(d, p, 1e4)
    roped = g.add_tensor("roped", "int8", (2, s, d), 4 / 127)
    g.add_op("rope", [x, pos, g.add_constant("cos", cos, "int16"), g.add_constant("sin", sin, "int16")], [roped],
             name="rope")
    table, s_table = iops.silu_table(4 / 127)
    m, sh = iops.dyadic(s_table * (4 / 127) / (6 / 127))
    act = g.add_tensor("act", "int8", (2, s, d), 6 / 127)
    g.add_op("swiglu", [roped, x, g.add_constant("silu", table, "int16")], [act], name="act", multiplier=m, shift=sh)
    params = iops.ilayernorm_params(np.linspace(0.5, 1.5, d), np.zeros(d), 4 / 127)
    y = g.add_tensor("y", "int8", (2, s, d), 4 / 127)
    g.add_op("ilayernorm", [act], [y], name="norm", rms=True, multiplier=params["multiplier"], bias=params["bias"],
             shift=[params["shift"]])
    g.inputs, g.outputs = [x, pos], [roped, act, y]
    return g.validate()


@pytest.mark.parametrize("isa", ISAS)
def test_rope_swiglu_rmsnorm_in_the_engine(isa):
    g = rope_swiglu_graph()
    rng = np.random.default_rng(1)
    feed = {"x": rng.integers(-128, 128, (2, 5, 16), dtype=np.int8), "positions": np.array([7, 8, 9, 10, 11], np.int32)}
    feed["x"][0, 0] = -128
    ref = reference.run(g, feed)
    cpp = reference.run(g, feed, kernels="scalar-cpp")
    assert all(np.array_equal(cpp[name], ref[name]) for name in ref)
    for threads in (1, 2, 4):
        s = Session(write_ieg(g), threads=threads, isa=isa)
        out = s.run(feed)
        for name in ref:
            assert np.array_equal(out[name], ref[name]), (name, threads)
    kernels = dict(s.kernels)
    assert kernels["rope"] == f"rope_{kernels['rope'].rsplit('_', 1)[1]}" and kernels["act"].startswith("swiglu_")


def test_a_position_outside_the_tables_is_an_error_at_run_time():
    g = rope_swiglu_graph()
    feed = {"x": np.zeros((2, 5, 16), np.int8), "positions": np.array([8, 9, 10, 11, 12], np.int32)}
    with pytest.raises(ExecutionError) as want:
        reference.run(g, feed)
    with pytest.raises(ExecutionError) as cpp:
        reference.run(g, feed, kernels="scalar-cpp")
    assert str(cpp.value) == str(want.value) and "outside [0, 12)" in str(want.value)
    for isa in ISAS:
        with pytest.raises(ExecutionError) as e:
            Session(write_ieg(g), isa=isa).run(feed)
        assert str(e.value) == str(want.value)


# --- the decoder fixture on the C++ scalar kernels ---------------------------

@pytest.fixture(scope="module")
def decoder():
    from intedge.examples.decoder import build

    return build()


def test_the_decoder_on_scalar_cpp_kernels_matches_numpy(decoder):
    """A prompt prefilled in one run, then decode steps of one token, the caches kept in `state`: the C++ scalar
    kernels give numpy's logits and caches at every step."""
    rng = np.random.default_rng(2)
    state = {"numpy": reference.new_state(decoder), "scalar-cpp": reference.new_state(decoder)}
    prompt = rng.integers(0, 64, 9, dtype=np.int32)
    steps = [(prompt, np.arange(9, dtype=np.int32))] + [
        (rng.integers(0, 64, 1, dtype=np.int32), np.array([p], np.int32)) for p in range(9, 14)]
    steps.append((rng.integers(0, 64, 4, dtype=np.int32), np.arange(14, 18, dtype=np.int32)))  # a later chunk
    for tokens, positions in steps:
        feed = {"tokens": tokens, "positions": positions}
        want = reference.run(decoder, feed, state=state["numpy"])
        got = reference.run(decoder, feed, kernels="scalar-cpp", state=state["scalar-cpp"])
        assert np.array_equal(got["logits"], want["logits"]) and got["logits"].shape == (len(tokens), 64)
        for name, cache in state["numpy"].items():
            assert np.array_equal(state["scalar-cpp"][name], cache), name
    assert all(np.any(c[:, :18]) and not np.any(c[:, 18:]) for c in state["numpy"].values())  # 24 rows, 18 written
    # past the tables (rope's error, the first op to see it) and not consecutive (cached_attention's)
    for positions in ([24], [18, 20]):
        bad = {"tokens": np.zeros(len(positions), np.int32), "positions": np.array(positions, np.int32)}
        with pytest.raises(ExecutionError) as want:
            reference.run(decoder, bad, state=state["numpy"])
        with pytest.raises(ExecutionError) as got:
            reference.run(decoder, bad, kernels="scalar-cpp", state=state["scalar-cpp"])
        assert str(got.value) == str(want.value)
        assert ("cached_attention" in str(want.value) or "attention" in str(want.value)) == (len(positions) == 2)
