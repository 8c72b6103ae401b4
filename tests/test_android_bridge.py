"""The Java bridge (apps/android/bridge: org.intedge.Session over libintedge_jni.so) on the host JVM: javac
builds it and its tests, JUnit runs SessionTest (the fixture's outputs on every ISA with 1 and 2 threads,
metadata, errors, closing, the kernel table, a dynamic length), and RunModel runs every zoo model at W8 and
W4, whose outputs, metadata and kernels must equal the Python Session's, byte for byte. The JVM runs with
-Xcheck:jni, and any JNI warning fails the test.

tests/run.sh builds the x86-64 library and points INTEDGE_JNI_LIB at it; CI always does, so there these
tests may not skip. They need a JDK and JUnit 4: Debian's default-jdk-headless and junit4.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from every_op_bins import FIXTURES, every_op_bins
from java_toolchain import JUNIT_CLASSPATH, javac, require, unavailable
from zoo_graphs import zoo_graph

import intedge
from intedge import IegFormatError
from intedge.converters import zoo
from intedge.examples.every_op import example_inputs
from intedge.runtime import Session

ROOT = Path(__file__).resolve().parent.parent
BRIDGE = ROOT / "apps" / "android" / "bridge"
TESTS = "the Java bridge's tests"


def test_fixture_bins_are_fresh():
    """every_op.in.bin / .out.bin (read by SessionTest and jni_driver) are what tests/every_op_bins.py computes."""
    inputs, outputs = every_op_bins()
    stale = "stale: rewrite them with `python tests/every_op_bins.py`"
    assert (FIXTURES / "every_op.in.bin").read_bytes() == inputs, stale
    assert (FIXTURES / "every_op.out.bin").read_bytes() == outputs, stale


@pytest.fixture(scope="module")
def java(tmp_path_factory):
    """A function running `java` with the bridge, its tests and JUnit on the class path, against $INTEDGE_JNI_LIB."""
    lib = os.environ.get("INTEDGE_JNI_LIB")
    if not lib:
        unavailable(TESTS, "no host libintedge_jni.so (tests/run.sh builds it and sets INTEDGE_JNI_LIB)")
    require(TESTS)
    out = tmp_path_factory.mktemp("bridge")
    javac(BRIDGE / "src/main/java", out / "main", "--release", "17")
    javac(BRIDGE / "src/test/java", out / "test", "--release", "17", "-cp",
          f"{out / 'main'}{os.pathsep}{JUNIT_CLASSPATH}")
    classpath = os.pathsep.join([str(out / "main"), str(out / "test"), JUNIT_CLASSPATH])

    def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        r = subprocess.run(["java", "-Xcheck:jni", f"-DINTEDGE_JNI_LIB={lib}", "-cp", classpath, *args],
                           capture_output=True, text=True, timeout=timeout)
        assert "WARNING in native method" not in r.stdout + r.stderr, r.stdout + r.stderr
        return r

    return run


@pytest.fixture(scope="module")
def dynamic_graph(tmp_path_factory):
    """A tiny BERT with a dynamic sequence (bound 16), as tests/test_dynamic_length.py converts it, and its feeds
    at lengths 5 and 16; None without torch and transformers."""
    import importlib.util

    if not importlib.util.find_spec("torch") or not importlib.util.find_spec("transformers"):
        return None
    from test_converter import feed, tiny_bert, token_items

    from intedge.converters.convert import Converter

    items = token_items(n=4)
    g = Converter.calibrate(tiny_bert(), items[0], items, "w8", progress=False).dynamic_graph()
    path = tmp_path_factory.mktemp("dynamic") / "tiny-bert-dynamic.ieg"
    g.save(path)
    return g, [feed(g, tuple(x[:, :length] for x in items[1])) for length in (5, 16)], path


def test_junit(java, dynamic_graph):
    dynamic = [f"-Dintedge.test.dynamic={dynamic_graph[2]}"] if dynamic_graph else []
    r = java(f"-Dintedge.fixtures={FIXTURES}", *dynamic, "org.junit.runner.JUnitCore", "org.intedge.SessionTest")
    assert r.returncode == 0 and "\nOK (" in r.stdout, r.stdout + r.stderr


def _raw(graph, feed) -> bytes:
    return b"".join(np.ascontiguousarray(feed[graph.tensors[t].name]).tobytes() for t in graph.inputs)


def _run_model(java, path, graph, feed, tmp_path, *extra: str) -> tuple[bytes, list[list[str]]]:
    (tmp_path / "in.bin").write_bytes(_raw(graph, feed))
    r = java("org.intedge.RunModel", str(path), str(tmp_path / "in.bin"), str(tmp_path / "out.bin"), *extra)
    assert r.returncode == 0, r.stderr
    return (tmp_path / "out.bin").read_bytes(), [line.split("\t") for line in r.stdout.splitlines()]


def _lines(kind: str, lines: list[list[str]]) -> list[list[str]]:
    return [fields[1:] for fields in lines if fields[0] == kind]


def _described(lines: list[list[str]]) -> list[tuple]:
    """RunModel's input/output lines as (name, dtype, shape, scale): Java prints shapes as Python does."""
    return [(name, dtype, shape, float(scale)) for name, dtype, shape, scale in lines]


def _specs(specs) -> list[tuple]:
    return [(t.name, t.dtype, str([int(d) for d in t.shape]), t.scale) for t in specs]


def _session_bytes(session: Session, feed) -> bytes:
    out = session.run(feed)
    return b"".join(out[t.name].tobytes() for t in session.outputs)


def test_bad_files_give_the_c_apis_message(java, tmp_path, every_op_path):
    """A file that is not a model and a truncated one: the Java exception carries what Python's says."""
    (tmp_path / "in.bin").write_bytes(b"")
    for name, data in [("garbage.ieg", b"not a model " * 20), ("truncated.ieg", every_op_path.read_bytes()[:9000])]:
        bad = tmp_path / name
        bad.write_bytes(data)
        with pytest.raises(IegFormatError) as python:
            Session(bad)
        r = java("org.intedge.RunModel", str(bad), str(tmp_path / "in.bin"), str(tmp_path / "out.bin"))
        assert r.returncode == 3
        assert r.stderr.strip() == f"IntedgeException 20: {python.value}"


def test_dynamic_length_equals_the_python_session(java, dynamic_graph, tmp_path):
    """A graph with a dynamic sequence (bound 16) at lengths 5 and 16: same bytes, outputs shaped at the length."""
    if dynamic_graph is None:
        pytest.skip("needs torch and transformers")
    g, feeds, path = dynamic_graph
    session = Session(path)
    for length, feed in zip((5, 16), feeds):
        got, lines = _run_model(java, path, g, feed, tmp_path, "2", str(length))
        assert got == _session_bytes(session, feed), length
        want = session.run(feed)
        assert [fields[2] for fields in _lines("out", lines)] == [str(list(want[t.name].shape))
                                                                   for t in session.outputs]


def _equals_the_python_session(java, path, graph, feed, tmp_path):
    """RunModel (2 threads) and the Python Session: the same output bytes, ISA, metadata and kernel table."""
    session = Session(path, threads=2)
    got, lines = _run_model(java, path, graph, feed, tmp_path, "2")
    assert got == _session_bytes(session, feed)
    assert _lines("isa", lines) == [[session.isa]]
    assert _described(_lines("input", lines)) == _specs(session.inputs)
    assert _described(_lines("output", lines)) == _specs(session.outputs)
    assert [(op[1] or op[0], op[2]) for op in _lines("op", lines)] == session.kernels


def test_fixture_equals_the_python_session(java, every_op_path, tmp_path):
    _equals_the_python_session(java, every_op_path, intedge.load(every_op_path), example_inputs(), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["w8", "w4"])
@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_zoo_model_equals_the_python_session(java, name, weights, tmp_path):
    g, feeds, path = zoo_graph(name, weights)
    _equals_the_python_session(java, path, g, feeds[0], tmp_path)
