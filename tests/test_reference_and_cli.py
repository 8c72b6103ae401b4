"""The reference executor on the every-op fixture, its input checks, and the CLI."""

import numpy as np
import pytest

import intedge
from intedge.cli import main
from intedge.examples.every_op import example_inputs
from intedge.reference import ExecutionError


@pytest.mark.parametrize("seed", range(5))
def test_numpy_and_cpp_kernels_agree_on_the_whole_graph(every_op_path, seed):
    g = intedge.load(every_op_path)
    inputs = example_inputs(seed)
    a = intedge.reference.run(g, inputs, keep_intermediates=True)
    b = intedge.reference.run(g, inputs, kernels="scalar-cpp", keep_intermediates=True)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


def test_mask_changes_attention(every_op_path):
    g = intedge.load(every_op_path)
    x = example_inputs(0)
    probs = intedge.reference.run(g, x, keep_intermediates=True)["probs"]
    assert np.all(probs[..., 4] == 0) and np.all(probs[..., :4].sum(-1) >= 250)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda x: x.pop("mask"), "missing"),
        (lambda x: x.update(extra=np.zeros(1)), "not the graph.s"),
        (lambda x: x.update(image=x["image"].astype(np.float64)), "expected float32"),
        (lambda x: x.update(image=x["image"][..., :4]), r"\[1, 1, 8, 4\]"),
        (lambda x: x.update(tokens=np.full((1, 5), 99, np.int32)), "gather index 99"),
    ],
)
def test_bad_inputs_are_clear_errors(every_op_path, change, message):
    g = intedge.load(every_op_path)
    x = example_inputs(0)
    change(x)
    for kernels in ("numpy", "scalar-cpp"):
        with pytest.raises(ExecutionError, match=message):
            intedge.reference.run(g, x, kernels=kernels)


def test_cli_inspect_and_run(every_op_path, tmp_path, capsys):
    assert main(["inspect", str(every_op_path)]) == 0
    out = capsys.readouterr().out
    assert "qlinear" in out and "int4" in out and "every_op" in out
    paths = []
    for name, value in example_inputs(1).items():
        np.save(tmp_path / f"{name}.npy", value)
        paths += ["--input", f"{name}={tmp_path / name}.npy"]
    assert main(["run", str(every_op_path), *paths, "--kernels", "scalar-cpp", "-o", str(tmp_path / "o.npz")]) == 0
    saved = np.load(tmp_path / "o.npz")
    want = intedge.reference.run(intedge.load(every_op_path), example_inputs(1))
    assert all(np.array_equal(saved[k], want[k]) for k in want)


def test_cli_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.ieg"
    bad.write_bytes(b"\x89IEG\r\n\x1a\n" + bytes(100))
    assert main(["inspect", str(bad)]) == 2
    assert "bad.ieg" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "missing.ieg")]) == 2
