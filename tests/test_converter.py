"""The converter on small random models: capture is exact, graphs are valid, every executor and
the QAT twin agree bit for bit, and bad input gets a clear error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from intedge import integer_ops as iops
from intedge import reference
from intedge.converters import calibrate as cal
from intedge.converters import float_graph, gptq, smooth
from intedge.converters.capture import capture
from intedge.converters.convert import Converter
from intedge.converters.errors import CalibrationError, CaptureError, ConversionError, UnsupportedOpError
from intedge.converters.twin import QATTwin
from intedge.converters.zoo.minilm import SumPooledEncoder
from intedge.converters.zoo.segmenter import segmenter_fmnist
from intedge.converters.zoo.vit import VisionTransformer
from intedge.ir.graph import NUMPY_DTYPE
from intedge.runtime import Session, supported_isas


def tiny_vit():
    torch.manual_seed(0)
    return VisionTransformer(img_size=16, patch_size=4, in_chans=1, num_classes=5, embed_dim=32, depth=2, num_heads=2).eval()


def tiny_segmenter(decoder):
    torch.manual_seed(0)
    return segmenter_fmnist(decoder=decoder, img_size=16, embed_dim=32, depth=1, num_heads=2).eval()


def tiny_bert():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                     max_position_embeddings=16, attn_implementation="eager")
    return SumPooledEncoder(BertModel(cfg, add_pooling_layer=False)).eval()


def image_items(shape, n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(shape, generator=g),) for _ in range(n)]


def token_items(n=4, seed=0, batch=1):
    g = torch.Generator().manual_seed(seed)
    items = []
    for _ in range(n):
        ids = torch.randint(1, 50, (batch, 16), generator=g)
        mask = torch.ones(batch, 16, dtype=torch.int64)
        mask[:, int(torch.randint(4, 16, (1,), generator=g)):] = 0
        items.append((ids, mask))
    return items


MODELS = {
    "vit": (tiny_vit, lambda **kw: image_items((1, 1, 16, 16), **kw)),
    "segmenter-mask": (lambda: tiny_segmenter("mask_transformer"), lambda **kw: image_items((1, 1, 16, 16), **kw)),
    "segmenter-linear": (lambda: tiny_segmenter("linear"), lambda **kw: image_items((1, 1, 16, 16), **kw)),
    "bert": (tiny_bert, token_items),
}


def feed(graph, item):
    return {graph.tensors[t].name: np.asarray(x).astype(NUMPY_DTYPE[graph.tensors[t].dtype]) for t, x in zip(graph.inputs, item)}


@pytest.mark.parametrize("name", MODELS)
def test_capture_is_exact(name):
    build, items = MODELS[name]
    model, item = build(), items()[0]
    g = capture(model, item)
    out = float_graph.run(g, {i.name: x for i, x in zip(g.inputs, item)})
    assert torch.equal(next(iter(out.values())), model(*item))


class _TransposeChains(nn.Module):
    """Three transpose … transpose chains: one restores the order (a reshape), one does not, and one
    has its middle value read elsewhere too."""

    def __init__(self):
        super().__init__()
        self.register_buffer("bias", torch.ones(1, 6, 8))

    def forward(self, x):  # x [1, 6, 8]
        back = x.transpose(1, 2).reshape(1, 8, 2, 3).reshape(1, 8, 6).transpose(1, 2)
        moved = x.transpose(1, 2).reshape(1, 6, 8).transpose(1, 2).reshape(1, 6, 8)
        shared = x.transpose(1, 2)
        return back + self.bias, moved + self.bias, shared.transpose(1, 2) + shared.reshape(1, 6, 8)


def test_capture_folds_only_transpose_chains_that_restore_the_order():
    model, x = _TransposeChains(), torch.randn(1, 6, 8)
    g = capture(model, (x,))
    back = g.producer()[next(n for n in g.nodes if n.kind == "add").inputs[0]]
    assert back.kind == "reshape" and back.inputs == [g.inputs[0].name]  # one reshape of x
    assert sum(n.kind == "transpose" for n in g.nodes) == 4  # moved's two and shared's two stay
    out = float_graph.run(g, {g.inputs[0].name: x})
    assert all(torch.equal(a, b) for a, b in zip(out.values(), model(x)))
    vit = capture(tiny_vit(), image_items((1, 1, 16, 16))[0])  # its patch embedding: conv, NCHW, flatten(2).transpose(1, 2)
    assert [n.kind for n in vit.nodes[:6]] == ["reshape", "transpose", "reshape", "linear", "reshape", "reshape"]


@pytest.mark.parametrize("weights", ["w8", "w4"])
@pytest.mark.parametrize("name", MODELS)
def test_graph_twin_engine_and_kernels_agree_bit_for_bit(name, weights, tmp_path):
    build, items = MODELS[name]
    model, calib = build(), items()
    conv = Converter.calibrate(model, calib[0], calib, weights, progress=False)
    graph = conv.graph()
    graph.save(tmp_path / "g.ieg")
    sessions = [Session(tmp_path / "g.ieg", threads=t, isa=isa) for isa in supported_isas() for t in (1, 3)]
    if weights == "w4":
        assert "int4" in graph.summary()["constant_bytes"]
    twin = QATTwin(conv)
    for item in items(n=2, seed=1):
        outs = reference.run(graph, feed(graph, item), keep_intermediates=True)
        cpp = reference.run(graph, feed(graph, item), kernels="scalar-cpp")
        assert np.array_equal(cpp["output"], outs["output"])
        for s in sessions:
            assert np.array_equal(s.run(feed(graph, item))["output"], outs["output"])
        deq = graph.tensors[graph.ops[-1].inputs[0]].name
        assert np.array_equal(twin.integer_outputs(*item)[0], outs[deq])


def test_gptq_rounds_with_less_output_error_than_nearest_and_its_scales_reproduce_it():
    rng = np.random.default_rng(0)
    k, n = 128, 64
    x = rng.standard_normal((2000, k)) @ (np.eye(k) + 2.0 * rng.standard_normal((k, k)) / np.sqrt(k))  # correlated inputs
    w = rng.standard_normal((n, k)) * 0.05
    w_gptq, g, s_c = gptq.gptq_int4(w, gptq.gram(x), 32)
    q = iops.quantize_int4_with_scales(w_gptq, g, s_c)
    assert q.min() >= -8 and q.max() <= 7 and g.min() >= 1 and g.max() <= 16
    q0, g0, s0 = iops.quantize_int4_grouped(w, 32)
    err = lambda q_, g_, s_: np.linalg.norm(x @ (iops.expand_int4(q_, g_, 32) * s_[:, None] - w).T)  # noqa: E731
    assert err(q, g, s_c) < 0.85 * err(q0, g0, s0)  # 0.74 here


@pytest.mark.parametrize("name", MODELS)
def test_a_batched_graph_computes_each_row_like_batch_one(name, tmp_path):
    build, items = MODELS[name]
    model, calib = build(), items()
    conv = Converter.calibrate(model, calib[0], calib, progress=False)
    one, three = conv.graph(), conv.graph(batch=3)
    rows = items(n=3, seed=2)
    stacked = tuple(torch.cat(parts) for parts in zip(*rows))
    batched = reference.run(three, feed(three, stacked))["output"]
    for k, row in enumerate(rows):
        assert np.array_equal(batched[k:k + 1], reference.run(one, feed(one, row))["output"])
    # The engine too, where one kernel call spans sequences with different masks (bert).
    three.save(tmp_path / "three.ieg")
    for isa in supported_isas():
        assert np.array_equal(Session(tmp_path / "three.ieg", isa=isa).run(feed(three, stacked))["output"], batched)


@pytest.mark.parametrize("alpha", [0.5, "auto"])
def test_smoothing_keeps_the_float_function_and_splits_shared_layernorms(alpha):
    model, items = tiny_bert(), token_items(n=4)
    g = smooth.prepare(capture(model, items[0]))
    assert any(n.output.endswith(smooth.SUFFIX) for n in g.nodes)
    assert any("channel_scale" in n.consts for n in g.nodes)
    ranges = cal.Ranges()
    ranges.edges_of = {n.output for n, _ in smooth.edges(g)}
    cal.calibrate(g, items, ranges, progress=False)
    consts, chosen = smooth.smooth(g, ranges, g.consts, alpha)
    assert set(chosen) == {n.output for n, _ in smooth.edges(g)}
    assert any(not torch.equal(consts[k], g.consts[k]) for k in g.consts)
    for item in items:
        inputs = {i.name: x for i, x in zip(g.inputs, item)}
        a, b = float_graph.run(g, inputs)[g.outputs[0]], float_graph.run(g, inputs, consts=consts)[g.outputs[0]]
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    conv = Converter.calibrate(model, items[0], items, smooth_alpha=0.5, progress=False)
    plain = sum(n.kind == "layernorm" for n in capture(model, items[0]).nodes)
    norms = [op for op in conv.graph(batch=2).ops if op.kind == "ilayernorm"]
    assert len(norms) == plain and sum(len(op.outputs) for op in norms) > plain  # the twins share their statistics


@pytest.mark.parametrize("method", cal.METHODS)
def test_calibration_methods_and_one_input(method):
    model, calib = tiny_vit(), image_items((1, 1, 16, 16), n=1)
    conv = Converter.calibrate(model, calib[0], calib, method=method, progress=False)
    conv.graph().validate()
    ranges = cal.calibrate(conv.float_graph, calib, cal.Ranges(method), progress=False)
    for name, top in ranges.max.items():
        assert 0 <= ranges.amax(name) <= top


def test_qat_step_moves_weights_and_the_graph_follows():
    from intedge.converters.qat import finetune

    model, calib = tiny_vit(), image_items((1, 1, 16, 16), n=8)
    conv = Converter.calibrate(model, calib[0], calib, progress=False)
    before = conv.graph()
    inputs = (torch.cat([c[0] for c in calib]).numpy(),)
    twin = finetune(conv, inputs, epochs=1, batch=4, lr=1e-3, progress=False)
    after = twin.to_graph()
    assert any(not np.array_equal(a.data, b.data) for a, b in zip(before.tensors, after.tensors) if a.is_constant)
    x = torch.cat([c[0] for c in image_items((1, 1, 16, 16), n=4, seed=5)])
    outs = reference.run(after, {"x": x.numpy()}, keep_intermediates=True)
    assert np.array_equal(twin.integer_outputs(x)[0], outs[after.tensors[after.ops[-1].inputs[0]].name])


# --- bad input ----------------------------------------------------------------------------------------


class UsesSort(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return torch.sort(self.fc(x), dim=-1).values


def test_unsupported_op_names_the_op_and_the_model_line():
    with pytest.raises(UnsupportedOpError, match=r"sort.*test_converter\.py:\d+: return torch\.sort"):
        capture(UsesSort(), (torch.randn(1, 8),))


def test_bad_calibration_and_options():
    model, calib = tiny_vit(), image_items((1, 1, 16, 16))
    with pytest.raises(CalibrationError, match="empty"):
        Converter.calibrate(model, calib[0], [], progress=False)
    with pytest.raises(CalibrationError, match="shape"):
        Converter.calibrate(model, calib[0], image_items((1, 1, 8, 8)), progress=False)
    bad = torch.randn(1, 1, 16, 16)
    bad[0, 0, 3, 3] = float("nan")
    with pytest.raises(CalibrationError, match="NaN or Inf"):
        Converter.calibrate(model, calib[0], calib + [(bad,)], progress=False)
    with pytest.raises(ConversionError, match="weights must be one of"):
        Converter.calibrate(model, calib[0], calib, weights="w3", progress=False)
    with pytest.raises(ConversionError, match="group_size"):
        Converter.calibrate(model, calib[0], calib, weights="w4", group_size=48, progress=False)
    with pytest.raises(CaptureError, match="NaN or Inf"):
        capture(model, (bad,))


@pytest.mark.parametrize("name", ["vit-fmnist", "segmenter-fmnist", pytest.param("minilm", marks=pytest.mark.slow)])
def test_zoo_graphs_match_their_qat_twin_bit_for_bit(name):
    """The bundled models, W4 with GPTQ-rounded weights: the twin QAT trains is the graph that ships."""
    from intedge.converters import zoo

    spec = zoo.get(name)
    items = spec.calibration_set(2)
    conv = Converter.calibrate(spec.build(), tuple(torch.from_numpy(x) for x in items[0]), items, "w4",
                               progress=False, **spec.conversion)
    assert conv.plan.int4_scales  # GPTQ fixed the int4 scales
    graph = conv.graph()
    item = tuple(torch.from_numpy(x) for x in items[1])
    outs = reference.run(graph, feed(graph, item), keep_intermediates=True)
    deq = graph.tensors[graph.ops[-1].inputs[0]].name
    assert np.array_equal(QATTwin(conv).integer_outputs(*item)[0], outs[deq])
