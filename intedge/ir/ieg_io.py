"""Reading and writing .ieg files. Layout (edge_runtime/schema/README.md):

    [0, 64)            header: magic, version, section offsets, file size, CRC-32
    [64, 64 + G)       the Graph FlatBuffer (schema: edge_runtime/schema/ieg.fbs)
    [D, D + S)         data section, D a multiple of 64; each constant 64-aligned

Reading runs the C++ verifier first (intedge._runtime.verify_ieg: header,
checksum, FlatBuffers verifier, every constant's offset, size and alignment)
— the same code the runtime runs before it executes anything — then decodes
the FlatBuffer, which is now known to be in bounds, and validates the graph.
"""

from __future__ import annotations

import struct
import zlib

import flatbuffers
import numpy as np

from .errors import IegFormatError, InvalidGraphError
from .fb import DType as fb_dtype
from .fb import OpOptions as fb_options
from .fb.Graph import Graph as FbGraph
from .graph import NUMPY_DTYPE, Graph, Tensor
from .opspec import BY_KIND, OPS, VECTOR_TYPES

MAGIC = b"\x89IEG\r\n\x1a\n"
# 2.1: dynamic dimensions; 2.2: state tensors (with the decoder ops). A file is written at the lowest it needs.
VERSION_MAJOR, VERSION_MINOR = 2, 2
HEADER = struct.Struct("<8sHHIQQQQQII")
HEADER_SIZE = 64
ALIGN = 64
CRC_OFFSET = 56
FILE_IDENTIFIER = b"IEG1"

_DTYPE_CODES = {name.lower(): code for name, code in vars(fb_dtype.DType).items() if not name.startswith("_")}
_DTYPE_NAMES = {code: name for name, code in _DTYPE_CODES.items()}
_KIND_CODES = {s.kind: s.code for s in OPS}
_KIND_NAMES = {s.code: s.kind for s in OPS}
_OPTION_CODES = {name: code for name, code in vars(fb_options.OpOptions).items() if not name.startswith("_")}


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _camel(field: str) -> str:
    return "".join(p.capitalize() for p in field.split("_"))


def _table_module(table: str):
    import importlib

    return importlib.import_module(f"{__package__}.fb.{table}")


# --- writing -----------------------------------------------------------------


def _stored_bytes(t: Tensor) -> bytes:
    if t.dtype == "int4":
        from intedge.integer_ops import pack_int4

        return pack_int4(t.data).tobytes()
    return t.data.astype(NUMPY_DTYPE[t.dtype].newbyteorder("<")).tobytes()


def _vector(b: flatbuffers.Builder, arr: np.ndarray) -> int:
    return b.CreateNumpyVector(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")))


def _options(b: flatbuffers.Builder, kind: str, options: dict) -> tuple[int, int]:
    spec = BY_KIND[kind]
    if spec.table is None:
        return 0, 0
    mod = _table_module(spec.table)
    vectors = {o.name: _vector(b, options[o.name]) for o in spec.options if o.type in VECTOR_TYPES}
    mod.Start(b)
    for o in spec.options:
        add = getattr(mod, "Add" + _camel(o.name))
        add(b, vectors[o.name] if o.name in vectors else options[o.name])
    return _OPTION_CODES[spec.table], mod.End(b)


def data_section(g: Graph) -> tuple[bytes, dict[int, int]]:
    """The data section of g's file and each constant's offset in it (by tensor id)."""
    data = bytearray()
    offsets = {}
    for i, t in enumerate(g.tensors):
        if t.is_constant:
            data.extend(b"\0" * (_align(len(data)) - len(data)))
            offsets[i] = len(data)
            data.extend(_stored_bytes(t))
    return bytes(data), offsets


def write_ieg(g: Graph, data: tuple[bytes, dict[int, int]] | None = None) -> bytes:
    """g as a .ieg file (unvalidated: Graph.save validates first). data: data_section(h) of a graph h
    whose constants are g's, to skip rebuilding it (the mutation tests write thousands of variants)."""
    from .fb import Graph as G
    from .fb import KeyValue as KV
    from .fb import Op as O
    from .fb import Tensor as T

    data, offsets = data if data is not None else data_section(g)

    b = flatbuffers.Builder(1024)
    tensor_offs = []
    for i, t in enumerate(g.tensors):
        name = b.CreateString(t.name)
        shape = _vector(b, np.asarray(t.shape, np.int64))
        dyn = _vector(b, np.asarray(t.dynamic_axes, np.int32)) if t.dynamic_axes else None
        T.Start(b)
        T.AddName(b, name)
        T.AddDtype(b, _DTYPE_CODES[t.dtype])
        T.AddShape(b, shape)
        T.AddScale(b, t.scale)
        if t.is_constant:
            T.AddIsConstant(b, True)
            T.AddDataOffset(b, offsets[i])
            T.AddDataSize(b, t.nbytes)
        if dyn is not None:
            T.AddDynamicAxes(b, dyn)
        if t.is_state:
            T.AddIsState(b, True)
        tensor_offs.append(T.End(b))
    op_offs = []
    for op in g.ops:
        name = b.CreateString(op.name)
        ins = _vector(b, np.asarray(op.inputs, np.int32))
        outs = _vector(b, np.asarray(op.outputs, np.int32))
        opt_type, opt = _options(b, op.kind, op.options)
        O.Start(b)
        O.AddKind(b, _KIND_CODES[op.kind])
        O.AddName(b, name)
        O.AddInputs(b, ins)
        O.AddOutputs(b, outs)
        if opt_type:
            O.AddOptionsType(b, opt_type)
            O.AddOptions(b, opt)
        op_offs.append(O.End(b))
    kv_offs = []
    for key, value in g.metadata.items():
        k, v = b.CreateString(str(key)), b.CreateString(str(value))
        KV.Start(b)
        KV.AddKey(b, k)
        KV.AddValue(b, v)
        kv_offs.append(KV.End(b))

    def table_vector(start, offs):
        start(b, len(offs))
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    tensors = table_vector(G.StartTensorsVector, tensor_offs)
    ops = table_vector(G.StartOpsVector, op_offs)
    meta = table_vector(G.StartMetadataVector, kv_offs)
    gin = _vector(b, np.asarray(g.inputs, np.int32))
    gout = _vector(b, np.asarray(g.outputs, np.int32))
    name = b.CreateString(g.name)
    dynamic = None
    if g.dynamic is not None:
        from .fb import DynamicDim as DD

        dname = b.CreateString(g.dynamic[0])
        DD.Start(b)
        DD.AddName(b, dname)
        DD.AddBound(b, int(g.dynamic[1]))
        dynamic = DD.End(b)
    G.Start(b)
    G.AddName(b, name)
    G.AddTensors(b, tensors)
    G.AddOps(b, ops)
    G.AddInputs(b, gin)
    G.AddOutputs(b, gout)
    G.AddMetadata(b, meta)
    if dynamic is not None:
        G.AddDynamicDim(b, dynamic)
    b.Finish(G.End(b), file_identifier=FILE_IDENTIFIER)
    fb_bytes = bytes(b.Output())

    data_offset = _align(HEADER_SIZE + len(fb_bytes))
    total = data_offset + len(data)
    head = bytearray(data_offset)  # header, graph, padding: the data section is copied once, below
    head[HEADER_SIZE : HEADER_SIZE + len(fb_bytes)] = fb_bytes
    HEADER.pack_into(head, 0, MAGIC, VERSION_MAJOR, _minor_version(g), HEADER_SIZE, HEADER_SIZE, len(fb_bytes), data_offset, len(data), total, 0, 0)
    struct.pack_into("<I", head, CRC_OFFSET, zlib.crc32(data, zlib.crc32(head)))
    return b"".join((head, data))


def _minor_version(g: Graph) -> int:
    return VERSION_MINOR if g.state_tensors() else 1 if g.dynamic is not None else 0


# --- reading -----------------------------------------------------------------


def read_ieg(buf: bytes, source: str = "<bytes>") -> Graph:
    from intedge import _runtime

    buf = bytes(buf)
    try:
        _runtime.verify_ieg(buf)
    except ValueError as e:
        raise IegFormatError(f"{source}: {e}") from None
    _, _, _, _, graph_off, graph_size, data_off, _, _, _, _ = HEADER.unpack_from(buf, 0)
    fbg = FbGraph.GetRootAs(buf[graph_off : graph_off + graph_size], 0)
    try:
        g = _decode(fbg, buf, data_off)
        g.validate()
    except InvalidGraphError as e:
        raise IegFormatError(f"{source}: {e}") from None
    return g


def _c_string(raw: bytes | None, absent: str) -> str:
    """A name as the C++ reader sees it (a NUL ends it; bad UTF-8 is replaced), so messages agree."""
    return absent if raw is None else raw.split(b"\0")[0].decode("utf-8", "replace")


def _decode(fbg: FbGraph, buf: bytes, data_off: int) -> Graph:
    g = Graph(name=(fbg.Name() or b"").decode("utf-8", "replace"))
    dd = fbg.DynamicDim()
    if dd is not None:
        g.dynamic = (_c_string(dd.Name(), ""), int(dd.Bound()))
    for i in range(fbg.TensorsLength()):
        t = fbg.Tensors(i)
        dtype = _DTYPE_NAMES[t.Dtype()]
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        data = None
        if t.IsConstant():
            start = data_off + t.DataOffset()
            if dtype == "int4":
                from intedge.integer_ops import unpack_int4

                packed = np.frombuffer(buf, np.uint8, t.DataSize(), start)
                data = unpack_int4(packed.reshape(shape[:-1] + (shape[-1] // 2,)))
            else:  # a read-only view of the file's bytes
                little = NUMPY_DTYPE[dtype].newbyteorder("<")
                data = np.frombuffer(buf, little, int(np.prod(shape, dtype=np.int64)), start).reshape(shape)
        name = _c_string(t.Name(), f"tensor{i}")
        dyn = tuple(int(a) for a in t.DynamicAxesAsNumpy()) if t.DynamicAxesLength() else ()
        g.tensors.append(Tensor(name, dtype, shape, float(t.Scale()), data, dyn, bool(t.IsState())))
    for i in range(fbg.OpsLength()):
        op = fbg.Ops(i)
        kind = _KIND_NAMES[op.Kind()]
        where = f"op {i} ({kind})"
        spec = BY_KIND[kind]
        options = {}
        if spec.table is not None:
            if op.OptionsType() != _OPTION_CODES[spec.table]:
                raise InvalidGraphError(f"{where}: options are not a {spec.table}")
            opt = getattr(_table_module(spec.table), spec.table)()
            opt.Init(op.Options().Bytes, op.Options().Pos)
            for o in spec.options:
                if o.type in VECTOR_TYPES:
                    n = getattr(opt, _camel(o.name) + "Length")()
                    options[o.name] = getattr(opt, _camel(o.name) + "AsNumpy")() if n else np.zeros(0, VECTOR_TYPES[o.type])
                else:
                    options[o.name] = getattr(opt, _camel(o.name))()
        elif op.OptionsType() != 0:
            raise InvalidGraphError(f"{where}: takes no options")
        ins = op.InputsAsNumpy().tolist() if op.InputsLength() else []
        outs = op.OutputsAsNumpy().tolist() if op.OutputsLength() else []
        g.add_op(kind, ins, outs, name=_c_string(op.Name(), ""), **options)
    g.inputs = fbg.InputsAsNumpy().tolist() if fbg.InputsLength() else []
    g.outputs = fbg.OutputsAsNumpy().tolist() if fbg.OutputsLength() else []
    for i in range(fbg.MetadataLength()):
        kv = fbg.Metadata(i)
        g.metadata[(kv.Key() or b"").decode("utf-8", "replace")] = (kv.Value() or b"").decode("utf-8", "replace")
    return g
