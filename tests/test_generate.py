"""Generation with a converted language model: the engine gives the reference executor's logits and tokens
on every ISA, through the Python decode loop and through the standalone intedge-generate; and the commands'
answers to bad input. (The aarch64 paths under qemu: tests/test_engine_arm.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from zoo_graphs import lm_graph

from intedge.cli import main
from intedge.generate import Decoder, Sampling, generate
from intedge.runtime import supported_isas

PROMPT = [0, 315, 2845, 289, 692, 299]  # <|endoftext|>The meaning of life is


def _run(decoder: Decoder, sampling: Sampling, n: int = 12) -> tuple[list[int], list[np.ndarray]]:
    """The tokens generated and the logits each was picked from."""
    logits = []
    feed = decoder.feed

    def recording(tokens):
        out = feed(tokens)
        logits.append(out[-1].copy())
        return out

    decoder.feed = recording
    return [t for t, _ in generate(decoder, PROMPT, n, sampling)], logits


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["w8", "w4"])
def test_engine_generates_the_references_tokens_on_every_isa(weights):
    g, path = lm_graph("llama-fortunes", weights)
    sampled = Sampling(temperature=0.9, top_k=40, top_p=0.95, seed=3)
    want = {s: _run(Decoder(g, "reference"), s) for s in (Sampling(), sampled)}
    for isa in supported_isas():
        for threads in (1, 2):
            for s, (tokens, logits) in want.items():
                got_tokens, got_logits = _run(Decoder(path, "engine", threads=threads, isa=isa), s)
                assert got_tokens == tokens, (isa, threads, s)
                assert all(np.array_equal(a, b) for a, b in zip(got_logits, logits)), (isa, threads, s)


def test_a_prompt_then_decode_steps_give_the_logits_of_one_run(decoder_path):
    """The cache makes a decode step's logits those the whole sequence gives at once, in the engine too."""
    whole = Decoder(decoder_path, "engine").feed(np.arange(10, dtype=np.int32))
    d = Decoder(decoder_path, "engine")
    parts = [d.feed(np.arange(4, dtype=np.int32))] + [d.feed([k]) for k in range(4, 10)]
    assert np.array_equal(np.concatenate(parts), whole)
    d.reset()  # a new sequence overwrites the cache from position 0
    assert np.array_equal(d.feed(np.arange(10, dtype=np.int32)), whole)


def _generate_binary():
    exe = shutil.which("intedge-generate")
    if exe is None:
        pytest.skip("intedge-generate is not installed (pip install builds it)")
    return exe


@pytest.mark.slow
def test_intedge_generate_binary_gives_the_references_logits(tmp_path):
    g, path = lm_graph("llama-fortunes", "w8")
    tokens, logits = _run(Decoder(g, "reference"), Sampling(), 10)
    out = subprocess.run([_generate_binary(), str(path), "--prompt", ",".join(map(str, PROMPT)), "--max-tokens", "10",
                          "--logits", str(tmp_path / "l.bin"), "--threads", "2"],
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["tokens"] == tokens and report["prefill_tok_s"] > 0 and report["decode_tok_s"] > 0
    assert np.array_equal(np.fromfile(tmp_path / "l.bin", np.float32).reshape(len(tokens), -1), np.array(logits))


def test_intedge_generate_binary_refuses_bad_input(every_op_path, decoder_path):
    exe = _generate_binary()
    for args, words in ((["--prompt", "1,x"], "usage"), ([], "usage"),
                        (["--prompt", ",".join(["1"] * 30)], "leave no room"), (["--prompt", "999"], "outside")):
        out = subprocess.run([exe, str(decoder_path), *args], capture_output=True, text=True)
        assert out.returncode != 0 and words in out.stderr, (args, out.stderr)
    out = subprocess.run([exe, str(every_op_path), "--prompt", "1"], capture_output=True, text=True)
    assert out.returncode == 1 and "not a decoder graph" in out.stderr


def test_generate_command(capsys):
    _, path = lm_graph("llama-fortunes", "w8")
    assert main(["generate", str(path), "--prompt", "The meaning of life is", "--max-tokens", "8"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("The meaning of life is") and len(out) > len("The meaning of life is")
    assert "tokens/s prefill" in err and "tokens/s decode (engine, 1 thread)" in err


@pytest.mark.parametrize("argv, words", [
    (["generate", "missing.ieg", "--prompt", "x"], "no such file"),
    (["generate", "not-a-model", "--prompt", "x"], "neither a .ieg decoder nor a language model"),
    (["convert", "llama-fortunes", "-o", "x.ieg", "--context", "999"], "outside [1, 256]"),
    (["convert", "llama-fortunes", "-o", "x.ieg", "--smooth", "0.5"], "not available for language models"),
])
def test_language_model_commands_refuse_bad_input(argv, words, capsys):
    assert main(argv) == 2 and words in capsys.readouterr().err


def test_generate_refuses_an_encoder_graph_and_a_long_prompt(every_op_path, capsys):
    assert main(["generate", str(every_op_path), "--prompt", "x"]) == 2
    assert "not a decoder graph" in capsys.readouterr().err
    _, path = lm_graph("llama-fortunes", "w8")
    assert main(["generate", str(path), "--prompt", "word " * 300]) == 2
    assert "the context holds 256" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse's own check
        main(["generate", str(path), "--prompt", "x", "--top-p", "0"])


def test_eval_scores_perplexity(capsys):
    assert main(["eval", "llama-fortunes", "--limit", "300", "--calib", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert r["metric"] == "perplexity" and r["tokens"] == 300
    assert 1 < r["float"] < 1000 and abs(r["w8"] / r["float"] - 1) < 0.05 and abs(r["w4"] / r["float"] - 1) < 0.08
