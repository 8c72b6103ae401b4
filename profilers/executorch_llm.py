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

Timing: executorch_lm_speed calls `forward` through executorch.runtime (prefill of the prompt in one call,
then one token per call at its input_pos) with perf_counter; runner_speed reads the Stats of the wheel's
C++ TextLLMRunner, which counts in whole milliseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import statistics
import struct
import sys
import tempfile
import time
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
                         max_context_len: int | None = None, eos_ids: list[int] | None = None) -> Path:
    """The model as a .pte for ExecuTorch's LLM runner at path, through the wheel's export_llama with
    XNNPACK. Prefill takes up to prompt_len tokens per call (the export bounds the token dimension by
    max_seq_len - 1); the KV cache holds max_context_len positions (default: the model's maximum).
    eos_ids (default: the model's) are where the runner stops: [vocab_size] makes it never stop, for
    runner_speed (a random model's greedy pick can be EOS at once)."""
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
        eos = model.config.eos_token_id if eos_ids is None else eos_ids
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


def executorch_lm_speed(model, threads: int, prompt_len: int = 128, decode_tokens: int = 64, quant: str = "fp32",
                        repeats: int = 5, pte: Path | None = None) -> dict:
    """Median tokens/s over `repeats` runs of the .pte (exported here unless pte is given): prefill of
    prompt_len random token ids in one call, then decode_tokens calls of one token each. The decode ids are
    random too, not sampled, so every runtime does the same work; a new prefill at position 0 overwrites the
    cache, and custom_sdpa reads positions before input_pos only."""
    ids = torch.randint(0, model.config.vocab_size, (1, prompt_len + decode_tokens),
                        generator=torch.Generator().manual_seed(0))
    prefill, decode = [], []
    with tempfile.TemporaryDirectory() as tmp:
        forward = load_forward(pte or export_executorch_lm(model, Path(tmp) / "lm.pte", quant, prompt_len), threads)
        for _ in range(repeats + 1):  # the first run warms up (XNNPACK's first call packs weights)
            start = time.perf_counter()
            forward(ids[:, :prompt_len], 0)
            mid = time.perf_counter()
            for p in range(prompt_len, prompt_len + decode_tokens):
                forward(ids[:, p:p + 1], p)
            end = time.perf_counter()
            prefill.append(prompt_len / (mid - start))
            decode.append(decode_tokens / (end - mid))
    return dict(prefill_tok_s=statistics.median(prefill[1:]), decode_tok_s=statistics.median(decode[1:]))


def write_tokenizer(path: Path, vocab: int, bos: int = 1, eos: int = 2) -> Path:
    """A llama2.c tokenizer.bin the runner accepts for a model without one: token i is the one character
    chr(0x4E00 + i) (CJK, so no two ever merge), ids 0-3 are <unk>, <s>, </s> and the " " the encoder
    prefixes to every prompt. Header: vocab, bos, eos, max token bytes; then score, length, bytes per token."""
    assert 0x4E00 + vocab < 0xD800, "past the surrogates: no single-character tokens left"
    tokens = [b"<unk>", b"<s>", b"</s>", b" "] + [chr(0x4E00 + i).encode() for i in range(4, vocab)]
    with open(path, "wb") as f:
        f.write(struct.pack("<iiii", vocab, bos, eos, max(map(len, tokens))))
        for t in tokens:
            f.write(struct.pack("<fi", 0.0, len(t)) + t)
    return Path(path)


@contextlib.contextmanager
def _no_stdout():
    """The runner printf()s every token and its stats table: send fd 1 to /dev/null, flushing C's stdio
    buffer on the way back so none of it lands later."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def runner_speed(pte: Path, vocab: int, threads: int, prompt_len: int = 128, decode_tokens: int = 64,
                 repeats: int = 3) -> dict:
    """Median tokens/s from the Stats of the wheel's TextLLMRunner (C++ prefill and greedy decode loop),
    fed prompt_len tokens (prompt_len - 1 random characters and the encoder's " "), then decode_tokens
    forward calls (the first new token comes from the prefill). Stats count whole milliseconds: a prefill
    of a few ms reads coarse. A run that stops at an EOS raises: export with eos_ids=[vocab]."""
    _runtime(threads)
    from executorch.extension.llm.runner import GenerationConfig, TextLLMRunner

    rng = random.Random(0)
    prompt = "".join(chr(0x4E00 + rng.randrange(4, vocab)) for _ in range(prompt_len - 1))
    stats = []
    with tempfile.TemporaryDirectory() as tmp, quiet(), _no_stdout():
        runner = TextLLMRunner(str(pte), str(write_tokenizer(Path(tmp) / "tokenizer.bin", vocab)))
        config = GenerationConfig(echo=False, max_new_tokens=decode_tokens + 1, temperature=0.0)
        for _ in range(repeats + 1):
            runner.reset()
            runner.generate(prompt, config, stats_callback=stats.append)
    if short := [s.num_generated_tokens for s in stats if s.num_generated_tokens != decode_tokens]:
        raise RuntimeError(f"the runner generated {short[0]} tokens, not {decode_tokens}: an EOS id "
                           "(export_executorch_lm's eos_ids) or the context's end")
    prefill = [s.num_prompt_tokens / max(s.prompt_eval_end_ms - s.inference_start_ms, 1) * 1e3 for s in stats[1:]]
    decode = [s.num_generated_tokens / max(s.inference_end_ms - s.prompt_eval_end_ms, 1) * 1e3 for s in stats[1:]]
    return dict(prefill_tok_s=statistics.median(prefill), decode_tok_s=statistics.median(decode))
