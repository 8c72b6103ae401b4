"""`intedge bench` runs every engine on the same input and reports what the issue asks for: the JSON line's
shape, every engine present, W4's weight bytes, the nonlinear share, and the GEMM micro-benchmark's
fields. Speeds are not asserted (tests check behaviour; the numbers are in the README, from this command)."""

from __future__ import annotations

import json

import pytest

from intedge.cli import main
from intedge.profilers import bench


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.slow
def test_deit_tiny_every_engine(capsys):
    assert main(["bench", "deit-tiny", "--threads", "2", "--runs", "2", "--warmup", "1", "--json"]) == 0
    line = _last_json(capsys)
    assert line["model"] == "deit-tiny" and line["threads"] == 2
    assert [r["engine"] for r in line["results"]] == list(bench.ENGINES)
    assert all(0 < r["median_ms"] <= r["p90_ms"] for r in line["results"])  # a 90th percentile is never below the median
    w8, w4 = (line["linear_weight_bytes"][e] for e in ("intedge-w8a8", "intedge-w4a8"))
    # int4 nibbles plus one int8 scale per 32 weights: 17/32 of the int8 bytes, exactly
    assert w4 * 32 == w8 * 17
    assert 0 < line["nonlinear_share"] < 1


@pytest.mark.slow
def test_minilm_subset_and_table(capsys):
    assert main(["bench", "minilm", "--threads", "1", "--runs", "1", "--warmup", "0",
                 "--engines", "intedge-w8a8,ort-int8"]) == 0
    out = capsys.readouterr().out
    assert "minilm" in out and "intedge-w8a8" in out and "ort-int8" in out and "1.00x" in out


def test_unknown_engines_and_isas_are_clear_errors(capsys):
    assert main(["bench", "deit-tiny", "--engines", "tflite"]) == 2
    assert "unknown engines ['tflite']" in capsys.readouterr().err
    assert main(["bench", "gemm", "--engines", "ort-int8"]) == 2
    assert "--engines is for models" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["bench", "gemm", "--isa", "neon_i8mm"])
    assert e.value.code == 2 and "invalid choice: 'neon_i8mm'" in capsys.readouterr().err


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
        # only an attention product repacks its right operand, and that is part of its time
        assert (r["repack_ms"] > 0) == r["weights"].startswith("act") and r["repack_ms"] < r["median_ms"]
