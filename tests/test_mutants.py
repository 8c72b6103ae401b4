"""Both validators and the engine agree on every structure-aware mutant of every zoo graph and the
every_op and decoder fixtures, and nothing crashes.

For each mutant (tests/mutants.py): the Python loader (intedge.ir.read_ieg: the container check,
then the Python validator) and the engine's own check (ie_check_buffer: the container, the graph,
every op against the op spec) must both accept it or both refuse it with the same message. An
accepted mutant is then opened and run in the engine on two inputs (it may refuse them with an
error, never crash), and a sample of those runs must equal the reference executor's outputs.

INTEDGE_MUTANTS sets how many mutants of each graph (default 10,000 in the slow tier); MiniLM gets a
quarter of them: each of its accepted mutants runs a whole MiniLM, and 10,000 took ten of CI's forty
minutes; the two fixtures' mutants reach every op kind (the decoder's: state tensors too; its accepted
mutants open only once the decoder ops' kernels are in the build).
"""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from mutants import Mutator, verdict
from zoo_graphs import zoo_graph

from intedge import _runtime, reference
from intedge.ir import IegFormatError, read_ieg
from intedge.ir.ieg_io import data_section, write_ieg
from intedge.reference import ExecutionError
from intedge.runtime import Session

COUNT = int(os.environ.get("INTEDGE_MUTANTS", "10000"))
SHARE = {"minilm": 4}  # graphs judged on COUNT // SHARE mutants
REFERENCE_EVERY = 50  # accepted mutants compared with the reference executor
ARENA_LIMIT = 1 << 28  # a mutant may declare huge activations: refused, not allocated
GRAPHS = ["every_op", "decoder", "vit-fmnist", "segmenter-fmnist", "minilm"]
STUB = "not implemented in this build"  # decoder_ops.cc's stand-ins, until the decoder ops' kernels are in


def _base(name: str):
    if name == "every_op":
        from intedge.examples.every_op import build_every_op_graph

        return build_every_op_graph()
    if name == "decoder":  # state tensors, the decoder ops and a dynamic length
        from intedge.examples.decoder import build

        return build()
    return zoo_graph(name, "w8")[0]


def _inputs(g, rng) -> list[dict[str, np.ndarray]]:
    """Zeros and small random values of each graph input's declared dtype and shape."""
    feeds = []
    for fill in ("zeros", "random"):
        feed = {}
        for tid in g.inputs:
            t = g.tensors[tid]
            dt = np.dtype("int8" if t.dtype == "int4" else t.dtype)
            if t.name == "positions" and dt == np.int32 and len(t.shape) == 1:  # a decoder's: consecutive from 0
                feed[t.name] = np.arange(t.shape[0], dtype=dt)
            elif fill == "zeros":
                feed[t.name] = np.zeros(t.shape, dt)
            elif dt.kind == "f":
                feed[t.name] = rng.normal(0, 1, t.shape).astype(dt)
            else:
                feed[t.name] = rng.integers(0, 3, t.shape).astype(dt)
        feeds.append(feed)
    return feeds


def _run_accepted(g, data: bytes, rng, compare: bool) -> str:
    """Open and run an accepted mutant; the outcome as a word (errors are fine, crashes are not)."""
    try:
        s = Session(data, threads=2, max_arena_bytes=ARENA_LIMIT)
    except MemoryError:
        return "arena over the limit"
    except IegFormatError as e:
        if STUB not in str(e):
            raise
        return "decoder ops not in this build"
    outcome = "ran"
    for feed in _inputs(g, rng):
        s.reset_state()  # each feed from zeros, as the reference runs it
        try:
            out = s.run(feed)
        except ExecutionError:
            outcome = "refused its input"
            continue
        if compare:
            ref = reference.run(g, feed)
            assert out.keys() == ref.keys()
            for k in ref:
                assert out[k].dtype == ref[k].dtype and np.array_equal(out[k], ref[k]), k
    return outcome


def verdicts(name: str, index: int, seed: int = 2026) -> list[str]:
    """One mutant's changes and each side's verdict (tests/mutants.py replays this)."""
    g, changes, _ = Mutator(_base(name), seed).mutant(index)
    data = write_ieg(g)
    return [f"change: {c}" for c in changes] + [
        f"python: {verdict(read_ieg, data)[1] or 'accepted'}", f"engine: {verdict(_runtime.check_ieg, data)[1] or 'accepted'}"]


def _judge(name: str, start: int, stop: int, progress: str) -> tuple[dict[str, int], int]:
    """Mutants [start, stop) of `name`: assert the verdicts agree, run the accepted ones; returns
    (outcome counts, accepted). Writes the mutant at hand to `progress`, so a crash names it."""
    base = _base(name)
    mutator, cached = Mutator(base, seed=2026), data_section(base)
    rng = np.random.default_rng(start)
    outcomes: dict[str, int] = {}
    accepted = 0
    for index in range(start, stop):
        with open(progress, "w") as f:
            f.write(str(index))
        g, changes, data_changed = mutator.mutant(index)
        try:
            data = write_ieg(g, None if data_changed else cached)
        except (ValueError, OverflowError):  # a value the writer cannot store: nothing to judge
            outcomes["unwritable"] = outcomes.get("unwritable", 0) + 1
            continue
        (read, py), (_, cpp) = verdict(read_ieg, data), verdict(_runtime.check_ieg, data)
        assert py == cpp, f"{name} mutant {index} {changes}: python says {py!r}, engine says {cpp!r}"
        if py is None:
            accepted += 1
            key = _run_accepted(read, data, rng, compare=accepted % REFERENCE_EVERY == 1)
        else:
            key = "refused: " + re.sub(r"[0-9]+", "N", py.split(": ", 1)[-1])[:50]
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes, accepted


@pytest.mark.slow
@pytest.mark.parametrize("name", GRAPHS)
def test_validators_and_engine_agree_on_mutants(name, tmp_path):
    _base(name)  # convert before forking: the workers inherit the graph
    count, workers = COUNT // SHARE.get(name, 1), 2
    bounds = [count * w // workers for w in range(workers + 1)]
    progress = [tmp_path / f"worker{w}" for w in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        jobs = [pool.submit(_judge, name, bounds[w], bounds[w + 1], progress[w]) for w in range(workers)]
        try:
            results = [j.result() for j in jobs]
        except BrokenProcessPool:
            at = [p.read_text() for p in progress if p.exists()]
            pytest.fail(f"the engine crashed on a mutant of {name}, one of {at}: replay with tests/mutants.py {name} N")
    outcomes: dict[str, int] = {}
    for part, _ in results:
        for key, n in part.items():
            outcomes[key] = outcomes.get(key, 0) + n
    accepted = sum(a for _, a in results)
    print(f"\n{name}: {count} mutants, {accepted} accepted")
    for key, n in sorted(outcomes.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {n:6}  {key}")
    assert outcomes.get("unwritable", 0) < count // 20
    assert 0 < accepted < count  # the mutants reach both outcomes


def test_a_few_mutants_of_the_fixture_agree(tmp_path):
    """The fast tier's share of the above: 300 mutants of the fixture, in this process."""
    outcomes, accepted = _judge("every_op", 0, 300, tmp_path / "progress")
    assert 0 < accepted < 300


def test_a_few_mutants_of_the_decoder_agree(tmp_path):
    """And 100 of the decoder fixture: state tensors, the decoder ops, a dynamic length."""
    outcomes, accepted = _judge("decoder", 0, 100, tmp_path / "progress")
    assert 0 < accepted < 100
