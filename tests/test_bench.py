"""`intedge bench` runs every engine on the same input and reports what the issue asks for: the JSON line's
shape, every engine present, W4's weight bytes, the nonlinear share, each engine's cosine to PyTorch fp32 and
the ratio to the fastest peer whose accuracy is not broken, and the GEMM micro-benchmark's fields. Speeds are
not asserted (tests check behaviour; the numbers are in docs/benchmarks.md, from this command)."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from intedge.cli import main
from intedge.profilers import bench, onednn_gemm
from intedge.profilers.bench import BenchResult, EngineTime
from intedge.runtime import known_isas, supported_isas

LITERT_ENGINES = ["litert-int8-dynamic", "litert-int8-static"]


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.slow
def test_deit_tiny_every_engine(capsys):
    assert main(["bench", "deit-tiny", "--threads", "2", "--runs", "2", "--warmup", "1", "--json"]) == 0
    line = _last_json(capsys)
    assert line["model"] == "deit-tiny" and line["threads"] == 2
    # LiteRT's int8 engines need the 'litert' extra, which 'all' leaves out; every other engine runs
    litert_missing = importlib.util.find_spec("litert_torch") is None
    assert sorted(line["skipped"]) == (LITERT_ENGINES if litert_missing else [])
    assert [r["engine"] for r in line["results"]] == [e for e in bench.ENGINES if e not in line["skipped"]]
    assert all(-1 <= r["cosine"] <= 1 for r in line["results"])
    assert line["fastest_other"] in [r["engine"] for r in line["results"] if not r["accuracy_broken"]]
    assert all(0 < r["median_ms"] <= r["p90_ms"] for r in line["results"])  # a 90th percentile is never below the median
    w8, w4 = (line["linear_weight_bytes"][e] for e in ("intedge-w8a8", "intedge-w4a8"))
    # int4 nibbles plus one int8 scale per 32 weights: 17/32 of the int8 bytes, exactly
    assert w4 * 32 == w8 * 17
    assert 0 < line["nonlinear_share"] < 1
    # DeiT-Tiny's GEMM work: the patch embedding, 12 blocks (qkv, projection and the MLP over 197 tokens, and
    # attention's two products in each of 3 heads), the classifier on the class token
    block = 197 * 192 * (3 * 192 + 192 + 2 * 768) + 3 * 2 * 197 * 197 * 64
    assert line["gemm_macs"] == 196 * (16 * 16 * 3) * 192 + 12 * block + 192 * 1000
    assert line["peak_gmacs"] > 0 and 0 < line["peak_fraction"] < 1  # end to end, below the instruction's peak


@pytest.mark.slow
def test_minilm_subset_and_table(capsys):
    assert main(["bench", "minilm", "--threads", "1", "--runs", "1", "--warmup", "0",
                 "--engines", "intedge-w8a8,ort-int8"]) == 0
    out = capsys.readouterr().out
    assert "minilm" in out and "intedge-w8a8" in out and "ort-int8" in out and "1.00x" in out
    # the time without the keys a padded sentence's mask lets intedge skip, beside it
    assert re.search(r"intedge-w8a8-unpadded: \d+\.\d\dx the fastest other engine", out)


def test_unknown_engines_and_isas_are_clear_errors(capsys):
    assert main(["bench", "deit-tiny", "--engines", "tflite"]) == 2
    assert "unknown engines ['tflite']" in capsys.readouterr().err
    assert main(["bench", "gemm", "--engines", "ort-int8"]) == 2
    assert "--engines is for models" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["bench", "gemm", "--isa", "neon_i8mm"])
    assert e.value.code == 2 and "invalid choice: 'neon_i8mm'" in capsys.readouterr().err
    # a known ISA that this CPU lacks (an Arm one on x86, or AMX here), refused before any work
    missing = next(isa for isa in known_isas() if isa not in supported_isas())
    for model in ("gemm", "deit-tiny"):
        assert main(["bench", model, "--isa", missing]) == 2
        assert f"this CPU cannot run --isa {missing}" in capsys.readouterr().err


def test_gemm_micro_benchmark(capsys):
    assert main(["bench", "gemm", "--json"]) == 0
    rows = _last_json(capsys)["results"]
    assert {(r["m"], r["k"], r["n"], r["weights"]) for r in rows} == {
        (197, 192, 768, "w8"), (1024, 1024, 1024, "w8"), (197, 192, 768, "w4"), (1024, 1024, 1024, "w4"),
        (197, 64, 197, "act-t"), (197, 197, 64, "act")}
    for r in rows:
        assert r["gmacs"] > 0
        if r["peak_gmacs"]:  # ISAs with a dot-product instruction
            assert r["peak_fraction"] == pytest.approx(r["gmacs"] / r["peak_gmacs"], rel=0.01)
        # the block step on operands in L1 is AMX's alone, and faster than any whole GEMM (24–41 % of the peak)
        assert (r["step_gmacs"] is not None) == (r["isa"] == "amx")
        assert r["step_gmacs"] is None or r["gmacs"] < r["step_gmacs"]
        # only an attention product repacks its right operand, and that is part of its time
        assert (r["repack_ms"] is not None) == r["weights"].startswith("act")
        assert r["repack_ms"] is None or 0 < r["repack_ms"] < r["median_ms"]
        # oneDNN's int8 matmul beside the w8 shapes. On AMX (its brgemm) it must run and its outputs be
        # within 1 of the float64 requant; elsewhere it may be skipped with a reason (an Arm torch's
        # quantized ops), or off by more where u8·s8 saturates in int16 (AVX2 without VNNI): the table
        # then marks it broken rather than comparing
        assert ("onednn" in r) == (r["weights"] == "w8")
        v = r.get("onednn", {"skipped": "-"})
        assert isinstance(v["skipped"], str) if "skipped" in v else (
            v["median_ms"] > 0 and v["intedge_ms"] > 0 and v["ratio"] > 0 and v["max_error"] >= 0)
        if r["isa"] == "amx" and "onednn" in r:
            assert "skipped" not in v and v["max_error"] <= 1 and "amx" in v["kernel"]


def test_onednn_exec_times_are_read_from_its_verbose_lines():
    verbose = "\n".join([
        "onednn_verbose,v1,info,cpu,isa:Intel AVX-512",
        "onednn_verbose,v1,primitive,exec,cpu,reorder,simple:any,undef,src:s8 dst:s8,,,192x768,0.48",
        "onednn_verbose,v1,primitive,exec,cpu,matmul,brg_matmul:avx512_core_amx,undef,src:u8,attr-scales:wei:2,,"
        "197x192:192x768,0.031",
        "onednn_verbose,v1,primitive,exec,cpu,matmul,brg_matmul:avx512_core_amx,undef,src:u8,,,197x192:192x768,0.029",
        "onednn_verbose,v1,primitive,exec,cpu,matmul,gemm:jit,undef,src:u8,,,8x8:8x8,0.002",
        "a line of the child's own"])
    assert onednn_gemm.parse_exec_times(verbose) == {
        "197x192:192x768": ("brg_matmul:avx512_core_amx", [0.031, 0.029]), "8x8:8x8": ("gemm:jit", [0.002])}


def test_onednn_is_compared_only_at_the_isa_it_runs(monkeypatch):
    """oneDNN picks the CPU's best ISA, so beside intedge forced to another its ratio would mislead."""
    monkeypatch.setattr(bench.onednn_gemm, "gemm_times", lambda *a: pytest.fail("oneDNN was run"))
    rows = bench.gemm({"w8": ("32x64x32",)}, isa="scalar", runs=1)
    assert rows[0]["onednn"] == {"skipped": f"oneDNN runs this CPU's best ISA ({supported_isas()[-1]}), not --isa scalar"}


def test_vendor_gemm_takes_turns_and_quotes_the_median_ratio(monkeypatch):
    times = iter([0.010, 0.020, 0.040])  # oneDNN's three turns
    monkeypatch.setattr(bench.onednn_gemm, "gemm_times", lambda shapes, runs: {
        "8x64x16": {"median_ms": next(times), "kernel": "k", "max_error": 0.0}})
    ours = iter([0.020, 0.010, 0.010])  # intedge's, after each of oneDNN's
    monkeypatch.setattr(bench, "_gemm_runs", lambda *a: [{"m": 8, "k": 64, "n": 16, "median_ms": next(ours)}])
    v = bench.vendor_gemm(("8x64x16",), None, 5)["8x64x16"]
    assert v == {"median_ms": 0.020, "kernel": "k", "max_error": 0.0, "intedge_ms": 0.010, "ratio": 0.5}


def test_onednn_runs_that_print_too_few_times_are_refused(monkeypatch):
    class Done:
        returncode, stderr = 0, ""
        stdout = "\n".join(["onednn_verbose,v1,primitive,exec,cpu,matmul,brg,undef,src,,,8x64:64x16,0.01"] * 3
                           + [onednn_gemm._ERRORS + '{"8x64:64x16": 0.0}'])
    monkeypatch.setattr(onednn_gemm.subprocess, "run", lambda *a, **k: Done())
    assert onednn_gemm.gemm_times([(8, 64, 16)], 5) == "oneDNN printed 3 matmul times for 8x64:64x16, not the 15 calls'"
    Done.stdout = "no check line"
    assert onednn_gemm.gemm_times([(8, 64, 16)], 5) == "the oneDNN run printed no check of its outputs"
    Done.returncode, Done.stderr = 1, "Traceback\nRuntimeError: no qlinear here"
    assert onednn_gemm.gemm_times([(8, 64, 16)], 5) == "the oneDNN run failed: RuntimeError: no qlinear here"


def test_gemm_table_compares_with_onednn_only_where_its_outputs_are_right():
    row = {"m": 10, "k": 10, "n": 10, "weights": "w8", "isa": "amx", "median_ms": 0.002, "repack_ms": None,
           "gmacs": 0.5, "peak_gmacs": 1000.0, "peak_fraction": 0.0005}
    vendor = {"median_ms": 0.004, "kernel": "brg_matmul:x", "max_error": 1.0, "intedge_ms": 0.0021, "ratio": 0.55}
    good = bench.format_gemm([row | {"onednn": vendor}])
    assert "brg_matmul:x" in good and "intedge w8 0.002 ms, 0.55x its time" in good
    broken = bench.format_gemm([row | {"onednn": vendor | {"max_error": 7.0}}])
    assert "accuracy broken (off by 7" in broken and "its time" not in broken
    skipped = bench.format_gemm([row | {"onednn": {"skipped": "this torch has no oneDNN"}}])
    assert "skipped: this torch has no oneDNN" in skipped
    assert "oneDNN" not in bench.format_gemm([row])


@pytest.mark.parametrize("args, says", [
    (["--shape", "0x1x1"], "--shape 0x1x1: expected MxKxN"), (["--shape", "2x2x2x2"], "--shape 2x2x2x2: expected"),
    (["--weights", "w2"], "--weights w2: expected w8, w4, act or act-t"), (["--runs", "0"], "--runs 0: expected"),
    (["--isa", "vnni"], "--isa vnni: unknown ISA"), (["--shape"], "--shape needs a value"),
    (["--bogus", "1"], "unknown option --bogus")])
def test_gemm_binary_names_a_bad_argument(args, says):
    done = subprocess.run([bench.gemm_binary(), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.startswith(f"intedge-gemm-bench: {says}") and not done.stdout


def test_gemm_binary_refuses_an_isa_this_cpu_lacks():
    missing = next(isa for isa in known_isas() if isa not in supported_isas())
    done = subprocess.run([bench.gemm_binary(), "--isa", missing, "--peak"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and f"this CPU cannot run {missing} (it has: " in done.stderr


def test_measured_peaks_of_every_isa_here():
    """--peak: the multiply instruction's rate wherever there is one, and the block step's on AMX only (its
    MACs counted as the peak loop's: from L1 the step runs near the peak, far from half of it)."""
    for isa in supported_isas():
        peak = bench.measured_peak(isa)
        assert peak["isa"] == isa
        assert (peak["peak_gmacs"] is None) == (isa == "scalar")
        assert (peak["step_gmacs"] is not None) == (isa == "amx")
        assert peak["step_gmacs"] is None or peak["step_gmacs"] > 0.5 * peak["peak_gmacs"]


def test_gemm_table_prints_the_amx_step_only_where_measured():
    row = {"m": 2, "k": 3, "n": 4, "weights": "w8", "median_ms": 0.001, "repack_ms": None, "gmacs": 24.0,
           "peak_fraction": 0.012}
    amx = bench.format_gemm([row | {"isa": "amx", "peak_gmacs": 2000.0, "step_gmacs": 1900.0}])
    assert "amx: the GEMM's block step" in amx and "1900.0 GMAC/s = 95 % of the peak" in amx
    for other in ({"isa": "avx512vnni", "peak_gmacs": 400.0, "step_gmacs": None},
                  {"isa": "scalar", "peak_gmacs": None, "step_gmacs": None},
                  {"isa": "avx2", "peak_gmacs": 100.0}):  # an older binary prints no step_gmacs
        assert "block step" not in bench.format_gemm([row | other])


def _result(times: dict[str, tuple[float, float]], skipped: dict[str, str] | None = None) -> BenchResult:
    """A BenchResult of engine → (median ms, cosine), as `bench.run` would make it."""
    return BenchResult("deit-tiny", "synthetic", 1, 30, "avx512vnni",
                       [EngineTime(e, ms, ms, cosine) for e, (ms, cosine) in times.items()],
                       linear_weight_bytes={"intedge-w8a8": 32, "intedge-w4a8": 17},
                       file_bytes={"intedge-w8a8": 64, "intedge-w4a8": 40}, skipped=skipped or {})


def test_each_block_opens_with_untimed_runs_for_the_warm_up_time(monkeypatch):
    """Every block of an engine's runs starts with BLOCK_WARMUP_S of untimed runs, then its timed share:
    one untimed run had left a fast engine's first timed runs in the core's ramp-up after a pause. A fake
    clock that each run moves on by 1/256 s (exact in binary, as 5/256 s is) makes the count exact."""
    clock = [0.0]
    monkeypatch.setattr(bench, "_clock", lambda: clock[0])
    monkeypatch.setattr(bench, "BLOCK_WARMUP_S", 5 / 256)
    calls = {"a": 0, "b": 0}

    def runner(name: str):
        def run():
            calls[name] += 1
            clock[0] += 1 / 256
        return run

    runs, warmup = 10, 2
    times = bench._interleaved({e: runner(e) for e in calls}, runs, warmup, False, "")
    assert times == {e: [1000 / 256] * runs for e in calls}
    # per block, 5 untimed runs reach the warm-up time (one, as before, would give 2 + 5 + 10)
    assert calls == {e: warmup + bench.ROUNDS * 5 + runs for e in calls}


def test_accuracy_floor():
    assert not bench.accuracy_broken(bench.ACCURACY_FLOOR)
    assert bench.accuracy_broken(np.nextafter(bench.ACCURACY_FLOOR, 0))
    assert bench.accuracy_broken(math.nan)  # an all-zero output has no direction
    assert not bench.accuracy_broken(1.0)


def test_mean_cosine_flattens_each_input():
    reference = np.random.default_rng(0).standard_normal((3, 1, 2, 5)).astype(np.float32)
    assert bench.mean_cosine(2 * reference, reference) == pytest.approx(1.0)
    assert bench.mean_cosine(-reference, reference) == pytest.approx(-1.0)
    flipped = reference.copy()
    flipped[0] *= -1  # one input of three pointing the other way: (-1 + 1 + 1) / 3
    assert bench.mean_cosine(flipped, reference) == pytest.approx(1 / 3)


def test_a_broken_fast_peer_is_not_the_one_to_beat():
    r = _result({"intedge-w8a8": (3.0, 0.99), "intedge-w4a8": (2.0, 0.98), "ort-int8": (8.0, 0.96),
                 "executorch-xnnpack-int8": (1.0, 0.40), "litert-int8-dynamic": (6.0, 0.998)},
                skipped={"litert-int8-static": "LiteRT static-int8 needs litert_torch, from the 'litert' extra"})
    assert r.fastest_other().engine == "litert-int8-dynamic"  # not the broken ExecuTorch, nor intedge's own W4
    assert r.ratio_to_fastest_other() == 0.5
    lines = bench.format_table(r).splitlines()
    # a skipped peer might have been faster: the ratio stands, the verdict does not
    assert "  intedge-w8a8 vs fastest other engine (litert-int8-dynamic, not broken): 0.50x " \
           "(no verdict on the ≤ 0.60x target: litert-int8-static skipped)" in lines
    r.skipped = {}
    assert "  intedge-w8a8 vs fastest other engine (litert-int8-dynamic, not broken): 0.50x " \
           "(issue-19 target ≤ 0.60x)" in bench.format_table(r).splitlines()
    assert [line.split()[0] for line in lines if line.endswith("accuracy broken")] == ["executorch-xnnpack-int8"]
    assert any(line.startswith("  litert-int8-static") and "skipped: " in line for line in lines)
    assert any(line.startswith("  W4A8 vs W8A8:") and line.endswith("latency 0.67x (issue-19 target ≤ 1.05x)")
               for line in lines)
    line = json.loads(json.dumps(r.json()))
    assert line["fastest_other"] == "litert-int8-dynamic" and line["w8a8_vs_fastest_other"] == 0.5
    assert [(e["engine"], e["cosine"], e["accuracy_broken"]) for e in line["results"]] == [
        ("intedge-w8a8", 0.99, False), ("intedge-w4a8", 0.98, False), ("ort-int8", 0.96, False),
        ("executorch-xnnpack-int8", 0.4, True), ("litert-int8-dynamic", 0.998, False)]


def test_the_unpadded_timing_is_no_peer_and_has_no_accuracy():
    """intedge-w8a8 on the example with every key kept (an input with an attention mask): its ratio to the
    fastest other engine beside the example's, no cosine of its own, never counted as broken."""
    r = _result({"intedge-w8a8": (2.0, 0.99), "litert-int8-static": (4.0, 0.95), bench.UNPADDED: (2.2, math.nan)})
    assert r.fastest_other().engine == "litert-int8-static" and r.ratio_to_fastest_other(bench.UNPADDED) == 0.55
    lines = bench.format_table(r).splitlines()
    row = next(line for line in lines if line.startswith(f"  {bench.UNPADDED} "))
    assert row.split()[-1] == "-" and "broken" not in row
    assert f"  {bench.UNPADDED}: 0.55x the fastest other engine, the example with every key kept (intedge skips " \
           "the keys its attention mask drops; the peers compute them)" in lines
    line = json.loads(json.dumps(r.json()))
    assert line["unpadded_vs_fastest_other"] == 0.55 and line["w8a8_vs_fastest_other"] == 0.5
    assert (line["results"][2]["cosine"], line["results"][2]["accuracy_broken"]) == (None, False)
    assert json.loads(json.dumps(_result({"intedge-w8a8": (2.0, 0.99)}).json()))["unpadded_vs_fastest_other"] is None


def test_no_peer_to_beat_when_every_other_engine_is_broken():
    r = _result({"intedge-w8a8": (3.0, 0.99), "ort-int8": (1.0, math.nan)})
    assert r.fastest_other() is None and r.ratio_to_fastest_other() is None
    assert "  intedge-w8a8 vs fastest other engine: no other engine ran whose accuracy is not broken" in \
        bench.format_table(r).splitlines()
    line = json.loads(json.dumps(r.json()))
    assert line["fastest_other"] is None and line["results"][1]["cosine"] is None


def _mlp_bench() -> bench.BenchModel:
    """A small MLP in `intedge bench`'s shape: converts and runs in seconds."""

    def build():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 32)).eval()

    def inputs(n: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        return [(rng.standard_normal((1, 4, 32)).astype(np.float32),) for _ in range(n)]

    return bench.BenchModel("mlp", "a small MLP", build, lambda: inputs(1, seed=1)[0], inputs,
                            lambda n: inputs(n, seed=2))


def test_missing_litert_extra_is_skipped_not_a_crash(monkeypatch):
    monkeypatch.setitem(bench.MODELS, "mlp", _mlp_bench)
    monkeypatch.setitem(sys.modules, "litert_torch", None)  # as where the extra is not installed
    [r] = bench.run("mlp", [1], runs=2, warmup=0, engines=["intedge-w8a8", *LITERT_ENGINES, "torch-fp32"],
                    progress=False)
    assert sorted(r.skipped) == LITERT_ENGINES
    assert all("from the 'litert' extra" in why for why in r.skipped.values())
    assert [t.engine for t in r.results] == ["intedge-w8a8", "torch-fp32"]
    assert r.time_of("torch-fp32").cosine == pytest.approx(1.0)  # PyTorch against itself
    assert not r.time_of("intedge-w8a8").broken
    assert r.fastest_other().engine == "torch-fp32"
