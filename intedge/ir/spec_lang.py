"""The small language the op spec (opspec.py) writes its rules in.

A rule, an output shape or a reference call is a Python expression over an
op's tensors (by role name: `x.shape[-1]`, `weight.dtype`), its options
(`multiplier`, `axis`) and a few helpers (`prod`, `max_abs`, ...). The same
parsed expression has two back ends, so an op's rules are written once:

* here, `Expr.evaluate` runs it with Python's own evaluator on the values
  below (the Python validator, the reference executor's dispatch);
* edge_runtime/schema/generate_ops.py translates it to C++ (the engine's
  checks, edge_runtime/src/ops/op_checks_generated.cc), over helpers with
  the same meaning (edge_runtime/src/ops/spec_support.h).

What both sides promise, and the tests hold them to:
* Indexing follows Python (negative indices count from the end; slices
  clamp). An index out of range, a division by zero or an absent optional
  input read makes the whole rule fail, as if it were false.
* Integers are int64, checked: an arithmetic result outside int64 (a
  shape rule fed an option near 2^63, say) fails the rule on both sides,
  where Python alone would carry on with a big integer and C++ alone would
  wrap. The tensor-level limits (dims in [1, 2^31), at most 2^40 elements)
  keep the rules' arithmetic on valid graphs far from that edge.
* `and`, `or` and `x if c else y` short-circuit on both sides.

Grammar: integer and boolean literals; names; attributes of tensors
(`rank`, `shape`, `dtype`, `constant`, `present`, `scale`, `name`);
subscripts and slices without a step; `+ - * // %`; `**` between literals
(folded here); unary `-` and `not`; comparisons, chained, with `in` and
`not in` over literal tuples; `and`, `or`, `x if c else y`; list literals
(dims), tuple literals (sets to test `in`); calls of the helpers in
HELPERS; and `all(E for v in ITER)` / `sum(...)` with one `for`.
"""

from __future__ import annotations

import ast
import copy
import math
from dataclasses import dataclass

import numpy as np

DTYPE_NAMES = ("int8", "uint8", "int16", "int32", "int64", "float32", "int4")  # the file's DType codes, in order
TENSOR_ATTRS = ("rank", "shape", "dtype", "constant", "present", "scale", "name")

# The helpers a rule may call; spec_support.h has their C++ twins, generate_ops.py the mapping.
HELPERS = (
    "len",
    "finite",          # a float option is neither NaN nor ±inf
    "prod",            # of a shape
    "max_abs",         # max |v| over a constant's values; 0 for an absent input
    "min_of",          # smallest value of a constant (absent or empty: fails)
    "max_of",
    "all_between",     # every entry of an option vector in [lo, hi]
    "broadcasts",      # numpy broadcasting of the first shape to the second
    "is_permutation",  # an option vector holds each of range(n) once
    "permute",         # a shape's dims in an option vector's order
    "range", "all", "sum",
)


class SpecLanguageError(ValueError):
    """An expression in the spec uses something the language does not have (a bug in opspec.py)."""


class RuleFailed(Exception):
    """Raised inside an evaluation where the C++ side would mark the rule as failed."""


# --- values the Python back end evaluates over ------------------------------------------


class Dims(tuple):
    """A shape: a tuple that concatenates with lists and prints as [a, b]."""

    def __add__(self, other):
        return Dims(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Dims(tuple(other) + tuple(self))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Dims(tuple.__getitem__(self, i))
        return tuple.__getitem__(self, i)

    def __eq__(self, other):
        return isinstance(other, (tuple, list)) and tuple(self) == tuple(other)

    def __ne__(self, other):
        return not self == other

    __hash__ = tuple.__hash__

    def __str__(self):
        return "[" + ", ".join(str(d) for d in self) + "]"


class TensorView:
    """What a rule sees of one tensor: the tensor table's entry, and its values when constant."""

    __slots__ = ("name", "dtype", "shape", "rank", "constant", "scale", "data")
    present = True

    def __init__(self, name, dtype, shape, scale, data):
        self.name, self.dtype, self.shape, self.rank = name, dtype, Dims(shape), len(shape)
        self.constant, self.scale, self.data = data is not None, scale, data


class AbsentTensor:
    """An optional input left out (tensor id -1): reading anything but `present` fails the rule."""

    present = False

    def __getattr__(self, attr):
        raise RuleFailed(f"absent input has no {attr}")


ABSENT = AbsentTensor()


def _i64(value):
    """An arithmetic result, checked to be an int64 as the C++ side computes it (shapes pass as they are)."""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise RuleFailed("int64 overflow")
    return value


def _data(t):
    if not t.present or not t.constant:
        raise RuleFailed("not a constant")
    return t.data


def _max_abs(t):
    if not t.present:
        return 0
    d = _data(t)
    return int(np.abs(d.astype(np.int64)).max()) if d.size else 0


def _min_of(t):
    d = _data(t)
    if not d.size:
        raise RuleFailed("empty")
    return int(d.min())


def _max_of(t):
    d = _data(t)
    if not d.size:
        raise RuleFailed("empty")
    return int(d.max())


def _all_between(vec, lo, hi):
    v = np.asarray(vec)
    return bool(v.size == 0 or (int(v.min()) >= lo and int(v.max()) <= hi))


def _broadcasts(small, big):
    if len(small) > len(big):
        return False
    return all(s in (1, b) for s, b in zip(tuple(small)[::-1], tuple(big)[::-1]))


def _is_permutation(vec, n):
    return sorted(int(p) for p in vec) == list(range(n))


def _permute(dims, vec):
    return Dims(dims[int(p)] for p in vec)


def _prod(dims):
    n = 1
    for d in dims:
        n = _i64(n * d)
    return n


def _sum(values):
    total = 0
    for v in values:
        total = _i64(total + v)
    return total


PY_HELPERS = {
    "len": len, "finite": math.isfinite, "prod": _prod, "max_abs": _max_abs, "min_of": _min_of, "max_of": _max_of,
    "all_between": _all_between, "broadcasts": _broadcasts, "is_permutation": _is_permutation,
    "permute": _permute, "range": range, "all": all, "sum": _sum,
}
PY_HELPERS |= {d: d for d in DTYPE_NAMES} | {"_i64": _i64}


def fmt(value) -> str:
    """A value as both back ends print it in messages."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return f"{float(value):.17g}"
    return str(value)


# --- parsing ---------------------------------------------------------------------------------

_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Slice, ast.BinOp,
    ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.List, ast.Tuple, ast.GeneratorExp,
    ast.comprehension, ast.Store, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)


class _Checked(ast.NodeTransformer):
    """Wraps each arithmetic result in _i64(...), the Python side of C++'s overflow checks."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return ast.copy_location(ast.Call(ast.Name("_i64", ast.Load()), [node], []), node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.USub):
            return node
        return ast.copy_location(ast.Call(ast.Name("_i64", ast.Load()), [node], []), node)


class _Fold(ast.NodeTransformer):
    """Folds literal powers (2**31) and substitutes the op's named sub-expressions."""

    def __init__(self, macros: dict[str, ast.expr]):
        self.macros = macros

    def visit_Name(self, node):
        if node.id in self.macros:
            return self.macros[node.id]
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
            return ast.copy_location(ast.Constant(-node.operand.value), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            if not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant)):
                raise SpecLanguageError("** only between literals")
            value = node.left.value**node.right.value
            if not -(2**63) <= value < 2**63:
                raise SpecLanguageError(f"{value} does not fit int64")
            return ast.copy_location(ast.Constant(value), node)
        return node


@dataclass
class Expr:
    """A parsed spec expression: its text, its AST (for the C++ generator) and its Python code."""

    text: str
    tree: ast.Expression
    code: object

    def call(self, names: dict):
        """Evaluate as plain Python: what the reference executor's calls need (their errors propagate)."""
        names.setdefault("__builtins__", {})
        return eval(self.code, names)  # noqa: S307 - the spec's own expressions

    def evaluate(self, names: dict):
        """The value of a rule or shape; RuleFailed where the C++ side would fail the rule."""
        names.setdefault("__builtins__", {})  # names are the globals: generator expressions see only those
        try:
            return eval(self.code, names)  # noqa: S307 - the spec's own expressions
        except (IndexError, ZeroDivisionError, RuleFailed):
            raise RuleFailed(self.text) from None


def parse(text: str, macros: dict[str, Expr] | None = None, calls=HELPERS) -> Expr:
    """Parse one expression. calls: the functions it may call (None: any; the reference calls kernels)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise SpecLanguageError(f"{text!r}: {e}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise SpecLanguageError(f"{text!r}: {type(node).__name__} is not in the spec language")
        if isinstance(node, ast.Slice) and node.step is not None:
            raise SpecLanguageError(f"{text!r}: slices take no step")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and (calls is None or node.func.id in calls)):
            raise SpecLanguageError(f"{text!r}: only the helpers {sorted(HELPERS)} may be called")
        if isinstance(node, ast.Constant) and type(node.value) not in (int, bool):
            raise SpecLanguageError(f"{text!r}: only integer and boolean literals")
        if isinstance(node, ast.Attribute) and node.attr not in TENSOR_ATTRS:
            raise SpecLanguageError(f"{text!r}: tensors have no attribute {node.attr!r}")
        if isinstance(node, ast.comprehension) and (node.ifs or node.is_async or not isinstance(node.target, ast.Name)):
            raise SpecLanguageError(f"{text!r}: one plain `for NAME in ITER`, no conditions")
        if isinstance(node, ast.GeneratorExp) and len(node.generators) != 1:
            raise SpecLanguageError(f"{text!r}: one `for` per generator")
    tree = ast.fix_missing_locations(_Fold({k: v.tree.body for k, v in (macros or {}).items()}).visit(tree))
    checked = ast.fix_missing_locations(_Checked().visit(copy.deepcopy(tree)))
    return Expr(text, tree, compile(checked, f"<spec: {text}>", "eval"))


# --- messages -----------------------------------------------------------------------------------


@dataclass
class Message:
    """A message template: literal text and {expression} placeholders, printed by both back ends alike."""

    parts: list  # str (literal) or Expr (placeholder)

    def render(self, names: dict) -> str:
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
                continue
            try:
                out.append(fmt(p.evaluate(names)))
            except RuleFailed:
                out.append("?")
        return "".join(out)


def parse_message(text: str, macros: dict[str, Expr]) -> Message:
    parts, i = [], 0
    while i < len(text):
        j = text.find("{", i)
        if j < 0:
            parts.append(text[i:])
            break
        k = text.find("}", j)
        if k < 0:
            raise SpecLanguageError(f"{text!r}: unclosed {{")
        if j > i:
            parts.append(text[i:j])
        parts.append(parse(text[j + 1 : k], macros))
        i = k + 1
    return Message(parts)
