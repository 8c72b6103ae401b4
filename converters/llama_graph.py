"""A Llama-style decoder as an integer graph: prefill and decode are the same graph.

Inputs: `tokens` int32 [S] and `positions` int32 [S] (consecutive, the
first one the number of tokens the caches already hold), S from 1 to the
context length (the graph's dynamic dimension). Output: `logits` float32
[S, V] (logits="all", for scoring text), or with logits="last" the logits
[1, V] of the row an extra input `last` int32 [1] names (S − 1 when
generating): a prefill then skips the output layer for every other
token, as a generation needs only the next token's. Each layer keeps its K and V in two int8 state tensors
[Hkv, T, D], so a prompt is prefilled in one run and each decode step is a
run of one token (intedge/generate.py drives it).

    h  = gather(embedding int16, tokens)                          int16 residual
    per layer:
      a  = rmsnorm(h)                                             ilayernorm rms
      q, k, v = qlinear(a) head by head; q, k = rope(q, k)
      h  = qadd(h, qlinear(cached_attention(q, k, v), o_proj))
      b  = rmsnorm(h)
      h  = qadd(h, qlinear(swiglu(qlinear(b) gate, qlinear(b) up), down))
    logits = dequantize(qlinear(rmsnorm(h), lm_head) int16)

The float model arrives as `DecoderWeights` (numpy arrays under
`transformers`' LlamaForCausalLM parameter names) and one scale per
activation (`scales`, from calibration: converters/llama_convert.py), so
this module needs no torch. Scales are per tensor; weights per output
channel (W8) or per group of 32 (W4, with GPTQ's or round-to-nearest's
integers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from intedge import integer_ops as iops
from intedge.integer_ops.shiftmax import OUT_SCALE as SHIFTMAX_OUT_SCALE
from intedge.ir import Graph

INT16_MAX = 32767


@dataclass(frozen=True)
class DecoderShape:
    vocab: int
    dim: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    context: int  # T: the caches' rows, and the most tokens one run takes
    rope_theta: float

    @classmethod
    def of(cls, config, context: int | None = None) -> DecoderShape:
        """From a transformers LlamaConfig (context: at most its max_position_embeddings). A Llama whose RoPE
        is scaled (Llama 3.1's "llama3", "linear", "dynamic", ...) or whose MLP is not SiLU-gated is refused:
        the integer tables cover plain RoPE and SiLU only."""
        from .errors import UnsupportedOpError

        rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
        if rope.get("rope_type", rope.get("type", "default")) != "default":
            raise UnsupportedOpError(f"RoPE scaling {rope.get('rope_type', rope.get('type'))!r} is not supported "
                                     "(plain RoPE only: rope_type 'default')")
        if getattr(config, "hidden_act", "silu") != "silu":
            raise UnsupportedOpError(f"hidden_act {config.hidden_act!r}: the integer SwiGLU is SiLU-gated only")
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        theta = rope.get("rope_theta", getattr(config, "rope_theta", 1e4))
        return cls(config.vocab_size, config.hidden_size, config.num_hidden_layers, config.num_attention_heads,
                   config.num_key_value_heads, head_dim, config.intermediate_size,
                   context or config.max_position_embeddings, float(theta))


def layer_key(layer: int, name: str) -> str:
    return f"model.layers.{layer}.{name}"


class _Builder:
    def __init__(self, shape: DecoderShape, weights: dict, scales: dict, weight_bits: str, quantize_linear,
                 logits: str):
        self.shape, self.w, self.scales, self.bits, self.logits = shape, weights, scales, weight_bits, logits
        self.quantize_linear = quantize_linear
        self.g = Graph(name="llama-decoder", dynamic=("tokens", shape.context))

    def tensor(self, name: str, dtype: str, shape, scale: float, dynamic_axis: int | None = None) -> int:
        tid = self.g.add_tensor(name, dtype, shape, scale)
        if dynamic_axis is not None:
            self.g.tensors[tid].dynamic_axes = (dynamic_axis,)
        return tid

    def linear(self, x: int, key: str, scale_out: float, out_dtype: str = "int8", heads: int = 0,
               weight_key: str | None = None, rows: int | None = None) -> int:
        g, t, s = self.g, self.shape.context, self.shape
        w = np.asarray(self.w[(weight_key or key) + ".weight"], np.float64)
        n = w.shape[0]
        s_in = g.tensors[x].scale
        q, s_w, group_scales = self.quantize_linear(weight_key or key, w)
        wid = g.add_constant(key + ".weight", q, "int4" if group_scales is not None else "int8")
        bias = self.w.get((weight_key or key) + ".bias")
        if bias is None or weight_key:  # a tied head has the embedding's weight and no bias of its own
            inputs = [x, wid, -1]
        else:  # attention_bias / mlp_bias: int32 at the accumulator's scale, s_in · s_w per channel
            q_bias = np.rint(np.asarray(bias, np.float64) / (s_in * np.asarray(s_w, np.float64)))
            inputs = [x, wid, g.add_constant(key + ".bias", np.clip(q_bias, -2**30, 2**30).astype(np.int32))]
        options = {}
        if group_scales is not None:
            inputs.append(g.add_constant(key + ".group_scales", group_scales, "int8"))
            options["group_size"] = q.shape[1] // group_scales.shape[1]
        ms, ss = zip(*(iops.dyadic(float(s_in * sw / scale_out)) for sw in s_w))
        if heads:
            y = self.tensor(key, out_dtype, (heads, t, s.head_dim), scale_out, 1)
            options["head_dim"] = s.head_dim
        else:
            rows = t if rows is None else rows
            y = self.tensor(key, out_dtype, (rows, n), scale_out, 0 if rows == t else None)
        g.add_op("qlinear", inputs, [y], name=key, multiplier=ms, shift=ss, **options)
        return y

    def rmsnorm(self, x: int, key: str, scale_out: float) -> int:
        params = iops.ilayernorm_params(self.w[key + ".weight"], np.zeros(self.shape.dim), scale_out)
        y = self.tensor(key, "int8", (self.shape.context, self.shape.dim), scale_out, 0)
        self.g.add_op("ilayernorm", [x], [y], name=key, rms=True, multiplier=params["multiplier"], bias=params["bias"],
                      shift=[params["shift"]])
        return y

    def residual_add(self, h: int, x: int, name: str, scale_out: float) -> int:
        g = self.g
        (ma, mb), sh = iops.dyadic_shared([g.tensors[h].scale / scale_out, g.tensors[x].scale / scale_out])
        y = self.tensor(name, "int16", g.tensors[h].shape, scale_out, 0)
        g.add_op("qadd", [h, x], [y], name=name, multiplier_a=ma, multiplier_b=mb, shift=sh)
        return y

    def attention(self, layer: int, a: int, positions: int, rope: tuple[int, int]) -> int:
        g, s, sc, t = self.g, self.shape, self.scales, self.shape.context
        key = layer_key(layer, "self_attn")
        q = self.linear(a, f"{key}.q_proj", sc[f"{key}.q_proj"], heads=s.heads)
        k = self.linear(a, f"{key}.k_proj", sc[f"{key}.k_proj"], heads=s.kv_heads)
        v = self.linear(a, f"{key}.v_proj", sc[f"{key}.v_proj"], heads=s.kv_heads)
        rotated = []
        for x, what in ((q, "q_rope"), (k, "k_rope")):
            y = self.tensor(f"{key}.{what}", "int8", g.tensors[x].shape, g.tensors[x].scale, 1)
            g.add_op("rope", [x, positions, *rope], [y], name=f"{key}.{what}")
            rotated.append(y)
        k_cache = g.add_state(f"{key}.k_cache", "int8", (s.kv_heads, t, s.head_dim), g.tensors[k].scale)
        v_cache = g.add_state(f"{key}.v_cache", "int8", (s.kv_heads, t, s.head_dim), g.tensors[v].scale)
        s_out = sc[f"{key}.attention"]
        scores = iops.shiftmax_params(g.tensors[q].scale * g.tensors[k].scale / math.sqrt(s.head_dim))
        m_o, s_o = iops.dyadic(SHIFTMAX_OUT_SCALE * g.tensors[v].scale / s_out)
        y = self.tensor(f"{key}.attention", "int8", (t, s.heads * s.head_dim), s_out, 0)
        g.add_op("cached_attention", [*rotated, v, positions, k_cache, v_cache], [y], name=f"{key}.attention",
                 multiplier=scores["multiplier"], shift=scores["shift"], out_multiplier=m_o, out_shift=s_o)
        return self.linear(y, f"{key}.o_proj", sc[f"{key}.o_proj"])

    def mlp(self, layer: int, b: int) -> int:
        g, sc = self.g, self.scales
        key = layer_key(layer, "mlp")
        gate = self.linear(b, f"{key}.gate_proj", sc[f"{key}.gate_proj"])
        up = self.linear(b, f"{key}.up_proj", sc[f"{key}.up_proj"])
        table, s_table = iops.silu_table(g.tensors[gate].scale)
        s_act = sc[f"{key}.act"]
        m, sh = iops.dyadic(s_table * g.tensors[up].scale / s_act)
        act = self.tensor(f"{key}.act", "int8", g.tensors[gate].shape, s_act, 0)
        g.add_op("swiglu", [gate, up, g.add_constant(f"{key}.silu_table", table, "int16")], [act], name=f"{key}.act",
                 multiplier=m, shift=sh)
        return self.linear(act, f"{key}.down_proj", sc[f"{key}.down_proj"])

    def build(self) -> Graph:
        g, s, sc, t = self.g, self.shape, self.scales, self.shape.context
        tokens = self.tensor("tokens", "int32", (t,), 0.0, 0)
        positions = self.tensor("positions", "int32", (t,), 0.0, 0)
        g.inputs = [tokens, positions]
        s_res = sc["model.embed_tokens"]
        table = np.clip(np.rint(np.asarray(self.w["model.embed_tokens.weight"]) / s_res), -INT16_MAX, INT16_MAX)
        emb = g.add_constant("model.embed_tokens.weight", table.astype(np.int16), "int16", s_res)
        h = self.tensor("model.embed_tokens", "int16", (t, s.dim), s_res, 0)
        g.add_op("gather", [emb, tokens], [h], name="model.embed_tokens")
        cos, sin = iops.rope_tables(s.head_dim, t, s.rope_theta)
        rope = (g.add_constant("rope.cos", cos, "int16"), g.add_constant("rope.sin", sin, "int16"))
        for layer in range(s.layers):
            a = self.rmsnorm(h, layer_key(layer, "input_layernorm"), sc[layer_key(layer, "input_layernorm")])
            h = self.residual_add(h, self.attention(layer, a, positions, rope), layer_key(layer, "attn_residual"),
                                  sc[layer_key(layer, "attn_residual")])
            key = layer_key(layer, "post_attention_layernorm")
            b = self.rmsnorm(h, key, sc[key])
            h = self.residual_add(h, self.mlp(layer, b), layer_key(layer, "mlp_residual"),
                                  sc[layer_key(layer, "mlp_residual")])
        f = self.rmsnorm(h, "model.norm", sc["model.norm"])
        rows = t
        if self.logits == "last":
            last = self.tensor("last", "int32", (1,), 0.0)
            g.inputs.append(last)
            picked = self.tensor("model.norm.last", "int8", (1, s.dim), g.tensors[f].scale)
            g.add_op("gather", [f, last], [picked], name="model.norm.last")
            f, rows = picked, 1
        tied = "lm_head.weight" not in self.w  # tie_word_embeddings: the head is the embedding, quantized apart
        logits_q = self.linear(f, "lm_head", sc["lm_head"], out_dtype="int16",
                               weight_key="model.embed_tokens" if tied else None, rows=rows)
        logits = self.tensor("logits", "float32", (rows, s.vocab), 0.0, 0 if rows == t else None)
        g.add_op("dequantize", [logits_q], [logits], name="logits", scale=sc["lm_head"])
        g.outputs = [logits]
        g.metadata.update({"intedge.kind": "decoder", "weights": self.bits, "context": str(t), "logits": self.logits})
        return g.validate()


def quantize_rtn(weight_bits: str, group_size: int = 32):
    """The plain weight quantizer for lower(): W8 per output channel, W4 in groups (round to nearest); a layer
    whose K is not a multiple of the group size stays W8."""
    def quantize(key: str, w: np.ndarray):
        if weight_bits == "w8" or w.shape[1] % group_size:
            q, s_w = iops.quantize_per_channel(w)
            return q, s_w, None
        q4, gs, s_c = iops.quantize_int4_grouped(w, group_size)
        return q4, s_c, gs
    return quantize


def lower(shape: DecoderShape, weights: dict, scales: dict, weight_bits: str = "w8", quantize_linear=None,
          logits: str = "all") -> Graph:
    """The integer decoder graph. weights: float arrays by LlamaForCausalLM parameter name; scales: one per
    activation (calibration's); quantize_linear(key, w) → (int weights, per-channel scales, group scales or
    None), default quantize_rtn(weight_bits); logits: "all" rows or the "last" (see the module's docstring)."""
    if weight_bits not in ("w8", "w4"):
        raise ValueError(f"weights must be 'w8' or 'w4', got {weight_bits!r}")
    if logits not in ("all", "last"):
        raise ValueError(f"logits must be 'all' or 'last', got {logits!r}")
    quantize_linear = quantize_linear or quantize_rtn(weight_bits)
    return _Builder(shape, weights, scales, weight_bits, quantize_linear, logits).build()
