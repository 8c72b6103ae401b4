"""Writes what is derived from the op spec (intedge/ir/opspec.py):

* the op section of ieg.fbs (OpKind, the option tables, the OpOptions union);
* edge_runtime/src/ops/op_checks_generated.cc: the signature table and
  every op's rules and output shapes, translated to C++ from the spec's
  expressions (spec_lang.py) over the helpers of spec_support.h;
* docs/ops.md: the op reference.

Run by generate.sh (which then runs flatc); `generate.sh --check` fails when
any of these is stale.

    python edge_runtime/schema/generate_ops.py OUT_ROOT
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from intedge.ir.opspec import OPS, OpSpec
from intedge.ir.spec_lang import DTYPE_NAMES, Expr

ROOT = Path(__file__).resolve().parents[2]
FBS_BEGIN = "// ---- generated from intedge/ir/opspec.py by generate_ops.py: do not edit below ----"
FBS_END = "// ---- end of generated ops ----"
FB_TYPES = {"int": "int", "byte": "byte", "long": "long", "float": "float", "bool": "bool", "[int]": "[int]",
            "[byte]": "[byte]", "[long]": "[long]"}
CPP_SCALAR = {"int": "int64_t", "byte": "int64_t", "long": "int64_t", "float": "double", "bool": "bool"}
CPP_VECTOR = {"[int]": "int32_t", "[byte]": "int8_t", "[long]": "int64_t"}
MAYBE = "[[maybe_unused]] "  # not every rule reads every role and option


class GenError(ValueError):
    pass


# --- expressions → C++ ----------------------------------------------------------------------


class Translator:
    """One op's expressions as C++ (code, type). Types: int, bool, float, dims, dtype, str, tensor,
    tensors, vec, range. `ev` names the Ev the helpers report to."""

    def __init__(self, spec: OpSpec, ev: str = "e"):
        self.ev, self.depth = ev, 0
        self.names: dict[str, tuple[str, str]] = {d: (f"DType::{d.upper()}", "dtype") for d in DTYPE_NAMES}
        for role in spec.inputs:
            self.names[role.name] = (role.name, "tensors" if role.many else "tensor")
        self.names[spec.output.name] = (spec.output.name, "tensors" if spec.output.many > 1 else "tensor")
        for o in spec.options:
            self.names[o.name] = (o.name, "vec" if o.type in CPP_VECTOR else {"float": "float", "bool": "bool"}.get(o.type, "int"))

    def expr(self, e: Expr | ast.expr) -> tuple[str, str]:
        node = e.tree.body if isinstance(e, Expr) else e
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise GenError(f"no C++ for {ast.unparse(node)}")
        return method(node)

    def typed(self, node, *types) -> str:
        code, t = self.expr(node)
        if t not in types:
            raise GenError(f"{ast.unparse(node)} is {t}, expected {'/'.join(types)}")
        return code

    def _Constant(self, n):
        if isinstance(n.value, bool):
            return ("true" if n.value else "false"), "bool"
        return f"int64_t{{{n.value}}}", "int"

    def _Name(self, n):
        if n.id not in self.names:
            raise GenError(f"unknown name {n.id}")
        return self.names[n.id]

    def _Attribute(self, n):
        t = self.typed(n.value, "tensor")
        kinds = {"rank": "int", "shape": "dims", "dtype": "dtype", "constant": "bool", "scale": "float", "name": "str"}
        if n.attr == "present":
            return f"{t}.present()", "bool"
        return f"{t}.{n.attr}({self.ev})", kinds[n.attr]

    def _Subscript(self, n):
        value, vt = self.expr(n.value)
        if isinstance(n.slice, ast.Slice):
            if vt != "dims":
                raise GenError(f"only shapes slice: {ast.unparse(n)}")
            lo = self.typed(n.slice.lower, "int") if n.slice.lower else "0"
            hi = self.typed(n.slice.upper, "int") if n.slice.upper else "0"
            return f"Slice({value}, {str(n.slice.lower is not None).lower()}, {lo}, {str(n.slice.upper is not None).lower()}, {hi})", "dims"
        i = self.typed(n.slice, "int")
        if vt == "dims":
            return f"Index({self.ev}, {value}, {i})", "int"
        if vt == "vec":
            return f"{value}.At({self.ev}, {i})", "int"
        if vt == "tensors":
            return f"{value}.At({self.ev}, {i})", "tensor"
        raise GenError(f"cannot index {vt}: {ast.unparse(n)}")

    def _BinOp(self, n):
        a, at = self.expr(n.left)
        b, bt = self.expr(n.right)
        if isinstance(n.op, ast.Add) and at == bt == "dims":
            return f"Cat({self.ev}, {a}, {b})", "dims"
        if at != "int" or bt != "int":
            raise GenError(f"arithmetic on {at}, {bt}: {ast.unparse(n)}")
        if isinstance(n.op, ast.FloorDiv):
            return f"FloorDiv({self.ev}, {a}, {b})", "int"
        if isinstance(n.op, ast.Mod):
            return f"FloorMod({self.ev}, {a}, {b})", "int"
        op = {ast.Add: "Add", ast.Sub: "Sub", ast.Mult: "Mul"}[type(n.op)]
        return f"{op}({self.ev}, {a}, {b})", "int"

    def _UnaryOp(self, n):
        if isinstance(n.op, ast.Not):
            return f"(!{self.typed(n.operand, 'bool')})", "bool"
        return f"Neg({self.ev}, {self.typed(n.operand, 'int')})", "int"

    def _BoolOp(self, n):
        op = " && " if isinstance(n.op, ast.And) else " || "
        return "(" + op.join(self.typed(v, "bool") for v in n.values) + ")", "bool"

    def _Compare(self, n):
        parts, left = [], n.left
        for op, right in zip(n.ops, n.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                v, vt = self.expr(left)
                if not isinstance(right, ast.Tuple) or vt not in ("int", "dtype"):
                    raise GenError(f"`in` takes an int or dtype and a literal tuple: {ast.unparse(n)}")
                ctype = "int64_t" if vt == "int" else "DType"
                items = ", ".join(self.typed(x, vt) for x in right.elts)
                parts.append(f"{'!' if isinstance(op, ast.NotIn) else ''}In<{ctype}>({v}, {{{items}}})")
            else:
                a, at = self.expr(left)
                b, bt = self.expr(right)
                numeric = {"int", "float"}
                if not (at == bt or (at in numeric and bt in numeric)):
                    raise GenError(f"comparing {at} with {bt}: {ast.unparse(n)}")
                if at in ("dims", "dtype", "bool") and not isinstance(op, (ast.Eq, ast.NotEq)):
                    raise GenError(f"{at} only compares with == and !=")
                sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}[type(op)]
                parts.append(f"({a} {sym} {b})")
            left = right
        return "(" + " && ".join(parts) + ")", "bool"

    def _IfExp(self, n):
        c = self.typed(n.test, "bool")
        a, at = self.expr(n.body)
        b, bt = self.expr(n.orelse)
        if at != bt:
            raise GenError(f"branches differ in type: {ast.unparse(n)}")
        return f"({c} ? {a} : {b})", at

    def _List(self, n):
        return "Dims{" + ", ".join(self.typed(x, "int") for x in n.elts) + "}", "dims"

    def _Call(self, n):
        f = n.func.id
        if f in ("all", "sum"):
            return self._reduce(f, n.args[0])
        args = [self.expr(a) for a in n.args]
        codes = [c for c, _ in args]
        if f == "len":
            if args[0][1] not in ("dims", "vec", "tensors"):
                raise GenError(f"len of {args[0][1]}")
            return f"{codes[0]}.size()", "int"
        calls = {
            "finite": ("Finite({0})", "bool"), "prod": ("Prod({ev}, {0})", "int"),
            "max_abs": ("MaxAbs({ev}, {0})", "int"), "min_of": ("MinOf({ev}, {0})", "int"),
            "max_of": ("MaxOf({ev}, {0})", "int"), "all_between": ("AllBetween({0}, {1}, {2})", "bool"),
            "broadcasts": ("Broadcasts({0}, {1})", "bool"), "is_permutation": ("IsPermutation({0}, {1})", "bool"),
            "permute": ("Permute({ev}, {0}, {1})", "dims"),
        }
        if f not in calls:
            raise GenError(f"no C++ helper for {f}()")
        template, result = calls[f]
        return template.format(*codes, ev=self.ev), result

    def _reduce(self, f, gen):
        if not isinstance(gen, ast.GeneratorExp):
            raise GenError(f"{f}() takes a generator")
        comp = gen.generators[0]
        var = comp.target.id
        i = f"i{self.depth}_"
        self.depth += 1
        if isinstance(comp.iter, ast.Call) and comp.iter.func.id == "range":
            n = self.typed(comp.iter.args[0], "int")
            head, bind, vtype = f"for (int64_t {i} = 0; {i} < {n}; ++{i})", f"const int64_t {var} = {i};", "int"
        else:
            it, itype = self.expr(comp.iter)
            elem = {"tensors": ("Tensor", "tensor", f"{it}.At({self.ev}, {i})"), "dims": ("int64_t", "int", f"{it}[{i}]"),
                    "vec": ("int64_t", "int", f"{it}.At({self.ev}, {i})")}
            if itype not in elem:
                raise GenError(f"cannot iterate {itype}")
            ctype, vtype, get = elem[itype]
            head, bind = f"for (int64_t {i} = 0; {i} < ({it}).size(); ++{i})", f"const {ctype} {var} = {get};"
        saved = self.names.get(var)
        self.names[var] = (var, vtype)
        body = self.typed(gen.elt, "bool" if f == "all" else "int")
        self.names.pop(var) if saved is None else self.names.__setitem__(var, saved)
        self.depth -= 1
        if f == "all":
            return f"[&]() -> bool {{ {head} {{ {bind} if (!{body}) return false; }} return true; }}()", "bool"
        return (f"[&]() -> int64_t {{ int64_t s_ = 0; {head} {{ {bind} s_ = Add({self.ev}, s_, {body}); }} return s_; }}()",
                "int")


FMT = {"int": "FmtInt", "bool": "FmtBool", "dims": "FmtDims", "dtype": "FmtDType", "float": "FmtFloat", "str": ""}


def message_code(spec: OpSpec, message) -> str:
    t = Translator(spec, ev="m")
    parts = []
    for p in message.parts:
        if isinstance(p, str):
            parts.append(cpp_string(p))
            continue
        code, typ = t.expr(p)
        parts.append(f"Place([&]([[maybe_unused]] Ev& m) {{ return {FMT[typ]}({code}); }})" if FMT[typ] else f"Place([&]([[maybe_unused]] Ev& m) {{ return {code}; }})")
    if isinstance(message.parts[0], str):
        parts[0] = f"std::string({parts[0]})"
    return " + ".join(parts)


def cpp_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the generated C++ -------------------------------------------------------------------------


def dtype_mask(dtypes) -> str:
    return "0x" + format(sum(1 << DTYPE_NAMES.index(d) for d in dtypes), "02x")


def check_function(spec: OpSpec) -> str:
    t = Translator(spec)
    lines = [f"Status Check_{spec.kind}(const OpContext& ctx) {{"]
    if spec.options:
        lines.append(f"  const auto* o = ctx.op().options_as_{spec.table}();")
    for j, role in enumerate(spec.inputs):
        lines.append(f"  {MAYBE}const Tensors {role.name} = ctx.Roles();" if role.many
                     else f"  {MAYBE}const Tensor {role.name} = ctx.Role({j});")
    out = spec.output
    lines.append(f"  {MAYBE}const Tensors {out.name} = ctx.Results();" if out.many > 1
                 else f"  {MAYBE}const Tensor {out.name} = ctx.Result(0);")
    for o in spec.options:
        if o.type in CPP_VECTOR:
            lines.append(f"  {MAYBE}const Vec<{CPP_VECTOR[o.type]}> {o.name}(o->{o.name}());")
        else:
            lines.append(f"  {MAYBE}const {CPP_SCALAR[o.type]} {o.name} = o->{o.name}();")
    if spec.output_dtype is not None:
        code = t.typed(spec.output_dtype, "dtype")
        lines += ["  {", "    Ev e;", f"    const DType want = {code};",
                  "    IE_RETURN_IF_ERROR(ctx.CheckOutputDType(!e.bad, want));", "  }"]
    for cond, message in spec.compiled_rules:
        code = t.typed(cond, "bool")
        lines += ["  {", "    Ev e;", f"    const bool ok = {code};",
                  f"    if (!ok || e.bad) return ctx.Fail({message_code(spec, message)});", "  }"]
    if spec.output_shape is not None:
        code = t.typed(spec.output_shape, "dims")
        lines += ["  {", "    Ev e;", f"    const Dims want = {code};",
                  "    IE_RETURN_IF_ERROR(ctx.CheckOutputShapes(!e.bad, want));", "  }"]
    lines += ["  return Status::Ok();", "}"]
    return "\n".join(lines)


MAX_ROLES = 6  # op_checks.h's kMaxRoles: the size of OpSignature::role


def signature(spec: OpSpec) -> str:
    if len(spec.inputs) > MAX_ROLES:
        raise GenError(f"{spec.kind} has {len(spec.inputs)} input roles; op_checks.h's kMaxRoles is {MAX_ROLES}")
    roles = ", ".join(f'{{"{r.name}", {dtype_mask(r.dtypes)}, {str(r.constant).lower()}, {str(r.optional).lower()}, '
                      f'{str(r.state).lower()}}}' for r in spec.inputs)
    max_in = -1 if spec.max_inputs is None else spec.max_inputs
    out_mask = "0" if isinstance(spec.output.dtypes, str) else dtype_mask(spec.output.dtypes)
    options = f"ir::fb::OpOptions::{spec.table}" if spec.table else "ir::fb::OpOptions::NONE"
    longs = [o.name for o in spec.options if o.type == "[long]"]
    aligned = ("[](const ir::fb::Op& op) { const auto* o = op.options_as_" + spec.table + "(); return "
               + " && ".join(f"Aligned8(o->{n}())" for n in longs) + "; }") if longs else "nullptr"
    return (f'    {{"{spec.kind}", {options}, {spec.min_inputs}, {max_in}, {len(spec.inputs)}, {{{roles}}}, '
            f'"{spec.output.name}", {out_mask}, {spec.output.many}, {aligned}}},')


def checks_cc() -> str:
    top = max(s.code for s in OPS)
    table = ["const OpSignature* SignatureOf(ir::fb::OpKind kind) {", "  static const OpSignature kSignatures[] = {"]
    by_code = {s.code: s for s in OPS}
    for c in range(top + 1):
        table.append(signature(by_code[c]) if c in by_code else '    {nullptr, ir::fb::OpOptions::NONE, 0, 0, 0, {}, nullptr, 0, 0, nullptr},')
    table += ["  };", "  const auto k = static_cast<int>(kind);",
              f"  return k >= 0 && k <= {top} && kSignatures[k].kind ? &kSignatures[k] : nullptr;", "}"]
    switch = ["Status CheckOpRules(const OpContext& ctx) {", "  switch (static_cast<int>(ctx.op().kind())) {"]
    switch += [f"    case {s.code}: return Check_{s.kind}(ctx);" for s in OPS]
    switch += ["  }", '  return ctx.Fail("unknown op kind");', "}", ""]
    switch += [f"Status Prepare{s.camel}(const OpContext& ctx, std::unique_ptr<Op>* out);  // ops/*_ops.cc" for s in OPS]
    switch += ["", "Status PrepareOp(const OpContext& ctx, std::unique_ptr<Op>* out) {",
               "  switch (static_cast<int>(ctx.op().kind())) {"]
    switch += [f"    case {s.code}: return Prepare{s.camel}(ctx, out);" for s in OPS]
    switch += ["  }", '  return ctx.Fail("unknown op kind");', "}"]
    body = "\n\n".join(check_function(s) for s in OPS)
    return f"""// Generated by edge_runtime/schema/generate_ops.py from intedge/ir/opspec.py: do not edit.
// Every op's signature, rules and output shapes, translated from the spec's
// expressions, and the switch from an op kind to its Prepare.
#include <string>

#include "ops/op_checks.h"

namespace intedge {{
namespace {{

using namespace spec;  // NOLINT: the spec language's helpers

{body}

}}  // namespace

{chr(10).join(table)}

{chr(10).join(switch)}

}}  // namespace intedge
"""


# --- ieg.fbs and docs --------------------------------------------------------------------------


def fbs_section() -> str:
    lines = [FBS_BEGIN, "", "enum OpKind : ushort {"]
    lines += [f"  {s.kind.upper()} = {s.code}," for s in OPS]
    lines += ["}", ""]
    for s in OPS:
        if not s.options:
            continue
        fields = []
        for o in s.options:
            default = "" if o.default in (None, 0, False) or o.type.startswith("[") else f" = {o.default}"
            comment = f"  // {o.doc}" if o.doc else ""
            fields.append(f"  {o.name}: {FB_TYPES[o.type]}{default};{comment}")
        lines += [f"table {s.table} {{", *fields, "}"]
    lines += ["", "union OpOptions {"]
    lines += [f"  {s.table}," for s in OPS if s.table]
    lines += ["}", "", FBS_END]
    return "\n".join(lines)


def fbs(current: str) -> str:
    head, rest = current.split(FBS_BEGIN, 1)
    _, tail = rest.split(FBS_END, 1)
    return head + fbs_section() + tail


def ops_md() -> str:
    out = ["# The ops of the IR", "",
           "Generated from `intedge/ir/opspec.py` by `edge_runtime/schema/generate.sh`: do not edit. Each op's",
           "semantics are its reference function in `integer_ops/` (called as shown); both validators and the",
           "engine enforce its rules, in this order, with these messages.", ""]
    for s in OPS:
        out += [f"## `{s.kind}` (code {s.code})", "", s.doc, ""]
        ins = ", ".join(f"`{r.name}`{'…' if r.many else ''}: {'/'.join(r.dtypes)}"
                        f"{' (constant)' if r.constant else ''}{' (optional)' if r.optional else ''}"
                        f"{' (state)' if r.state else ''}" for r in s.inputs)
        o = s.output
        dtypes = o.dtypes if isinstance(o.dtypes, str) else "/".join(o.dtypes)
        out += [f"* inputs: {ins}",
                f"* output{'s (up to ' + str(o.many) + ')' if o.many > 1 else ''}: `{o.name}`: {dtypes}, shape "
                f"{'`' + o.shape + '`' if o.shape else 'as declared'}"]
        if s.options:
            out.append("* options: " + ", ".join(
                f"`{x.name}` {x.type}" + (f" = {x.default}" if x.default is not None else "") for x in s.options))
        if s.where:
            out.append("* where " + ", ".join(f"`{k}` = `{v}`" for k, v in s.where.items()))
        out.append(f"* reference: `{s.reference}`")
        if s.rules:
            out += ["* rules:", *[f"  * `{c}`: {m}" for c, m in s.rules]]
        out.append("")
    return "\n".join(out)


def main(out_root: Path) -> None:
    fbs_path = ROOT / "edge_runtime/schema/ieg.fbs"
    targets = {
        "edge_runtime/schema/ieg.fbs": fbs(fbs_path.read_text()),
        "edge_runtime/src/ops/op_checks_generated.cc": checks_cc(),
        "docs/ops.md": ops_md(),
    }
    for rel, text in targets.items():
        path = out_root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
