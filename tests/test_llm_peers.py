"""The decoder LMs' peers (profilers/llm_peers.py, gguf_writer.py): the GGUF file has llama.cpp's tensors,
shapes and hyperparameters, and q/k rows in GGML's RoPE order; where llama-cpp-python is installed (the
`llamacpp` extra, not in `all`), llama.cpp's logits on it are PyTorch's, which only a right RoPE order gives."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
gguf = pytest.importorskip("gguf")

from intedge.extras import MissingExtraError  # noqa: E402 - after the skips above
from intedge.profilers import llm_peers  # noqa: E402
from intedge.profilers.gguf_writer import QTYPES, file_qtype, gguf_name, rope_interleaved, write_gguf  # noqa: E402

# the development model of issue 20's decoder LMs, random weights
CONFIG = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=2,
              intermediate_size=640, max_position_embeddings=256, rope_theta=10000, tie_word_embeddings=True,
              vocab_size=4096, rms_norm_eps=1e-5)


def needs_llamacpp():
    """Skip, saying why, where llama-cpp-python is missing (the `llamacpp` extra) or was built with AMX."""
    try:
        llm_peers.require_llamacpp()
    except MissingExtraError as e:
        pytest.skip(str(e))


def llama(**changes):
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(transformers.LlamaConfig(**{**CONFIG, **changes})).eval()


@pytest.fixture(scope="module")
def model():
    return llama()


@pytest.fixture(scope="module")
def files(model, tmp_path_factory):
    """The model as GGUF in each of QTYPES."""
    folder = tmp_path_factory.mktemp("gguf")
    return {qtype: write_gguf(model, folder / f"{qtype}.gguf", qtype) for qtype in QTYPES}


def fields(path) -> dict:
    reader = gguf.GGUFReader(str(path))
    return {name: field.contents() for name, field in reader.fields.items()}, {t.name: t for t in reader.tensors}


def test_f32_file_has_llama_cpps_tensors_and_hyperparameters(model, files):
    meta, tensors = fields(files["F32"])
    expected = {gguf_name(name): tuple(reversed(t.shape)) for name, t in model.state_dict().items()
                if name != "lm_head.weight"}  # tied: llama.cpp reads token_embd
    assert {name: tuple(int(n) for n in t.shape) for name, t in tensors.items()} == expected
    assert {"token_embd.weight", "output_norm.weight", "blk.3.attn_q.weight", "blk.3.ffn_down.weight",
            "blk.0.attn_norm.weight", "blk.0.ffn_norm.weight"} <= set(tensors)
    assert all(t.tensor_type == gguf.GGMLQuantizationType.F32 for t in tensors.values())
    assert {key: meta[key] for key in ("general.architecture", "llama.context_length", "llama.embedding_length",
                                       "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count",
                                       "llama.attention.head_count_kv", "llama.rope.freq_base", "llama.vocab_size",
                                       "tokenizer.ggml.model")} == {
        "general.architecture": "llama", "llama.context_length": 256, "llama.embedding_length": 256,
        "llama.block_count": 4, "llama.feed_forward_length": 640, "llama.attention.head_count": 8,
        "llama.attention.head_count_kv": 2, "llama.rope.freq_base": 10000.0, "llama.vocab_size": 4096,
        "tokenizer.ggml.model": "gpt2"}
    assert meta["llama.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-5)
    tokens = meta["tokenizer.ggml.tokens"]
    assert len(tokens) == len(set(tokens)) == 4096  # llama.cpp refuses a vocabulary with repeated tokens
    weights = model.state_dict()
    q, k = (tensors[f"blk.1.attn_{x}.weight"].data for x in "qk")
    np.testing.assert_array_equal(q, rope_interleaved(weights["model.layers.1.self_attn.q_proj.weight"].numpy(), 8))
    np.testing.assert_array_equal(k, rope_interleaved(weights["model.layers.1.self_attn.k_proj.weight"].numpy(), 2))
    np.testing.assert_array_equal(tensors["blk.1.ffn_up.weight"].data, weights["model.layers.1.mlp.up_proj.weight"])


@pytest.mark.parametrize("qtype", ["Q8_0", "Q4_0"])
def test_block_formats_keep_norms_f32(files, qtype):
    meta, tensors = fields(files[qtype])
    assert file_qtype(files[qtype]) == qtype
    kinds = {name: t.tensor_type.name for name, t in tensors.items()}
    assert {kind for name, kind in kinds.items() if name.endswith("norm.weight")} == {"F32"}
    assert {kind for name, kind in kinds.items() if not name.endswith("norm.weight")} == {qtype}


def test_untied_model_writes_its_output_matrix(tmp_path):
    _, tensors = fields(write_gguf(llama(tie_word_embeddings=False, num_hidden_layers=1), tmp_path / "m.gguf"))
    assert tuple(int(n) for n in tensors["output.weight"].shape) == (256, 4096)


def test_rope_order_turns_rotate_half_into_adjacent_pairs():
    """GGML's RoPE on the reordered projection is transformers' RoPE, reordered: the identity the writer
    relies on, checked on numbers (4 heads of 16, one position)."""
    heads, head_dim, position = 4, 16, 7
    rng = np.random.default_rng(0)
    weight, x = rng.standard_normal((heads * head_dim, 32)), rng.standard_normal(32)
    angle = position * 10000.0 ** (-np.arange(head_dim // 2) * 2 / head_dim)
    q = (weight @ x).reshape(heads, head_dim)
    half = head_dim // 2
    rotate_half = np.concatenate([-q[:, half:], q[:, :half]], axis=1)
    hf = q * np.cos(np.tile(angle, 2)) + rotate_half * np.sin(np.tile(angle, 2))
    pairs = (rope_interleaved(weight, heads) @ x).reshape(heads, half, 2)
    ggml = np.stack([pairs[..., 0] * np.cos(angle) - pairs[..., 1] * np.sin(angle),
                     pairs[..., 0] * np.sin(angle) + pairs[..., 1] * np.cos(angle)], axis=-1)
    np.testing.assert_allclose(ggml.reshape(-1), rope_interleaved(hf.reshape(-1), heads), atol=1e-12)


def test_tokenizer_is_written_as_llama_cpps_gpt2_vocabulary(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE())
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=300, special_tokens=["<|end|>"],
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(["integer only transformers on phones and boards"] * 20, trainer)
    meta, _ = fields(write_gguf(llama(num_hidden_layers=1), tmp_path / "m.gguf", tokenizer=tokenizer))
    vocab = tokenizer.get_vocab()
    tokens, kinds = meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"]
    assert len(tokens) == 4096 and all(tokens[i] == token for token, i in vocab.items())
    assert kinds[vocab["<|end|>"]] == gguf.TokenType.CONTROL and kinds[len(vocab)] == gguf.TokenType.UNUSED
    assert len(meta["tokenizer.ggml.merges"]) == len(vocab) - 1 - 256  # one merge per learnt token


def test_unknown_engine_and_mismatched_file_are_refused(files):
    with pytest.raises(ValueError, match="LM engine 'vllm'"):
        llm_peers.lm_speed("vllm", files["F32"], threads=1)
    needs_llamacpp()
    with pytest.raises(ValueError, match="runs Q4_0 GGUF files; .* is Q8_0"):
        llm_peers.lm_speed("llamacpp-q4_0", files["Q8_0"], threads=1)


def test_an_amx_build_is_refused_with_the_rebuild_command(monkeypatch):
    llama_cpp = pytest.importorskip("llama_cpp", reason="the check reads llama-cpp-python's build")
    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: b"CPU : AVX512 = 1 | AMX_INT8 = 1 |")
    with pytest.raises(MissingExtraError, match="AMX matmul.*-mno-amx-int8"):
        llm_peers.require_llamacpp()


def torch_logits(model, tokens: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0].numpy()


def test_llama_cpp_logits_match_pytorch(model, files):
    """F32: llama.cpp's logits are PyTorch's to float rounding at every position of a 32-token sequence (~1e-6
    of the largest logit here; without the RoPE reordering, 5e-2, and the first position alone still right);
    Q8_0 picks PyTorch's top token at most positions."""
    needs_llamacpp()
    tokens = llm_peers.token_ids(CONFIG["vocab_size"], 32, seed=1)
    expected = torch_logits(model, tokens)
    f32 = llm_peers.llamacpp_logits(files["F32"], tokens)
    assert np.abs(f32 - expected).max() < 1e-4 * np.abs(expected).max()
    q8 = llm_peers.llamacpp_logits(files["Q8_0"], tokens)
    assert np.mean(q8.argmax(-1) == expected.argmax(-1)) >= 0.9


@pytest.mark.parametrize("qtype", ["Q8_0", "Q4_0"])
def test_llama_cpp_runs_the_block_formats_as_written(files, qtype):
    """llama.cpp on a Q8_0 or Q4_0 file computes what PyTorch computes with the file's weights (quantized and
    dequantized by the gguf package): the loss is the weights' rounding (Q4_0 of random weights is coarse:
    cosine ~0.96 to the float model's logits), not a misread block."""
    needs_llamacpp()
    ggml_type = getattr(gguf.GGMLQuantizationType, qtype)
    rounded = llama()
    with torch.no_grad():
        for weight in rounded.parameters():
            if weight.ndim == 2:
                weight.copy_(torch.from_numpy(gguf.quants.dequantize(gguf.quants.quantize(weight.numpy(), ggml_type),
                                                                     ggml_type)))
    tokens = llm_peers.token_ids(CONFIG["vocab_size"], 32, seed=1)
    expected, got = torch_logits(rounded, tokens), llm_peers.llamacpp_logits(files[qtype], tokens)
    cosine = np.sum(got * expected, -1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(expected, axis=-1)
    assert cosine.min() > 0.999 and np.mean(got.argmax(-1) == expected.argmax(-1)) >= 0.9


@pytest.mark.parametrize("engine", ["torch-fp32", "llamacpp-q8_0"])
def test_lm_speed_reports_both_rates_and_the_childs_memory(model, engine):
    if engine != "torch-fp32":
        needs_llamacpp()
    result = llm_peers.lm_speed(engine, model, threads=1, prompt_len=16, decode_tokens=4, repeats=1)
    assert set(result) == {"prefill_tok_s", "decode_tok_s", "peak_rss_mb"}
    assert result["prefill_tok_s"] > 0 and result["decode_tok_s"] > 0
    assert 10 < result["peak_rss_mb"] < 4096
