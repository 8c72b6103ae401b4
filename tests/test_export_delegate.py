"""The ExecuTorch delegate: a .pte whose whole method is one IntedgeBackend call runs in ExecuTorch's stock
Python runtime and gives the reference's integers exactly; what it refuses, it refuses with a message."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("executorch")

from zoo_graphs import zoo_graph  # noqa: E402

import intedge  # noqa: E402
from intedge.examples.every_op import example_inputs  # noqa: E402
from intedge.exporters import executorch_delegate as ed  # noqa: E402

IEG_MAGIC = b"\x89IEG\r\n\x1a\n"


@pytest.fixture(scope="module")
def every_op_pte(every_op_path, tmp_path_factory):
    graph = intedge.load(every_op_path)
    path = tmp_path_factory.mktemp("delegate") / "every_op.pte"
    ed.export_delegated(graph, path)
    return graph, path


def assert_exact(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name in want:
        assert got[name].dtype == want[name].dtype and np.array_equal(got[name], want[name]), name


@pytest.mark.parametrize("seed", [0, 1])
def test_every_op_runs_exactly_in_executorchs_runtime(every_op_pte, seed):
    graph, path = every_op_pte
    x = example_inputs(seed)
    assert_exact(ed.run_pte(path, x), intedge.reference.run(graph, x))


def test_the_blob_is_the_ieg_and_the_backend_is_registered(every_op_pte, every_op_path):
    _, path = every_op_pte
    assert every_op_path.read_bytes() in path.read_bytes()  # stored once: the compile spec is its digest
    assert path.read_bytes().count(IEG_MAGIC) == 1
    ed.load_backend_library()
    from executorch.runtime import Runtime

    assert "IntedgeBackend" in Runtime.get().backend_registry.registered_backend_names


def test_thread_counts_give_the_same_integers(every_op_pte, tmp_path, monkeypatch):
    graph, _ = every_op_pte
    path = tmp_path / "t2.pte"
    ed.export_delegated(graph, path, threads=2)
    x = example_inputs(3)
    want = intedge.reference.run(graph, x)
    assert_exact(ed.run_pte(path, x), want)
    monkeypatch.setenv("INTEDGE_THREADS", "3")  # the environment wins over the compile spec
    assert_exact(ed.run_pte(path, x), want)
    monkeypatch.setenv("INTEDGE_THREADS", "many")
    run = ed.load(path, threads=2)  # the loader's count wins over both
    assert all(np.array_equal(a, b) for a, b in zip(run(list(x.values())), want.values()))
    with pytest.raises(ed.DelegateRunError, match="INTEDGE_THREADS is not an integer"):
        ed.run_pte(path, x)
    with pytest.raises(ed.DelegateRunError, match="threads must be an int"):
        ed.load(path, threads=-1)


def _corrupt(path, tmp_path, at: int, data: bytes):
    blob = bytearray(path.read_bytes())
    start = blob.index(IEG_MAGIC)
    blob[start + at:start + at + len(data)] = data
    bad = tmp_path / "bad.pte"
    bad.write_bytes(bytes(blob))
    return bad


def test_a_bad_blob_is_a_clear_error(every_op_pte, tmp_path):
    _, path = every_op_pte
    x = example_inputs()
    with pytest.raises(ed.DelegateRunError, match="CRC-32 mismatch"):
        ed.run_pte(_corrupt(path, tmp_path, 5000, b"\xff\xff"), x)
    with pytest.raises(ed.DelegateRunError, match="bad magic"):
        ed.run_pte(_corrupt(path, tmp_path, 0, bytes(8)), x)


def test_inputs_are_checked_before_the_runtime_sees_them(every_op_pte):
    _, path = every_op_pte
    x = example_inputs()
    with pytest.raises(ed.DelegateRunError, match=r"missing \['mask'\]"):
        ed.run_pte(path, {k: v for k, v in x.items() if k != "mask"})
    with pytest.raises(ed.DelegateRunError, match="input 'image' is float64"):
        ed.run_pte(path, x | {"image": x["image"].astype(np.float64)})


def test_refusals(every_op_path):
    graph = intedge.load(every_op_path)
    with pytest.raises(ed.ExportError, match="dynamic dimension 'seq'"):
        ed.export_delegated(dataclasses.replace(graph, dynamic=("seq", 5)), "unused.pte")
    with pytest.raises(ed.ExportError, match="only through export_delegated"):
        ed.IntedgeBackend.preprocess(None, [])


W4_SLOW = pytest.param("w4", marks=pytest.mark.slow)


@pytest.mark.parametrize("weights", ["w8", W4_SLOW])
@pytest.mark.parametrize("name", ["vit-fmnist", pytest.param("segmenter-fmnist", marks=pytest.mark.slow),
                                  pytest.param("minilm", marks=pytest.mark.slow)])
def test_zoo_graphs_run_exactly(name, weights, tmp_path):
    graph, feeds, _ = zoo_graph(name, weights)
    path = tmp_path / f"{name}-{weights}.pte"
    ed.export_delegated(graph, path)
    program = ed.DelegatedProgram(path)
    for x in feeds:
        assert_exact(program.run(x), intedge.reference.run(graph, x))
