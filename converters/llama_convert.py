"""Convert a LlamaForCausalLM (any `transformers` Llama: the zoo's or a user's) to an integer decoder graph.

One float pass over calibration windows records, with forward hooks, each
activation's largest magnitude (the scales llama_graph.lower takes: int8
for the normed inputs, projections and attention, int16 for the residual
stream, the embedding and the logits) and, for W4 with GPTQ, Σ xᵀx of each
linear layer's input. Q and K are measured after RoPE as well as before it:
the rotation keeps their scale, and a rotated element can exceed the
unrotated ones by up to √2.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from intedge import integer_ops as iops

from .gptq import gptq_int4
from .gptq import gram as gram_of
from .llama_graph import INT16_MAX, DecoderShape, layer_key, lower, quantize_rtn

INT8_MAX = 127
GROUP_SIZE = 32
INT16_POINTS = ("model.embed_tokens", "lm_head", "attn_residual", "mlp_residual")


def weights_of(model) -> dict[str, np.ndarray]:
    return {k: v.detach().double().numpy() for k, v in model.state_dict().items()}


def _rotate(x: np.ndarray, theta: float) -> np.ndarray:
    """Float RoPE (rotate-half) of x [B, T, H, D] at positions 0 … T−1."""
    d = x.shape[-1]
    inv = theta ** (-np.arange(0, d, 2) / d)
    ang = np.arange(x.shape[1])[:, None] * inv[None, :]
    c, s = np.cos(ang)[None, :, None, :], np.sin(ang)[None, :, None, :]
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], -1)


class _Recorder:
    """Forward hooks that keep each point's running max |x| and, for GPTQ, each linear input's Σ xᵀx."""

    def __init__(self, model, shape: DecoderShape, grams: bool):
        self.shape, self.absmax, self.grams = shape, {}, {} if grams else None
        self.handles = []
        m = model.model
        self.out(m.embed_tokens, "model.embed_tokens")
        for layer, block in enumerate(m.layers):
            attn, mlp = block.self_attn, block.mlp
            key = layer_key(layer, "self_attn")
            self.out(block.input_layernorm, layer_key(layer, "input_layernorm"))
            self.out(block.post_attention_layernorm, layer_key(layer, "post_attention_layernorm"))
            for proj in ("q_proj", "k_proj"):
                self.out(getattr(attn, proj), f"{key}.{proj}", heads=True)
            self.out(attn.v_proj, f"{key}.v_proj")
            self.out(attn.o_proj, f"{key}.o_proj")
            self.inp(attn.o_proj, f"{key}.attention")
            self.inp(attn.q_proj, f"{key}.qkv_input")
            for proj in ("gate_proj", "up_proj", "down_proj"):
                self.out(getattr(mlp, proj), layer_key(layer, f"mlp.{proj}"))
            self.inp(mlp.gate_proj, layer_key(layer, "mlp.gate_input"))
            self.inp(mlp.down_proj, layer_key(layer, "mlp.act"))
            # the stream after each residual add: what the next norm reads
            self.inp(block.post_attention_layernorm, layer_key(layer, "attn_residual"), gram=False)
            self.handles.append(block.register_forward_hook(self._layer_output(layer)))
        self.out(m.norm, "model.norm")
        self.out(model.lm_head, "lm_head")
        self.inp(model.lm_head, "lm_head_input")

    def note(self, key: str, x: np.ndarray) -> None:
        self.absmax[key] = max(self.absmax.get(key, 0.0), float(np.abs(x).max()))

    def out(self, module, key: str, heads: bool = False):
        def hook(_m, _args, y):
            y = y.detach().double().numpy()
            self.note(key, y)
            if heads:  # also after RoPE
                b, t, n = y.shape
                self.note(key, _rotate(y.reshape(b, t, n // self.shape.head_dim, -1), self.shape.rope_theta))
        self.handles.append(module.register_forward_hook(hook))

    def inp(self, module, key: str, gram: bool = True):
        def hook(_m, args):
            x = args[0].detach().double().numpy()
            self.note(key, x)
            if gram and self.grams is not None:
                self.grams[key] = self.grams.get(key, 0) + gram_of(x)
        self.handles.append(module.register_forward_pre_hook(hook))

    def _layer_output(self, layer: int):
        def hook(_block, _args, out):
            self.note(layer_key(layer, "mlp_residual"), (out[0] if isinstance(out, tuple) else out).detach().numpy())
        return hook

    def close(self):
        for h in self.handles:
            h.remove()


def calibrate(model, windows: list[np.ndarray], shape: DecoderShape, grams: bool = False, progress: bool = True):
    """(scales by point, Σ xᵀx by linear input or None) from the float model on token windows [T] each."""
    rec = _Recorder(model, shape, grams)
    try:
        with torch.no_grad():
            for w in tqdm(windows, desc="calibrating", disable=not progress):
                model(torch.from_numpy(np.asarray(w, np.int64))[None])
    finally:
        rec.close()
    scales = {}
    for key, peak in rec.absmax.items():
        wide = any(key.endswith(p) for p in INT16_POINTS)
        scales[key] = max(peak, 1e-8) / (INT16_MAX if wide else INT8_MAX)
    return scales, rec.grams


def _gptq_quantizer(weights: dict, grams: dict, layers: int, tied: bool, group_size: int):
    """W4 weights rounded by GPTQ with each linear's input statistics (round to nearest where none)."""
    inputs = {"lm_head": "lm_head_input"}
    for layer in range(layers):
        attn, mlp = layer_key(layer, "self_attn"), layer_key(layer, "mlp")
        inputs |= {f"{attn}.{p}": f"{attn}.qkv_input" for p in ("q_proj", "k_proj", "v_proj")}
        inputs |= {f"{attn}.o_proj": f"{attn}.attention", f"{mlp}.gate_proj": f"{mlp}.gate_input",
                   f"{mlp}.up_proj": f"{mlp}.gate_input", f"{mlp}.down_proj": f"{mlp}.act"}
    rtn = quantize_rtn("w4", group_size)

    def quantize(key: str, w: np.ndarray):
        gram_key = inputs.get("lm_head" if key == "model.embed_tokens" and tied else key)
        if gram_key not in grams or w.shape[1] % group_size:
            return rtn(key, w)
        w2, g, s_c = gptq_int4(w, grams[gram_key], group_size)
        return iops.quantize_int4_with_scales(w2, g, s_c), s_c, g
    return quantize


def convert_llama(model, windows: list[np.ndarray], weights: str = "w8", context: int | None = None,
                  gptq: bool = True, progress: bool = True, logits: str = "all", group_size: int = GROUP_SIZE):
    """The integer decoder graph of a LlamaForCausalLM, calibrated on token windows (int arrays); logits: "all"
    positions' (scoring) or the "last" one's (generating; llama_graph.py). W4: int4 in groups of group_size
    (32, 64 or 128) where a layer's K is a multiple of it, else W8."""
    if weights not in ("w8", "w4"):
        raise ValueError(f"weights must be 'w8' or 'w4', got {weights!r}")
    if group_size not in (32, 64, 128):
        raise ValueError(f"group size must be 32, 64 or 128 for a language model, got {group_size}")
    shape = DecoderShape.of(model.config, context)
    model = model.eval()
    use_gptq = weights == "w4" and gptq
    scales, grams = calibrate(model, windows, shape, grams=use_gptq, progress=progress)
    w = weights_of(model)
    tied = "lm_head.weight" not in w or bool(getattr(model.config, "tie_word_embeddings", False))
    if tied:
        w.pop("lm_head.weight", None)
    quantize = (_gptq_quantizer(w, grams, shape.layers, tied, group_size) if use_gptq
                else quantize_rtn(weights, group_size))
    return lower(shape, w, scales, weights, quantize_linear=quantize, logits=logits)
