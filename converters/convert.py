"""`intedge.convert`: a PyTorch model and calibration inputs → an integer-only graph.

    g = intedge.convert(model, example_inputs, calibration=batches, weights="w8")

The steps, each its own module: capture (torch.export → float graph),
smooth (optional SmoothQuant scaling folded into LayerNorm and linear
weights), calibrate (activation ranges), gptq (int4 weights with error
compensation), lower (plan dtypes and scales, then emit integer ops),
fuse (the head splits and LayerNorm twins the engine runs as one op).
`Converter` keeps what those steps decided, so the same plan can be emitted
again at another batch size, or from the QAT twin's fine-tuned weights.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from intedge.ir.graph import Graph

from . import calibrate as cal
from . import float_graph, lower, mixed_precision, smooth
from .capture import capture
from .errors import ConversionError
from .float_graph import FloatGraph
from .fuse import fuse
from .gptq import gptq_int4


class Converter:
    def __init__(self, model: torch.nn.Module, example_inputs, graph: FloatGraph, plan: lower.QuantPlan,
                 consts: dict[str, torch.Tensor], smoothed: bool):
        self.model, self.example_inputs, self.smoothed = model, example_inputs, smoothed
        self.float_graph, self.plan, self.consts = graph, plan, consts
        self.smoothing: dict[str, str] = {}  # smoothed value → the strength it got ("alpha 0.5", ...)
        self.float_consts = consts  # the float function's constants (smoothed; before GPTQ moved the weights)
        self.mixed: mixed_precision.Assignment | None = None  # which linears a weight budget kept at W8

    @classmethod
    def calibrate(cls, model, example_inputs, calibration, weights="w8", method="minmax", percentile=99.99,
                  smooth_alpha: float | str | None = None, group_size: int = 32, gelu: str = "table",
                  wide_residual: bool = True, gptq: bool = True, budget: float | None = None,
                  progress: bool = True) -> Converter:
        """Capture, smooth, calibrate and plan. gptq: round int4 weights with GPTQ's error compensation
        (else to the nearest point of the least-error grid). smooth_alpha: SmoothQuant's α, or "auto" (a
        search per edge, smooth.py). budget (with weights="w4"): keep the linears whose int4 weights cost
        most at W8, within budget × W8's weight bytes (mixed_precision.py)."""
        if budget is not None and weights != "w4":
            raise ConversionError(f"--budget mixes W4 and W8 linears: it needs --weights w4, not {weights}")
        if budget is not None and not 0 < budget <= 1:
            raise ConversionError(f"the weight budget is a fraction of W8's bytes in (0, 1], got {budget}")
        config = lower.QuantConfig(weights, group_size, gelu, wide_residual)
        ranges = cal.Ranges(method, percentile)
        example_inputs = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
        g = capture(model, example_inputs)
        if budget is not None:  # before minutes of calibration: can the budget be met at all?
            mixed_precision.check_budget(budget, *mixed_precision.floor_of(g, g.consts, config))
        items = cal.as_input_tuples(g, calibration)
        parts = _calibration_parts(model, example_inputs, g, items)
        smoothed = bool(smooth_alpha)  # None or 0: off
        strengths = {}
        if smoothed:
            g, parts = smooth.prepare(g), [(smooth.prepare(part), part_items) for part, part_items in parts]
            first = cal.Ranges()
            first.edges_of = {n.output for n, _ in smooth.edges(g)}
            consts, strengths = smooth.smooth(g, _calibrate_parts(parts, first, None, progress), g.consts,
                                              smooth_alpha, config.int4)
        else:
            consts = dict(g.consts)
        int4 = {n.consts["weight"]: n.inputs[0] for n in g.nodes
                if n.kind == "linear" and gptq and config.int4(n.consts["weight"], consts[n.consts["weight"]].shape[1])}
        ranges.gram_of = set(int4.values())
        ranges.samples_of = {n.inputs[0] for n in g.nodes if n.kind == "gelu"} if gelu == "lambda" else set()
        _calibrate_parts(parts, ranges, consts, progress)
        plan = lower.plan(g, ranges, config)
        float_consts = dict(consts)
        for name, x in tqdm(int4.items(), desc="GPTQ", unit="layer", disable=not progress or not int4):
            w, group_scales, s_c = gptq_int4(consts[name].double().numpy(), ranges.gram(x), group_size)
            consts[name] = torch.from_numpy(w).to(consts[name].dtype)
            plan.int4_scales[name] = (group_scales, s_c)
        conv = cls(model, example_inputs, g, plan, consts, smoothed)
        conv.smoothing, conv.float_consts = strengths, float_consts
        if budget is not None:
            conv.mixed = mixed_precision.assign(conv, items, budget, progress)
        return conv

    def graph(self, batch: int | None = None, consts: dict[str, torch.Tensor] | None = None, name: str = "model") -> Graph:
        """The integer graph, at the captured batch size or another one."""
        g = self.float_graph if batch is None else self.recapture(batch)
        return fuse(lower.emit(g, self.plan, self.consts if consts is None else consts, name).graph).validate()

    def recapture(self, batch: int) -> FloatGraph:
        inputs = tuple(x[:1].expand(batch, *x.shape[1:]).contiguous() for x in self.example_inputs)
        g = capture(self.model, inputs)
        g = smooth.prepare(g) if self.smoothed else g
        if [n.output for n in g.nodes] != [n.output for n in self.float_graph.nodes] or not self._same_constants(g):
            raise ConversionError(f"the model traces differently at batch {batch}; convert at that batch size")
        return g

    def _same_constants(self, g: FloatGraph) -> bool:
        """Whether every constant whose shape depends on the batch is the captured one at g's batch
        (float_graph.at_batch: what emitting at that batch will use)."""
        try:
            return all(torch.equal(float_graph.at_batch(self.float_graph.consts[k], g.shapes[k]), c)
                       for k, c in g.consts.items() if k in g.shapes and g.shapes[k] != self.float_graph.shapes[k])
        except ValueError:
            return False

    def _source(self, name: str) -> str:
        """'file:line: code: ' of the model line that made the value or op `name`, or that reads the
        constant `name` ('' if none)."""
        nodes = self.float_graph.nodes
        if name in self.float_graph.consts:  # the line that reads it first
            readers = [n.source for n in nodes if name in n.inputs or name in n.consts.values()]
            return f"{readers[0]}: " if readers else ""
        made = {n.output: n.source for n in nodes}
        while name and name not in made:  # an op's helper tensors extend its value's name (x.mask, x.table)
            name = name.rpartition(".")[0]
        return f"{made[name]}: " if name else ""

    def int8_fallbacks(self) -> list[str]:
        """The linears asked for W4 that stay int8 (K not a multiple of 32 and of the group size), with K."""
        out = []
        for n in self.float_graph.nodes:
            name = n.consts.get("weight") if n.kind == "linear" else None
            if name is not None and self.plan.config.weight_bits(name.removesuffix(".weight")) == "w4":
                k = self.consts[name].shape[1]
                if not self.plan.config.int4(name, k):
                    out.append(f"{name.removesuffix('.weight')} (K={k})")
        return out

    def graph_at_length(self, length: int, axis: int = 1, name: str = "model") -> Graph:
        """The integer graph with every input cut to its first `length` entries along `axis` (the
        sequence), emitted from the same plan: the scales the bound's calibration chose."""
        g = capture_at_length(self.model, self.example_inputs, length, axis)
        g = smooth.prepare(g) if self.smoothed else g
        if [n.kind for n in g.nodes] != [n.kind for n in self.float_graph.nodes]:
            raise ConversionError(f"the model traces differently at length {length}; convert at that length")
        self._same_at_length(g, length)
        # Weights are the bound's (smoothed, GPTQ-rounded); constants folded from the length (position
        # embeddings, masks) are this capture's.
        consts = {k: g.consts[k] if k in g.consts and tuple(g.consts[k].shape) != tuple(v.shape) else v
                  for k, v in self.consts.items()}
        return fuse(lower.emit(g, self.plan, consts | {k: v for k, v in g.consts.items() if k not in consts},
                               name).graph).validate()

    def _same_at_length(self, g: FloatGraph, length: int) -> None:
        """What the plan and the IR comparison cannot see must not change with the length: a node's own
        constants of one shape (a mean of position embeddings) and attributes (a scale of 4 / L)."""
        for k, c in g.consts.items():
            bound_value = self.float_graph.consts.get(k)
            if bound_value is not None and bound_value.shape == c.shape and not torch.equal(bound_value, c):
                raise ConversionError(f"{self._source(k)}constant '{k}' differs at length {length}: "
                                      f"the model's values depend on the length. {_FIXED_LENGTH}")
        for a, b in zip(self.float_graph.nodes, g.nodes):
            if {k: v for k, v in a.attrs.items() if k not in _LENGTH_ATTRS} != \
                    {k: v for k, v in b.attrs.items() if k not in _LENGTH_ATTRS}:
                raise ConversionError(f"{a.source}: {a.kind} {a.output} computes differently at length {length} "
                                      f"({a.attrs} vs {b.attrs}). {_FIXED_LENGTH}")

    def dynamic_graph(self, axis: int = 1, dim_name: str = "seq", name: str = "model") -> Graph:
        """The integer graph at the inputs' length L (their size along `axis`), with a dynamic dimension
        of bound L: runs at any length s ≤ L.

        Which axes follow the length is read off the graph itself: it is emitted again at a shorter
        length s₂, and every axis whose size differs must be k·L at L and k·s₂ at s₂. Then the bound's
        graph cut to s₂ (Graph.at_length: constants sliced, options kept) must equal the graph emitted
        at s₂ in every shape, constant and option, or the conversion fails: a model whose integers
        depend on the length otherwise (a mean whose 1/L is folded into a requant, a slice ending at
        L − 1) is refused, never converted wrong.
        """
        bound = sequence_bound(self.example_inputs, axis)
        full = self.graph(name=name)
        short_len = short_length(bound, axis)
        short = self.graph_at_length(short_len, axis, name)
        if len(short.tensors) != len(full.tensors) or [o.kind for o in short.ops] != [o.kind for o in full.ops]:
            raise ConversionError(f"the graph at length {short_len} differs in structure from the one at {bound}")
        for t, u in zip(full.tensors, short.tensors):
            axes = []
            for a, (d, e) in enumerate(zip(t.shape, u.shape)):
                if d == e:
                    continue
                if d % bound or e != d // bound * short_len:
                    raise ConversionError(f"{self._source(t.name)}tensor '{t.name}' axis {a} is {d} at length {bound} "
                                          f"and {e} at {short_len}: not proportional to the length. {_FIXED_LENGTH}")
                axes.append(a)
            t.dynamic_axes = tuple(axes)
        full.dynamic = (dim_name, int(bound))
        _same_graph(full.at_length(short_len), short, short_len, self._source)
        return full.validate()


def _same_graph(a: Graph, b: Graph, length: int, source) -> None:
    """a (the bound's graph cut to `length`) and b (emitted at `length`) are the same integers."""
    import numpy as np

    for t, u in zip(a.tensors, b.tensors):
        same = t.dtype == u.dtype and t.shape == u.shape and (t.data is None) == (u.data is None)
        if same and t.data is not None:
            same = np.array_equal(t.data, u.data)
        if not same:
            raise ConversionError(f"{source(u.name)}tensor '{u.name}' at length {length} is not the bound's cut to that "
                                  f"length: the model's integers depend on the length. {_FIXED_LENGTH}")
    for k, (o, p) in enumerate(zip(a.ops, b.ops)):
        same = o.inputs == p.inputs and o.outputs == p.outputs and o.options.keys() == p.options.keys() and all(
            np.array_equal(o.options[key], p.options[key]) for key in o.options)
        if not same:
            raise ConversionError(f"{source(o.name)}op {k} ({o.name or o.kind}) at length {length} differs from the "
                                  f"bound's: its options depend on the length. {_FIXED_LENGTH}")


# attributes that follow the length by design: target shapes (checked on the IR), and functions (compared
# through their tables, which the IR holds)
_LENGTH_ATTRS = {"shape", "mask_shape", "fn", "start", "end"}
_FIXED_LENGTH = ("Pool or slice by the length outside the graph (return the hidden states; mean pooling "
                 "becomes a masked sum), or convert without a dynamic length.")


def _calibration_parts(model, example_inputs: tuple, g: FloatGraph, items: list) -> list[tuple[FloatGraph, list]]:
    """The graphs to calibrate on, each with its items. A text model's calibration inputs are mostly
    padding (a sentence of 20 tokens in 128), which calibration ignores (calibrate.real_tokens) but would
    still compute. So each item goes to the shortest of the lengths 8, 16, 32, ... that holds its real
    tokens, cut to it, and the model is captured again at each length used — where that capture computes
    every real token's values as the full one does (checked on one item), as an encoder that masks its
    padding out of attention does. Items that cannot be cut stay with g at full length."""
    keeps = [cal.real_tokens(g, item) for item in items]
    if keeps[0] is None or any(x.dim() < 2 or x.shape[1] != keeps[0].shape[1] for x in items[0]):
        return [(g, items)]
    full = keeps[0].shape[1]
    buckets: dict[int, list[int]] = {}
    for k, keep in enumerate(keeps):
        last = int(keep.any(0).nonzero().max()) + 1 if keep.any() else 1
        length = 8
        while length < last:
            length *= 2
        buckets.setdefault(min(length, full), []).append(k)
    parts, whole = [], buckets.pop(full, [])
    for length, ks in sorted(buckets.items()):
        short = _capture_if_same(model, example_inputs, g, items[ks[0]], keeps[ks[0]], length)
        if short is None:
            whole += ks
        else:
            parts.append((short, [tuple(x[:, :length] for x in items[k]) for k in ks]))
    return parts + ([(g, [items[k] for k in sorted(whole)])] if whole else [])


def _capture_if_same(model, example_inputs: tuple, g: FloatGraph, item: tuple, keep: torch.Tensor,
                     length: int) -> FloatGraph | None:
    """The model captured at `length`, if it computes item's real tokens as g does at full length."""
    try:
        short = capture_at_length(model, example_inputs, length)
    except ConversionError:
        return None
    if [(n.kind, n.output) for n in short.nodes] != [(n.kind, n.output) for n in g.nodes]:
        return None
    with torch.no_grad():
        a = float_graph.run_nodes(g, {s.name: x for s, x in zip(g.inputs, item)})
        b = float_graph.run_nodes(short, {s.name: x[:, :length] for s, x in zip(short.inputs, item)})
    for v, x in a.items():
        x, y = cal.on_tokens(x, keep), cal.on_tokens(b[v], keep[:, :length])
        if x.shape == y.shape and x.is_floating_point() and \
                not torch.allclose(x, y, rtol=1e-3, atol=1e-3 * float(x.abs().max()) + 1e-6):
            return None
    return short


def _calibrate_parts(parts: list, ranges: cal.Ranges, consts: dict | None, progress: bool) -> cal.Ranges:
    """Calibrate over every part (graph, items), with consts (g's) at each part's length; one progress bar."""
    with tqdm(total=sum(len(items) for _, items in parts), desc="calibrating", unit="input",
              disable=not progress) as bar:
        for part, items in parts:
            cal.calibrate(part, items, ranges, None if consts is None else _constants_at(part, consts), False)
            bar.update(len(items))
    return ranges


def _constants_at(g: FloatGraph, consts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """consts (a full capture's, maybe smoothed) for g, a capture at another length: by name, except where
    the length changed a constant's shape (a position table), where g's own."""
    return {k: consts[k] if k in consts and consts[k].shape == v.shape else v for k, v in g.consts.items()}


def check_dynamic_sequence(model, example_inputs: tuple, axis: int = 1) -> None:
    """Before calibration: refuse a model whose inputs have no sequence axis, or that does not take
    another length there, with a message that says so."""
    capture_at_length(model, example_inputs, short_length(sequence_bound(example_inputs, axis), axis), axis)


def sequence_bound(example_inputs: tuple, axis: int = 1) -> int:
    """The inputs' length along the sequence axis: a dynamic graph's bound."""
    if any(x.dim() <= axis for x in example_inputs):
        shapes = ", ".join(str(tuple(x.shape)) for x in example_inputs)
        raise ConversionError(f"a dynamic sequence is axis {axis} of every input; the inputs are {shapes}")
    return example_inputs[0].shape[axis]


def short_length(bound: int, axis: int = 1) -> int:
    """The second length a dynamic graph is emitted at, to find the axes that follow the length."""
    if bound < 3:
        raise ConversionError(f"a dynamic sequence needs example inputs at least 3 long along axis {axis}, "
                              f"not {bound} (the example's length is the bound)")
    return max(2, bound // 2 - 1)  # not a divisor pattern of L: k·L and k·s₂ differ for every k


def capture_at_length(model, example_inputs: tuple, length: int, axis: int = 1):
    """The float graph with every input cut to its first `length` entries along `axis`; a model that
    does not take another length there (an image, a fixed feature size) gets a ConversionError that says so."""
    shapes = ", ".join(str(tuple(x.shape)) for x in example_inputs)
    try:
        return capture(model, tuple(x.narrow(axis, 0, length).contiguous() for x in example_inputs))
    except ConversionError as e:
        raise ConversionError(f"a dynamic sequence is axis {axis} of every input, but the model does not take the "
                              f"inputs {shapes} at length {length} there: {e}") from None


def convert(model: torch.nn.Module, example_inputs, calibration, weights="w8", dynamic_seq: bool = False,
            **options) -> Graph:
    """An integer-only graph of `model` (see Converter.calibrate for the options). dynamic_seq: axis 1 of
    every input is a sequence whose length the graph takes at run time, up to the example's (the bound;
    Converter.dynamic_graph)."""
    c = Converter.calibrate(model, example_inputs, calibration, weights, **options)
    return c.dynamic_graph() if dynamic_seq else c.graph()
