"""A transformers LlamaForCausalLM as a GGUF file, the format llama.cpp runs, in F32, Q8_0 or Q4_0.

Written with the `gguf` package (the `peers` extra), so intedge needs no llama.cpp checkout to make its
peer's model. It follows what llama.cpp's own converter writes: the `llama` architecture's hyperparameters,
llama.cpp's tensor names, q and k's rows reordered for GGML's RoPE, and norms and other 1-D tensors kept in
F32 in the block formats. The tokenizer is metadata llama.cpp refuses to load without; the peers feed token
ids, so a placeholder serves when no tokenizer is given.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from intedge.extras import require

QTYPES = ("F32", "Q8_0", "Q4_0")
_FILE_TYPES = {"F32": "ALL_F32", "Q8_0": "MOSTLY_Q8_0", "Q4_0": "MOSTLY_Q4_0"}  # gguf.LlamaFileType's names
# transformers' names under model.layers.N → llama.cpp's under blk.N (weights and biases alike)
_BLOCK_NAMES = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
_TOP_NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
              "lm_head.weight": "output.weight"}


def gguf_name(name: str) -> str:
    """llama.cpp's name for a LlamaForCausalLM state-dict entry."""
    if name in _TOP_NAMES:
        return _TOP_NAMES[name]
    prefix, _, rest = name.partition("model.layers.")
    block, _, rest = rest.partition(".")
    module, _, kind = rest.rpartition(".")
    if prefix or not block.isdigit() or module not in _BLOCK_NAMES:
        raise ValueError(f"no llama.cpp tensor for {name!r}")
    return f"blk.{block}.{_BLOCK_NAMES[module]}.{kind}"


def rope_interleaved(rows: np.ndarray, heads: int) -> np.ndarray:
    """q_proj's or k_proj's output rows (weight or bias) reordered for GGML's RoPE.

    transformers rotates dimension i of each head with dimension i + head_dim/2 (rotate_half); GGML's RoPE
    (the mode llama.cpp's `llama` architecture uses) rotates adjacent dimensions 2i and 2i+1, with the same
    frequency for pair i. Putting row i + head_dim/2 right after row i in each head makes GGML rotate the
    pairs transformers rotates; q and k get the same order, so their dot products, and attention, are the
    same. k is reordered within its own (key-value) heads.
    """
    head_dim = rows.shape[0] // heads
    order = np.arange(head_dim).reshape(2, head_dim // 2).T.ravel()  # 0, h/2, 1, h/2 + 1, ...
    return rows.reshape(heads, head_dim, *rows.shape[1:])[:, order].reshape(rows.shape)


def _stored(gguf, data: np.ndarray, qtype: str):
    """The tensor's bytes and GGML type. As llama.cpp's converter does, 1-D tensors (norms, biases) stay F32,
    and so does a matrix whose rows are not whole blocks (the converter falls back to F16 there; F32 is the
    exact choice)."""
    ggml_type = getattr(gguf.GGMLQuantizationType, qtype)
    block, _ = gguf.GGML_QUANT_SIZES[ggml_type]
    if qtype == "F32" or data.ndim < 2 or data.shape[-1] % block:
        return data, gguf.GGMLQuantizationType.F32
    return gguf.quants.quantize(data, ggml_type), ggml_type


def _placeholder_vocabulary(vocab_size: int) -> tuple[list[str], list[str]]:
    """A byte-level BPE vocabulary of vocab_size tokens, for a model whose tokenizer is not at hand: GPT-2's
    256 byte tokens, then two-byte tokens, each with its merge (llama.cpp's gpt2 tokenizer needs merges, and
    the gguf package writes no empty array), then unused fillers past 256 + 256² tokens."""
    if vocab_size < 256:
        raise ValueError(f"a placeholder byte vocabulary needs vocab_size >= 256, not {vocab_size}")
    printable = {*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)}
    shifted = iter(range(256, 512))  # GPT-2's byte-level alphabet: unprintable bytes map above U+00FF
    byte_tokens = [chr(b) if b in printable else chr(next(shifted)) for b in range(256)]
    pairs = list(itertools.islice(itertools.product(byte_tokens, repeat=2), vocab_size - 256))
    fillers = [f"[PAD{k}]" for k in range(256 + len(pairs), vocab_size)]
    return byte_tokens + [a + b for a, b in pairs] + fillers, [f"{a} {b}" for a, b in pairs]


def _add_tokenizer(writer, gguf, vocab_size: int, tokenizer) -> None:
    """llama.cpp's gpt2 (byte-level BPE) tokenizer metadata: from a `tokenizers.Tokenizer` of that kind, its
    vocabulary padded with unused tokens to vocab_size as llama.cpp's converter pads, or a placeholder."""
    types = gguf.TokenType
    if tokenizer is None:
        tokens, merges = _placeholder_vocabulary(vocab_size)
        kinds = [types.UNUSED if t.startswith("[PAD") else types.NORMAL for t in tokens]
    else:
        spec = json.loads(tokenizer.to_str())
        if spec["model"]["type"] != "BPE":
            raise ValueError(f"llama.cpp's gpt2 tokenizer is BPE; this tokenizer is {spec['model']['type']}")
        merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
        by_id = {i: t for t, i in tokenizer.get_vocab(with_added_tokens=True).items()}
        added = {t["id"]: t["special"] for t in spec["added_tokens"]}
        tokens = [by_id.get(i, f"[PAD{i}]") for i in range(vocab_size)]
        kinds = [types.UNUSED if i not in by_id else types.NORMAL if i not in added
                 else types.CONTROL if added[i] else types.USER_DEFINED for i in range(vocab_size)]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(kinds)
    writer.add_token_merges(merges)


def write_gguf(model, path: str | Path, qtype: str = "F32", tokenizer=None) -> Path:
    """model (a transformers LlamaForCausalLM) as a GGUF file at path, its matrices in qtype (one of QTYPES);
    tokenizer: its `tokenizers.Tokenizer` (byte-level BPE), or None for a placeholder vocabulary."""
    gguf = require("gguf", "peers", "the GGUF writer")
    if qtype not in QTYPES:
        raise ValueError(f"GGUF type {qtype!r}: expected one of {', '.join(QTYPES)}")
    config = model.config
    rope = config.rope_parameters
    if rope.get("rope_type", "default") != "default":
        raise ValueError(f"RoPE scaling {rope['rope_type']!r} is not written; only plain RoPE is")
    if config.hidden_act != "silu":
        raise ValueError(f"llama.cpp's llama architecture uses SiLU, not {config.hidden_act!r}")
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(rope["rope_theta"]))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(gguf.LlamaFileType[_FILE_TYPES[qtype]])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_tokenizer(writer, gguf, config.vocab_size, tokenizer)

    heads = {"q_proj": config.num_attention_heads, "k_proj": config.num_key_value_heads}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and config.tie_word_embeddings:
            continue  # llama.cpp reads token_embd for the output when there is no output tensor
        data = tensor.detach().float().cpu().numpy()
        projection = name.rsplit(".", 2)[-2]
        if projection in heads:
            data = rope_interleaved(data, heads[projection])
        stored, ggml_type = _stored(gguf, data, qtype)
        writer.add_tensor(gguf_name(name), stored, raw_dtype=ggml_type)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)


def file_qtype(path: str | Path) -> str:
    """The QTYPES entry a GGUF file says it was written in (general.file_type), or its LlamaFileType name."""
    gguf = require("gguf", "peers", "the GGUF reader")
    name = gguf.LlamaFileType(gguf.GGUFReader(str(path)).fields["general.file_type"].contents()).name
    return next((qtype for qtype, file_type in _FILE_TYPES.items() if file_type == name), name)
