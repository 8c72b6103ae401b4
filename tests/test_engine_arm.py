"""The aarch64 build under qemu gives the reference executor's integers: the fixture and every
zoo model, W8 and W4, stock classes, and the language model decoding token by token (intedge-generate), on the three emulated cores (cortex-a57: baseline NEON; cortex-a76: dotprod;
max: i8mm) with 1, 2 and 4 threads. tests/run.sh cross-builds intedge-bench and points
INTEDGE_AARCH64_BENCH at it; CI always does, so there the test may not skip."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
from every_op_bins import io_bytes
from test_stock_models import convert_stock, stock_feeds
from zoo_graphs import lm_graph, zoo_graph

import intedge
from intedge.converters import zoo
from intedge.examples.every_op import example_inputs

BENCH = os.environ.get("INTEDGE_AARCH64_BENCH")
CPUS = {"cortex-a57": "neon", "cortex-a76": "neon-dotprod", "max": "neon-i8mm"}

pytestmark = pytest.mark.slow

if not BENCH:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the aarch64 tests: tests/run.sh sets INTEDGE_AARCH64_BENCH")
    pytest.skip("no aarch64 build (tests/run.sh makes one)", allow_module_level=True)


def run_under_qemu(path, inputs: bytes, cpu: str, threads: int, tmp_path) -> bytes:
    """The outputs' bytes of the .ieg at path run by the aarch64 intedge-bench on `inputs` (io_bytes' form)."""
    (tmp_path / "in.bin").write_bytes(inputs)
    out = subprocess.run(["qemu-aarch64-static", "-cpu", cpu, "-L", "/usr/aarch64-linux-gnu", BENCH, str(path),
                          "--runs", "1", "--warmup", "0", "--threads", str(threads), "--no-ops",
                          "--inputs", str(tmp_path / "in.bin"), "--outputs", str(tmp_path / "out.bin")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["isa"] == CPUS[cpu]
    return (tmp_path / "out.bin").read_bytes()


@pytest.mark.parametrize("cpu", CPUS)
def test_fixture_under_qemu(every_op_path, cpu, tmp_path):
    inputs, want = io_bytes(intedge.load(every_op_path), example_inputs())
    for threads in (1, 4):
        assert run_under_qemu(every_op_path, inputs, cpu, threads, tmp_path) == want


@pytest.mark.parametrize("weights", ["w8", "w4"])
@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_zoo_models_under_qemu(name, weights, tmp_path):
    g, feeds, path = zoo_graph(name, weights)
    inputs, want = io_bytes(g, feeds[0])
    for cpu in CPUS:
        for threads in (1, 2, 4):
            assert run_under_qemu(path, inputs, cpu, threads, tmp_path) == want, (cpu, threads)


@pytest.mark.parametrize("name", ["RobertaModel", "BertModel+pooler", "SwinForImageClassification", "hybrid-conv"])
def test_stock_models_under_qemu(name, tmp_path):
    """Stock classes bring the table lookups, index arithmetic, score biases and im2col to the NEON paths."""
    g = convert_stock(name, "w4")[1].graph()
    g.save(tmp_path / "g.ieg")
    inputs, want = io_bytes(g, stock_feeds(name, g, 1)[0])
    for cpu in CPUS:
        assert run_under_qemu(tmp_path / "g.ieg", inputs, cpu, 2, tmp_path) == want, cpu


def generate_under_qemu(path, prompt: list[int], tokens: int, cpu: str, threads: int, tmp_path):
    """(generated ids, every run's logits) of the aarch64 intedge-generate on the decoder .ieg at path."""
    exe = os.environ.get("INTEDGE_AARCH64_GENERATE")
    if not exe:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI must run the aarch64 decoder tests: tests/run.sh sets INTEDGE_AARCH64_GENERATE")
        pytest.skip("no aarch64 intedge-generate (tests/run.sh builds it)")
    out = subprocess.run(["qemu-aarch64-static", "-cpu", cpu, "-L", "/usr/aarch64-linux-gnu", exe, str(path),
                          "--prompt", ",".join(map(str, prompt)), "--max-tokens", str(tokens), "--threads",
                          str(threads), "--logits", str(tmp_path / "logits.bin")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["isa"] == CPUS[cpu]
    return report["tokens"], np.fromfile(tmp_path / "logits.bin", np.float32)


def _reference_generation(g, prompt: list[int], tokens: int) -> tuple[list[int], np.ndarray]:
    from intedge.generate import Decoder, generate

    decoder = Decoder(g, "reference")
    logits, feed = [], decoder.feed
    decoder.feed = lambda ids: logits.append(feed(ids)) or logits[-1]
    ids = [t for t, _ in generate(decoder, prompt, tokens)]
    return ids, np.concatenate([x[-1:] for x in logits]).reshape(-1)


@pytest.mark.parametrize("weights", ["w8", "w4"])
def test_language_model_decodes_under_qemu(weights, tmp_path):
    """Prefill, then decode steps on the KV cache: every logit of every step is the reference's, on each core."""
    g, path = lm_graph("llama-fortunes", weights)
    prompt = [0, 315, 2845, 289, 692, 299]
    want_ids, want_logits = _reference_generation(g, prompt, 6)
    for cpu in CPUS:
        ids, logits = generate_under_qemu(path, prompt, 6, cpu, 2, tmp_path)
        assert ids == want_ids and np.array_equal(logits, want_logits), cpu
