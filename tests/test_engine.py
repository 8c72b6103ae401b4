"""The C++ engine (intedge.runtime.Session, through the C API) gives exactly the reference
executor's integers: on the fixture, on every zoo model, on every kernel path this machine has
and for 1, 2 and 4 threads; and bad files and inputs are errors, never crashes."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_graphs import zoo_graph

import intedge
from intedge import integer_ops as iops
from intedge import reference
from intedge.converters import zoo
from intedge.examples.every_op import example_inputs
from intedge.ir import Graph, write_ieg
from intedge.ir.errors import IegFormatError
from intedge.reference import ExecutionError
from intedge.runtime import Session, supported_isas

ISAS = supported_isas()
THREADS = (1, 2, 4)


def assert_same(out: dict, ref: dict):
    assert out.keys() == ref.keys()
    for k in ref:
        assert out[k].dtype == ref[k].dtype and np.array_equal(out[k], ref[k]), k


def test_the_scalar_path_comes_first_and_sessions_default_to_the_best(every_op_path, monkeypatch):
    assert ISAS[0] == "scalar"
    monkeypatch.delenv("INTEDGE_ISA", raising=False)
    assert Session(every_op_path).isa == ISAS[-1]


@pytest.mark.parametrize("isa", ISAS)
def test_every_op_fixture_matches_the_reference(every_op_path, isa):
    g = intedge.load(every_op_path)
    x = example_inputs()
    ref = reference.run(g, x)
    for threads in THREADS:
        s = Session(every_op_path, threads=threads, isa=isa)
        assert s.isa == isa and s.threads == threads
        assert_same(s.run(x), ref)
        assert_same(s.run(x), ref)  # and again: no state leaks between runs


@pytest.mark.parametrize("channels", [1, 96])
def test_both_forms_of_lambda_shiftgelu_match_the_reference(channels):
    """One output requant makes λ-ShiftGELU a byte table, run as the lookup op runs; one requant per
    channel, a table lookup and a requant (the fixture has only the first)."""
    g = Graph(name="gelu")
    x = g.add_tensor("x", "int8", (3, 96), 0.05)
    y = g.add_tensor("y", "int8", (3, 96), 0.05)
    g.inputs, g.outputs = [x], [y]
    params = iops.lambda_shiftgelu_params(0.05, np.linspace(0.01, 0.08, channels))
    g.add_op("lambda_shiftgelu", [x], [y], name="gelu", **params)
    data, feed = write_ieg(g.validate()), {"x": (np.arange(3 * 96) % 256 - 128).astype(np.int8).reshape(3, 96)}
    ref = reference.run(g, feed)
    for isa in ISAS:
        s = Session(data, threads=2, isa=isa)
        assert_same(s.run(feed), ref)
        assert dict(s.kernels)["gelu"].startswith("lookup256" if channels == 1 else "table_requant"), isa


@pytest.mark.parametrize("channels, own", [(1, 0), (96, 96), (96, 12), (96, 13)])
@pytest.mark.parametrize("low_shift", [False, True], ids=["high-half", "low-shift"])
def test_every_form_of_lookup_requant_matches_the_reference(channels, own, low_shift):
    """An int32 table constant up to ±2^30 and its requant: with one multiplier a byte table (lookup256); with
    one for all channels but an eighth or fewer (`own` channels with their own, SmoothQuant's shape) that
    byte table and each other channel's own (lookup256…+channels); else the ISA's table_requant (VBMI's
    high-half requant needs every shift ≥ 33, else its gather fallback). x is an input, and the output
    of a lookup whose bytes the op overwrites (in place)."""
    rng = np.random.default_rng(channels + own + low_shift)
    table = rng.integers(-(2**30), 2**30, 256, endpoint=True).astype(np.int32)
    table[:2] = (-(2**30), 2**30)
    shift = rng.integers(33, 53, channels, endpoint=True)
    mult = np.rint(2.0 ** (shift - 23) * rng.uniform(0.5, 1, channels)).astype(np.int32)  # |y| up to ~2^7
    # the last channel has a requant of its own (or is the one channel), at the low shift or not
    shared = np.setdiff1d(np.arange(channels - 1), rng.choice(channels - 1, max(own - 1, 0), replace=False))
    if len(shared):
        shift[shared], mult[shared] = shift[shared[0]], mult[shared[0]]
    shift[-1] = 32 if low_shift else 33
    mult[-1] = np.rint(2.0 ** (shift[-1] - 23) * 0.7)
    shift = shift.astype(np.int8)
    feed = {"x": (np.arange(3 * 96) % 256 - 128).astype(np.int8).reshape(3, 96)}
    for in_place in (False, True):
        g = Graph(name="lookup_requant")
        x = g.add_tensor("x", "int8", (3, 96), 0.05)
        y = g.add_tensor("y", "int8", (3, 96), 0.05)
        g.inputs, g.outputs = [x], [y]
        h = g.add_tensor("h", "int8", (3, 96), 0.05) if in_place else x
        if in_place:
            g.add_op("lookup", [x, g.add_constant("reverse", np.arange(127, -129, -1).astype(np.int8))], [h])
        g.add_op("lookup_requant", [h, g.add_constant("table", table)], [y], name="f", multiplier=mult, shift=shift)
        data = write_ieg(g.validate())
        ref = reference.run(g, feed)
        assert len(np.unique(ref["y"])) > 2  # not all saturated
        form = "table_requant" if own == channels or 8 * own > channels else "lookup256"
        for isa in ISAS:
            s = Session(data, threads=2, isa=isa)
            assert_same(s.run(feed), ref)
            kernel = dict(s.kernels)["f"]
            assert kernel.startswith(form) and kernel.endswith("+channels") == (form == "lookup256" and channels > 1)


@pytest.mark.parametrize("weights", ["w8", pytest.param("w4", marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", [n if n == "vit-fmnist" else pytest.param(n, marks=pytest.mark.slow) for n in zoo.ZOO])
def test_zoo_models_match_the_reference_on_every_isa_and_thread_count(name, weights):
    g, feeds, path = zoo_graph(name, weights)
    refs = [reference.run(g, f) for f in feeds]
    for isa in ISAS:
        for threads in THREADS:
            s = Session(path, threads=threads, isa=isa)
            for f, ref in zip(feeds, refs):
                assert_same(s.run(f), ref)


@pytest.mark.slow
def test_fusions_are_in_the_file_and_the_kernel_table_names_each_ops_kernel():
    """The converter writes head splits (qlinear head_dim) and LayerNorm twins (a two-output I-LayerNorm)
    into the graph; the engine runs exactly the graph's ops, and its kernel table says which kernel each got."""
    g, feeds, path = zoo_graph("minilm", "w8")
    twins = [op for op in g.ops if op.kind == "ilayernorm" and len(op.outputs) == 2]
    heads = [op for op in g.ops if op.kind == "qlinear" and op.options["head_dim"]]
    assert len(twins) == 12 and len(heads) == 18  # 2 twins and 3 head splits per layer
    assert not any(op.kind == "transpose" and g.ops[k - 1].kind == "reshape" and g.ops[k - 2].kind == "qlinear"
                   for k, op in enumerate(g.ops))
    for isa in ISAS:
        s = Session(path, isa=isa, profile=True)
        s.run(feeds[0])
        assert [(p.kind, p.name) for p in s.profile()] == [(op.kind, op.name) for op in g.ops]
        kernels = dict(s.kernels)
        assert all(p.runs == 1 for p in s.profile())
        pair = kernels[twins[0].name]
        assert pair == ("ilayernorm_pair_avx512" if isa in ("avx512vnni", "amx") else
                        f"ilayernorm_{'avx2' if isa in ('avx2', 'avxvnni') else 'scalar'}*2"), isa
        assert kernels[heads[0].name].startswith(f"gemm_w8a8_{isa}"), isa


def _attention_scores(heads: int, m: int, n: int, k: int, mask: tuple | None, scores_out: bool) -> Graph:
    """q·kᵀ (int32) into Shiftmax, as the converter writes attention, with a mask of that shape or none; the
    scores a graph output too or not."""
    g = Graph(name="scores")
    q = g.add_tensor("q", "int8", (1, heads, m, k), 0.1)
    key = g.add_tensor("k", "int8", (1, heads, n, k), 0.1)
    scores = g.add_tensor("scores", "int32", (1, heads, m, n))
    probs = g.add_tensor("probs", "uint8", (1, heads, m, n), 2.0**-8)
    keep = [g.add_tensor("mask", "int8", mask)] if mask else []
    g.inputs = [q, key, *keep]
    g.outputs = [probs, scores] if scores_out else [probs]
    g.add_op("qmatmul", [q, key], [scores], name="qk", transpose_b=True, multiplier=1 << 30, shift=31)
    g.add_op("shiftmax", [scores, *keep], [probs], name="softmax", **iops.shiftmax_params(0.004))
    g.validate()
    return g


def _masks(kind: str, heads: int, m: int, n: int, rng) -> list[np.ndarray]:
    """Masks of one kind for runs in turn: random keys kept; a padded sequence's (its first tokens, of
    several lengths: all, none, and short ones after longer, so the keys' repack shrinks and grows); a
    prefix per query row (a causal mask's shape); one value per row (a mask broadcast over the keys)."""
    if kind == "random":
        return [(rng.random((1, 1, 1, n)) < 0.8).astype(np.int8) for _ in range(2)]
    if kind == "padded":
        return [(np.arange(n) < length).astype(np.int8).reshape(1, 1, 1, n) for length in (n, 5, 0, n // 2, 1, n)]
    if kind == "rows":
        return [(np.arange(n) < np.minimum(np.arange(m) + 1, n)[:, None] // d).astype(np.int8).reshape(1, 1, m, n)
                for d in (1, 3)]
    return [(rng.random((1, heads, m, 1)) < 0.7).astype(np.int8) for _ in range(2)]


@pytest.mark.parametrize("heads, m, n, k", [(3, 70, 70, 40), (2, 128, 128, 32), (1, 33, 200, 20)])
@pytest.mark.parametrize("mask", [None, "random", "padded", "rows", "row_values"])
def test_attention_scores_are_made_a_block_at_a_time_for_shiftmax_and_never_stored(heads, m, n, k, mask):
    """A qmatmul whose int32 scores only Shiftmax reads makes them a block of rows at a time for it (a
    RowSource), and only the keys the mask keeps: the arena holds no scores, the probabilities are the
    reference's on every ISA and thread count, and the profile gives the qmatmul its share of the time.
    Heads that are not whole GEMM row blocks, K not a multiple of 64 (nor of 4), masks of every kind and
    broadcast, and none."""
    rng = np.random.default_rng(heads * m + n + k)
    feeds = {"q": rng.integers(-128, 128, (1, heads, m, k), dtype=np.int8),
             "k": rng.integers(-128, 128, (1, heads, n, k), dtype=np.int8)}
    masks = _masks(mask, heads, m, n, rng) if mask else [None]
    shape = masks[0].shape if mask else None
    fused, kept = (_attention_scores(heads, m, n, k, shape, scores_out) for scores_out in (False, True))
    runs = [feeds | ({"mask": keep} if mask else {}) for keep in masks]
    refs = [reference.run(kept, run) for run in runs]
    feeds, ref = runs[0], refs[0]
    scores_bytes = ref["scores"].nbytes
    for isa in ISAS:
        for threads in THREADS:
            s = Session(write_ieg(fused), threads=threads, isa=isa)
            for run, want in zip(runs, refs):
                assert_same(s.run(run), {"probs": want["probs"]})
            s = Session(write_ieg(fused), threads=threads, isa=isa, profile=True)
            for _ in range(3):
                assert_same(s.run(feeds), {"probs": ref["probs"]})
            # The scores' part of the Shiftmax run is the qmatmul's in the profile: more than its own empty
            # Run would have (that alone is under 1 %), which a lost share would leave it with.
            prof = {p.name: p for p in s.profile()}
            assert prof["qk"].runs == prof["softmax"].runs == 3
            assert prof["qk"].total_us > 0.03 * (prof["qk"].total_us + prof["softmax"].total_us)
            unfused = Session(write_ieg(kept), threads=threads, isa=isa)
            assert_same(unfused.run(feeds), ref)  # the scores are an output: stored, and Shiftmax reads them
            kernels, apart = dict(s.kernels), dict(unfused.kernels)
            assert kernels == {"qk": "(rows made by its shiftmax)", "softmax": f"{apart['qk']}+{apart['softmax']}"}
            assert s.arena_bytes < scores_bytes <= unfused.arena_bytes


def _attention_values(heads: int, m: int, n: int, d: int, dtype: str, rank: int, perm: list[int],
                      values_out: bool) -> Graph:
    """probabilities·v, then a transpose by perm (the heads' merge: [(1,) heads, m, d] into [(1,) m, heads, d])
    and a reshape to [m, heads·d] (with a leading 1 at rank 4), as the converter writes attention; the
    per-head values a graph output too or not."""
    lead = (1,) * (rank - 3)
    g = Graph(name="values")
    p = g.add_tensor("p", "uint8", (*lead, heads, m, n), 2.0**-8)
    v = g.add_tensor("v", "int8", (*lead, heads, n, d), 0.1)
    shape = (*lead, heads, m, d)
    per_head = g.add_tensor("per_head", dtype, shape, 0.05)
    moved = g.add_tensor("moved", dtype, tuple(shape[i] for i in perm), 0.05)
    flat = g.add_tensor("flat", dtype, (*lead, heads * m * d // shape[perm[-1]], shape[perm[-1]]), 0.05)
    g.inputs = [p, v]
    g.outputs = [flat, per_head] if values_out else [flat]
    # shift 42: the sums' spread is about 30 output steps, so few saturate and a requant slip shows
    g.add_op("qmatmul", [p, v], [per_head], name="pv", multiplier=1 << 30, shift=42)
    g.add_op("transpose", [per_head], [moved], name="merge", perm=perm)
    g.add_op("reshape", [moved], [flat], name="flat")
    g.validate()
    return g


@pytest.mark.parametrize("heads, m, n, d, dtype, rank, perm", [
    (3, 70, 70, 40, "int8", 4, [0, 2, 1, 3]),
    (2, 128, 128, 32, "int8", 4, [0, 2, 1, 3]),
    (12, 13, 13, 64, "int8", 4, [0, 2, 1, 3]),
    (2, 33, 200, 20, "int16", 3, [1, 0, 2]),
    (3, 40, 50, 24, "int8", 4, [0, 1, 3, 2]),  # not a merge: the transpose copies
    (4, 4, 30, 16, "int8", 4, [0, 1, 2, 3]),  # nor this, whose shape is the merge's (heads = m)
    (1, 33, 60, 16, "int8", 4, [0, 2, 1, 3]),  # one head: the merge is every layout's
])
def test_attention_values_write_the_heads_merged(heads, m, n, d, dtype, rank, perm):
    """A qmatmul whose output only the heads' merging transpose reads writes the merged layout itself (each
    head's rows heads·d apart from column h·d) where its GEMM takes a row stride, and the transpose does
    nothing: the result is the reference's on every ISA and thread count, at rank 3 and 4, int8 and int16.
    Another transpose, or the per-head values a graph output too, leaves both stored as they are."""
    rng = np.random.default_rng(heads * m + n + d)
    lead = (1,) * (rank - 3)
    feeds = {"p": rng.integers(0, 256, (*lead, heads, m, n), dtype=np.uint8),
             "v": rng.integers(-128, 128, (*lead, heads, n, d), dtype=np.int8)}
    fused, kept = (_attention_values(heads, m, n, d, dtype, rank, perm, out) for out in (False, True))
    ref = reference.run(kept, feeds)
    merge = perm == [0, 2, 1, 3] or perm == [1, 0, 2]
    for isa in ISAS:
        for threads in THREADS:
            s = Session(write_ieg(fused), threads=threads, isa=isa)
            assert_same(s.run(feeds), {"flat": ref["flat"]})
            unfused = Session(write_ieg(kept), threads=threads, isa=isa)
            assert_same(unfused.run(feeds), ref)
            kernels, apart = dict(s.kernels), dict(unfused.kernels)
            assert apart["merge"] == "transpose_rows"
            if merge and isa != "scalar":  # the scalar qmatmul writes [B, M, N] only
                assert kernels == {"pv": apart["pv"] + ", heads merged", "merge": "(written merged by its qmatmul)",
                                   "flat": "alias"}, isa
            else:
                assert kernels == apart, isa


def test_metadata_profile_and_memory_plan(every_op_path):
    g = intedge.load(every_op_path)
    s = Session(every_op_path, profile=True)
    assert [t.name for t in s.inputs] == [g.tensors[i].name for i in g.inputs]
    assert [(t.dtype, t.shape) for t in s.outputs] == [(g.tensors[i].dtype, g.tensors[i].shape) for i in g.outputs]
    s.run(example_inputs())
    s.run(example_inputs())
    prof = s.profile()
    assert [(p.kind, p.name, p.runs) for p in prof] == [(op.kind, op.name, 2) for op in g.ops]
    assert sum(p.total_us for p in prof) > 0 and all(p.kernel for p in prof)
    activations = sum(t.nbytes for i, t in enumerate(g.tensors) if not t.is_constant and i not in g.inputs)
    assert 0 < s.arena_bytes < activations + 64 * len(g.tensors)
    assert s.weight_bytes >= sum(t.data.nbytes for t in g.tensors if t.is_constant and t.dtype != "int4")


def test_bad_inputs_are_errors(every_op_path):
    s = Session(every_op_path)
    x = example_inputs()
    name = s.inputs[0].name
    with pytest.raises(ExecutionError, match="missing"):
        s.run({k: v for k, v in x.items() if k != name})
    with pytest.raises(ExecutionError, match="expected"):
        s.run(x | {name: x[name].astype(np.float64)})
    with pytest.raises(ExecutionError, match="expected"):
        s.run(x | {name: np.concatenate([x[name], x[name]])})
    with pytest.raises(ValueError, match="graph takes"):  # the C API's own check, below the Python one
        s._s.run([x[name]])
    with pytest.raises(ValueError, match="not available|unknown ISA"):
        Session(every_op_path, isa="no-such-isa")
    with pytest.raises(ValueError, match="threads"):
        Session(every_op_path, threads=0)
    with pytest.raises(FileNotFoundError):
        Session("no/such/file.ieg")


@pytest.mark.slow
def test_out_of_vocabulary_token_is_an_error():
    g, feeds, path = zoo_graph("minilm", "w8")
    ids = next(k for k, v in feeds[0].items() if v.dtype == np.int32)
    bad = feeds[0] | {ids: np.full_like(feeds[0][ids], 10**6)}
    with pytest.raises(ExecutionError, match="outside"):
        Session(path).run(bad)


def test_malformed_files_are_errors(every_op_path, tmp_path):
    data = every_op_path.read_bytes()
    for i, bad in enumerate([data[:100], data[:8] + b"\x07" + data[9:], data[:3000] + bytes([data[3000] ^ 0xFF]) + data[3001:]]):
        p = tmp_path / f"bad{i}.ieg"
        p.write_bytes(bad)
        with pytest.raises(IegFormatError):
            Session(p)
