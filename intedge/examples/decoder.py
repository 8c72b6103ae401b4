"""A small Llama-shaped integer decoder with every decoder op: RMSNorm (ilayernorm rms), RoPE,
cached grouped-query attention over int8 KV caches (state tensors), SwiGLU, W8 and W4 weights.

Random but seeded weights, scales fixed by hand (not calibrated: what the
tests check is that every executor computes the same integers, run after
run, prefill or decode). The committed fixture tests/fixtures/decoder.ieg
is exactly what this builds (python -m intedge.examples.decoder rewrites it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intedge.converters.llama_graph import DecoderShape, layer_key, lower, quantize_rtn

SHAPE = DecoderShape(vocab=64, dim=64, layers=2, heads=4, kv_heads=2, head_dim=16, ffn=96, context=24, rope_theta=1e4)
FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "decoder.ieg"


def random_weights(shape: DecoderShape, seed: int = 0) -> dict[str, np.ndarray]:
    """LlamaForCausalLM-named float weights, tied head."""
    rng = np.random.default_rng(seed)
    s = shape

    def linear(n, k):
        return rng.normal(0, 1 / np.sqrt(k), (n, k))

    w = {"model.embed_tokens.weight": rng.normal(0, 1, (s.vocab, s.dim)), "model.norm.weight": rng.uniform(0.5, 1.5, s.dim)}
    for layer in range(s.layers):
        attn, mlp = layer_key(layer, "self_attn"), layer_key(layer, "mlp")
        w |= {f"{attn}.q_proj.weight": linear(s.heads * s.head_dim, s.dim),
              f"{attn}.k_proj.weight": linear(s.kv_heads * s.head_dim, s.dim),
              f"{attn}.v_proj.weight": linear(s.kv_heads * s.head_dim, s.dim),
              f"{attn}.o_proj.weight": linear(s.dim, s.heads * s.head_dim),
              f"{mlp}.gate_proj.weight": linear(s.ffn, s.dim), f"{mlp}.up_proj.weight": linear(s.ffn, s.dim),
              f"{mlp}.down_proj.weight": linear(s.dim, s.ffn),
              layer_key(layer, "input_layernorm.weight"): rng.uniform(0.5, 1.5, s.dim),
              layer_key(layer, "post_attention_layernorm.weight"): rng.uniform(0.5, 1.5, s.dim)}
    return w


def hand_scales(shape: DecoderShape) -> dict[str, float]:
    """Per-tensor scales of about the right size for random_weights (unit-variance activations)."""
    scales = {"model.embed_tokens": 4 / 32767, "model.norm": 4 / 127, "lm_head": 64 / 32767}
    for layer in range(shape.layers):
        attn, mlp = layer_key(layer, "self_attn"), layer_key(layer, "mlp")
        scales |= {layer_key(layer, "input_layernorm"): 4 / 127, layer_key(layer, "post_attention_layernorm"): 4 / 127,
                   f"{attn}.q_proj": 4 / 127, f"{attn}.k_proj": 4 / 127, f"{attn}.v_proj": 4 / 127,
                   f"{attn}.attention": 3 / 127, f"{attn}.o_proj": 4 / 127, f"{mlp}.gate_proj": 4 / 127,
                   f"{mlp}.up_proj": 4 / 127, f"{mlp}.act": 6 / 127, f"{mlp}.down_proj": 6 / 127,
                   layer_key(layer, "attn_residual"): 8 / 32767, layer_key(layer, "mlp_residual"): 12 / 32767}
    return scales


def build(shape: DecoderShape = SHAPE):
    """Layer 0 with W8 weights, the others W4 (groups of 32, round to nearest)."""
    w8, w4 = quantize_rtn("w8"), quantize_rtn("w4")

    def quantize(key, w):
        return (w8 if key.startswith("model.layers.0.") else w4)(key, w)

    return lower(shape, random_weights(shape), hand_scales(shape), "w4", quantize_linear=quantize)


if __name__ == "__main__":
    build().save(FIXTURE)
    print(f"wrote {FIXTURE}")
