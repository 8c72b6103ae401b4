"""Capture: torch.export's ATen graph → the float graph of transformer building blocks.

Each ATen node becomes one of four things:
* a constant, when it depends only on parameters and literals (folded here:
  class-token expands, position-id slices, weight transposes, causal masks);
* a mask expression, when it depends on an integer input that is not used as
  token ids (HF's attention-mask plumbing); it is checked by probing, then
  absorbed into the Softmax it masks or the masked sum it weights;
* part of a pointwise region (pointwise.py): an elementwise function of one
  activation, emitted as one node where something else uses it;
* a float-graph node (float_graph.KINDS) over activations, or over integer
  values computed from token ids (RoBERTa's position ids), which stay integer.
Anything else is an UnsupportedOpError naming the op and the line of the
user's model it came from: nothing falls back to float.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import math
import operator
import os
import re
from dataclasses import dataclass

import torch

from . import pointwise
from .errors import CaptureError, UnsupportedOpError
from .float_graph import FloatGraph, FNode, GraphInput
from .pointwise import Pointwise
from .simplify import fold_transpose_pairs

aten = torch.ops.aten
_TORCH_DIR = os.path.dirname(torch.__file__)
_IDENTITY = {aten.contiguous.default, aten.clone.default, aten.dropout.default, aten.alias.default,
             aten.detach.default, aten.lift_fresh_copy.default, aten.feature_dropout.default}
_IGNORED = {aten._assert_tensor_metadata.default, aten.sym_size.int}
_SDPA = aten.scaled_dot_product_attention.default
MASK_DROP = -1e4  # an additive attention mask at or below this drops the key (HF uses finfo.min, Swin −100: a bias)


@dataclass
class _Mask:
    """A value computed from a mask input; probe(m) evaluates it for a given mask."""
    node: torch.fx.Node
    input: str


@dataclass
class _Masked:
    """An activation paired with a mask expression, waiting for the op that absorbs it."""
    act: str
    mask: _Mask
    how: str  # "add" (before softmax) or "mul" (before a sum)


def source_line(node: torch.fx.Node) -> str:
    """The innermost frame of node's stack trace outside torch itself: file:line: code."""
    trace = node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in \S+\n\s*(.*)', trace)
    for path, line, code in reversed(frames):
        if not path.startswith(_TORCH_DIR):
            return f"{path}:{line}: {code.strip()}"
    return f"{frames[-1][0]}:{frames[-1][1]}: {frames[-1][2].strip()}" if frames else "(no source line recorded)"


@contextlib.contextmanager
def _muted(logger: str):
    log = logging.getLogger(logger)
    disabled, log.disabled = log.disabled, True
    try:
        yield
    finally:
        log.disabled = disabled


def capture(model: torch.nn.Module, example_inputs: tuple) -> FloatGraph:
    """The float graph of `model` at the shapes of `example_inputs` (a tuple of tensors)."""
    if not isinstance(example_inputs, tuple):
        example_inputs = (example_inputs,)
    for k, x in enumerate(example_inputs):
        if not isinstance(x, torch.Tensor):
            raise CaptureError(f"example input {k} is a {type(x).__name__}, not a torch.Tensor")
        if x.is_floating_point() and not torch.isfinite(x).all():
            raise CaptureError(f"example input {k} contains NaN or Inf")
    try:
        with _muted("torch._subclasses.fake_tensor"):  # it logs a traceback of what the CaptureError says
            ep = torch.export.export(model.eval(), example_inputs)
    except Exception as e:  # noqa: BLE001 - export raises many kinds; the user needs its message
        raise CaptureError(f"torch.export could not capture the model: {type(e).__name__}: {e}") from e
    return fold_transpose_pairs(_Translator(ep).run())


class _Translator:
    def __init__(self, ep: torch.export.ExportedProgram):
        self.ep = ep
        self.graph = FloatGraph(inputs=[], consts={}, nodes=[], outputs=[])
        self.env: dict[torch.fx.Node, object] = {}  # node → torch.Tensor (const) | str (act) | _Mask | _Masked | list
        self.names = itertools.count()
        self.param_names: dict[torch.fx.Node, str] = {}  # placeholder → the model's parameter name
        self.materialized: dict[torch.fx.Node, str] = {}  # a pointwise region's last node → its emitted value

    # --- values -----------------------------------------------------------------------------------

    def _const_name(self, hint: str) -> str:
        name = hint
        while name in self.graph.consts:
            name = f"{hint}_{next(self.names)}"
        return name

    def _add_const(self, tensor: torch.Tensor, hint: str) -> str:
        name = self._const_name(hint)
        self.graph.consts[name] = tensor.detach().float()
        return name

    def _emit(self, kind, inputs, node, attrs=None, consts=None, shape=None, suffix="") -> str:
        out = node.name + suffix
        self.graph.nodes.append(FNode(kind, list(inputs), out, attrs or {}, consts or {}, source_line(node)))
        self.graph.shapes[out] = tuple(shape if shape is not None else node.meta["val"].shape)
        return out

    def _unsupported(self, node, why: str):
        raise UnsupportedOpError(f"{why} — op {node.target} at {source_line(node)}")

    def _act_or_const(self, node, v, hint: str) -> str:
        """A node input as a value name, registering constants under `hint`."""
        if isinstance(v, torch.Tensor):
            name = self._add_const(v, hint)
            self.graph.shapes[name] = tuple(v.shape)
            return name
        if isinstance(v, str):
            return v
        self._unsupported(node, "a mask expression is used other than as an additive Softmax mask or a 0/1 weight")

    # --- main walk --------------------------------------------------------------------------------

    def run(self) -> FloatGraph:
        sig = self.ep.graph_signature
        params = {**sig.inputs_to_parameters, **sig.inputs_to_buffers,
                  **getattr(sig, "inputs_to_lifted_tensor_constants", {})}
        tensors = {**self.ep.state_dict, **self.ep.constants}
        user = [n for n in self.ep.graph.nodes if n.op == "placeholder" and n.name not in params]
        index_inputs = {n.args[1].name for n in self.ep.graph.nodes if n.op == "call_function"
                        and n.target == aten.embedding.default and n.args[1].op == "placeholder"}
        for n in self.ep.graph.nodes:
            if n.op == "placeholder":
                if n.name in params:
                    self.env[n] = tensors[params[n.name]].detach()
                    self.param_names[n] = params[n.name]
                else:
                    self._add_input(n, n.name in index_inputs)
            elif n.op == "call_function":
                self._translate(n)
            elif n.op == "output":
                self._outputs(n)
        if not user:
            raise CaptureError("the model takes no tensor inputs")
        return self.graph

    def _add_input(self, n, is_index: bool):
        val = n.meta["val"]
        kind = "float" if val.dtype.is_floating_point else ("index" if is_index else "mask")
        self.graph.inputs.append(GraphInput(n.name, kind, tuple(val.shape)))
        self.graph.shapes[n.name] = tuple(val.shape)
        self.env[n] = _Mask(n, n.name) if kind == "mask" else n.name

    def _outputs(self, n):
        for k, v in enumerate(torch.utils._pytree.tree_leaves(n.args[0])):
            value = self._materialize(self.env[v])
            if not isinstance(value, str):
                raise UnsupportedOpError(f"graph output {k} is not computed from the inputs (a constant or a mask)")
            self.graph.outputs.append(value)

    def _translate(self, n):
        args = torch.fx.node.map_arg(n.args, lambda a: self.env[a])
        kwargs = torch.fx.node.map_arg(n.kwargs, lambda a: self.env[a])
        leaves = [a for a in torch.utils._pytree.tree_leaves((args, kwargs))]
        if n.target in _IGNORED:
            return
        if any(isinstance(a, (_Mask, _Masked)) for a in leaves):
            self.env[n] = self._mask_op(n, args, kwargs)
            return
        if not any(isinstance(a, (str, Pointwise)) for a in leaves):
            if n.target is operator.getitem:
                self.env[n] = args[0][args[1]]
                return
            self.env[n] = n.target(*args, **kwargs)  # constant folding
            return
        if n.target in pointwise.TRANSPARENT and isinstance(args[0], Pointwise):
            self.env[n] = args[0]
            return
        root = pointwise.region_root(n, self.env)
        if root is not None:
            self.env[n] = Pointwise(*root, n)
            return
        args, kwargs = torch.fx.node.map_aggregate((args, kwargs), self._materialize)
        on_ints = any(isinstance(self.env[a], str) and not _is_float(a) for a in n.all_input_nodes)
        handler = (_INT_HANDLERS if on_ints else _HANDLERS).get(n.target)
        if handler is None:
            self._unsupported(n, "no integer lowering for this op" + (" on integer values" if on_ints else ""))
        self.env[n] = handler(self, n, *args, **kwargs)

    def _materialize(self, v):
        """A pointwise region as the one node that computes it (other values unchanged)."""
        if not isinstance(v, Pointwise):
            return v
        if v.node not in self.materialized:
            n = v.node
            factor = pointwise.scalar_factor(v, self.env)
            if factor is not None:
                out = self._emit("scale", [v.root], n, {"factor": factor})
            elif pointwise.is_exact_gelu(v):
                out = self._emit("gelu", [v.root], n)
            elif not n.meta["val"].dtype.is_floating_point:
                self._unsupported(n, "a comparison of an activation is used other than inside an elementwise "
                                     "function (torch.where)")
            else:
                out = self._emit("elementwise", [v.root], n, {"fn": functools.partial(pointwise.evaluate, v, env=self.env),
                                                             "ops": pointwise.describe(v, self.env)})
            self.materialized[v.node] = out
        return self.materialized[v.node]

    # --- masks ------------------------------------------------------------------------------------

    def _mask_op(self, n, args, kwargs):
        if n.target == _SDPA:
            args, kwargs = torch.fx.node.map_aggregate((args, kwargs), self._materialize)
            return _sdpa(self, n, *args, **kwargs)
        args = [self._materialize(a) for a in args]
        masks = [a for a in args if isinstance(a, _Mask)]
        acts = [a for a in args if isinstance(a, str)]
        if isinstance(args[0], _Masked) and n.target == aten.sum.dim_IntList:
            return self._masked_sum(n, args[0], args[1])
        if isinstance(args[0], _Masked) and n.target in _IDENTITY:
            return args[0]
        if isinstance(args[0], _Masked) and n.target in (aten.softmax.int, aten._softmax.default):
            return _softmax(self, n, *args)
        if acts and masks and n.target in (aten.add.Tensor, aten.mul.Tensor):
            act, mask = (args[0], args[1]) if isinstance(args[0], str) else (args[1], args[0])
            return _Masked(act, mask, "add" if n.target == aten.add.Tensor else "mul")
        if not acts and not any(isinstance(a, _Masked) for a in args):
            return _Mask(n, masks[0].input)
        self._unsupported(n, "a mask expression is used other than as an additive Softmax mask or a 0/1 weight")

    def _probe(self, mask: _Mask, m: torch.Tensor) -> torch.Tensor:
        """Evaluate a mask expression with the mask input set to m."""
        memo: dict[torch.fx.Node, object] = {}

        def ev(node):
            if node in memo:
                return memo[node]
            if node.op == "placeholder":
                v = m if node.name == mask.input else self.env[node]
            else:
                a = torch.fx.node.map_arg(node.args, ev)
                k = torch.fx.node.map_arg(node.kwargs, ev)
                v = None if node.target in _IGNORED else node.target(*a, **k)
            memo[node] = v
            return v

        return ev(mask.node)

    def _probe_masks(self, mask: _Mask) -> list[torch.Tensor]:
        shape = self.graph.shapes[mask.input]
        g = torch.Generator().manual_seed(0)
        probes = [torch.randint(0, 2, shape, generator=g) for _ in range(3)]
        for p in probes:
            p.view(-1, shape[-1])[:, 0] = 1  # every row keeps at least one token
        return probes

    def key_mask_shape(self, n, mask: _Mask) -> tuple[int, ...]:
        """The [B, 1, 1, S] shape the mask input takes as an attention mask, after checking (by probing)
        that the expression keeps key k where mask[b, k] != 0 and drops it elsewhere, for every query:
        as a bool mask (True keeps) or an additive one (0 keeps, ≤ MASK_DROP drops)."""
        bshape = (self.graph.shapes[mask.input][0], 1, 1, self.graph.shapes[mask.input][-1])
        for p in self._probe_masks(mask):
            m = self._probe(mask, p)
            try:
                keep = (p.reshape(bshape) != 0).expand_as(m)
            except RuntimeError:
                keep = None
            if m.dtype == torch.bool:
                ok = keep is not None and torch.equal(m, keep)
            else:
                ok = keep is not None and bool(torch.all(m[keep] == 0) and torch.all(m[~keep] <= MASK_DROP))
            if not ok:
                self._unsupported(n, "the attention mask is not keep/drop per key (bool, or 0 / very negative) "
                                     "from the mask input")
        return bshape

    def _masked_sum(self, n, masked: _Masked, dims):
        shape = self.graph.shapes[masked.act]
        if masked.how != "mul" or list(dims) not in ([1], [1 - len(shape)]) or len(shape) != 3:
            self._unsupported(n, "only a sum over the sequence axis of x·mask (mean pooling) is supported")
        for p in self._probe_masks(masked.mask):
            w = self._probe(masked.mask, p).float()
            if not torch.equal(w.expand(shape), p.float().unsqueeze(-1).expand(shape)):
                self._unsupported(n, "the pooling weight is not the 0/1 attention mask")
        return self._emit("masked_sum", [masked.act, masked.mask.input], n)


# --- one handler per ATen op (self, node, *args) → value --------------------------------------------


def _shape(t: _Translator, v) -> tuple[int, ...]:
    return t.graph.shapes[v]


def _is_float(node: torch.fx.Node) -> bool:
    return node.meta["val"].dtype.is_floating_point


def _swap_last(shape) -> tuple[int, ...]:
    return tuple(shape[:-2]) + (shape[-1], shape[-2])


def _swap_last_perm(rank: int) -> tuple[int, ...]:
    """The transpose of the last two axes of a rank-`rank` tensor."""
    return _swap_last(tuple(range(rank)))


def _sdpa(t, n, q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    """Attention as F.scaled_dot_product_attention computes it: Q·Kᵀ (int32) · scale, masked Shiftmax, ·V.
    A mask from the mask input masks the Shiftmax; a constant one is split into what it drops (a
    constant Shiftmax mask) and what it adds (a bias on the int32 scores: Swin's relative positions)."""
    qs, ks = _shape(t, q), _shape(t, k)
    if enable_gqa or qs[:-2] != ks[:-2] or qs[:-2] != _shape(t, v)[:-2]:
        t._unsupported(n, "attention whose query, key and value differ in batch or head count (grouped-query)")
    kt = t._emit("transpose", [k], n, {"perm": _swap_last_perm(len(ks))}, shape=_swap_last(ks), suffix="_keys_t")
    scores_shape = qs[:-1] + (ks[-2],)
    s = t._emit("matmul", [q, kt], n, shape=scores_shape, suffix="_scores")
    factor = 1.0 / math.sqrt(qs[-1]) if scale is None else float(scale)
    s = t._emit("scale", [s], n, {"factor": factor}, shape=scores_shape, suffix="_scaled")
    keep = None  # which keys each query may see, when a constant mask or is_causal says so
    inputs, attrs = [s], {}
    if isinstance(attn_mask, _Mask):
        if is_causal:
            t._unsupported(n, "is_causal together with a mask from the mask input")
        inputs, attrs = [s, attn_mask.input], {"mask_shape": t.key_mask_shape(n, attn_mask)}
    elif isinstance(attn_mask, torch.Tensor):
        if attn_mask.dtype == torch.bool:
            keep = attn_mask
        else:
            keep = attn_mask > MASK_DROP
            bias = torch.where(keep, attn_mask, 0.0).float()
            if bias.any():
                s = t._emit("add", [s, t._act_or_const(n, bias, n.name + ".attn_bias")], n, shape=scores_shape,
                            suffix="_biased")
                inputs = [s]
    elif attn_mask is not None:
        t._unsupported(n, "an attention mask computed from activations")
    if is_causal:
        causal = torch.ones(qs[-2], ks[-2], dtype=torch.bool).tril()
        keep = causal if keep is None else keep & causal
    if keep is not None and not bool(keep.all()):
        inputs = [s, t._act_or_const(n, keep.float(), n.name + ".attn_keep")]
        attrs = {"mask_shape": tuple(keep.shape)}
    p = t._emit("softmax", inputs, n, attrs, shape=scores_shape, suffix="_probs")
    return t._emit("matmul", [p, v], n)


def _linear(t, n, x, w, b=None):
    if not isinstance(w, torch.Tensor) or not (b is None or isinstance(b, torch.Tensor)):
        t._unsupported(n, "linear weights must be parameters, not activations")
    hint = _param_hint(t, n)
    consts = {"weight": t._add_const(w, hint + ".weight"), "bias": None if b is None else t._add_const(b, hint + ".bias")}
    return t._emit("linear", [x], n, consts=consts)


def _param_hint(t, n, weight_arg: int = 1) -> str:
    """The module path of the op's weight (e.g. blocks.0.attn.qkv), for readable constant names."""
    w = n.args[weight_arg] if len(n.args) > weight_arg else None
    name = t.param_names.get(w)
    return name.rsplit(".", 1)[0] if name else n.name


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v) * (2 if len(v) == 1 else 1)


def _conv2d(t, n, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Conv2d as im2col (strided slices of the zero-padded input, one per kernel tap) and the int8 GEMM.
    Grouped and depthwise convolutions use a block-diagonal weight: exact, at groups × the GEMM's work."""
    if not isinstance(w, torch.Tensor) or isinstance(padding, str):
        t._unsupported(n, "convolution weights must be parameters and padding numbers")
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    d, cg, kh, kw = w.shape
    bsz, c, h, wd = _shape(t, x)
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if (sh, sw) == (kh, kw) and not (ph or pw) and (dh, dw) == (1, 1) and groups == 1 and not (h % kh or wd % kw):
        taps = _patches(t, n, x, kh, kw)  # patch embedding: one reshape and transpose
    else:
        x = _pad(t, n, x, [pw, pw, ph, ph])
        padded = _shape(t, x)
        cols = []
        for i in range(kh):
            for j in range(kw):
                r = x
                for dim, start, size, step in ((2, i * dh, oh, sh), (3, j * dw, ow, sw)):
                    if (start, size, step) != (0, padded[dim], 1):
                        r = _slice_node(t, n, r, dim, start, start + (size - 1) * step + 1, step, suffix=f"_tap{i}_{j}_{dim}")
                cols.append(t._emit("reshape", [r], n, {"shape": (bsz, c, 1, oh, ow)}, shape=(bsz, c, 1, oh, ow),
                                    suffix=f"_tap{i}_{j}"))
        cols = cols[0] if len(cols) == 1 else t._emit("concat", cols, n, {"axis": 2}, shape=(bsz, c, kh * kw, oh, ow),
                                                      suffix="_taps")
        cols = t._emit("transpose", [cols], n, {"perm": (0, 3, 4, 1, 2)}, shape=(bsz, oh, ow, c, kh * kw), suffix="_im2col1")
        taps = t._emit("reshape", [cols], n, {"shape": (bsz, oh * ow, c * kh * kw)}, shape=(bsz, oh * ow, c * kh * kw),
                       suffix="_im2col2")
    dense = torch.zeros(d, c, kh * kw)
    per_group = d // groups
    for g in range(groups):  # output channels of group g see its input channels only
        rows = slice(g * per_group, (g + 1) * per_group)
        dense[rows, g * cg:(g + 1) * cg] = w[rows].reshape(per_group, cg, kh * kw)
    hint = _param_hint(t, n)
    consts = {"weight": t._add_const(dense.reshape(d, -1), hint + ".weight"),
              "bias": None if b is None else t._add_const(b, hint + ".bias")}
    y = t._emit("linear", [taps], n, consts=consts, shape=(bsz, oh * ow, d), suffix="_gemm")
    y = t._emit("reshape", [y], n, {"shape": (bsz, oh, ow, d)}, shape=(bsz, oh, ow, d), suffix="_nhwc")
    return t._emit("transpose", [y], n, {"perm": (0, 3, 1, 2)})


def _patches(t, n, x, kh, kw):
    """Non-overlapping kh × kw patches of x [B, C, H, W] as rows [B, (H/kh)·(W/kw), C·kh·kw]."""
    bsz, c, h, wd = _shape(t, x)
    gh, gw = h // kh, wd // kw
    cols = t._emit("reshape", [x], n, {"shape": (bsz, c, gh, kh, gw, kw)}, shape=(bsz, c, gh, kh, gw, kw), suffix="_im2col0")
    cols = t._emit("transpose", [cols], n, {"perm": (0, 2, 4, 1, 3, 5)}, shape=(bsz, gh, gw, c, kh, kw), suffix="_im2col1")
    return t._emit("reshape", [cols], n, {"shape": (bsz, gh * gw, c * kh * kw)}, shape=(bsz, gh * gw, c * kh * kw),
                   suffix="_im2col2")


def _matmul(t, n, a, b):
    if isinstance(a, torch.Tensor):
        t._unsupported(n, "a constant left operand of matmul is not supported")
    if isinstance(b, torch.Tensor):
        if b.dim() != 2:
            t._unsupported(n, "matmul by a constant needs a 2-D constant")
        return t._emit("linear", [a], n, consts={"weight": t._add_const(b.t(), _param_hint(t, n)), "bias": None})
    return t._emit("matmul", [a, b], n)


def _softmax(t, n, x, dim, *rest):
    inputs, attrs = [x], {}
    if isinstance(x, _Masked):
        if x.how != "add":
            t._unsupported(n, "softmax of a mask-multiplied value")
        inputs, attrs = [x.act, x.mask.input], {"mask_shape": t.key_mask_shape(n, x.mask)}
    if dim not in (-1, len(_shape(t, inputs[0])) - 1):
        t._unsupported(n, f"softmax over axis {dim}: only the last axis is supported")
    return t._emit("softmax", inputs, n, attrs)


def _layer_norm(t, n, x, normalized_shape, w=None, b=None, eps=1e-5, *rest):
    c = _shape(t, x)[-1]
    if list(normalized_shape) != [c]:
        t._unsupported(n, "LayerNorm over more than the last axis")
    hint = _param_hint(t, n, weight_arg=2)
    w = torch.ones(c) if w is None else w
    b = torch.zeros(c) if b is None else b
    return t._emit("layernorm", [x], n, {"eps": float(eps)},
                   {"weight": t._add_const(w, hint + ".weight"), "bias": t._add_const(b, hint + ".bias")})


def _add(t, n, a, b, alpha=1):
    if alpha != 1 or not isinstance(a, (str, torch.Tensor)) or not isinstance(b, (str, torch.Tensor)):
        t._unsupported(n, "add of a Python scalar or with alpha")
    if isinstance(a, torch.Tensor):
        a, b = b, a
    return t._emit("add", [a, t._act_or_const(n, b, n.name + ".const")], n)


def _product(t, n, *args, **kw):
    t._unsupported(n, "elementwise product of two activations, or by a tensor of constants (only functions of "
                      "one activation, and x · c for a scalar c)")


def _reshape(t, n, x, *rest, **kw):
    return t._emit("reshape", [x], n, {"shape": tuple(n.meta["val"].shape)})


def _permute(t, n, x, perm):
    rank = len(_shape(t, x))
    return t._emit("transpose", [x], n, {"perm": tuple(p % rank for p in perm)})


def _transpose(t, n, x, d0, d1):
    rank = len(_shape(t, x))
    perm = list(range(rank))
    perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
    return t._emit("transpose", [x], n, {"perm": tuple(perm)})


def _expand(t, n, x, size, *rest):
    if tuple(n.meta["val"].shape) != _shape(t, x):
        t._unsupported(n, "expand that broadcasts an activation")
    return x


_WIDE_INTS = (torch.int32, torch.int64)


def _identity(t, n, x, *rest, **kw):
    if not _is_float(n) and _is_float(n.args[0]):
        t._unsupported(n, "cast of an activation to an integer type")
    if _is_float(n) and not _is_float(n.args[0]):
        t._unsupported(n, "an integer value (computed from token ids) used as a float")
    out, into = n.args[0].meta["val"].dtype, n.meta["val"].dtype
    if into == torch.bool and out != torch.bool:  # x.bool() is x != 0
        zero = t._act_or_const(n, torch.zeros(1), n.name + ".zero")
        return t._emit("int_binary", [x, zero], n, {"op": "ne"})
    if not _is_float(n) and into not in _WIDE_INTS + (torch.bool,) and out != into:
        t._unsupported(n, f"a narrowing cast of an integer value to {into} (it would wrap)")
    return x  # int32/int64 casts keep the value: integer values are int32 throughout


def _int_binary(op: str):
    """a ∘ b on integer values (RoBERTa's `ids != pad`, `cumsum(...) * mask + pad`): int32 in the graph."""
    flipped = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}

    def handler(t, n, a, b, alpha=1):
        if alpha != 1:
            t._unsupported(n, "integer add/sub with alpha")
        operands = [node for node in n.all_input_nodes if isinstance(t.env[node], (str, Pointwise))]
        constants = [v for v in (a, b) if not isinstance(v, str)]
        if _is_float(n) or any(_is_float(node) for node in operands) or any(
                float(c) != int(c) for v in constants for c in torch.as_tensor(v).reshape(-1)):
            t._unsupported(n, "arithmetic mixing an integer value (from token ids) with an activation or a "
                              "non-integer constant")
        name = op
        if not isinstance(a, str):  # a constant or scalar first: put the value first
            if name == "sub":  # c − x = (x · −1) + c
                neg = t._emit("int_binary", [b, t._act_or_const(n, torch.tensor([-1.0]), n.name + ".minus_one")], n,
                              {"op": "mul"}, shape=_shape(t, b), suffix="_neg")
                a, b, name = neg, a, "add"
            else:
                a, b, name = b, a, flipped.get(name, name)
        if not isinstance(b, str):
            b = torch.as_tensor(b, dtype=torch.float32)
            b = b.reshape(1) if b.dim() == 0 else b
        b = t._act_or_const(n, b, n.name + ".const")
        if tuple(n.meta["val"].shape) != _shape(t, a):
            t._unsupported(n, "integer op whose first operand broadcasts")
        return t._emit("int_binary", [a, b], n, {"op": name})
    return handler


def _int_gather(t, n, table, dim, index, *rest, **kw):
    """torch.gather from a constant whose entries are all equal is that constant (RoBERTa's buffered
    token-type ids, all zero, gathered at the position ids)."""
    if not isinstance(table, torch.Tensor) or not isinstance(index, str) or table.numel() == 0 \
            or not bool((table == table.reshape(-1)[0]).all()):
        t._unsupported(n, "gather from an activation or a non-uniform table (only embedding lookups)")
    return torch.full(tuple(n.meta["val"].shape), table.reshape(-1)[0].item(), dtype=n.meta["val"].dtype)


def _cumsum(t, n, x, dim, *rest, **kw):
    return t._emit("cumsum", [x], n, {"axis": dim % len(_shape(t, x))})


def _cat(t, n, xs, dim=0):
    rank = len(n.meta["val"].shape)
    return t._emit("concat", [t._act_or_const(n, x, f"{n.name}.const{k}") for k, x in enumerate(xs)], n, {"axis": dim % rank})


def _slice_node(t, n, x, dim, start, end, step, suffix=""):
    size = _shape(t, x)[dim]
    start = 0 if start is None else (start + size if start < 0 else min(start, size))
    end = size if end is None else (end + size if end < 0 else min(end, size))
    shape = list(_shape(t, x))
    shape[dim] = max(0, -(-(end - start) // step))
    return t._emit("slice", [x], n, {"axis": dim, "start": start, "end": max(start, end), "step": step},
                   shape=tuple(shape), suffix=suffix)


def _slice(t, n, x, dim=0, start=None, end=None, step=1):
    return _slice_node(t, n, x, dim % len(_shape(t, x)), start, end, step)


def _select(t, n, x, dim, index, suffix=""):
    rank = len(_shape(t, x))
    dim, size = dim % rank, _shape(t, x)[dim % rank]
    index = index % size
    s = _slice_node(t, n, x, dim, index, index + 1, 1, suffix=suffix + "_slice")
    shape = _shape(t, x)[:dim] + _shape(t, x)[dim + 1:]
    return t._emit("reshape", [s], n, {"shape": shape}, shape=shape, suffix=suffix)


def _unbind(t, n, x, dim=0):
    return [_select(t, n, x, dim, k, suffix=f"_{k}") for k in range(_shape(t, x)[dim % len(_shape(t, x))])]


def _split(t, n, x, sizes, dim=0):
    dim = dim % len(_shape(t, x))
    total = _shape(t, x)[dim]
    if isinstance(sizes, int):
        sizes = [sizes] * (-(-total // sizes))
    bounds = list(itertools.accumulate(sizes, initial=0))
    return [_slice_node(t, n, x, dim, lo, min(hi, total), 1, suffix=f"_{k}") for k, (lo, hi) in enumerate(zip(bounds, bounds[1:]))]


def _getitem(t, n, seq, k):
    return seq[k]


def _embedding(t, n, w, idx, *rest):
    if not isinstance(w, torch.Tensor) or not isinstance(idx, str):
        t._unsupported(n, "embedding needs a parameter table and integer token ids")
    hint = t.param_names.get(n.args[0], n.name + ".weight")
    return t._emit("embedding", [idx], n, consts={"weight": t._add_const(w, hint)})


def _mean(t, n, x, dims, keepdim=False, *rest, **kw):
    if dims is None or len(dims) != 1:
        t._unsupported(n, "mean over more than one axis")
    axis = dims[0] % len(_shape(t, x))
    shape = _shape(t, x)[:axis] + _shape(t, x)[axis + 1:]
    y = t._emit("mean", [x], n, {"axis": axis}, shape=shape, suffix="" if not keepdim else "_pool")
    return t._emit("reshape", [y], n, {"shape": tuple(n.meta["val"].shape)}) if keepdim else y


def _roll(t, n, x, shifts, dims=()):
    """torch.roll as slices and a concat per rolled axis (Swin's cyclic shift)."""
    if len(dims) != len(shifts) or not dims:
        t._unsupported(n, "roll of the flattened tensor (give dims)")
    for k, (shift, dim) in enumerate(zip(shifts, dims)):
        dim = dim % len(_shape(t, x))
        size = _shape(t, x)[dim]
        shift %= size
        if shift:
            tail = _slice_node(t, n, x, dim, size - shift, size, 1, suffix=f"_roll{k}_tail")
            head = _slice_node(t, n, x, dim, 0, size - shift, 1, suffix=f"_roll{k}_head")
            x = t._emit("concat", [tail, head], n, {"axis": dim}, shape=_shape(t, x), suffix=f"_roll{k}")
    return x


def _pad(t, n, x, pad, mode="constant", value=None):
    """Zero padding as a concat with zero constants, one axis at a time from the last."""
    if not isinstance(mode, str):  # constant_pad_nd(x, pad, value)
        mode, value = "constant", mode
    if mode != "constant" or value not in (None, 0, 0.0):
        t._unsupported(n, "padding other than with zeros")
    for k in range(len(pad) // 2):
        before, after = pad[2 * k], pad[2 * k + 1]
        dim = len(_shape(t, x)) - 1 - k
        if before < 0 or after < 0:
            t._unsupported(n, "negative padding (cropping)")
        inputs = (_zeros_like_along(t, n, x, dim, before, f"{n.name}.pad{k}_before") + [x]
                  + _zeros_like_along(t, n, x, dim, after, f"{n.name}.pad{k}_after"))
        if len(inputs) > 1:
            shape = list(_shape(t, x))
            shape[dim] += before + after
            x = t._emit("concat", inputs, n, {"axis": dim}, shape=tuple(shape), suffix=f"_pad{k}")
    return x


def _zeros_like_along(t, n, x, dim: int, width: int, name: str) -> list[str]:
    """[a zero constant shaped like x but `width` wide along dim], or [] for width 0."""
    if not width:
        return []
    shape = list(_shape(t, x))
    shape[dim] = width
    return [t._act_or_const(n, torch.zeros(shape), name)]


def _adaptive_avg_pool1d(t, n, x, output_size):
    if list(output_size) != [1]:
        t._unsupported(n, "adaptive average pooling to more than one output")
    return _mean(t, n, x, [-1], keepdim=True)


def _upsample_bilinear(t, n, x, output_size, align_corners, scale_factors=None):
    """Bilinear resizing is linear in each axis: y = A_H · x · A_Wᵀ, each a GEMM by a constant [out, in]
    interpolation matrix (int8 per row, like any weight), read off PyTorch's own op on one-hot rows."""
    (h, w), (oh, ow) = _shape(t, x)[-2:], tuple(n.meta["val"].shape)[-2:]

    def matrix(size, out, k):  # [out, size]: output j's weights on the inputs along axis k (0: H, 1: W)
        eye = torch.eye(size).reshape(size, 1, 1, size) if k == 1 else torch.eye(size).reshape(size, 1, size, 1)
        scales = None if scale_factors is None else ([scale_factors[0], 1.0] if k == 0 else [1.0, scale_factors[1]])
        sizes = None if scale_factors is not None else ([out, 1] if k == 0 else [1, out])
        return n.target(eye, sizes, align_corners, scales).reshape(size, out).t().contiguous()

    lead = _shape(t, x)[:-2]
    y = t._emit("linear", [x], n, consts={"weight": t._add_const(matrix(w, ow, 1), n.name + ".resize_w"), "bias": None},
                shape=lead + (h, ow), suffix="_w")
    y = t._emit("transpose", [y], n, {"perm": _swap_last_perm(len(lead) + 2)}, shape=lead + (ow, h), suffix="_wt")
    y = t._emit("linear", [y], n, consts={"weight": t._add_const(matrix(h, oh, 0), n.name + ".resize_h"), "bias": None},
                shape=lead + (ow, oh), suffix="_h")
    return t._emit("transpose", [y], n, {"perm": _swap_last_perm(len(lead) + 2)})


def _upsample_nearest(t, n, x, *rest, **kw):
    (h, w), (oh, ow) = _shape(t, x)[-2:], tuple(n.meta["val"].shape)[-2:]
    if oh % h or ow % w:
        t._unsupported(n, "nearest upsampling by a non-integer factor")
    return t._emit("upsample", [x], n, {"factor_h": oh // h, "factor_w": ow // w})


_HANDLERS = {
    aten.linear.default: _linear,
    aten.conv2d.default: _conv2d,
    aten.matmul.default: _matmul,
    aten.bmm.default: _matmul,
    _SDPA: _sdpa,
    aten.softmax.int: _softmax,
    aten._softmax.default: _softmax,
    aten.layer_norm.default: _layer_norm,
    aten.add.Tensor: _add,
    aten.mul.Tensor: _product,
    aten.div.Tensor: _product,
    aten.view.default: _reshape,
    aten.unflatten.int: _reshape,
    aten.reshape.default: _reshape,
    aten._unsafe_view.default: _reshape,
    aten.flatten.using_ints: _reshape,
    aten.unsqueeze.default: _reshape,
    aten.squeeze.dim: _reshape,
    aten.squeeze.dims: _reshape,
    aten.permute.default: _permute,
    aten.transpose.int: _transpose,
    aten.expand.default: _expand,
    aten.cat.default: _cat,
    aten.slice.Tensor: _slice,
    aten.select.int: _select,
    aten.unbind.int: _unbind,
    aten.split.Tensor: _split,
    aten.split_with_sizes.default: _split,
    operator.getitem: _getitem,
    aten.embedding.default: _embedding,
    aten.mean.dim: _mean,
    aten.upsample_nearest2d.vec: _upsample_nearest,
    aten.upsample_nearest2d.default: _upsample_nearest,
    aten.upsample_bilinear2d.vec: _upsample_bilinear,
    aten.roll.default: _roll,
    aten.pad.default: _pad,
    aten.constant_pad_nd.default: _pad,
    aten.adaptive_avg_pool1d.default: _adaptive_avg_pool1d,
    aten.to.dtype: _identity,
    aten.to.dtype_layout: _identity,
    aten._to_copy.default: _identity,
    aten.type_as.default: _identity,
    **{op: _identity for op in _IDENTITY},
}

_SHAPE_OPS = (aten.view.default, aten.reshape.default, aten._unsafe_view.default, aten.flatten.using_ints,
              aten.unsqueeze.default, aten.squeeze.dim, aten.squeeze.dims, aten.permute.default, aten.transpose.int,
              aten.slice.Tensor, aten.select.int, aten.cat.default, aten.unflatten.int, aten.expand.default,
              operator.getitem, aten.to.dtype, aten.to.dtype_layout, aten._to_copy.default, aten.type_as.default,
              aten.embedding.default, *_IDENTITY)
# ops on integer values (computed from token ids): the shape ops as for activations, and exact int32 arithmetic
_INT_HANDLERS = {
    **{op: _HANDLERS[op] for op in _SHAPE_OPS},
    **{op: _int_binary(name) for name, ops in {
        "add": (aten.add.Tensor, aten.add.Scalar), "sub": (aten.sub.Tensor, aten.sub.Scalar),
        "mul": (aten.mul.Tensor, aten.mul.Scalar), "eq": (aten.eq.Scalar, aten.eq.Tensor),
        "ne": (aten.ne.Scalar, aten.ne.Tensor), "lt": (aten.lt.Scalar, aten.lt.Tensor),
        "le": (aten.le.Scalar, aten.le.Tensor), "gt": (aten.gt.Scalar, aten.gt.Tensor),
        "ge": (aten.ge.Scalar, aten.ge.Tensor),
        "and": (aten.__and__.Tensor, aten.bitwise_and.Tensor, aten.logical_and.default),
        "or": (aten.__or__.Tensor, aten.bitwise_or.Tensor, aten.logical_or.default),
        "min": (aten.minimum.default,), "max": (aten.maximum.default,),
    }.items() for op in ops},
    aten.cumsum.default: _cumsum,
    aten.gather.default: _int_gather,
}

# How each handler lowers its ops, for the README's supported-op table (supported_ops.py).
LOWERED_AS = {
    _linear: "`qlinear` (W8A8, or W4A8 with int4 groups)",
    _conv2d: "im2col (strided `slice`s of the zero-padded input, `concat`) + `qlinear`; grouped and depthwise "
             "as a block-diagonal weight; stride = kernel (patch embedding) as `reshape` + `transpose`",
    _matmul: "`qmatmul` (Q·Kᵀ in int32 straight into Shiftmax), or `qlinear` by a constant",
    _sdpa: "`qmatmul` → `shiftmax` → `qmatmul`; masks from the mask input, `is_causal` or a constant bool mask "
           "mask the Shiftmax; a constant float mask adds an int32 bias (`int_binary`)",
    _softmax: "`shiftmax` (I-ViT) over the last axis, masked by an attention mask",
    _layer_norm: "`ilayernorm` (I-LayerNorm) over the last axis",
    _add: "`qadd` (a constant side is quantized too); added to attention scores: `int_binary` in int32",
    _product: "only inside an elementwise function of one activation (below); else refused",
    _reshape: "`reshape` (an alias: no work)",
    _permute: "`transpose`",
    _transpose: "`transpose`, or none: a Kᵀ read by `qmatmul` with transpose_b",
    _expand: "none (an expand that changes no shape); constants are folded",
    _cat: "`concat` (inputs requantized to one scale)",
    _slice: "`slice`",
    _select: "`slice` + `reshape`",
    _unbind: "`slice` + `reshape` per part",
    _split: "`slice` per part",
    _getitem: "none (picks a part)",
    _embedding: "`gather` from the quantized table",
    _mean: "`meanpool` (1/L folded into the requant)",
    _upsample_nearest: "`upsample_nearest` (integer factors)",
    _upsample_bilinear: "`qlinear` by constant interpolation matrices along W, then H",
    _roll: "`slice` + `concat` per axis",
    _pad: "`concat` with zero constants",
    _adaptive_avg_pool1d: "`meanpool` (output size 1)",
    _identity: "none (dropout, clone, casts that keep the value); `x.bool()` of an integer value: `int_binary` ne 0",
}
