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
