"""The zoo through the command line: demo, convert, eval --json, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from intedge import load, reference
from intedge.cli import main


def test_demo_converts_scores_and_times_the_bundled_vit(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--limit", "200"]) == 0
    out = capsys.readouterr().out
    assert "vit-fmnist: top-1 % on 200 test samples" in out and "intedge integer-only W8A8" in out
    assert "batch-1 latency" in out and "PyTorch fp32" in out
    g = load(tmp_path / "vit-fmnist-w8.ieg")
    assert g.tensors[g.inputs[0]].shape == (1, 1, 28, 28)


@pytest.mark.parametrize("weights", ["w8", pytest.param("w4", marks=pytest.mark.slow)])
def test_eval_json_last_line_and_accuracy(capsys, weights):
    assert main(["eval", "vit-fmnist", "--weights", weights, "--limit", "500", "--batch", "100", "--no-peers", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {"model", "weights", "metric", "split", "float", "integer", "peers"} and result["split"] == "test"
    assert (result["model"], result["weights"], result["metric"]) == ("vit-fmnist", weights, "top-1")
    assert result["float"] > 80 and result["float"] - result["integer"] <= 2.0


@pytest.mark.slow
def test_eval_engine_and_reference_score_alike_and_qat_runs(capsys):
    common = ["eval", "segmenter-fmnist", "--limit", "40", "--batch", "20", "--calib", "4", "--no-peers", "--json"]
    scores = []
    for kernels in ("engine", "numpy"):
        assert main(common + ["--kernels", kernels]) == 0
        scores.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["integer"])
    assert scores[0] == scores[1]  # the same integers, so the same mIoU
    assert main(["eval", "vit-fmnist", "--limit", "100", "--calib", "4", "--no-peers", "--qat", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["integer"] > 70


@pytest.mark.slow
def test_eval_minilm_with_its_onnx_runtime_peer(capsys):
    assert main(["eval", "minilm", "--limit", "20", "--calib", "4", "--batch", "10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["metric"] == "cosine" and result["float"] == pytest.approx(1.0)
    assert 0.8 < result["integer"] <= 1.0 and 0.5 < result["peers"]["ort-int8"] <= 1.0


def test_convert_a_zoo_model_and_a_user_factory(tmp_path, capsys):
    out = tmp_path / "seg.ieg"
    assert main(["convert", "segmenter-fmnist", "-o", str(out), "--calib", "2", "--weights", "w4"]) == 0
    g = load(out)
    assert g.tensors[g.outputs[0]].shape == (1, 11, 48, 48)
    user = tmp_path / "mymodel.py"
    user.write_text(
        "import torch\n"
        "from intedge.converters.zoo.vit import VisionTransformer\n"
        "def factory():\n"
        "    m = VisionTransformer(img_size=8, patch_size=4, in_chans=1, num_classes=3, embed_dim=32, depth=1, num_heads=2)\n"
        "    return m, [(torch.randn(1, 1, 8, 8),) for _ in range(3)]\n")
    assert main(["convert", f"{user}:factory", "-o", str(tmp_path / "u.ieg")]) == 0
    g = load(tmp_path / "u.ieg")
    x = np.random.default_rng(0).standard_normal((1, 1, 8, 8)).astype(np.float32)
    assert reference.run(g, {"x": x})["output"].shape == (1, 3)


def test_convert_a_stock_text_model_with_a_dynamic_sequence(tmp_path, capsys):
    pytest.importorskip("transformers")
    user = tmp_path / "roberta.py"
    user.write_text(
        "import torch\n"
        "from transformers import RobertaConfig, RobertaModel\n"
        "def factory():\n"
        "    torch.manual_seed(0)\n"
        "    m = RobertaModel(RobertaConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,\n"
        "                                   intermediate_size=64, max_position_embeddings=40))\n"
        "    return m, [(torch.randint(3, 50, (1, 12)), torch.ones(1, 12, dtype=torch.long)) for _ in range(3)]\n")
    out = tmp_path / "r.ieg"
    assert main(["convert", f"{user}:factory", "-o", str(out), "--dynamic-seq"]) == 0
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    listing = capsys.readouterr().out
    assert "any length 1 to 12" in listing and "[1, 12*]" in listing
    g = load(out)
    ids, mask = np.full((1, 5), 7, np.int32), np.ones((1, 5), np.int8)
    assert reference.run(g, {"input_ids": ids, "attention_mask": mask})["output0"].shape == (1, 5, 32)


def test_user_factory_errors_and_notes(tmp_path, capsys):
    user = tmp_path / "m.py"
    user.write_text(
        "import torch\n"
        "def mlp():\n"
        "    m = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.SiLU(), torch.nn.Linear(64, 16))\n"
        "    return m, [torch.randn(4, 16) for _ in range(3)]  # bare tensors: one input each\n"
        "def broken():\n"
        "    raise ValueError('no weights here')\n")
    assert main(["convert", f"{user}:mlp", "-o", str(tmp_path / "w4.ieg"), "--weights", "w4"]) == 0
    assert "1 linear layer(s) stay int8" in capsys.readouterr().err  # the first: K = 16
    assert main(["convert", f"{user}:broken", "-o", str(tmp_path / "x.ieg")]) == 2
    assert f"broken() of {user} raised ValueError: no weights here at {user}:6" in capsys.readouterr().err
    assert main(["convert", f"{user}:mlp", "-o", str(tmp_path / "x.ieg"), "--dynamic-seq"]) == 2
    err = capsys.readouterr().err
    assert "does not take the inputs (4, 16) at length 7" in err and "Traceback" not in err


def test_cli_conversion_errors_exit_2(tmp_path, capsys):
    assert main(["convert", "no-such-model", "-o", str(tmp_path / "x.ieg")]) == 2
    assert "neither a zoo model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["convert", "vit-fmnist", "-o", str(tmp_path / "x.ieg"), "--calib", "0"])
    assert e.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["convert", "vit-fmnist", "-o", str(tmp_path / "x.ieg"), "--weights", "w3"])
    user = tmp_path / "m.py"
    user.write_text("import torch\ndef f():\n    return torch.nn.Linear(4, 4), [(torch.randn(1, 4),)]\n")
    assert main(["convert", f"{user}:f", "-o", str(tmp_path / "x.ieg"), "--qat", "1"]) == 2
    assert "--qat needs training inputs" in capsys.readouterr().err
