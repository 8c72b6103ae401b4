"""Variable lengths (format 2.1): a tiny BERT converted with a dynamic sequence (bound 16) runs at every
length in the reference and the engine alike, on every ISA, bit for bit; equals the same plan emitted at
that length; refuses lengths outside [1, 16] in both executors; survives the file round trip."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_converter import feed, tiny_bert, token_items  # noqa: E402

import intedge  # noqa: E402
from intedge.converters.errors import ConversionError  # noqa: E402
from intedge.ir import read_ieg  # noqa: E402
from intedge.reference import ExecutionError  # noqa: E402
from intedge.runtime import Session, supported_isas  # noqa: E402

BOUND = 16


@pytest.fixture(scope="module")
def converted():
    from intedge.converters.convert import Converter

    items = token_items(n=4)
    conv = Converter.calibrate(tiny_bert(), items[0], items, "w8", progress=False)
    return conv, conv.dynamic_graph(), items


def _at(item, s):
    return tuple(x[:, :s] for x in item)


def test_graph_declares_the_sequence(converted):
    _, g, _ = converted
    assert g.dynamic == ("seq", BOUND)
    assert all(g.tensors[t].dynamic_axes == (1,) for t in g.inputs)
    # the attention scores follow the length on both axes
    assert any(len(t.dynamic_axes) == 2 for t in g.tensors)


def test_file_round_trip(converted):
    _, g, _ = converted
    back = read_ieg(g.to_bytes())
    assert back.dynamic == g.dynamic
    assert [t.dynamic_axes for t in back.tensors] == [t.dynamic_axes for t in g.tensors]
    assert back.to_bytes() == g.to_bytes()


@pytest.mark.parametrize("isa", supported_isas())
def test_engine_equals_reference_at_every_length(converted, isa):
    _, g, items = converted
    session = Session(g.to_bytes(), isa=isa, threads=2)
    assert session.dynamic == ("seq", BOUND)
    for s in (1, 7, BOUND, 3):
        x = feed(g, _at(items[1], s))
        ref = intedge.reference.run(g, x)
        out = session.run(x)
        for k in ref:
            assert out[k].shape == ref[k].shape and np.array_equal(out[k], ref[k]), (isa, s, k)


@pytest.mark.parametrize("s", [7, 12])
def test_equals_the_same_plan_emitted_at_that_length(converted, s):
    conv, g, items = converted
    x = feed(g, _at(items[2], s))
    static = conv.graph_at_length(s)
    assert static.dynamic is None and static.tensors[static.inputs[0]].shape == (1, s)
    want = intedge.reference.run(static, x)
    got = intedge.reference.run(g, x)
    eng = Session(g.to_bytes()).run(x)
    for k in want:
        assert np.array_equal(got[k], want[k]) and np.array_equal(eng[k], want[k])


@pytest.mark.parametrize("s", [0, BOUND + 1])
def test_lengths_outside_the_bound_are_refused(converted, s):
    _, g, items = converted
    ids = np.ones((1, s), np.int32)
    x = {g.tensors[g.inputs[0]].name: ids, g.tensors[g.inputs[1]].name: ids.astype(np.int8)}
    msg = f"dimension 1 is {s}; the dynamic dimension 'seq' takes lengths 1 to {BOUND}"
    with pytest.raises(ExecutionError, match=msg):
        intedge.reference.run(g, x)
    with pytest.raises(ExecutionError, match=msg):
        Session(g.to_bytes()).run(x)


def test_inputs_that_disagree_are_refused(converted):
    _, g, _ = converted
    x = {g.tensors[g.inputs[0]].name: np.ones((1, 5), np.int32), g.tensors[g.inputs[1]].name: np.ones((1, 6), np.int8)}
    with pytest.raises(ExecutionError, match="disagree on the dynamic dimension 'seq'"):
        intedge.reference.run(g, x)
    with pytest.raises(ExecutionError, match="disagree on the dynamic dimension 'seq'"):
        Session(g.to_bytes()).run(x)


def _refusal(g):
    """(python's message, the engine's) for graph g written without validation."""
    from intedge import _runtime
    from intedge.ir.ieg_io import write_ieg

    data = write_ieg(g)
    try:
        read_ieg(data)
        py = "ok"
    except intedge.IegFormatError as e:
        py = str(e).split(": ", 1)[1]
    try:
        Session(data)
        cpp = "ok"
    except intedge.IegFormatError as e:
        cpp = str(e)
    del _runtime
    return py, cpp


@pytest.mark.parametrize("break_it", ["no_dim", "bad_axis", "not_multiple", "unsorted", "bad_bound"])
def test_both_validators_refuse_bad_dynamic_fields(converted, break_it):
    import copy

    _, g, _ = converted
    g = copy.deepcopy(g)
    t = g.tensors[g.inputs[0]]
    if break_it == "no_dim":
        g.dynamic = None
    elif break_it == "bad_axis":
        t.dynamic_axes = (2,)
    elif break_it == "not_multiple":
        g.dynamic = ("seq", 5)
    elif break_it == "unsorted":
        t.dynamic_axes = (1, 0)
    else:
        g.dynamic = ("seq", 0)
    py, cpp = _refusal(g)
    assert py != "ok" and py in cpp, (py, cpp)


def test_a_length_dependent_option_is_caught_at_length_1(converted):
    """A slice ending at the bound on a dynamic axis is valid at L but not at 1: both validators say so."""
    import copy

    _, g, _ = converted
    g = copy.deepcopy(g)
    x = g.inputs[1]
    y = g.add_tensor("cut", g.tensors[x].dtype, g.tensors[x].shape)
    g.add_op("slice", [x], [y], axis=1, start=0, end=BOUND)
    g.outputs.append(y)
    py, cpp = _refusal(g)
    assert py.startswith("at seq = 1: op") and py in cpp, (py, cpp)


def test_a_weight_that_follows_the_length_is_packed_per_length():
    """qlinear with K on the dynamic axis: the engine must not reuse the bound's packing at a shorter length."""
    from intedge.ir.graph import Graph

    bound, n = 64, 8
    rng = np.random.default_rng(0)
    g = Graph(name="dynamic_k")
    x = g.add_tensor("x", "int8", (1, bound), 0.1)
    w = g.add_constant("w", rng.integers(-127, 128, (n, bound)).astype(np.int8), "int8")
    g.tensors[x].dynamic_axes = g.tensors[w].dynamic_axes = (1,)
    y = g.add_tensor("y", "int8", (1, n), 0.1)
    g.add_op("qlinear", [x, w, -1], [y], name="fc", multiplier=np.full(n, 1 << 20), shift=np.full(n, 30, np.int8))
    g.inputs, g.outputs, g.dynamic = [x], [y], ("seq", bound)
    for isa in supported_isas():
        s = Session(g.validate().to_bytes(), isa=isa)
        s.run({"x": rng.integers(-128, 128, (1, bound)).astype(np.int8)})  # the arena holds the bound's data
        for length in (3, 17):
            feeds = {"x": rng.integers(-128, 128, (1, length)).astype(np.int8)}
            assert np.array_equal(s.run(feeds)["y"], intedge.reference.run(g, feeds)["y"]), (isa, length)


def test_a_broadcast_valid_only_at_the_ends_is_refused_between_by_both():
    """b [1, s] against a [1, 4] broadcasts at s = 1 and s = 4 only: both executors refuse s = 2."""
    from intedge.ir.graph import Graph

    g = Graph(name="middle")
    a, b, y = g.add_tensor("a", "int32", (1, 4)), g.add_tensor("b", "int32", (1, 4)), g.add_tensor("y", "int32", (1, 4))
    g.tensors[b].dynamic_axes = (1,)
    g.add_op("int_binary", [a, b], [y], name="add", op=0)
    g.inputs, g.outputs, g.dynamic = [a, b], [y], ("seq", 4)
    session = Session(g.validate().to_bytes())
    feeds = {"a": np.arange(4, dtype=np.int32)[None], "b": np.arange(2, dtype=np.int32)[None]}
    for run in (lambda: intedge.reference.run(g, feeds), lambda: session.run(feeds)):
        with pytest.raises(ExecutionError, match=r"at seq = 2: .*does not broadcast"):
            run()


class _MeanOfPositions(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.pos, self.fc = torch.nn.Embedding(20, 8), torch.nn.Parameter(torch.randn(32, 8)), torch.nn.Linear(8, 8)

    def forward(self, ids):
        return self.fc(self.emb(ids) + self.pos[:ids.shape[1]].mean(0))


class _ScaledByLength(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.fc = torch.nn.Embedding(20, 8), torch.nn.Linear(8, 8)

    def forward(self, ids):
        return self.fc(self.emb(ids) * (4.0 / ids.shape[1]))


@pytest.mark.parametrize("model, message", [(_MeanOfPositions, "constant 'add.const' differs at length 7"),
                                            (_ScaledByLength, "computes differently at length 7")])
def test_values_that_depend_on_the_length_are_refused_with_the_models_line(model, message):
    torch.manual_seed(0)
    ids = torch.randint(1, 20, (1, 16), dtype=torch.int32)
    with pytest.raises(ConversionError, match=message + r".*test_dynamic_length\.py:\d+|test_dynamic_length\.py:\d+.*"
                       + message):
        intedge.convert(model().eval(), (ids,), calibration=[(ids,)], dynamic_seq=True, progress=False)
