"""The .onnx exporter's own cases: each ATen op it translates, run in ONNX Runtime against torch or Python's
integers — the composed floor division and shifts at the int64 extremes above all — the MatMulInteger
rewrite, the refusal of an untranslated op, and every_op exact with no float op inside."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from intedge.exporters import ExportError, to_onnx  # noqa: E402 - after the skips

I64 = np.iinfo(np.int64)
I32 = np.iinfo(np.int32)


def _translated(fn, *inputs):
    """fn traced as the exporter traces the spec (torch.export, then core ATen), translated; (model, ATen ops)."""

    class Fn(torch.nn.Module):
        def forward(self, *xs):
            return fn(*xs)

    exported = torch.export.export(Fn(), tuple(torch.from_numpy(x) for x in inputs)).run_decompositions()
    ops = {n.target for n in exported.graph.nodes if n.op == "call_function"}
    outputs = len(exported.graph_signature.user_outputs)
    model = to_onnx.translate(exported, [f"in{k}" for k in range(len(inputs))], [f"out{k}" for k in range(outputs)])
    onnx.checker.check_model(model, full_check=True)
    return model, ops


def _run(model, *inputs):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {f"in{k}": x for k, x in enumerate(inputs)})


def _matches_torch(fn, *inputs):
    """Run fn in torch and its translation in ONNX Runtime: the same dtypes, shapes and integers. Its ATen ops."""
    model, ops = _translated(fn, *inputs)
    want = fn(*(torch.from_numpy(x) for x in inputs))
    want = want if isinstance(want, tuple) else (want,)
    for k, (got, w) in enumerate(zip(_run(model, *inputs), want)):
        w = w.numpy()
        assert got.dtype == w.dtype and got.shape == w.shape, (k, got.dtype, got.shape, w.dtype, w.shape)
        np.testing.assert_array_equal(got, w, err_msg=f"output {k}")
    return ops


# Dividends and divisors at the extremes, with the signs mixed; shifts in and past [0, 64).
_A = np.array([I64.min, I64.min + 1, -(2**62) - 3, -(2**32), -7, -6, -1, 0, 1, 6, 7, 2**32 + 5, 2**62, I64.max - 1,
               I64.max], np.int64)
_B = np.array([I64.min, -(2**33) - 1, -7, -2, -1, 1, 2, 3, 7, 2**33 + 1, I64.max], np.int64)
_SHIFTS = np.array([0, 1, 2, 31, 32, 62, 63, 64, 65, 100], np.int64)


def _grid(a, b):
    a, b = np.broadcast_arrays(a[:, None], b[None, :])
    return np.where((a == I64.min) & (b == -1), 0, a), b.copy()  # I64.min // -1 overflows, in torch as in C


def _exact(f, *arrays, dtype=np.int64):
    """f over Python integers, elementwise: the oracle the compositions must meet."""
    return np.vectorize(lambda *v: f(*map(int, v)), otypes=[object])(*arrays).astype(dtype)


def _shr(x, s):  # the program's spelling of the spec's >> (torch_program.program decomposes >> into it)
    return torch.bitwise_right_shift(x, s)


def _shl(x, s):
    return torch.bitwise_left_shift(x, s)


def _wrap(v: int, bits: int = 64) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def test_floor_division_matches_python_at_the_extremes():
    a, b = _grid(_A, _B)
    model, ops = _translated(lambda a, b: (torch.div(a, b, rounding_mode="floor"),
                                           torch.div(a, 7, rounding_mode="floor"),
                                           torch.div(a, -7, rounding_mode="floor"),
                                           torch.div(2**46, b, rounding_mode="floor")), a, b)
    assert torch.ops.aten.div.Tensor_mode in ops
    tensor, by7, by_minus7, into = _run(model, a, b)
    np.testing.assert_array_equal(tensor, _exact(lambda x, y: x // y, a, b))
    np.testing.assert_array_equal(by7, _exact(lambda x: x // 7, a))
    np.testing.assert_array_equal(by_minus7, _exact(lambda x: x // -7, a))
    np.testing.assert_array_equal(into, _exact(lambda y: 2**46 // y, b))


def test_shifts_match_python_at_the_extremes():
    """>> is floor(x / 2^s), a sign fill from 64 on; << wraps to int64, 0 from 64 on — as torch does."""
    a, s = np.broadcast_arrays(_A[:, None], _SHIFTS[None, :])
    a, s = a.copy(), s.copy()
    model, ops = _translated(lambda a, s: (_shr(a, s), _shl(a, s), _shr(a, 5), _shl(a, 5), _shr(a, 0)), a, s)
    assert {torch.ops.aten.bitwise_right_shift.Tensor, torch.ops.aten.bitwise_right_shift.Tensor_Scalar,
            torch.ops.aten.bitwise_left_shift.Tensor, torch.ops.aten.bitwise_left_shift.Tensor_Scalar} <= ops
    right, left, right5, left5, right0 = _run(model, a, s)
    np.testing.assert_array_equal(right, _exact(lambda x, k: x >> k, a, s))
    np.testing.assert_array_equal(left, _exact(lambda x, k: _wrap(x << k), a, s))
    np.testing.assert_array_equal(right5, _exact(lambda x: x >> 5, a))
    np.testing.assert_array_equal(left5, _exact(lambda x: _wrap(x << 5), a))
    np.testing.assert_array_equal(right0, a)


def test_int32_shifts_and_negative_shift_amounts_match_torch():
    x = np.array([I32.min, -5, -1, 0, 3, I32.max], np.int32)
    s = np.array([0, 1, 31, 32, 40, -1], np.int32)
    _matches_torch(lambda x, s: (_shr(x, s), _shl(x, s), _shr(x, 31), torch.div(x, 3, rounding_mode="floor")), x, s)
    _matches_torch(lambda x, s: (_shr(x, s), _shl(x, s)), np.array([-9, 9], np.int64), np.array([-1, -64], np.int64))


def test_widened_int8_matmuls_become_matmulinteger():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (3, 5, 16)).astype(np.int8)
    p = rng.integers(0, 256, (3, 5, 5)).astype(np.uint8)
    w = torch.from_numpy(rng.integers(-128, 128, (8, 16)).astype(np.int8))

    def fn(x, p):
        linear = torch.matmul(x.to(torch.int64).to(torch.int32), w.to(torch.int64).T.to(torch.int32))
        attention = torch.matmul(p.to(torch.int32), x.to(torch.int32))
        return linear.to(torch.int64) + 1, attention

    model, ops = _translated(fn, x, p)
    assert {torch.ops.aten.mm.default, torch.ops.aten.bmm.default} <= ops
    assert [n.op_type for n in model.graph.node if "MatMul" in n.op_type] == ["MatMulInteger"] * 2
    weights = [i for i in model.graph.initializer if tuple(i.dims) == (16, 8)]
    assert [w.data_type for w in weights] == [onnx.TensorProto.INT8]  # transposed and narrowed at export time
    _matches_torch(fn, x, p)


def test_a_wider_matmul_stays_matmul():
    a = np.array([[300, -2], [5, 70000]], np.int32)
    model, _ = _translated(lambda a: torch.mm(a, a), a)
    assert "MatMulInteger" not in {n.op_type for n in model.graph.node}
    _matches_torch(lambda a: torch.mm(a, a), a)


def test_the_other_aten_ops_match_torch():
    """Every other ATen op the exporter translates, as the spec's program uses it."""
    rng = np.random.default_rng(1)
    x = rng.integers(-1000, 1000, (1, 2, 4, 6)).astype(np.int64)
    tokens = np.array([[3, 0, 9, 3]], np.int32)
    mask = np.array([[1, 0, 1, 1]], np.int8)
    f = np.array([[-1e30, -2.5, -0.5, 0.5, 1.5, np.nan, np.inf, -np.inf]], np.float32)
    table = torch.arange(-50, 50, dtype=torch.int8).reshape(10, 10)

    def fn(x, tokens, mask, f):
        q = f * 64.0
        q = torch.where(torch.isnan(q), torch.tensor(0.0), q)
        q = torch.clamp(torch.round(q), -128, 127).to(torch.int8)
        y = torch.where(x > 0, x, -x) + torch.abs(x) * 3 - torch.maximum(x, torch.minimum(x, x & 255))
        gathered = table[tokens.long()].to(torch.int64)
        return (q, q.to(torch.float32) * 0.25, torch.clamp(y, -100, None), torch.amax(x, -1, keepdim=True),
                torch.sum(x, -1, keepdim=True), torch.argmax(x, -1), torch.argmax(x), torch.cumsum(x, 2),
                torch.cat([x, -x], 1), x[:, :, 1:3], x.permute(0, 2, 1, 3), x[:, :1].expand(1, 3, 4, 6),
                x.squeeze(0).unsqueeze(1), x.view(8, 6), gathered, x >= 2, x == 0, x != 7,
                mask.to(torch.int32) != tokens)

    ops = _matches_torch(fn, x, tokens, mask, f)
    aten = torch.ops.aten
    assert {aten.where.self, aten.clamp.default, aten.argmax.default, aten.cumsum.default, aten.index.Tensor,
            aten.squeeze.dims, aten.ne.Tensor, aten.ne.Scalar, aten.eq.Scalar, aten.round.default} <= ops


def test_an_untranslated_op_is_named():
    with pytest.raises(ExportError, match="aten.bitwise_xor"):
        _translated(lambda a, b: a ^ b, np.array([1], np.int64), np.array([3], np.int64))
    with pytest.raises(ExportError, match="floor division"):
        _translated(lambda a, b: torch.div(a, b, rounding_mode="trunc"), np.array([1], np.int64),
                    np.array([3], np.int64))


def _float_free_inside(model) -> list[str]:
    """Nodes computing in float between the input quantizer and the output dequantizer. Everything downstream of
    an integer is `late`: there a float may only come from Cast and Mul (the dequantizer) and never turn back
    into integers."""
    typed = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph
    dtype = {v.name: v.type.tensor_type.elem_type for v in [*typed.input, *typed.value_info, *typed.output]}
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16}
    integers = {t for t, d in dtype.items() if d not in floats and d != onnx.TensorProto.BOOL}
    late = {i.name for i in typed.input} & integers
    problems = []
    for node in typed.node:
        after = any(i in late for i in node.input)
        if after and any(dtype[o] in floats for o in node.output) and node.op_type not in ("Cast", "Mul", "Identity"):
            problems.append(f"{node.name}: {node.op_type} computes in float after integers")
        if after and any(dtype[o] not in floats for o in node.output) and any(dtype.get(i) in floats and i in late
                                                                               for i in node.input):
            problems.append(f"{node.name}: {node.op_type} turns a dequantized value back into integers")
        late.update(o for o in node.output if after or o in integers)
    return problems


def test_every_op_is_exact_with_no_float_op_inside(every_op_path, tmp_path):
    import intedge
    from intedge import exporters

    graph = intedge.load(every_op_path)
    path = exporters.export(graph, tmp_path / "every_op.onnx")
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == [graph.tensors[i].name for i in graph.inputs]
    assert [o.name for o in model.graph.output] == [graph.tensors[i].name for i in graph.outputs]
    assert _float_free_inside(model) == []
    assert "MatMul" not in {n.op_type for n in model.graph.node}
    assert exporters.check(graph, exporters.load(path), exporters.random_feeds(graph, 4)) == []
