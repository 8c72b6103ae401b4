"""Capture: torch.export's ATen graph → the float graph of transformer building blocks.

Each ATen node becomes one of three things:
* a constant, when it depends only on parameters and literals (folded here:
  class-token expands, position-id slices, weight transposes);
* a mask expression, when it depends on an integer input that is not used as
  token ids (HF's attention-mask plumbing); it is checked by probing, then
  absorbed into the Softmax it masks or the masked sum it weights;
* a float-graph node (float_graph.KINDS) over activations.
Anything else is an UnsupportedOpError naming the op and the line of the
user's model it came from: nothing falls back to float.
"""

from __future__ import annotations

import itertools
import operator
import os
import re
from dataclasses import dataclass

import torch

from .errors import CaptureError, UnsupportedOpError
from .float_graph import FloatGraph, FNode, GraphInput
from .simplify import fold_transpose_pairs

aten = torch.ops.aten
_TORCH_DIR = os.path.dirname(torch.__file__)
_IDENTITY = {aten.contiguous.default, aten.clone.default, aten.dropout.default, aten.alias.default,
             aten.detach.default, aten.lift_fresh_copy.default, aten.feature_dropout.default}
_IGNORED = {aten._assert_tensor_metadata.default, aten.sym_size.int}


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
            value = self.env[v]
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
            self.env[n] = self._mask_op(n, args)
            return
        if not any(isinstance(a, str) for a in leaves):
            if n.target is operator.getitem:
                self.env[n] = args[0][args[1]]
                return
            self.env[n] = n.target(*args, **kwargs)  # constant folding
            return
        handler = _HANDLERS.get(n.target)
        if handler is None:
            self._unsupported(n, "no integer lowering for this op")
        self.env[n] = handler(self, n, *args, **kwargs)

    # --- masks ------------------------------------------------------------------------------------

    def _mask_op(self, n, args):
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

    def _softmax_mask(self, n, masked: _Masked) -> list:
        """Check that the mask expression is 0 where mask != 0 and ≤ −1e4 elsewhere, broadcast over queries."""
        bshape = (self.graph.shapes[masked.mask.input][0], 1, 1, self.graph.shapes[masked.mask.input][-1])
        for p in self._probe_masks(masked.mask):
            bias = self._probe(masked.mask, p).float()
            keep = (p.reshape(bshape) != 0).expand_as(bias)
            if not (torch.all(bias[keep] == 0) and torch.all(bias[~keep] <= -1e4)):
                self._unsupported(n, "the additive attention mask is not 0 (keep) / very negative (drop) per key")
        return [masked.act, masked.mask.input], {"mask_shape": bshape}

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


def _conv2d(t, n, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    d, c, kh, kw = w.shape
    bsz, _, h, wd = _shape(t, x)
    if list(stride) != [kh, kw] or any(padding) or list(dilation) != [1, 1] or groups != 1 or h % kh or wd % kw:
        t._unsupported(n, "only patch-embedding convolutions (stride = kernel, no padding, no groups) are supported")
    gh, gw = h // kh, wd // kw
    cols = t._emit("reshape", [x], n, {"shape": (bsz, c, gh, kh, gw, kw)}, shape=(bsz, c, gh, kh, gw, kw), suffix="_im2col0")
    cols = t._emit("transpose", [cols], n, {"perm": (0, 2, 4, 1, 3, 5)}, shape=(bsz, gh, gw, c, kh, kw), suffix="_im2col1")
    cols = t._emit("reshape", [cols], n, {"shape": (bsz, gh * gw, c * kh * kw)}, shape=(bsz, gh * gw, c * kh * kw), suffix="_im2col2")
    hint = _param_hint(t, n)
    consts = {"weight": t._add_const(w.reshape(d, -1), hint + ".weight"),
              "bias": None if b is None else t._add_const(b, hint + ".bias")}
    y = t._emit("linear", [cols], n, consts=consts, shape=(bsz, gh * gw, d), suffix="_gemm")
    y = t._emit("reshape", [y], n, {"shape": (bsz, gh, gw, d)}, shape=(bsz, gh, gw, d), suffix="_nhwc")
    return t._emit("transpose", [y], n, {"perm": (0, 3, 1, 2)})


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
        inputs, attrs = t._softmax_mask(n, x)
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


def _scale(t, n, x, factor):
    if isinstance(factor, torch.Tensor):
        if factor.numel() != 1:
            t._unsupported(n, "elementwise multiply by a tensor (only by a positive scalar)")
        factor = float(factor)
    if isinstance(x, torch.Tensor) or not isinstance(factor, (int, float)) or factor <= 0:
        t._unsupported(n, "multiply by a non-positive or non-scalar factor (only x · c with c > 0)")
    return t._emit("scale", [x], n, {"factor": float(factor) if n.target != aten.div.Tensor else 1.0 / factor})


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


def _identity(t, n, x, *rest, **kw):
    if n.target in (aten.to.dtype, aten.to.dtype_layout, aten._to_copy.default) and not n.meta["val"].dtype.is_floating_point:
        t._unsupported(n, "cast of an activation to an integer type")
    return x


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
    aten.softmax.int: _softmax,
    aten._softmax.default: _softmax,
    aten.gelu.default: lambda t, n, x, **kw: t._emit("gelu", [x], n),
    aten.layer_norm.default: _layer_norm,
    aten.add.Tensor: _add,
    aten.mul.Tensor: _scale,
    aten.div.Tensor: _scale,
    aten.view.default: _reshape,
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
    aten.to.dtype: _identity,
    aten.to.dtype_layout: _identity,
    aten._to_copy.default: _identity,
    **{op: _identity for op in _IDENTITY},
}
