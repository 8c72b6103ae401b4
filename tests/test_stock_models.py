"""Stock classes as users bring them: `transformers` and `torch.nn` models with small random configs and
their default settings (SDPA attention), converted at W8 and W4. Each runs in the engine on every ISA
bit for bit with the reference, and stays within a stated error of the float model."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from intedge import reference
from intedge.converters.capture import capture
from intedge.converters.convert import Converter
from intedge.converters.errors import UnsupportedOpError
from intedge.converters.twin import QATTwin
from intedge.ir.graph import NUMPY_DTYPE
from intedge.runtime import Session, supported_isas

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers")

BATCH, SEQ, VOCAB = 2, 16, 100
TEXT = dict(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
            max_position_embeddings=64)
VISION = dict(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
              intermediate_size=128, num_labels=10)


def _tokens(g: torch.Generator):
    ids = torch.randint(3, VOCAB, (BATCH, SEQ), generator=g)
    mask = torch.ones(BATCH, SEQ, dtype=torch.int64)
    mask[1, int(torch.randint(4, SEQ, (1,), generator=g)):] = 0
    return ids, mask


def _image(g: torch.Generator):
    return (torch.randn(BATCH, 3, 32, 32, generator=g),)


def _sequence(g: torch.Generator):
    return (torch.randn(BATCH, SEQ, 64, generator=g),)


class LastHiddenState(nn.Module):
    """The text models' last hidden state: the issue's measure (cosine ≥ 0.99 at W8)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class Mlp(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(64, 128), nn.Linear(128, 64), act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LeakyWhere(nn.Module):
    def forward(self, x):
        return torch.where(x > 0, x, 0.1 * x)


class HybridConvNet(nn.Module):
    """A conv stem (3×3 stride 2, depthwise, pointwise), one attention block and a bilinear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.ReLU6(),
                                  nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.Hardswish(), nn.Conv2d(32, 64, 1))
        self.block = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True, norm_first=True)
        self.head = nn.Conv2d(64, 5, 1)

    def forward(self, x):
        f = self.stem(x)  # [B, 64, 16, 16]
        b, c, h, w = f.shape
        f = self.block(f.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, c, h, w)
        return nn.functional.interpolate(self.head(f), scale_factor=2, mode="bilinear")


class CausalSelfAttention(nn.Module):
    """GPT-style attention written with F.scaled_dot_product_attention: is_causal, an explicit scale."""

    def __init__(self):
        super().__init__()
        self.qkv, self.out = nn.Linear(64, 192), nn.Linear(64, 64)

    def forward(self, x):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, 4, 16).permute(2, 0, 3, 1, 4)
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.2)
        return self.out(y.transpose(1, 2).reshape(b, s, 64))


def _tenc(norm_first):
    layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True, norm_first=norm_first)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


# name → (model factory, inputs from a generator, cosine bound at W8, at W4). The text models' bound at W8 is
# the issue's; random-init classifiers have near-uniform logits, where cosine is a harsher measure.
STOCK = {
    "BertModel": (lambda t: LastHiddenState(t.BertModel(t.BertConfig(**TEXT))), _tokens, 0.99, 0.98),
    "RobertaModel": (lambda t: LastHiddenState(t.RobertaModel(t.RobertaConfig(**TEXT))), _tokens, 0.99, 0.98),
    "DistilBertModel": (lambda t: LastHiddenState(t.DistilBertModel(t.DistilBertConfig(
        vocab_size=VOCAB, dim=64, n_layers=2, n_heads=4, hidden_dim=128, max_position_embeddings=64))), _tokens, 0.99, 0.98),
    "BertModel+pooler": (lambda t: t.BertModel(t.BertConfig(**TEXT)), _tokens, 0.99, 0.98),
    "BertModel-eager": (lambda t: LastHiddenState(t.BertModel(t.BertConfig(**TEXT, attn_implementation="eager"))),
                        _tokens, 0.99, 0.98),
    "ViTForImageClassification": (lambda t: t.ViTForImageClassification(t.ViTConfig(**VISION)), _image, 0.98, 0.9),
    "DeiTForImageClassification": (lambda t: t.DeiTForImageClassification(t.DeiTConfig(**VISION)), _image, 0.98, 0.9),
    "SwinForImageClassification": (lambda t: t.SwinForImageClassification(t.SwinConfig(
        image_size=32, patch_size=2, embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=4, num_labels=10)),
        _image, 0.99, 0.95),
    "TransformerEncoder-post-norm": (lambda t: _tenc(False), _sequence, 0.99, 0.98),
    "TransformerEncoder-pre-norm": (lambda t: _tenc(True), _sequence, 0.99, 0.98),
    "MultiheadAttention": (lambda t: nn.MultiheadAttention(64, 4, batch_first=True), lambda g: _sequence(g) * 3, 0.99, 0.98),
    "sdpa-causal": (lambda t: CausalSelfAttention(), _sequence, 0.99, 0.98),
    "ReLU-MLP": (lambda t: Mlp(nn.ReLU()), _sequence, 0.99, 0.98),
    "SiLU-MLP": (lambda t: Mlp(nn.SiLU()), _sequence, 0.99, 0.98),
    "tanh-GELU-MLP": (lambda t: Mlp(nn.GELU(approximate="tanh")), _sequence, 0.99, 0.98),
    "where-MLP": (lambda t: Mlp(LeakyWhere()), _sequence, 0.99, 0.98),
    "hybrid-conv": (lambda t: HybridConvNet(), _image, 0.99, 0.95),
}


def _build(name):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return STOCK[name][0](transformers).eval()


def _items(name, n, seed):
    g = torch.Generator().manual_seed(seed)
    return [STOCK[name][1](g) for _ in range(n)]


def _feed(graph, item):
    return {graph.tensors[t].name: np.asarray(x).astype(NUMPY_DTYPE[graph.tensors[t].dtype])
            for t, x in zip(graph.inputs, item)}


def _cosine(a, b) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def convert_stock(name: str, weights: str):
    """(model, its Converter) for a stock class, calibrated on four random inputs."""
    model, calibration = _build(name), _items(name, 4, seed=0)
    return model, Converter.calibrate(model, calibration[0], calibration, weights, progress=False)


def stock_feeds(name: str, graph, n: int = 2) -> list[dict]:
    """n held-out inputs for the graph of a stock class."""
    return [_feed(graph, item) for item in _items(name, n, seed=1)]


@pytest.mark.parametrize("weights", ["w8", "w4"])
@pytest.mark.parametrize("name", STOCK)
def test_stock_class_converts_runs_exactly_on_every_isa_and_stays_close_to_float(name, weights, tmp_path):
    model, converter = convert_stock(name, weights)
    graph = converter.graph()
    twin = QATTwin(converter) if weights == "w8" else None  # the QAT twin computes the graph's very integers
    graph.save(tmp_path / "g.ieg")
    sessions = {isa: Session(tmp_path / "g.ieg", isa=isa) for isa in supported_isas()}
    bound = STOCK[name][2 if weights == "w8" else 3]
    for item in _items(name, 2, seed=1):
        expected = reference.run(graph, _feed(graph, item), keep_intermediates=twin is not None)
        for isa, session in sessions.items():
            got = session.run(_feed(graph, item))
            assert all(np.array_equal(v, expected[k]) for k, v in got.items()), isa
        if twin is not None:
            dequantized = [graph.tensors[op.inputs[0]].name for op in graph.ops if op.kind == "dequantize"]
            assert all(np.array_equal(a, expected[d]) for a, d in zip(twin.integer_outputs(*item), dequantized, strict=True))
        with torch.no_grad():
            floats = [t for t in torch.utils._pytree.tree_leaves(model(*item)) if isinstance(t, torch.Tensor)]
        for out, ref in zip((expected[graph.tensors[t].name] for t in graph.outputs), floats, strict=True):
            assert _cosine(out, ref.numpy()) >= bound, (name, weights)


@pytest.mark.parametrize("name", ["BertModel", "RobertaModel", "DistilBertModel", "TransformerEncoder-pre-norm"])
def test_stock_text_models_take_every_length_up_to_the_bound(name, tmp_path):
    """Converted with a dynamic sequence (bound 16), each runs at lengths 1, 5 and 16, the engine on every ISA
    bit for bit with the reference, and close to the float model at that length."""
    model, converter = convert_stock(name, "w8")
    graph = converter.dynamic_graph()
    graph.save(tmp_path / "g.ieg")
    sessions = [Session(tmp_path / "g.ieg", isa=isa) for isa in supported_isas()]
    full = stock_feeds(name, graph, 1)[0]
    for length in (1, 5, SEQ):
        feeds = {k: np.ascontiguousarray(v[:, :length]) for k, v in full.items()}
        expected = reference.run(graph, feeds)
        for session in sessions:
            assert all(np.array_equal(v, expected[k]) for k, v in session.run(feeds).items())
        with torch.no_grad():
            want = model(*(torch.from_numpy(v if v.dtype == np.float32 else v.astype(np.int64)) for v in feeds.values()))
        assert _cosine(expected["output"], (want if isinstance(want, torch.Tensor) else want[0]).numpy()) >= 0.95


@pytest.mark.parametrize("act", [nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.SiLU(), nn.Hardswish(), nn.GELU("tanh"),
                                 LeakyWhere()], ids=lambda a: type(a).__name__)
def test_an_elementwise_function_is_the_best_int8_answer_for_every_input(act, tmp_path):
    """y = f(x) alone: the engine's output is round(f(x̂) / s_y) for every one of the 256 inputs x̂."""
    x = torch.linspace(-4, 4, 256).reshape(1, 256)
    graph = Converter.calibrate(nn.Sequential(act), (x,), [(x,)], progress=False).graph()
    quantize, lookup = graph.ops[0], graph.ops[1]
    assert lookup.kind == "lookup"
    s_x, s_y = graph.tensors[quantize.outputs[0]].scale, graph.tensors[lookup.outputs[0]].scale
    q = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    best = np.clip(np.rint(act(torch.from_numpy(q * s_x)).double().numpy() / s_y), -128, 127)
    graph.save(tmp_path / "g.ieg")
    for isa in supported_isas():
        y = Session(tmp_path / "g.ieg", isa=isa).run({graph.tensors[graph.inputs[0]].name: (q * s_x).astype(np.float32)})
        y = y["output"]
        assert np.array_equal(np.rint(y / s_y), best), isa


class RobertaEmbeddings(nn.Module):
    """RoBERTa's embeddings: token ids, and position ids from them (cumsum of ids != pad, times the
    same, plus pad), each looked up in its table."""

    def __init__(self):
        super().__init__()
        self.words, self.positions = nn.Embedding(VOCAB, 8), nn.Embedding(2 * SEQ + 2, 8)

    def forward(self, ids):
        keep = ids.ne(1).int()
        return self.words(ids) + self.positions((torch.cumsum(keep, dim=1).type_as(keep) * keep).long() + 1)


def test_index_arithmetic_stays_integer_and_exact(tmp_path):
    ids = torch.tensor([[5, 7, 9, 1, 1, 1, 4, 3] * 2, [1, 1, 8, 8, 8, 8, 8, 1] * 2])
    graph = Converter.calibrate(RobertaEmbeddings().eval(), (ids,), [(ids,)], progress=False).graph()
    assert {"int_binary", "cumsum"} <= {op.kind for op in graph.ops}
    assert all(t.dtype != "float32" for t in graph.tensors if t.name != "output")
    gathers = [op for op in graph.ops if op.kind == "gather"]
    positions = graph.tensors[gathers[1].inputs[1]].name
    keep = (ids != 1).long()
    feeds = {graph.tensors[graph.inputs[0]].name: ids.numpy().astype(np.int32)}
    out = reference.run(graph, feeds, keep_intermediates=True)
    assert np.array_equal(out[positions], (torch.cumsum(keep, 1) * keep + 1).numpy())
    graph.save(tmp_path / "g.ieg")
    for isa in supported_isas():
        assert np.array_equal(Session(tmp_path / "g.ieg", isa=isa).run(feeds)["output"], out["output"])


class TwoActivationProduct(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)

    def forward(self, x):
        return self.a(x) * self.b(x)


class GroupedQueryAttention(nn.Module):
    def forward(self, q, kv):
        return nn.functional.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)


class BoolFlag(nn.Module):
    """x.bool() changes the value (any nonzero id → 1): it must become ids != 0, not a no-op."""

    def __init__(self):
        super().__init__()
        self.words, self.flags = nn.Embedding(10, 8), nn.Embedding(2, 8)

    def forward(self, ids):
        return self.words(ids) + self.flags(ids.bool().int())


class MaskTimesActivation(nn.Module):
    def __init__(self):
        super().__init__()
        self.words = nn.Embedding(10, 8)

    def forward(self, ids):
        return self.words(ids) + (ids != 0).unsqueeze(-1)


def test_integer_casts_keep_their_meaning_and_do_not_mix_with_activations():
    ids = torch.tensor([[1, 2, 0, 3]], dtype=torch.int32)
    torch.manual_seed(0)
    model = BoolFlag().eval()
    graph = Converter.calibrate(model, (ids,), [(ids,)], progress=False).graph()
    out = reference.run(graph, {graph.tensors[graph.inputs[0]].name: ids.numpy()})["output"]
    with torch.no_grad():
        assert np.abs(out - model(ids).numpy()).max() < 0.05  # a wrong flag lookup is off by the table's scale
    with pytest.raises(UnsupportedOpError, match=r"mixing an integer value.*aten\.add\.Tensor"):
        capture(MaskTimesActivation(), (ids,))


def test_bilinear_resizing_by_a_different_factor_per_axis():
    x = torch.randn(1, 2, 5, 4)
    resize = nn.Upsample(scale_factor=(2, 3), mode="bilinear")
    g = capture(resize, (x,))
    from intedge.converters import float_graph

    assert torch.allclose(next(iter(float_graph.run(g, {g.inputs[0].name: x}).values())), resize(x), atol=1e-6)


def test_what_is_not_supported_is_named_with_the_models_line():
    with pytest.raises(UnsupportedOpError, match=r"mul\.Tensor.*test_stock_models\.py:\d+: return self\.a\(x\) \* self\.b"):
        capture(TwoActivationProduct(), (torch.randn(1, 8),))
    with pytest.raises(UnsupportedOpError, match=r"grouped-query.*scaled_dot_product_attention"):
        capture(GroupedQueryAttention(), (torch.randn(1, 4, 8, 16), torch.randn(1, 2, 8, 16)))

