"""The decoder LM path on the Python side: the integer ops against float, the Llama lowering, the state a
graph keeps between runs, and the host's decode loop and sampler (tests/test_state_tensors.py and
tests/test_decoder_ops.py hold the engine's side)."""

from __future__ import annotations

import numpy as np
import pytest

from intedge import integer_ops as iops
from intedge import reference
from intedge.examples import decoder as example
from intedge.generate import Decoder, Sampling, generate
from intedge.integer_ops.decoder import ROPE_FRAC_BITS
from intedge.ir import InvalidGraphError
from intedge.reference import ExecutionError

RNG = np.random.default_rng(0)


def _float_rope(x, positions, theta=1e4):
    d = x.shape[-1]
    ang = np.outer(positions, theta ** (-np.arange(0, d, 2) / d))
    c, s = np.cos(ang), np.sin(ang)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], -1)


def test_rope_is_the_rotation_within_half_a_step():
    cos, sin = iops.rope_tables(32, 64, 1e4)
    assert np.abs(cos.astype(np.int64)).max() <= 2**ROPE_FRAC_BITS
    x = RNG.integers(-128, 128, (3, 10, 32)).astype(np.int8)
    pos = np.arange(20, 30, dtype=np.int32)
    y = iops.rope(x, pos, cos, sin)
    want = _float_rope(x.astype(np.float64), pos)
    inside = np.abs(want) < 127  # saturated elements aside
    assert np.abs(y - want)[inside].max() <= 0.5 + 2**-7
    assert y.dtype == np.int8


def test_rope_refuses_a_position_outside_its_tables():
    cos, sin = iops.rope_tables(8, 4, 1e4)
    with pytest.raises(IndexError, match="outside"):
        iops.rope(np.zeros((1, 2, 8), np.int8), np.array([3, 4], np.int32), cos, sin)


def test_swiglu_is_silu_times_up():
    s_g, s_u, s_out = 0.05, 0.03, 0.02
    table, s_t = iops.silu_table(s_g)
    m, sh = iops.dyadic(s_t * s_u / s_out)
    g = np.arange(-128, 128, dtype=np.int8).repeat(9)
    u = np.tile(np.array([-128, -77, -1, 0, 1, 5, 64, 100, 127], np.int8), 256)
    y = iops.swiglu(g, u, table, m, sh)
    x = g * s_g
    want = x / (1 + np.exp(-x)) * (u * s_u) / s_out
    inside = np.abs(want) < 127
    assert np.abs(y - want)[inside].max() <= 0.5 + 0.01


def test_rmsnorm_is_layernorm_without_the_mean():
    x = (RNG.normal(0, 1, (6, 64)) * 3000 + 2000).astype(np.int16)  # a large mean: LayerNorm would remove it
    gamma = RNG.uniform(0.5, 1.5, 64)
    s_out = 3 / 127
    p = iops.ilayernorm_params(gamma, np.zeros(64), s_out)
    y = iops.ilayernorm(x, p["multiplier"], p["bias"], p["shift"], rms=True)
    xf = x.astype(np.float64)
    want = xf / np.sqrt((xf**2).mean(-1, keepdims=True)) * gamma / s_out
    assert np.abs(y - np.clip(want, -128, 127)).max() <= 0.6


def _attention_case(hq=4, hkv=2, d=16, t=12):
    q = RNG.integers(-128, 128, (hq, t, d)).astype(np.int8)
    k = RNG.integers(-128, 128, (hkv, t, d)).astype(np.int8)
    v = RNG.integers(-128, 128, (hkv, t, d)).astype(np.int8)
    sm = iops.shiftmax_params(0.02 * 0.02 / 4)
    m_o, s_o = iops.dyadic(2**-8 * 0.02 / 0.015)
    return q, k, v, (sm["multiplier"], sm["shift"], m_o, s_o)


@pytest.mark.parametrize("hq,hkv", [(4, 4), (4, 2), (4, 1)])
def test_cached_attention_prefill_equals_chunks_and_decode_steps(hq, hkv):
    t, d = 12, 16
    q, k, v, params = _attention_case(hq, hkv, d, t)

    def caches():
        return np.zeros((hkv, t, d), np.int8), np.zeros((hkv, t, d), np.int8)

    kc, vc = caches()
    full = iops.cached_attention(q, k, v, np.arange(t, dtype=np.int32), kc, vc, *params)
    assert full.shape == (t, hq * d) and full.dtype == np.int8
    kc, vc = caches()
    parts, start = [], 0
    for n in (5, 1, 3, 1, 2):
        sl = slice(start, start + n)
        parts.append(iops.cached_attention(q[:, sl], k[:, sl], v[:, sl], np.arange(start, start + n, dtype=np.int32),
                                           kc, vc, *params))
        start += n
    assert np.array_equal(np.concatenate(parts), full)
    assert np.array_equal(kc, k)  # the cache holds every row it was given


def test_cached_attention_follows_float_attention():
    hq, hkv, d, t = 4, 2, 16, 12
    s_q = s_k = s_v = 0.02
    s_out = 0.015
    q, k, v, params = _attention_case(hq, hkv, d, t)
    y = iops.cached_attention(q, k, v, np.arange(t, dtype=np.int32), np.zeros((hkv, t, d), np.int8),
                              np.zeros((hkv, t, d), np.int8), *params)
    kf = np.repeat(k * s_k, hq // hkv, 0)
    vf = np.repeat(v * s_v, hq // hkv, 0)
    scores = (q * s_q) @ kf.swapaxes(1, 2) / np.sqrt(d)
    scores = np.where(np.tril(np.ones((t, t), bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    want = (p @ vf).transpose(1, 0, 2).reshape(t, hq * d) / s_out
    # Shiftmax's 8-bit probabilities: ≤ 0.004 each, times the values' magnitude over the row
    assert np.abs(y - np.clip(want, -128, 127)).max() <= 0.5 + 0.004 * 128 * 0.02 / s_out * t


def test_cached_attention_refuses_positions_that_skip_or_overflow():
    q, k, v, params = _attention_case(2, 1, 8, 4)
    kc, vc = np.zeros((1, 4, 8), np.int8), np.zeros((1, 4, 8), np.int8)
    with pytest.raises(IndexError, match="consecutive"):
        iops.cached_attention(q[:, :2], k[:, :2], v[:, :2], np.array([0, 2], np.int32), kc, vc, *params)
    with pytest.raises(IndexError, match="within the cache"):
        iops.cached_attention(q[:, :2], k[:, :2], v[:, :2], np.array([3, 4], np.int32), kc, vc, *params)


def test_decoder_graph_gives_the_same_logits_run_by_run():
    g = example.build()
    toks = RNG.integers(0, example.SHAPE.vocab, 14).astype(np.int32)
    full = reference.run(g, {"tokens": toks, "positions": np.arange(14, dtype=np.int32)})["logits"]
    state = reference.new_state(g)
    parts = [reference.run(g, {"tokens": toks[:9], "positions": np.arange(9, dtype=np.int32)}, state=state)["logits"]]
    for i in range(9, 14):
        parts.append(reference.run(g, {"tokens": toks[i:i + 1], "positions": np.array([i], np.int32)},
                                   state=state)["logits"])
    assert np.array_equal(np.concatenate(parts), full)
    with pytest.raises(ExecutionError, match="consecutive"):
        reference.run(g, {"tokens": toks[:2], "positions": np.array([5, 7], np.int32)}, state=state)


def test_state_tensors_are_validated():
    g = example.build()
    cache = g.state_tensors()[0]
    g.inputs.append(cache)
    with pytest.raises(InvalidGraphError, match="is a state tensor"):
        g.validate()
    g = example.build()
    g.tensors[g.state_tensors()[0]].is_state = False  # a cache role given an ordinary tensor
    with pytest.raises(InvalidGraphError, match="must be a state tensor|used before it is produced"):
        g.validate()
    g = example.build()
    attention = next(op for op in g.ops if op.kind == "cached_attention")
    g.ops[-1].inputs.append(attention.inputs[4])  # the cache read by a second op input
    with pytest.raises(InvalidGraphError):
        g.validate()


def test_file_round_trip_keeps_state_tensors():
    from intedge.ir.ieg_io import _decode, _minor_version  # noqa: F401 - the version a state graph is written at

    g = example.build()
    assert _minor_version(g) == 2
    assert {g.tensors[i].name for i in g.state_tensors()} == {
        f"model.layers.{layer}.self_attn.{c}_cache" for layer in range(example.SHAPE.layers) for c in "kv"}


def test_sampling_is_seeded_and_greedy_at_its_limits():
    logits = RNG.normal(0, 2, 50)
    greedy = Sampling().sampler()
    assert greedy(logits) == int(np.argmax(logits))
    assert Sampling(temperature=1.0, top_k=1).sampler()(logits) == int(np.argmax(logits))
    assert Sampling(temperature=1.0, top_p=1e-9).sampler()(logits) == int(np.argmax(logits))
    a, b = Sampling(temperature=1.0, seed=7).sampler(), Sampling(temperature=1.0, seed=7).sampler()
    draws = [a(logits) for _ in range(20)]
    assert draws == [b(logits) for _ in range(20)] and len(set(draws)) > 1
    kept = {Sampling(temperature=5.0, top_k=3, seed=s).sampler()(logits) for s in range(40)}
    assert kept <= set(np.argsort(-logits)[:3].tolist())
    with pytest.raises(ValueError):
        Sampling(top_p=0)


def test_generate_streams_and_stops_at_the_context():
    g = example.build()
    dec = Decoder(g, "reference")
    tokens = [t for t, _ in generate(dec, [1, 2, 3], max_tokens=100)]
    assert len(tokens) == example.SHAPE.context - 3 + 1  # the last token needs no run of its own
    again = [t for t, _ in generate(dec, [1, 2, 3], max_tokens=5)]
    assert again == tokens[:5]  # reset: the same prompt gives the same tokens
    with pytest.raises(ExecutionError, match="context holds"):
        dec.feed(np.zeros(example.SHAPE.context + 1, np.int32))


@pytest.mark.slow
def test_converted_llama_follows_the_float_model():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from intedge.converters.llama_convert import convert_llama

    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=128, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, intermediate_size=128, max_position_embeddings=32,
                                   tie_word_embeddings=True)
    model = transformers.LlamaForCausalLM(cfg).eval()
    rng = np.random.default_rng(1)
    windows = [rng.integers(0, 128, 32) for _ in range(8)]
    x = rng.integers(0, 128, 20).astype(np.int32)
    with torch.no_grad():
        want = model(torch.from_numpy(x.astype(np.int64))[None]).logits[0].numpy()
    feeds = {"tokens": x, "positions": np.arange(20, dtype=np.int32)}
    graphs = {}
    for weights, floor in (("w8", 0.995), ("w4", 0.98)):
        graphs[weights] = convert_llama(model, windows, weights, progress=False)
        got = reference.run(graphs[weights], feeds)["logits"]
        cos = (got * want).sum(-1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1)
        assert cos.min() > floor, (weights, cos.min())
    every = reference.run(graphs["w8"], feeds)["logits"]
    last = convert_llama(model, windows, "w8", progress=False, logits="last")
    for row in (19, 4):  # the named row's logits, computed alone
        got = reference.run(last, feeds | {"last": np.array([row], np.int32)})["logits"]
        assert got.shape == (1, 128) and np.array_equal(got[0], every[row])


def _tiny_llama(**config):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(**({"vocab_size": 128, "hidden_size": 64, "num_hidden_layers": 2,
                                       "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128,
                                       "max_position_embeddings": 32, "tie_word_embeddings": True} | config))
    return transformers.LlamaForCausalLM(cfg).eval()


def _cosine_to_float(model, g) -> float:
    import torch

    x = np.random.default_rng(2).integers(0, model.config.vocab_size, 20).astype(np.int32)
    with torch.no_grad():
        want = model(torch.from_numpy(x.astype(np.int64))[None]).logits[0].numpy()
    got = reference.run(g, {"tokens": x, "positions": np.arange(20, dtype=np.int32)})["logits"]
    return float(((got * want).sum(-1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1)).min())


def test_a_llama_with_biases_converts_with_them():
    from intedge.converters.llama_convert import convert_llama

    model = _tiny_llama(attention_bias=True, mlp_bias=True)
    for module in model.modules():  # transformers starts biases at 0: make them matter
        if getattr(module, "bias", None) is not None:
            module.bias.data.normal_(0, 0.5)
    windows = [np.random.default_rng(k).integers(0, 128, 32) for k in range(4)]
    g = convert_llama(model, windows, "w8", progress=False)
    assert sum(op.kind == "qlinear" and op.inputs[2] >= 0 for op in g.ops) == 2 * 7
    assert _cosine_to_float(model, g) > 0.99


def test_what_the_integer_tables_cannot_express_is_refused():
    from intedge.converters.errors import UnsupportedOpError
    from intedge.converters.llama_convert import convert_llama

    scaled = _tiny_llama(rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0})
    with pytest.raises(UnsupportedOpError, match="RoPE scaling 'linear'"):
        convert_llama(scaled, [np.arange(32)], "w8", progress=False)
    with pytest.raises(UnsupportedOpError, match="SiLU-gated"):
        convert_llama(_tiny_llama(hidden_act="gelu"), [np.arange(32)], "w8", progress=False)


def test_w4_group_size_and_the_layers_that_stay_w8():
    from intedge.converters.llama_convert import convert_llama

    model = _tiny_llama(intermediate_size=96)  # down_proj's K = 96: a multiple of 32, not of 64
    windows = [np.random.default_rng(k).integers(0, 128, 32) for k in range(4)]
    for group, down_w4 in ((32, True), (64, False)):
        g = convert_llama(model, windows, "w4", progress=False, group_size=group)
        linears = {op.name: op for op in g.ops if op.kind == "qlinear"}
        assert linears["model.layers.0.mlp.up_proj"].options["group_size"] == group
        assert (g.tensors[linears["model.layers.0.mlp.down_proj"].inputs[1]].dtype == "int4") == down_w4
    with pytest.raises(ValueError, match="group size"):
        convert_llama(model, windows, "w4", progress=False, group_size=0)


def test_a_users_folder_converts_with_its_own_special_tokens(tmp_path, capsys):
    import shutil

    from intedge.cli import main
    from intedge.converters.zoo import llama_lm
    from intedge.ir import load

    model = _tiny_llama(vocab_size=4096, bos_token_id=7, eos_token_id=[9, 11], max_position_embeddings=64)
    model.save_pretrained(tmp_path / "mine")
    shutil.copy(llama_lm.TOKENIZER, tmp_path / "mine" / "tokenizer.json")
    assert main(["convert", str(tmp_path / "mine"), "-o", str(tmp_path / "mine.ieg"), "--calib", "2"]) == 0
    g = load(tmp_path / "mine.ieg")
    assert (g.metadata["bos_token_id"], g.metadata["eos_token_id"], g.metadata["context"]) == ("7", "9", "64")
    assert main(["generate", str(tmp_path / "mine.ieg"), "--prompt", "Hello", "--max-tokens", "3"]) == 0
    assert main(["convert", "llama-fortunes", "-o", str(tmp_path / "x.ieg"), "--method", "mse"]) == 2
    assert "--method: not available for language models" in capsys.readouterr().err
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text('{"architectures": ["BertModel"]}')
    assert main(["convert", str(tmp_path / "bert"), "-o", str(tmp_path / "y.ieg")]) == 2
    assert "not a LlamaForCausalLM's" in capsys.readouterr().err
