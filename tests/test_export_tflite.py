"""The .tflite exporter: its composed primitives against numpy at the extremes, and every IR op run by
LiteRT under both op resolvers (XNNPACK on, and the reference kernels) with the reference's integers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")

import intedge  # noqa: E402
from intedge.exporters import check, random_feeds, to_tflite  # noqa: E402
from intedge.exporters.tflite_builder import ModelBuilder  # noqa: E402
from intedge.exporters.tflite_emit import Emitter  # noqa: E402
from intedge.integer_ops import exp2, quantize_input  # noqa: E402
from intedge.ir.graph import Graph  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "every_op.ieg"
RESOLVERS = pytest.mark.parametrize("reference_kernels", [False, True], ids=["default", "builtin_ref"])


def run_emitted(build, x: np.ndarray, reference_kernels: bool) -> np.ndarray:
    """build(emitter, input tensor) → output tensor, run on x in LiteRT."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    e = Emitter(ModelBuilder())
    inp = e.input("x", str(x.dtype), x.shape)
    out = build(e, inp)
    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    interpreter = Interpreter(model_content=e.b.finish([inp.index], [out.index]),
                              experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def floor_shift(values, s: int, lo: int, hi: int) -> np.ndarray:
    return np.array([min(max(int(v) >> s, lo), hi) for v in values.flat], np.int64).reshape(values.shape)


INT64_EDGES = np.array([-(2**63), -(2**63) + 1, -(2**62), -(2**40) - 1, -(2**31), -3, -2, -1, 0, 1, 2, 3, 2**31 - 1,
                        2**31, 2**40 + 7, 2**62, 2**63 - 1], np.int64)


@RESOLVERS
@pytest.mark.parametrize("shift", [1, 2, 16, 31, 32, 33, 45, 62])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32"])
def test_shift_saturate_is_a_floor_shift_then_a_clamp(shift, dtype, reference_kernels):
    rng = np.random.default_rng(shift)
    ties = np.array([k << shift for k in (-3, -1, 0, 1, 5)], object) + np.array([-1, 0, 1, 2**(shift - 1), -(2**(shift - 1))], object)[:, None]
    t = np.concatenate([INT64_EDGES, np.clip(ties.reshape(-1), -(2**63), 2**63 - 1).astype(np.int64),
                        rng.integers(-(2**62), 2**62, 64, dtype=np.int64)])
    lo, hi = {"int8": (-128, 127), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1)}[dtype]
    got = run_emitted(lambda e, x: e.shift_saturate(x, shift, lo, hi, dtype), t, reference_kernels)
    np.testing.assert_array_equal(got, floor_shift(t, shift, lo, hi))


@RESOLVERS
def test_shift_saturate_per_channel_shifts(reference_kernels):
    shifts = np.array([1, 20, 31, 32, 33, 40, 62])
    rng = np.random.default_rng(1)
    t = np.concatenate([np.repeat(INT64_EDGES[:, None], 7, 1), rng.integers(-(2**62), 2**62, (50, 7), dtype=np.int64)])
    got = run_emitted(lambda e, x: e.shift_saturate(x, shifts, -128, 127, "int8"), t, reference_kernels)
    want = np.stack([floor_shift(t[:, c], int(s), -128, 127) for c, s in enumerate(shifts)], 1)
    np.testing.assert_array_equal(got, want)


@RESOLVERS
@pytest.mark.parametrize("shift", [2, 3, 23, 31])
def test_rounding_shift32_never_overflows(shift, reference_kernels):
    x = np.array([-(2**31), -(2**31) + 1, -(2**(shift - 1)) - 1, -(2**(shift - 1)), -1, 0, 1, 2**(shift - 1) - 1,
                  2**(shift - 1), 3 << (shift - 1), 2**31 - 2**(shift - 1), 2**31 - 1], np.int64).clip(-(2**31), 2**31 - 1)
    got = run_emitted(lambda e, v: e.rounding_shift32(v, shift), x.astype(np.int32), reference_kernels)
    np.testing.assert_array_equal(got, (x + (1 << (shift - 1))) >> shift)


def square_root_cases() -> np.ndarray:
    roots = np.array([1, 2, 3, 2**29, 2**29 + 1, 3 * 2**28, 2**30 - 1], np.int64)
    squares = roots * roots
    return np.unique(np.concatenate([[0, 1, 2, 3, 2**58, 2**60 - 1], squares, squares - 1, squares + 1,
                                     np.random.default_rng(2).integers(2**58, 2**60, 40)]))


@RESOLVERS
def test_digit_search_square_root_and_reciprocal(reference_kernels):
    w = square_root_cases()[:, None]

    roots = run_emitted(lambda e, x: e.digit_search(
        30, to_tflite.DIGIT_BITS, lambda z: e.compare("LESS_EQUAL", e.mul(z, z), x)), w, reference_kernels)
    np.testing.assert_array_equal(roots[:, 0], [math.isqrt(int(v)) for v in w[:, 0]])
    k = np.array([2**29, 2**29 + 1, 2**29 + 12345, 3 * 2**28, 2**30 - 2, 2**30 - 1], np.int64)[:, None]
    recips = run_emitted(lambda e, x: e.digit_search(
        18, to_tflite.DIGIT_BITS, lambda z: e.compare("LESS_EQUAL", e.mul(z, x), np.int64(1) << 46)), k, reference_kernels)
    np.testing.assert_array_equal(recips[:, 0], (1 << 46) // k[:, 0])


@RESOLVERS
def test_pow2_neg_on_every_exponent(reference_kernels):
    u = np.arange((1 << 20) + 1, dtype=np.int32)
    got = run_emitted(to_tflite.pow2_neg, u, reference_kernels)
    np.testing.assert_array_equal(got, exp2.pow2_neg(u.astype(np.int64)))


def single_op(kind: str, inputs: list[tuple], outputs: list[tuple], **options) -> Graph:
    """A graph of one op: inputs/outputs as (name, dtype, shape[, constant data])."""
    g = Graph(name=kind)
    ins = [g.add_tensor(name, dtype, shape, data=rest[0] if rest else None) for name, dtype, shape, *rest in inputs]
    outs = [g.add_tensor(name, dtype, shape) for name, dtype, shape in outputs]
    g.add_op(kind, ins, outs, **options)
    g.inputs = [i for i, spec in zip(ins, inputs) if len(spec) == 3]
    g.outputs = outs
    return g.validate()


def assert_exact(tmp_path, graph: Graph, feeds: list[dict], reference_kernels: bool) -> None:
    path = tmp_path / "m.tflite"
    to_tflite.export(graph, path)
    assert check(graph, to_tflite.load(path, reference_kernels=reference_kernels), feeds) == []


@RESOLVERS
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_quantize_ties_nan_and_infinities(tmp_path, dtype, reference_kernels):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, -128.5, 32767.5, -32768.5, 1e30, -1e30, np.inf, -np.inf,
                  np.nan, -0.0, 3.4e38], np.float32)
    g = single_op("quantize", [("x", "float32", x.shape)], [("y", dtype, x.shape)], inv_scale=1.0)
    path = tmp_path / "q.tflite"
    to_tflite.export(g, path)
    got = to_tflite.load(path, reference_kernels=reference_kernels)([x])[0]
    np.testing.assert_array_equal(got, quantize_input(x, 1.0, dtype))


@RESOLVERS
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("multiplier,shift", [(1982824966, 25), (1 << 30, 45), (0, 5)])
def test_shiftmax_int32_extremes_and_masked_rows(tmp_path, masked, multiplier, shift, reference_kernels):
    """int32 scores spanning the whole range (rowmax − x passes 2^31), rows fully masked; a large
    multiplier/shift pair takes the computed 2^−u, a small one the table."""
    x = np.array([[[-(2**31), 2**31 - 1, 0, -5], [7, 7, 7, 7], [-(2**31), -(2**31), -(2**31) + 3, -(2**31)],
                   [2**31 - 1, 2**31 - 2, 100, -100]]], np.int32)
    mask = np.array([[[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1], [1, 1, 1, 0]]], np.int32)
    inputs = [("x", "int32", x.shape)] + ([("mask", "int32", mask.shape)] if masked else [])
    g = single_op("shiftmax", inputs, [("y", "uint8", x.shape)], multiplier=multiplier, shift=shift)
    assert_exact(tmp_path, g, [{"x": x, "mask": mask} if masked else {"x": x}], reference_kernels)


@RESOLVERS
@pytest.mark.parametrize("channels", [1, 3, 64])
def test_ilayernorm_constant_rows_and_int16_extremes(tmp_path, channels, reference_kernels):
    rng = np.random.default_rng(channels)
    x = np.stack([np.full(channels, 7), np.full(channels, -(2**15)), np.resize([-(2**15), 2**15 - 1], channels),
                  rng.integers(-(2**15), 2**15, channels), np.resize([0, 1], channels)]).astype(np.int16)[None]
    m = rng.integers(-(2**31) + 1, 2**31, 2 * channels)
    bias = np.concatenate([rng.integers(-(2**61), 2**61, channels), np.full(channels, 2**61)])
    g = single_op("ilayernorm", [("x", "int16", x.shape)], [("a", "int8", x.shape), ("b", "int16", x.shape)],
                  multiplier=m, bias=bias, shift=np.array([62, 20], np.int8))
    assert_exact(tmp_path, g, [{"x": x}], reference_kernels)


@RESOLVERS
@pytest.mark.parametrize("op", range(13))
def test_int_binary_saturates_int32(tmp_path, op, reference_kernels):
    a = np.array([[-(2**31), 2**31 - 1, -1, 0, 5, 2**16]], np.int32)
    b = np.array([[2**31 - 1, 2**31 - 1, -(2**31), 0, -5, 2**16]], np.int32)
    g = single_op("int_binary", [("a", "int32", a.shape), ("b", "int32", b.shape)], [("y", "int32", a.shape)], op=op)
    assert_exact(tmp_path, g, [{"a": a, "b": b}], reference_kernels)


@RESOLVERS
@pytest.mark.parametrize("channels", [1, 5])
def test_lookup_requant_on_every_input_with_extreme_tables(tmp_path, channels, reference_kernels):
    """Every int8 in every channel through a table reaching ±2^30, with saturating and unsaturated channels."""
    rng = np.random.default_rng(channels)
    table = rng.integers(-(2**30), 2**30, 256, endpoint=True).astype(np.int32)
    table[:2] = (-(2**30), 2**30)
    x = np.repeat(np.arange(-128, 128, dtype=np.int8)[:, None], 5, 1)[None]
    shift = np.resize(np.array([52, 62, 1, 33, 40], np.int8), channels)
    mult = np.resize(np.array([2**31 - 1, 5, 0, 1 << 20, 1 << 17], np.int32), channels)
    g = single_op("lookup_requant", [("x", "int8", x.shape), ("table", "int32", (256,), table)],
                  [("y", "int8", x.shape)], multiplier=mult, shift=shift)
    assert_exact(tmp_path, g, [{"x": x}], reference_kernels)


@RESOLVERS
def test_cumsum_of_int32_saturates(tmp_path, reference_kernels):
    x = np.array([[2**31 - 1, 2**31 - 1, -(2**31), -(2**31), -(2**31), 5]], np.int32)
    g = single_op("cumsum", [("x", "int32", x.shape)], [("y", "int32", x.shape)], axis=1)
    assert_exact(tmp_path, g, [{"x": x}], reference_kernels)


@RESOLVERS
@pytest.mark.parametrize("exp_table_limit", [to_tflite.EXP_TABLE_LIMIT, 4], ids=["exp-table", "exp-computed"])
def test_every_op(tmp_path, monkeypatch, exp_table_limit, reference_kernels):
    monkeypatch.setattr(to_tflite, "EXP_TABLE_LIMIT", exp_table_limit)
    g = intedge.load(FIXTURE)
    assert_exact(tmp_path, g, random_feeds(g, 4), reference_kernels)


def test_signature_names_the_graph_tensors(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    g = intedge.load(FIXTURE)
    path = tmp_path / "m.tflite"
    to_tflite.export(g, path)
    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    details = runner.get_input_details() | runner.get_output_details()
    assert set(details) == {g.tensors[i].name for i in g.inputs + g.outputs}
