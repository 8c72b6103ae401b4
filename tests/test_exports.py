"""Every export, in its stock runtime, computes the reference executor's integers (==): the every_op fixture and
each zoo model at W8 and W4, as .pte, .tflite and .onnx; and `intedge export` with good and bad arguments.

The zoo's W4 graphs are exported to .pte only for the ViT: .pte and .onnx are made from one traced program
(exporters/torch_program.py), which the .onnx exports check at W4 for every model, and the fixture's W4
linears go through .pte too; each zoo .pte costs one to three minutes of CI's forty."""

from __future__ import annotations

import numpy as np
import pytest

from intedge import exporters, load, reference
from intedge.cli import main
from tests.zoo_graphs import zoo_graph

FORMATS = list(exporters.FORMATS)
ZOO = ["vit-fmnist", "segmenter-fmnist", "minilm"]  # the three; swin-fmnist exports exactly too (docs/exports.md)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_op_exports_exactly(fmt, every_op_path, tmp_path):
    g = load(every_op_path)
    path = exporters.export(g, tmp_path / f"every_op.{fmt}")
    assert exporters.check(g, exporters.load(path), exporters.random_feeds(g, 4)) == []


CASES = [(fmt, name, weights) for fmt in FORMATS for name in ZOO for weights in ("w8", "w4")
         if not (fmt == "pte" and weights == "w4" and name != "vit-fmnist")]


@pytest.mark.slow
@pytest.mark.parametrize("fmt, name, weights", CASES)
def test_zoo_models_export_exactly(fmt, name, weights, tmp_path):
    g, feeds, _ = zoo_graph(name, weights)
    path = exporters.export(g, tmp_path / f"{name}.{fmt}")
    assert exporters.check(g, exporters.load(path), feeds + exporters.random_feeds(g, 1)) == []


def test_check_reports_each_differing_output(every_op_path):
    g = load(every_op_path)
    feeds = exporters.random_feeds(g, 1)
    names = [g.tensors[i].name for i in g.outputs]
    want = reference.run(g, feeds[0])

    def off_by_one(inputs):
        out = [want[n].copy() for n in names]
        out[1] = out[1] + np.ones_like(out[1])  # the label
        out[4] = out[4].astype(np.int16)  # the attention map in the wrong dtype
        return out

    problems = exporters.check(g, off_by_one, feeds)
    assert len(problems) == 2
    assert problems[0].startswith("feed 0, label: 1 of 1 elements differ")
    assert "attention_map: int16" in problems[1] and "expected int8" in problems[1]


def test_random_feeds_stay_inside_the_graphs_tables(every_op_path):
    g = load(every_op_path)
    feed = exporters.random_feeds(g, 1, seed=3)[0]
    vocab = next(g.tensors[op.inputs[0]].shape[0] for op in g.ops if op.kind == "gather")
    assert feed["tokens"].dtype == np.int32 and 0 <= feed["tokens"].min() and feed["tokens"].max() < vocab
    assert set(np.unique(feed["mask"])) <= {0, 1}
    assert feed["image"].dtype == np.float32 and feed["image"].shape == (1, 1, 8, 8)


def test_export_cli_checks_and_exits_1_on_a_mismatch(every_op_path, tmp_path, capsys, monkeypatch):
    assert main(["export", str(every_op_path), "--to", "onnx", "-o", str(tmp_path), "--check"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'every_op.onnx'}" in out and "bit-exact with the reference executor" in out

    def broken(path, threads=1, format=None):  # an artifact whose label is off by one
        run = exporters.exporter("onnx").load(path, threads)
        return lambda inputs: [y + 1 if y.dtype == np.int32 else y for y in run(inputs)]

    monkeypatch.setattr(exporters, "load", broken)
    assert main(["export", str(every_op_path), "--to", "onnx", "-o", str(tmp_path / "b.onnx"), "--check"]) == 1
    out = capsys.readouterr().out
    assert "check FAILED" in out and "label: 1 of 1 elements differ" in out


@pytest.mark.parametrize("argv, message", [
    (["--to", "jpeg"], "unknown format(s) ['jpeg']"),
    (["--to", "onnx", "--delegate"], "--delegate is for --to pte"),
    (["--to", "onnx,tflite", "-o", "x.onnx"], "give a folder, or one format"),
    (["--to", "tflite", "-o", "x.onnx"], "its suffix does not match --to tflite"),
    (["--to", "onnx", "--weights", "w4"], "--weights and --calib are for a zoo model"),
    (["--to", "onnx", "-o", "/proc/x.onnx"], "cannot write into /proc"),
])
def test_export_cli_refuses_bad_arguments(every_op_path, argv, message, capsys):
    assert main(["export", str(every_op_path)] + argv) == 2
    assert message in capsys.readouterr().err


def test_export_cli_refuses_a_missing_file_and_bad_inputs_before_exporting(every_op_path, tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope.ieg"), "--to", "onnx"]) == 2
    assert "nope.ieg: no such file, nor a zoo model (vit-fmnist" in capsys.readouterr().err
    np.save(tmp_path / "img.npy", np.zeros((1, 8, 8), np.float32))
    argv = ["export", str(every_op_path), "--to", "onnx", "-o", str(tmp_path), "--check", "-i", f"image={tmp_path / 'img.npy'}"]
    assert main(argv) == 2
    assert "inputs: missing ['mask', 'tokens']" in capsys.readouterr().err and not (tmp_path / "every_op.onnx").exists()
    assert main(["export", "vit-fmnist", "--to", "onnx", "-i", str(tmp_path / "img.npy")]) == 2
    assert "-i is for a .ieg" in capsys.readouterr().err


def test_export_names_the_format_it_cannot_infer(every_op_path, tmp_path):
    with pytest.raises(exporters.ExportError, match="say which format"):
        exporters.export(load(every_op_path), tmp_path / "model.bin")
