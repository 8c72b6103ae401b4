"""The .ieg file: lossless round trip, the committed fixture, and every kind of corruption."""

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mutants import verdict

import intedge
from intedge import _runtime
from intedge.examples.decoder import build as build_decoder
from intedge.examples.every_op import build_every_op_graph, example_inputs
from intedge.ir import IegFormatError, InvalidGraphError, read_ieg, write_ieg
from intedge.ir.fb.Graph import Graph as FbGraph
from intedge.ir.ieg_io import CRC_OFFSET, HEADER_SIZE
from intedge.reference import ExecutionError
from intedge.runtime import Session


def _graphs_equal(a, b):
    assert (a.name, a.metadata, a.inputs, a.outputs) == (b.name, b.metadata, b.inputs, b.outputs)
    assert len(a.tensors) == len(b.tensors) and len(a.ops) == len(b.ops)
    for s, t in zip(a.tensors, b.tensors, strict=True):
        assert (s.name, s.dtype, s.shape, s.scale, s.is_constant) == (t.name, t.dtype, t.shape, t.scale, t.is_constant)
        if s.is_constant:
            assert s.data.dtype == t.data.dtype and np.array_equal(s.data, t.data)
    for p, q in zip(a.ops, b.ops, strict=True):
        assert (p.kind, p.inputs, p.outputs, p.name) == (q.kind, q.inputs, q.outputs, q.name)
        assert p.options.keys() == q.options.keys()
        for k in p.options:
            assert np.array_equal(p.options[k], q.options[k]) and np.asarray(p.options[k]).dtype == np.asarray(q.options[k]).dtype


def test_round_trip_is_lossless(tmp_path, every_op_path):
    g = intedge.load(every_op_path)
    g.save(tmp_path / "copy.ieg")
    g2 = intedge.load(tmp_path / "copy.ieg")
    _graphs_equal(g, g2)
    assert (tmp_path / "copy.ieg").read_bytes() == every_op_path.read_bytes()


def test_committed_fixtures_are_reproducible(every_op_path, decoder_path):
    """The fixtures are exactly what intedge.examples.every_op and .decoder build today, and between them use
    every op kind (the decoder's ops need state tensors, which every_op leaves out)."""
    g, d = build_every_op_graph(), build_decoder()
    assert write_ieg(g) == every_op_path.read_bytes()
    assert write_ieg(d) == decoder_path.read_bytes()
    assert {op.kind for op in g.ops + d.ops} == {s.kind for s in intedge.ir.OPS}


def test_constants_are_64_byte_aligned(every_op_path):
    buf = every_op_path.read_bytes()
    _, _, _, _, goff, gsize, doff, dsize, total, _, _ = struct.unpack_from("<8sHHIQQQQQII", buf)
    assert doff % 64 == 0 and doff + dsize == total == len(buf)
    fb = FbGraph.GetRootAs(buf[goff : goff + gsize], 0)
    offsets = [fb.Tensors(i).DataOffset() for i in range(fb.TensorsLength()) if fb.Tensors(i).IsConstant()]
    assert offsets and all(o % 64 == 0 for o in offsets)


# --- corruption -------------------------------------------------------------------


def _recrc(buf: bytearray) -> bytes:
    struct.pack_into("<I", buf, CRC_OFFSET, 0)
    struct.pack_into("<I", buf, CRC_OFFSET, zlib.crc32(buf))
    return bytes(buf)


def _patched(buf: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(buf)
    struct.pack_into(fmt, b, offset, value)
    return _recrc(b)


def _field_pos(buf: bytes, table, vtable_offset: int) -> int:
    return HEADER_SIZE + table._tab.Pos + table._tab.Offset(vtable_offset)


def _fb(buf: bytes):
    return FbGraph.GetRootAs(buf[HEADER_SIZE:], 0)


def _truncated_data(buf: bytes) -> bytes:
    """Drop the data section's last 64 bytes and fix the header: the last constant now overruns."""
    b = bytearray(buf[:-64])
    struct.pack_into("<Q", b, 40, struct.unpack_from("<Q", b, 40)[0] - 64)
    struct.pack_into("<Q", b, 48, len(b))
    return _recrc(b)


def _with_bad_op(mutate) -> bytes:
    """A graph broken after validation, written without it (write_ieg does not validate)."""
    g = build_every_op_graph()
    mutate(g)
    return write_ieg(g)


def _wrong_k(g):
    op = next(o for o in g.ops if o.kind == "qlinear")
    w = g.tensors[op.inputs[1]]
    w.data, w.shape = w.data[:, :-2], (w.shape[0], w.shape[1] - 2)


CORRUPTIONS = {
    "empty": (lambda b: b"", "shorter than"),
    "truncated": (lambda b: b[: len(b) // 2], "truncated"),
    "bad magic": (lambda b: b"GIF89a\0\0" + b[8:], "magic"),
    "older major version": (lambda b: _patched(b, 8, "<H", 1), "version 1.0"),
    "newer major version": (lambda b: _patched(b, 8, "<H", 3), "version 3.0"),
    "newer minor version": (lambda b: _patched(b, 10, "<H", 7), "version 2.7"),
    "bad header size": (lambda b: _patched(b, 12, "<I", 32), "header size"),
    "padded": (lambda b: b + b"\0" * 64, "truncated or padded"),
    "checksum": (lambda b: b[:-1] + bytes([b[-1] ^ 0x40]), "CRC-32"),
    "graph past end": (lambda b: _patched(b, 24, "<Q", 2**40), "graph section"),
    "misaligned data": (lambda b: _patched(b, 32, "<Q", struct.unpack_from("<Q", b, 32)[0] + 8), "data section"),
    "reserved set": (lambda b: _patched(b, 60, "<I", 1), "reserved"),
    "flatbuffer garbage": (lambda b: _recrc(bytearray(b[:HEADER_SIZE] + bytes([0xA5]) * 200 + b[HEADER_SIZE + 200 :])), "FlatBuffer"),
    "constant past data end": (_truncated_data, "runs past"),
    "unknown dtype": (lambda b: _patched(b, _field_pos(b, _fb(b).Tensors(0), 6), "<b", 99), "dtype code 99"),
    "unknown op kind": (lambda b: _patched(b, _field_pos(b, _fb(b).Ops(1), 4), "<H", 999), "op kind 999"),
    "dangling tensor id": (lambda b: _with_bad_op(lambda g: g.ops[3].inputs.__setitem__(0, 9999)), "out of range"),
    "shape mismatch": (lambda b: _with_bad_op(_wrong_k), "last dim"),
    "written twice": (lambda b: _with_bad_op(lambda g: g.ops[2].outputs.__setitem__(0, g.ops[1].outputs[0])), "written twice"),
    "used before produced": (lambda b: _with_bad_op(lambda g: g.ops.reverse()), "before it is produced"),
    "dtype mismatch": (lambda b: _with_bad_op(lambda g: setattr(g.tensors[g.ops[0].outputs[0]], "dtype", "int32")), "must be int8/int16"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corruption_gives_a_clear_error(kind, every_op_path):
    corrupt, message = CORRUPTIONS[kind]
    with pytest.raises(InvalidGraphError, match=message):
        read_ieg(corrupt(every_op_path.read_bytes()), source="bad.ieg")


def test_load_names_the_file(tmp_path):
    p = tmp_path / "junk.ieg"
    p.write_bytes(b"not a model")
    with pytest.raises(IegFormatError, match="junk.ieg"):
        intedge.load(p)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_byte_flips_are_caught(data, every_op_path):
    """Any corruption of up to 4 adjacent bytes: a burst CRC-32 always detects."""
    buf = bytearray(every_op_path.read_bytes())
    start = data.draw(st.integers(0, len(buf) - 4))
    for i in range(start, start + data.draw(st.integers(1, 4))):
        buf[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(InvalidGraphError):
        read_ieg(bytes(buf))


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_flips_behind_a_valid_checksum_get_one_verdict_and_never_crash(data, every_op_path):
    """The Python-level fuzz: with the CRC recomputed, up to 8 bytes anywhere past the header set to
    anything. The Python loader and the engine accept the file alike or refuse it with the same
    message; an accepted file opens and runs in the engine (or refuses its inputs cleanly)."""
    buf = bytearray(every_op_path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        buf[data.draw(st.integers(HEADER_SIZE, len(buf) - 1))] = data.draw(st.integers(0, 255))
    mutant = _recrc(buf)
    (_, py), (_, engine) = verdict(read_ieg, mutant), verdict(_runtime.check_ieg, mutant)
    assert py == engine
    if py is None:
        try:
            Session(mutant, max_arena_bytes=1 << 28).run(example_inputs())
        except (ExecutionError, MemoryError):
            pass
