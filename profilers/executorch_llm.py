"""ExecuTorch's own LLM path for a transformers Llama: the .pte its LLM runner takes, and its speed.

The executorch wheel carries the llama example (executorch.examples.models.llama) and the export its
`export_llm` drives (export_llama with an LlmConfig): a Transformer whose attention keeps its KV cache in
place (llama::update_cache) and calls llama::custom_sdpa, linears delegated to XNNPACK, a dynamic token
dimension (one call prefills the whole prompt), and the constant methods the runner reads (get_max_seq_len,
get_max_context_len, get_vocab_size, get_bos_id, get_eos_ids, use_kv_cache, ...). A LlamaForCausalLM goes in
by renaming its state dict to Meta's names: use_hf_rope keeps HF's rotate-half layout of q and k, so no
permutation. The llama:: kernels live in libcustom_ops_aot_lib.so, which registers them with the shared
ExecuTorch runtime only when executorch.extension.llm.custom_ops.custom_ops is imported: without it, loading
`forward` fails (OperatorMissing, 0x14), in executorch.runtime and in the runner alike.

llm_peers.executorch_speed times `forward` through executorch.runtime (the prompt in one call, then one
token per call at its input_pos), as it times every engine. (The wheel's C++ TextLLMRunner runs the same
.pte but takes text through a tokenizer file, not token ids, and its Stats count whole milliseconds.)
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from intedge.extras import require

from .peers import INT4_GROUP, quiet

# quant -> how the wheel's export makes it. "int8" is pt2e's XNNPACK dynamic config (per-channel int8 weights,
# int8 activations quantized per call): the export's own qmode "int8" (weight-only) does not lower to XNNPACK
# ('ConvertToLinearPass': "a and b must have same reduction dim, but got [s11, 256] X [64, 256]").
QUANTS = {"fp32": {}, "8da4w": {"qmode": "8da4w", "group_size": INT4_GROUP}, "int8": {"pt2e": "xnnpack_dynamic"}}

_LAYER_NAMES = {  # transformers' Llama layer -> the example Transformer's (examples/models/llama)
    "self_attn.q_proj.weight": "attention.wq.weight", "self_attn.k_proj.weight": "attention.wk.weight",
    "self_attn.v_proj.weight": "attention.wv.weight", "self_attn.o_proj.weight": "attention.wo.weight",
    "input_layernorm.weight": "attention_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "feed_forward.w1.weight", "mlp.down_proj.weight": "feed_forward.w2.weight",
    "mlp.up_proj.weight": "feed_forward.w3.weight",
}


def _meta_checkpoint(model) -> tuple[dict[str, torch.Tensor], dict]:
    """The model's weights under Meta's names and the example's params.json, for a plain Llama (the example
    has no biases nor rope scaling here: refuse those rather than export something else)."""
    cfg = model.config
    if (getattr(cfg, "attention_bias", False) or getattr(cfg, "mlp_bias", False) or cfg.hidden_act != "silu"
            or (cfg.rope_parameters or {}).get("rope_type", "default") != "default"):
        raise ValueError("executorch_llm takes a plain Llama: no biases, SiLU, unscaled RoPE")
    sd = {}
    for name, tensor in model.state_dict().items():
        if name.startswith("model.layers."):
            _, _, layer, rest = name.split(".", 3)
            sd[f"layers.{layer}.{_LAYER_NAMES[rest]}"] = tensor
        else:
            sd[{"model.embed_tokens.weight": "tok_embeddings.weight", "model.norm.weight": "norm.weight",
                "lm_head.weight": "output.weight"}[name]] = tensor
    sd.setdefault("output.weight", sd["tok_embeddings.weight"])  # tied: the example keeps its own copy
    params = dict(dim=cfg.hidden_size, n_layers=cfg.num_hidden_layers, n_heads=cfg.num_attention_heads,
                  n_kv_heads=cfg.num_key_value_heads, head_dim=cfg.head_dim, hidden_dim=cfg.intermediate_size,
                  vocab_size=cfg.vocab_size, norm_eps=cfg.rms_norm_eps, rope_theta=cfg.rope_parameters["rope_theta"],
                  use_hf_rope=True)
    return sd, params


def export_executorch_lm(model, path: Path, quant: str = "fp32", prompt_len: int = 128,
                         max_context_len: int | None = None) -> Path:
    """The model as a .pte for ExecuTorch's LLM runner at path, through the wheel's export_llama with
    XNNPACK. Prefill takes up to prompt_len tokens per call (the export bounds the token dimension by
    max_seq_len - 1); the KV cache holds max_context_len positions (default: the model's maximum)."""
    require("executorch.examples.models.llama.export_llama_lib", "peers", "ExecuTorch's LLM export")
    from executorch.examples.models.llama.export_llama_lib import export_llama
    from executorch.extension.llm.export.config.llm_config import LlmConfig, ModelType, Pt2eQuantize

    if quant not in QUANTS:
        raise ValueError(f"quant {quant!r}: expected one of {', '.join(QUANTS)}")
    path = Path(path)
    sd, params = _meta_checkpoint(model)
    with tempfile.TemporaryDirectory() as tmp, quiet():
        torch.save(sd, f"{tmp}/model.pth")
        Path(f"{tmp}/params.json").write_text(json.dumps(params))
        c = LlmConfig()
        c.base.model_class = ModelType.llama3
        c.base.checkpoint, c.base.params = f"{tmp}/model.pth", f"{tmp}/params.json"
        eos = model.config.eos_token_id
        c.base.metadata = json.dumps({"get_bos_id": model.config.bos_token_id,
                                      "get_eos_ids": eos if isinstance(eos, list) else [eos]})
        c.model.use_kv_cache = c.model.use_sdpa_with_kv_cache = True
        c.export.max_seq_length = prompt_len + 1
        c.export.max_context_length = max_context_len or model.config.max_position_embeddings
        # a name ending in .pte is used as given (relative to the cwd, not output_dir)
        c.export.output_dir, c.export.output_name = str(path.parent), str(path.resolve())
        c.backend.xnnpack.enabled = c.backend.xnnpack.extended_ops = True
        q = QUANTS[quant]
        if "pt2e" in q:
            c.quantization.pt2e_quantize = Pt2eQuantize(q["pt2e"])
        else:
            c.quantization.qmode, c.quantization.group_size = q.get("qmode"), q.get("group_size")
        export_llama(c)
    if not path.exists():  # save_pte_program logs a failed write and returns
        raise RuntimeError(f"ExecuTorch's export_llama wrote no {path}")
    return path


def _runtime(threads: int):
    """ExecuTorch's runtime with the llama:: kernels registered and both its thread pools sized. Its own
    (process-wide) pool, for XNNPACK and parallel_for, before any program loads (peers.executorch_runner:
    resizing under a loaded program crashes); and torch's: custom_sdpa's matmuls call sgemm_, which the
    wheel resolves to libtorch_cpu's BLAS and its OpenMP team. Left at torch's default (all cores) under a
    one-thread ExecuTorch pool, decode calls stalled ~190 ms at random on a busy 2-core machine."""
    torch.set_num_threads(threads)
    with quiet():
        require("executorch.extension.llm.custom_ops.custom_ops", "peers", "ExecuTorch's LLM kernels")
        from executorch.extension.pybindings import portable_lib
        from executorch.runtime import Runtime

        if portable_lib._threadpool_get_thread_count() != threads:
            portable_lib._unsafe_reset_threadpool(threads)
        return Runtime.get()


def load_forward(pte: Path, threads: int = 1):
    """The .pte's forward as a function (tokens [1, n] int64, position of tokens[0]) -> the last token's
    logits [1, vocab]. The KV cache lives in the loaded program, from one call to the next."""
    program = _runtime(threads).load_program(Path(pte))
    method = program.load_method("forward")

    def forward(tokens: torch.Tensor, pos: int, keep=program) -> torch.Tensor:  # keep: the method's program
        return method.execute([tokens, torch.tensor([pos])])[0]

    return forward
