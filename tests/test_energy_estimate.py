"""The energy estimate from op counts (profilers/estimate.py): exact MACs, bytes and integer operations for
hand-built ops, the per-element counts docs/energy_estimate.md states, every op kind of the spec counted or
listed as not counted, the zoo models' MACs against their configs, and energies that are the table times the
counts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from zoo_graphs import zoo_graph

from intedge import integer_ops as iops
from intedge.converters import zoo
from intedge.examples.decoder import build as build_decoder
from intedge.examples.every_op import build_every_op_graph
from intedge.ir import Graph
from intedge.ir.graph import Op
from intedge.ir.opspec import BY_KIND
from intedge.profilers.estimate import (
    COMPUTE,
    COUNTERS,
    MEMORY,
    UNIT_PJ,
    Work,
    count_float_ops,
    count_ops,
    estimate,
    main,
)

# Op kinds the estimate has no rule for. Every kind of the spec has one today: a new kind fails
# test_every_op_kind_is_counted_or_listed until it gets a rule in COUNTERS or a place here.
NOT_COUNTED: set[str] = set()


def _valid(g: Graph) -> Graph:
    """g with its unproduced activations as inputs and the last op's outputs as outputs, validated."""
    produced = {t for op in g.ops for t in op.outputs}
    g.inputs = [i for i, t in enumerate(g.tensors) if not (t.is_constant or t.is_state) and i not in produced]
    g.outputs = list(g.ops[-1].outputs)
    return g.validate()


def _qlinear_graph(rows: int, k: int, n: int, w4: bool = False) -> Graph:
    g = Graph()
    x = g.add_tensor("x", "int8", (2, rows, k))
    if w4:
        w = g.add_constant("w", np.ones((n, k), np.int8), "int4")
        extra = [g.add_constant("g", np.full((n, k // 32), 3, np.int8))]
    else:
        w, extra = g.add_constant("w", np.ones((n, k), np.int8)), []
    b = g.add_constant("b", np.zeros(n, np.int32))
    y = g.add_tensor("y", "int8", (2, rows, n))
    g.add_op("qlinear", [x, w, b, *extra], [y], multiplier=[1 << 30] * n, shift=[31] * n,
             group_size=32 if w4 else 0)
    return _valid(g)


def _unary(kind: str, shape, out_shape=None, dtype="int8", out_dtype="int8", outputs: int = 1, **options) -> Graph:
    g = Graph()
    x = g.add_tensor("x", dtype, shape)
    ys = [g.add_tensor(f"y{i}", out_dtype, shape if out_shape is None else out_shape) for i in range(outputs)]
    g.add_op(kind, [x], ys, **options)
    return _valid(g)


def _lookup_requant_graph(channels: int) -> Graph:
    """An exact GELU on [3, 16]: one output scale, or one per channel."""
    g = Graph()
    x = g.add_tensor("x", "int8", (3, 16))
    p = iops.requant_table_for(iops.gelu_float, 0.05, np.full(channels, 0.05))
    table = g.add_constant("table", p.pop("table"))
    g.add_op("lookup_requant", [x, table], [g.add_tensor("y", "int8", (3, 16))], **p)
    return _valid(g)


def test_qlinear_w8_counts_every_mac_and_byte():
    rows, k, n = 7, 64, 24
    outputs = 2 * rows * n
    c, f = count_ops(_qlinear_graph(rows, k, n)).total, count_float_ops(_qlinear_graph(rows, k, n)).total
    assert c.int8_macs == 2 * rows * k * n and c.int8_mults == 0
    assert c.weight_bytes == n * k + 4 * n + n * (4 + 1)  # weights, int32 bias, per-channel multiplier and shift
    assert c.activation_bytes == 2 * rows * k + outputs
    assert (c.int32_mults, c.int32_adds) == (outputs, outputs * (1 + 4))  # the bias add, then requant's 1 + 4
    assert f.fp32_macs == c.int8_macs and f.fp32_adds == outputs and f.fp32_mults == 0 and f.int32_ops == 0
    assert f.weight_bytes == 4 * (n * k + n) and f.activation_bytes == 4 * (2 * rows * k + outputs)


def test_qlinear_w4_weights_are_half_a_byte_plus_group_scales():
    rows, k, n = 7, 64, 24
    w8, w4 = count_ops(_qlinear_graph(rows, k, n)).total, count_ops(_qlinear_graph(rows, k, n, w4=True)).total
    assert w4.weight_bytes == n * k // 2 + 4 * n + n * k // 32 + n * (4 + 1)
    assert w8.weight_bytes - w4.weight_bytes == n * k // 2 - n * k // 32
    assert w4.int8_macs == w8.int8_macs and w4.int8_mults == n * k  # q4 · g, once per call
    assert w4.int32_adds - w8.int32_adds == n * k  # each nibble's unpacking
    # the float twin of a W4 layer is the same fp32 layer as a W8 one's
    twin_w4, twin_w8 = (count_float_ops(_qlinear_graph(rows, k, n, w4=w4)).total for w4 in (True, False))
    assert twin_w4 == twin_w8


@pytest.mark.parametrize("out_dtype", ["int32", "int8"])
def test_qmatmul_counts_batch_m_k_n(out_dtype):
    g = Graph()
    a = g.add_tensor("a", "uint8", (2, 3, 5, 8))
    b = g.add_tensor("b", "int8", (2, 3, 6, 8))
    y = g.add_tensor("y", out_dtype, (2, 3, 5, 6))
    g.add_op("qmatmul", [a, b], [y], transpose_b=True, multiplier=1 << 30, shift=31)
    c = count_ops(_valid(g)).total
    a_size, b_size, outputs = 2 * 3 * 5 * 8, 2 * 3 * 6 * 8, 2 * 3 * 5 * 6
    assert c.int8_macs == 2 * 3 * 5 * 8 * 6 and c.weight_bytes == 0
    # an int32 output is the accumulator itself (Q·Kᵀ into Shiftmax): no requant
    assert (c.int32_mults, c.int32_adds) == ((0, 0) if out_dtype == "int32" else (outputs, 4 * outputs))
    assert c.activation_bytes == a_size + b_size + outputs * (4 if out_dtype == "int32" else 1)
    assert count_float_ops(g).total == Work(fp32_macs=c.int8_macs, activation_bytes=4 * (a_size + b_size + outputs))


def test_reshape_moves_nothing_and_transpose_and_slice_only_move_bytes():
    reshape = _unary("reshape", (4, 6), (2, 12))
    assert count_ops(reshape).total == Work() and count_float_ops(reshape).total == Work()
    transpose = _unary("transpose", (4, 6), (6, 4), dtype="int16", out_dtype="int16", perm=[1, 0])
    assert count_ops(transpose).total == Work(activation_bytes=2 * 2 * 24)  # read and written, nothing computed
    assert count_float_ops(transpose).total == Work(activation_bytes=2 * 4 * 24)
    cut = _unary("slice", (4, 6), (1, 6), axis=0, start=2, end=3)
    assert count_ops(cut).total == Work(activation_bytes=2 * 6)  # reads only the row it keeps


def _shiftmax_graph(rows_shape, width: int, mask: bool) -> Graph:
    g = Graph()
    x = g.add_tensor("x", "int32", (*rows_shape, width))
    inputs = [x] + ([g.add_tensor("mask", "int8", (1,) * len(rows_shape) + (width,))] if mask else [])
    y = g.add_tensor("y", "uint8", (*rows_shape, width))
    g.add_op("shiftmax", inputs, [y], **iops.shiftmax_params(0.01))
    return _valid(g)


# case → (graph, integer (mults, adds), float32 (mults, adds)): docs/energy_estimate.md's per-element and per-row
# counts, written out as literal numbers
def _nonlinear_cases():
    ln1 = iops.ilayernorm_params(np.ones(16), np.zeros(16), 0.05)
    ln2 = {k: np.concatenate([ln1[k], ln1[k]]) for k in ("multiplier", "bias")} | {"shift": [ln1["shift"]] * 2}
    gelu = iops.lambda_shiftgelu_params(0.05, 0.05)
    per_channel = iops.lambda_shiftgelu_params(0.05, np.full(16, 0.05))
    rows, n = 3, 48  # [3, 16] inputs; shiftmax [2, 3, 10]: 6 rows, 60 elements
    return {
        "shiftmax": (_shiftmax_graph((2, 3), 10, False), (4 * 60 + 6, 23 * 60 + 2 * 6), (8 * 60 + 6, 11 * 60)),
        "shiftmax+mask": (_shiftmax_graph((2, 3), 10, True), (4 * 60 + 6, 26 * 60 + 2 * 6), (8 * 60 + 6, 12 * 60)),
        "ilayernorm": (_unary("ilayernorm", (3, 16), dtype="int16", multiplier=ln1["multiplier"], bias=ln1["bias"],
                              shift=[ln1["shift"]]),
                       (3 * n + 9 * rows, 12 * n + 41 * rows), (3 * n + 4 * rows, 4 * n + rows)),
        "ilayernorm twin": (_unary("ilayernorm", (3, 16), dtype="int16", outputs=2, **ln2),
                            (4 * n + 9 * rows, 17 * n + 41 * rows), (3 * n + 4 * rows, 4 * n + rows)),
        "shiftgelu": (_unary("shiftgelu", (3, 16), **iops.shiftgelu_params(0.05, 0.05)),
                      (6 * n + 2 * rows, 22 * n + 14 * rows), (15 * n, 12 * n)),
        "lambda_shiftgelu": (_unary("lambda_shiftgelu", (3, 16), **gelu), (0, n), (15 * n, 12 * n)),
        "lambda_shiftgelu per channel": (_unary("lambda_shiftgelu", (3, 16), **per_channel), (n, 5 * n),
                                         (15 * n, 12 * n)),
        "lookup_requant": (_lookup_requant_graph(1), (0, n), (15 * n, 12 * n)),
        "lookup_requant per channel": (_lookup_requant_graph(16), (n, 5 * n), (15 * n, 12 * n)),
        "requant": (_unary("requant", (3, 16), dtype="int16", multiplier=1 << 30, shift=31), (n, 4 * n), (0, 0)),
        "meanpool": (_unary("meanpool", (3, 16), (16,), axis=0, multiplier=1 << 30, shift=31),
                     (16, n + 4 * 16), (16, n)),
    }


@pytest.mark.parametrize("case", list(_nonlinear_cases()))
def test_nonlinear_ops_count_the_stated_operations(case):
    g, (mults, adds), (fp_mults, fp_adds) = _nonlinear_cases()[case]
    c, f = count_ops(g).total, count_float_ops(g).total
    assert (c.int32_mults, c.int32_adds, c.int8_macs) == (mults, adds, 0)
    assert (f.fp32_mults, f.fp32_adds, f.int32_ops) == (fp_mults, fp_adds, 0)


@pytest.mark.parametrize("channels", [1, 16])
def test_lookup_requants_table_is_integer_only_weight_bytes(channels):
    c, f = count_ops(_lookup_requant_graph(channels)).total, count_float_ops(_lookup_requant_graph(channels)).total
    assert c.weight_bytes == 256 * 4 + channels * (4 + 1)  # the int32 table, then multiplier and shift per channel
    assert f.weight_bytes == 0 and c.activation_bytes == 2 * 48 and f.activation_bytes == 2 * 4 * 48


def test_qadd_and_a_constant_read_by_two_ops_once():
    g = Graph()
    a = g.add_tensor("a", "int16", (4, 8))
    pos = g.add_constant("pos", np.ones((4, 8), np.int16))
    mid, y = g.add_tensor("mid", "int16", (4, 8)), g.add_tensor("y", "int16", (4, 8))
    for src, dst in ((a, mid), (mid, y)):
        g.add_op("qadd", [src, pos], [dst], multiplier_a=1 << 20, multiplier_b=1 << 20, shift=21)
    c, f = count_ops(_valid(g)).total, count_float_ops(g).total
    assert (c.int32_mults, c.int32_adds) == (2 * 2 * 32, 2 * 5 * 32)
    assert c.weight_bytes == 2 * 32 and f.weight_bytes == 4 * 32  # read once per inference, not once per use
    assert c.activation_bytes == 2 * (2 * 32 + 2 * 32) and f.fp32_adds == 2 * 32


def test_an_unknown_op_kind_is_listed_and_its_bytes_counted():
    g = _unary("reshape", (4, 6), (24,))
    g.ops.append(Op("mystery", [g.outputs[0]], [g.add_tensor("z", "int16", (24,))]))
    e = estimate(g)
    assert e["not_counted"] == ["mystery"]
    assert e["counts"]["by_kind"]["mystery"]["integer"] == {"activation_bytes": 24 + 48}


def test_every_op_kind_is_counted_or_listed():
    assert set(BY_KIND) - set(COUNTERS) == NOT_COUNTED and set(COUNTERS) <= set(BY_KIND)
    estimates = [estimate(build_every_op_graph()), estimate(build_decoder())]
    # between them the fixtures use every kind of the spec (the decoder's ops take state tensors)
    assert set().union(*(e["counts"]["by_kind"] for e in estimates)) == set(BY_KIND)
    assert set().union(*(e["not_counted"] for e in estimates)) == NOT_COUNTED
    _assert_energies_are_the_table_times_the_counts(estimates[1])


def test_rope_reads_the_table_rows_of_its_positions():
    g = Graph()
    x, positions = g.add_tensor("x", "int8", (2, 3, 8)), g.add_tensor("positions", "int32", (3,))
    cos, sin = iops.rope_tables(8, 5, 1e4)
    y = g.add_tensor("y", "int8", (2, 3, 8))
    g.add_op("rope", [x, positions, g.add_constant("cos", cos), g.add_constant("sin", sin)], [y])
    c, f = count_ops(_valid(g)).total, count_float_ops(g).total
    n, tokens = 48, 3  # per element 2 M + 5 A; per token 1 M + 2 A (its row: checked, found)
    assert (c.int32_mults, c.int32_adds, c.int8_macs) == (2 * n + tokens, 5 * n + 2 * tokens, 0)
    assert c.weight_bytes == 2 * tokens * 4 * 2 and c.activation_bytes == 2 * n + 4 * tokens  # cos, sin rows: int16
    assert (f.fp32_mults, f.fp32_adds, f.int32_mults, f.int32_adds) == (2 * n, n, tokens, 2 * tokens)
    assert f.weight_bytes == 2 * tokens * 4 * 4 and f.activation_bytes == 4 * (2 * n + tokens)


def test_swiglu_is_a_table_index_a_product_and_a_requant():
    g = Graph()
    gate, up = g.add_tensor("gate", "int8", (3, 16)), g.add_tensor("up", "int8", (3, 16))
    table, _ = iops.silu_table(0.05)
    y = g.add_tensor("y", "int8", (3, 16))
    g.add_op("swiglu", [gate, up, g.add_constant("table", table)], [y], multiplier=1 << 20, shift=40)
    c, f = count_ops(_valid(g)).total, count_float_ops(g).total
    n = 48
    assert (c.int32_mults, c.int32_adds, c.weight_bytes, c.activation_bytes) == (2 * n, 5 * n, 512, 3 * n)
    assert (f.fp32_mults, f.fp32_adds, f.weight_bytes, f.activation_bytes) == (10 * n, 9 * n, 0, 4 * 3 * n)


def test_cached_attention_counts_the_causal_pairs_of_the_run_that_fills_the_cache():
    g = Graph()
    q, k, v = g.add_tensor("q", "int8", (4, 3, 8)), g.add_tensor("k", "int8", (2, 3, 8)), g.add_tensor("v", "int8", (2, 3, 8))
    positions = g.add_tensor("positions", "int32", (3,))
    caches = [g.add_state(name, "int8", (2, 5, 8)) for name in ("k_cache", "v_cache")]
    y = g.add_tensor("y", "int8", (3, 32))
    g.add_op("cached_attention", [q, k, v, positions, *caches], [y], multiplier=1 << 20, shift=30,
             out_multiplier=1 << 20, out_shift=30)
    c, f = count_ops(_valid(g)).total, count_float_ops(g).total
    pairs = 4 * (3 + 4 + 5)  # p = T − S = 2: the three queries attend to 3, 4 and 5 rows, in each of 4 heads
    rows, outputs = 4 * 3, 3 * 32
    assert c.int8_macs == 2 * pairs * 8 == f.fp32_macs  # q·kᵀ and p·v over the kept pairs
    # Shiftmax per pair and per row, the output's requant
    assert (c.int32_mults, c.int32_adds) == (4 * pairs + rows + outputs, 23 * pairs + 2 * rows + 4 * outputs)
    assert (f.fp32_mults, f.fp32_adds) == (8 * pairs + rows, 11 * pairs)
    elements = 96 + 4 * 48 + 3 + 96 + 2 * 80  # q; k, v read and written into the caches; positions; y; both caches
    assert c.activation_bytes == elements + 3 * 3 and f.activation_bytes == 4 * elements  # positions: int32
    assert c.weight_bytes == f.weight_bytes == 0


def _assert_energies_are_the_table_times_the_counts(e: dict):
    for side in ("integer", "float32"):
        counts = e["counts"][side]
        compute = sum(counts[u] * UNIT_PJ[u] for u in COMPUTE) * 1e-12
        memory = sum(counts[u] * UNIT_PJ[u] for u in MEMORY) * 1e-12
        assert e[side]["compute_j"] == pytest.approx(compute, rel=1e-12)
        assert e[side]["memory_j"] == pytest.approx(memory, rel=1e-12)
        assert e[side]["total_j"] == pytest.approx(compute + memory, rel=1e-12)
    assert e["ratio"] == pytest.approx(e["float32"]["total_j"] / e["integer"]["total_j"])
    # the totals are the sums over op kinds
    for side in ("integer", "float32"):
        for unit, total in e["counts"][side].items():
            assert total == sum(k[side].get(unit, 0) for k in e["counts"]["by_kind"].values())


def test_every_op_estimate_is_the_table_times_the_counts():
    e = estimate(build_every_op_graph())
    assert json.loads(json.dumps(e)) == e  # JSON-ready
    assert e["kind"] == "estimate" and "Horowitz" in e["source"] and e["process"] == "45 nm"
    assert "not a measurement" in e["note"]
    assert UNIT_PJ["int8_macs"] == 0.3 and UNIT_PJ["fp32_macs"] == 4.6  # 8b mult + 32b add; fp32 mult + add
    assert UNIT_PJ["weight_bytes"] == 1300 / 8 and UNIT_PJ["activation_bytes"] == 20 / 8
    _assert_energies_are_the_table_times_the_counts(e)
    assert e["ratio"] > 1


def test_vit_macs_from_its_config():
    g, _, _ = zoo_graph("vit-fmnist", "w8")
    cfg = zoo.get("vit-fmnist").build(weights=False).config
    d, patches = cfg["embed_dim"], (cfg["img_size"] // cfg["patch_size"]) ** 2
    tokens, hidden = patches + 1, int(d * cfg["mlp_ratio"])
    block = tokens * d * (3 * d + d + 2 * hidden) + 2 * tokens * tokens * d  # qkv, proj, fc1, fc2; Q·Kᵀ, P·V
    macs = patches * cfg["in_chans"] * cfg["patch_size"] ** 2 * d + cfg["depth"] * block + d * cfg["num_classes"]
    e = estimate(g)
    assert e["counts"]["integer"]["int8_macs"] == macs == e["counts"]["float32"]["fp32_macs"]
    assert e["not_counted"] == []
    _assert_energies_are_the_table_times_the_counts(e)
    assert 1 < e["ratio"] < 15  # int8 MACs cost 1/15 of fp32's; int8 weights 1/4 of fp32's


@pytest.mark.slow
def test_minilm_macs_from_its_config():
    g, _, _ = zoo_graph("minilm", "w8")
    seq, d, hidden, layers = 128, 384, 1536, 6  # all-MiniLM-L6-v2 at the zoo's sequence length
    layer = seq * d * (4 * d + 2 * hidden) + 2 * seq * seq * d
    pooling = seq * d  # the masked mean's sum is a qmatmul of the mask and the tokens
    assert count_ops(g).total.int8_macs == layers * layer + pooling


def test_main_prints_the_estimate_of_a_file(every_op_path, capsys):
    assert main([str(every_op_path)]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["model"] == "every_op" and e["kind"] == "estimate"
    _assert_energies_are_the_table_times_the_counts(e)
