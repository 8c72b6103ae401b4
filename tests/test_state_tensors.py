"""State tensors (IR 2.2: a decoder's KV cache) in the engine: both validators refuse the same bad state graphs
with the same words, a session keeps the state between runs (zeros at first, reset_state, set_state), the
exporters refuse it, and the decoder fixture runs as the reference does, prefill then decode steps (once the
decoder ops' kernels are in this build)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from mutants import verdict

import intedge
from intedge import _runtime, reference
from intedge.cli import main
from intedge.ir import Graph, InvalidGraphError, read_ieg, write_ieg
from intedge.ir.ieg_io import HEADER
from intedge.runtime import Session, supported_isas


def _requant_beside_a_state(dynamic: bool = False) -> Graph:
    """x --requant--> y, beside a state tensor 's' that no op reads (a valid graph the engine opens today)."""
    g = Graph(name="state", dynamic=("tokens", 4) if dynamic else None)
    x, y = g.add_tensor("x", "int32", (4, 8), 0.1), g.add_tensor("y", "int8", (4, 8), 0.1)
    if dynamic:
        g.tensors[x].dynamic_axes = g.tensors[y].dynamic_axes = (0,)
    g.add_state("s", "int8", (3, 100), 0.1)
    g.add_op("requant", [x], [y], multiplier=1 << 30, shift=31)
    g.inputs, g.outputs = [x], [y]
    return g


def _attention(cache_is_state: bool = True) -> Graph:
    """One cached_attention: q [4, 3, 8], k and v [2, 3, 8], positions [3], caches 'kc', 'vc' [2, 5, 8]."""
    g = Graph(name="attention")
    q, k, v = (g.add_tensor(n, "int8", s, 0.1) for n, s in (("q", (4, 3, 8)), ("k", (2, 3, 8)), ("v", (2, 3, 8))))
    positions = g.add_tensor("positions", "int32", (3,))
    kc = g.add_state("kc", "int8", (2, 5, 8), 0.1) if cache_is_state else g.add_tensor("kc", "int8", (2, 5, 8), 0.1)
    vc = g.add_state("vc", "int8", (2, 5, 8), 0.1)
    y = g.add_tensor("y", "int8", (3, 32), 0.1)
    g.add_op("cached_attention", [q, k, v, positions, kc, vc], [y], name="attn", multiplier=1 << 20, shift=30,
             out_multiplier=1 << 20, out_shift=30)
    g.inputs, g.outputs = [q, k, v, positions] + ([] if cache_is_state else [kc]), [y]
    return g


def _state_input(g):
    g.inputs.append(g.tensor_id("kc"))


def _state_output(g):
    g.outputs.append(g.tensor_id("kc"))


def _read_twice(g):
    g.add_op("requant", [g.tensor_id("kc")], [g.add_tensor("z", "int8", (2, 5, 8), 0.1)], multiplier=1 << 30, shift=31)


def _written(g):
    g.add_op("requant", [g.tensor_id("q")], [g.tensor_id("kc")], multiplier=1 << 30, shift=31)


def _with_data(g):
    g.tensors[g.tensor_id("kc")].data = np.zeros((2, 5, 8), np.int8)


def _dynamic(g):
    g.dynamic = ("tokens", 5)
    g.tensors[g.tensor_id("kc")].dynamic_axes = (1,)


def _in_a_plain_role(g):
    g.ops[0].inputs[0] = g.add_state("s", "int8", (4, 3, 8), 0.1)  # q: a state tensor where an activation belongs


BAD = {  # mutation of _attention() → the message both validators and the engine give
    "a state graph input": (_state_input, "graph input: tensor 'kc' is a state tensor"),
    "a state graph output": (_state_output, "graph output: tensor 'kc' is a state tensor"),
    "read by two ops": (_read_twice, "op 1: state tensor 'kc' is read by a second op input"),
    "written by an op": (_written, "op 1: tensor 'kc' is written twice"),
    "holding data": (_with_data, "a state tensor holds no data"),
    "with a dynamic axis": (_dynamic, "a state tensor has a fixed shape and is not int4"),
    "in a role that is not state": (_in_a_plain_role,
                                    "op 0 (cached_attention attn): q 's' is a state tensor, which only a cache "
                                    "input may take"),
    "a cache that is not state": (None, "op 0 (cached_attention attn): k_cache 'kc' must be a state tensor"),
}


def test_a_good_state_graph_passes_both_and_is_format_2_2():
    g = _attention().validate()
    data = write_ieg(g)
    assert HEADER.unpack_from(data, 0)[1:3] == (2, 2) and _runtime.format_version() == (2, 2)
    assert read_ieg(data).tensors[g.tensor_id("kc")].is_state
    _runtime.check_ieg(data)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_state_graphs_are_refused_alike(case):
    change, message = BAD[case]
    g = _attention(cache_is_state=change is not None)
    if change:
        change(g)
    with pytest.raises(InvalidGraphError, match=re.escape(message)):
        g.validate()
    data = write_ieg(g)
    (_, python), (_, engine) = verdict(read_ieg, data), verdict(_runtime.check_ieg, data)
    assert python == engine and python.endswith(message), (python, engine)


def test_state_is_zeros_then_kept_set_and_reset():
    s = Session(write_ieg(_requant_beside_a_state()))
    assert [(t.name, t.dtype, t.shape) for t in s.states] == [("s", "int8", (3, 100))]
    assert s.state_bytes == 320 and s.arena_bytes >= s.state_bytes + 128 + 64  # a 64-byte aligned slot of its own
    assert not s.state()["s"].any()  # zeros when the session opens
    ones = np.ones((3, 100), np.int8)
    s.set_state({"s": ones})
    x = np.full((4, 8), 1 << 20, np.int32)
    assert np.array_equal(s.run({"x": x})["y"], reference.run(_requant_beside_a_state(), {"x": x})["y"])
    assert np.array_equal(s.state()["s"], ones)  # no run writes over it
    s.reset_state()
    assert not s.state()["s"].any()
    with pytest.raises(KeyError, match="not a state tensor"):
        s.set_state({"x": x})
    with pytest.raises(ValueError, match=re.escape("expected int8[3, 100], got int8[3, 99]")):
        s.set_state({"s": ones[:, :99]})


def test_every_length_shares_the_state():
    g = _requant_beside_a_state(dynamic=True)
    s = Session(write_ieg(g))
    s.set_state({"s": np.full((3, 100), -3, np.int8)})
    for length in (4, 1, 3, 1):
        x = np.arange(8 * length, dtype=np.int32).reshape(length, 8) << 20
        assert np.array_equal(s.run({"x": x})["y"], reference.run(g, {"x": x})["y"])
        assert (s.state()["s"] == -3).all()


def test_exporters_refuse_state_and_decoder_ops(decoder_path):
    from intedge.exporters import ExportError
    from intedge.exporters.errors import refuse_decoder_graphs

    g = intedge.load(decoder_path)
    with pytest.raises(ExportError, match=r"the \.onnx export: graph 'llama-decoder' is not exportable yet: it has "
                                          r"4 state tensors \(.*\) and the decoder ops rope, swiglu, cached_attention"):
        refuse_decoder_graphs(g, "the .onnx export")
    with pytest.raises(ExportError, match="ilayernorm with rms"):
        refuse_decoder_graphs(g, "the .tflite export", rms_norm=True)
    refuse_decoder_graphs(intedge.load(decoder_path.with_name("every_op.ieg")), "every_op", rms_norm=True)
    from intedge.exporters import to_tflite

    with pytest.raises(ExportError, match="the .tflite export: .* state tensor"):
        to_tflite.to_bytes(g.at_length(4))


def test_inspect_lists_the_state_tensors(decoder_path, capsys):
    assert main(["inspect", str(decoder_path)]) == 0
    out = capsys.readouterr().out
    assert "state tensors, kept from run to run" in out and "(updated by cached_attention" in out


# --- the decoder fixture against the reference ------------------------------------------------------------------


def _feed(g, tokens, start: int) -> dict[str, np.ndarray]:
    return {"tokens": np.asarray(tokens, np.int32), "positions": np.arange(start, start + len(tokens), dtype=np.int32)}


@pytest.mark.parametrize("isa", supported_isas())
def test_decoder_prefill_then_decode_steps_equal_the_reference(decoder_path, isa):
    g = intedge.load(decoder_path)
    s = Session(decoder_path, isa=isa, threads=2)
    assert {t.name for t in s.states} == {g.tensors[i].name for i in g.state_tensors()}
    rng = np.random.default_rng(7)
    state = reference.new_state(g)
    prompt = rng.integers(0, 64, 6)
    steps = [(prompt, 0)] + [(rng.integers(0, 64, 1), 6 + i) for i in range(4)]
    first = None
    for tokens, start in steps:
        feed = _feed(g, tokens, start)
        want = reference.run(g, feed, state=state)
        got = s.run(feed)
        first = first or got
        for name in want:
            assert np.array_equal(got[name], want[name]), (start, name)
        for name, value in s.state().items():
            assert np.array_equal(value, state[name]), (start, name)
    s.reset_state()
    assert not any(v.any() for v in s.state().values())
    again = s.run(_feed(g, prompt, 0))  # a new sequence: as the first run
    assert all(np.array_equal(again[k], first[k]) for k in first)
