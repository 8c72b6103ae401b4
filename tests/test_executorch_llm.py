"""ExecuTorch's LLM path (profilers/executorch_llm.py) on a tiny random Llama: the fp32 .pte follows
transformers' logits through a prefill and decode steps, and llm_peers times it."""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
for module in ("executorch.examples.models.llama.export_llama_lib", "executorch.extension.llm.custom_ops",
               "executorch.extension.llm.runner"):
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package missing
        found = False
    if not found:
        pytest.skip(f"the executorch wheel here has no {module} (ExecuTorch's LLM export and runner)",
                    allow_module_level=True)

from intedge.profilers import executorch_llm, llm_peers  # noqa: E402


@pytest.fixture
def torch_threads():
    """The timers size torch's thread pool (custom_sdpa's BLAS runs in it): give the session its own back."""
    saved = torch.get_num_threads()
    yield
    torch.set_num_threads(saved)


def test_fp32_pte_follows_transformers_and_is_timed(tmp_path, torch_threads):
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=256, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, head_dim=16, intermediate_size=128,
                                   max_position_embeddings=32, tie_word_embeddings=True)
    model = transformers.LlamaForCausalLM(cfg).eval()
    pte = executorch_llm.export_executorch_lm(model, tmp_path / "lm.pte", prompt_len=8)
    ids = torch.randint(0, 256, (1, 12))
    with torch.no_grad():
        ref = model(ids).logits[0]
    forward = executorch_llm.load_forward(pte)
    got = [forward(ids[:, :8], 0)[0]] + [forward(ids[:, p:p + 1], p)[0] for p in range(8, 12)]
    torch.testing.assert_close(torch.stack(got), ref[7:], atol=1e-4, rtol=1e-4)

    speed = llm_peers.executorch_speed(pte, 1, prompt_len=8, decode_tokens=4, repeats=1)
    assert speed["prefill_tok_s"] > 0 and speed["decode_tok_s"] > 0


def test_rejects_what_the_example_cannot_express(tmp_path):
    cfg = transformers.LlamaConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                   intermediate_size=64, attention_bias=True)
    with pytest.raises(ValueError, match="plain Llama"):
        executorch_llm.export_executorch_lm(transformers.LlamaForCausalLM(cfg), tmp_path / "lm.pte")
