"""The tools that find and fix conversion error: the per-layer report, the smoothing search, mixed
W4/W8 under a byte budget, calibration on real tokens, and GPTQ's lazy batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_converter import feed, image_items, tiny_bert, tiny_vit
from torch import nn

from intedge import integer_ops as iops
from intedge import reference
from intedge.cli import main
from intedge.converters import calibrate as cal
from intedge.converters import convert, float_graph, gptq, smooth
from intedge.converters.capture import capture
from intedge.converters.convert import Converter
from intedge.converters.error_report import ACTIVATIONS, WEIGHTS, error_report
from intedge.converters.errors import ConversionError
from intedge.converters.mixed_precision import weight_bytes
from intedge.integer_ops.quantize import best_group_scales


def _one_minus_cos(a, b) -> float:
    a, b = np.asarray(a, np.float64).reshape(len(a), -1), np.asarray(b, np.float64).reshape(len(b), -1)
    return float(np.mean(1 - (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))


def test_the_report_has_every_layer_and_the_whole_graphs_error_is_the_graphs():
    model, items = tiny_vit(), image_items((1, 1, 16, 16), n=3)
    conv = Converter.calibrate(model, items[0], items, progress=False)
    r = error_report(conv, items, "tiny", progress=False)
    graph = conv.graph()
    with torch.no_grad():
        expected = np.mean([_one_minus_cos(reference.run(graph, feed(graph, item))["output"], model(*item).numpy())
                            for item in items])
    assert r.whole == pytest.approx(expected, rel=1e-3, abs=1e-9)
    linears = [n for n in conv.float_graph.nodes if n.kind == "linear"]
    for part in (WEIGHTS, ACTIVATIONS):
        assert sorted(e.name for e in r.layers if e.part == part) == sorted(
            n.consts["weight"].removesuffix(".weight") for n in linears)
    assert {"Shiftmax", "I-LayerNorm", "GELU", "residual adds", "input quantizer"} <= set(r.by_part())
    assert all(e.output >= 0 and e.local >= 0 for e in r.layers)
    assert sum(r.by_part().values()) == pytest.approx(sum(e.output for e in r.layers))
    assert "whole integer graph" in r.table() and r.json()["layers"]


class TwoLinears(nn.Module):
    """fc1's weights have a few large entries per row: int4 hurts it far more than fc2 (K equal)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2 = nn.Linear(64, 64), nn.Linear(64, 8)
        with torch.no_grad():
            self.fc1.weight.mul_(0.1)
            self.fc1.weight[:, ::9] *= 40

    def forward(self, x):
        return self.fc2(self.fc1(x))


def test_a_weight_budget_keeps_the_layer_int4_hurts_most_at_w8_and_fits():
    model, items = TwoLinears().eval(), image_items((1, 64), n=8)
    sizes = {"fc1": weight_bytes((64, 64), True, 32), "fc2": weight_bytes((8, 64), True, 32)}
    w8 = 64 * 64 + 8 * 64
    budget = (sizes["fc2"] + 64 * 64) / w8  # room for fc1 at W8, not for both
    conv = Converter.calibrate(model, items[0], items, weights="w4", budget=budget, progress=False)
    assert [w.removesuffix(".weight") for w in conv.mixed.int8] == ["fc1"]
    assert conv.mixed.sensitivity["fc1.weight"] > conv.mixed.sensitivity["fc2.weight"]
    graph = conv.graph()
    stored = {t.name: t for t in graph.tensors if t.is_constant}
    assert stored["fc1.weight"].dtype == "int8" and stored["fc2.weight"].dtype == "int4"
    assert conv.mixed.bytes == 64 * 64 + sizes["fc2"] <= budget * w8
    x = feed(graph, items[0])
    assert np.isfinite(reference.run(graph, x)["output"]).all()
    with pytest.raises(ConversionError, match="ask for at least") as e:
        Converter.calibrate(model, items[0], items, weights="w4", budget=0.3, progress=False)
    least = float(str(e.value).rsplit(" ", 1)[1])  # the least budget it names works
    assert Converter.calibrate(model, items[0], items, weights="w4", budget=least, progress=False).mixed.int8 == []
    with pytest.raises(ConversionError, match="it needs --weights w4"):
        Converter.calibrate(model, items[0], items, weights="w8", budget=0.6, progress=False)


def test_the_smoothing_search_picks_the_candidate_with_the_least_consumer_error():
    model, items = tiny_bert(), _short_token_items(6)
    g = smooth.prepare(capture(model, items[0]))
    ranges = cal.Ranges()
    ranges.edges_of = {n.output for n, _ in smooth.edges(g)}
    cal.calibrate(g, items, ranges, progress=False)
    _, chosen = smooth.smooth(g, ranges, g.consts, "auto")
    n, users = next((n, u) for n, u in smooth.edges(g) if n.kind == "layernorm")
    act_max = ranges.channel_max[n.output].clamp(min=1e-5)
    weights = [g.consts[u.consts["weight"]] for u in users]
    w_max = torch.stack([w.abs().amax(0) for w in weights]).amax(0).clamp(min=1e-5)
    errors = {f"alpha {a}": smooth._edge_error(ranges.rows(n.output), act_max, weights, [False] * len(weights),
                                               (act_max**a / w_max ** (1 - a)).clamp(min=1e-2, max=1e2))
              for a in smooth.ALPHA_GRID}
    errors["off"] = smooth._edge_error(ranges.rows(n.output), act_max, weights, [False] * len(weights),
                                       torch.ones_like(act_max))
    assert errors[chosen[n.output]] == min(errors.values())


def _short_token_items(n: int, seed: int = 0) -> list:
    """Token inputs of length 16 whose real tokens all end by position 6 (the rest is padding)."""
    g = torch.Generator().manual_seed(seed)
    items = []
    for _ in range(n):
        ids = torch.randint(2, 50, (1, 16), generator=g)
        mask = torch.zeros(1, 16, dtype=torch.int64)
        mask[:, :int(torch.randint(2, 7, (1,), generator=g))] = 1
        ids[mask == 0] = 1  # the padding token
        items.append((ids, mask))
    return items


def test_calibration_sees_only_real_tokens_and_a_trimmed_capture_gives_the_same_ranges(monkeypatch):
    model, items = tiny_bert(), _short_token_items(5)
    with torch.no_grad():  # the padding token's embedding is large: padded positions would widen ranges
        model.bert.embeddings.word_embeddings.weight[1] *= 50
    g = capture(model, items[0])
    [(short, cut)] = convert._calibration_parts(model, items[0], g, items)
    assert short is not g and cut[0][0].shape == (1, 8) and len(cut) == len(items)
    full = cal.calibrate(g, items, cal.Ranges(), progress=False)
    trimmed = cal.calibrate(short, cut, cal.Ranges(), progress=False)
    layout = {n.output for n in g.nodes if len(g.shapes[n.output]) == 3 and g.shapes[n.output][1] == 16}
    assert layout
    for v in layout:  # [batch, sequence, channels] values: the same real tokens, the same ranges
        assert trimmed.max[v] == pytest.approx(full.max[v], rel=1e-4)
    # the padded positions are left out: the range is the real tokens' own
    keep = [cal.real_tokens(g, item) for item in items]
    hidden = next(n.output for n in g.nodes if n.output in layout and n.kind == "add")  # the embeddings' sum
    values = [float_graph.run_nodes(g, {s.name: x for s, x in zip(g.inputs, item)})[hidden] for item in items]
    assert full.max[hidden] == pytest.approx(max(float(v[k].abs().max()) for v, k in zip(values, keep)), rel=1e-6)
    assert full.max[hidden] < max(float(v.abs().max()) for v in values)  # the padding would have widened it
    # a model whose real tokens see the padding is calibrated at full length
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: False)
    assert convert._calibration_parts(model, items[0], g, items) == [(g, items)]


def test_gptq_in_lazy_batches_is_gptq_column_by_column():
    rng = np.random.default_rng(1)
    k, n = 256, 16
    x = rng.standard_normal((600, k)) @ (np.eye(k) + rng.standard_normal((k, k)) / np.sqrt(k))
    w = rng.standard_normal((n, k)) * 0.05
    w_fast, g, s_c = gptq.gptq_int4(w, gptq.gram(x), 32)
    # the paper's Algorithm 1 without lazy batches, as a reference
    h = gptq.gram(x)
    h[np.diag_indices(k)] += gptq.DAMPING * np.mean(np.diag(h))
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    ref = np.array(w)
    for col in range(k):
        if col % 32 == 0:
            assert np.array_equal(g[:, col // 32], best_group_scales(ref[:, col:col + 32] / s_c[:, None])[0])
        scale = s_c * g[:, col // 32]
        err = (ref[:, col] - np.clip(np.rint(ref[:, col] / scale), -8, 7) * scale) / u[col, col]
        ref[:, col + 1:] -= np.outer(err, u[col, col + 1:])
    np.testing.assert_allclose(w_fast, ref, rtol=1e-9, atol=1e-12)
    assert np.array_equal(iops.quantize_int4_with_scales(w_fast, g, s_c), iops.quantize_int4_with_scales(ref, g, s_c))


def test_the_cli_prints_the_report_and_refuses_a_bad_budget(tmp_path, capsys):
    assert main(["convert", "vit-fmnist", "-o", str(tmp_path / "v.ieg"), "--calib", "2", "--report"]) == 0
    out = capsys.readouterr().out
    assert "whole integer graph" in out and "linear weights" in out and "Shiftmax" in out
    assert main(["convert", "vit-fmnist", "-o", str(tmp_path / "v.ieg"), "--budget", "0.6"]) == 2
    assert "it needs --weights w4" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["convert", "vit-fmnist", "-o", str(tmp_path / "v.ieg"), "--weights", "w4", "--budget", "1.5"])
    assert e.value.code == 2 and "--budget: must be in (0, 1]" in capsys.readouterr().err
