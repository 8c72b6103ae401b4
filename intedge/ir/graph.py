"""The integer graph: typed tensors and ops that carry their own integer constants.

A Graph is a list of tensors (ids are list positions) and a list of ops in
execution order; each tensor is written by at most one op (SSA). Constants
hold their data in memory; INT4 constants hold their unpacked values in
[−8, 7] as int8 (packing is the file's business). Floats appear only in the
`quantize` / `dequantize` ops at the graph's edges and in each tensor's
`scale`, which is informational for integer tensors: no executor reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidGraphError
from .opspec import coerce_options
from .spec_lang import DTYPE_NAMES

DTYPES = DTYPE_NAMES  # in the file's DType code order
NUMPY_DTYPE = {d: np.dtype(d) for d in DTYPES if d != "int4"} | {"int4": np.dtype(np.int8)}


def storage_bytes(dtype: str, shape) -> int:
    count = int(np.prod(shape, dtype=np.int64))
    return (count + 1) // 2 if dtype == "int4" else count * NUMPY_DTYPE[dtype].itemsize


@dataclass
class Tensor:
    name: str
    dtype: str
    shape: tuple[int, ...]
    scale: float = 0.0
    data: np.ndarray | None = None
    dynamic_axes: tuple[int, ...] = ()  # axes proportional to the graph's dynamic dimension (Graph.dynamic)
    # kept between runs, zeros at first, updated in place by the op that takes it (a KV cache; ieg.fbs)
    is_state: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        return storage_bytes(self.dtype, self.shape)


@dataclass
class Op:
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class Graph:
    tensors: list[Tensor] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    name: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    dynamic: tuple[str, int] | None = None  # (name, bound L): a tensor's dynamic axes hold k·L, k·s at length s

    # --- building -----------------------------------------------------------

    def add_tensor(self, name: str, dtype: str, shape, scale: float = 0.0, data=None) -> int:
        if dtype not in DTYPES:
            raise InvalidGraphError(f"tensor {name!r}: unknown dtype {dtype!r}")
        shape = tuple(int(d) for d in shape)
        if data is not None:
            data = np.ascontiguousarray(data, dtype=NUMPY_DTYPE[dtype])
            if data.shape != shape:
                raise InvalidGraphError(f"tensor {name!r}: data shape {data.shape} != {shape}")
        self.tensors.append(Tensor(name, dtype, shape, float(scale), data))
        return len(self.tensors) - 1

    def add_state(self, name: str, dtype: str, shape, scale: float = 0.0) -> int:
        tid = self.add_tensor(name, dtype, shape, scale)
        self.tensors[tid].is_state = True
        return tid

    def add_constant(self, name: str, data, dtype: str | None = None, scale: float = 0.0) -> int:
        data = np.asarray(data)
        return self.add_tensor(name, dtype or str(data.dtype), data.shape, scale, data)

    def add_op(self, kind: str, inputs, outputs, name: str = "", **options) -> Op:
        where = f"op {len(self.ops)} ({name or kind})"
        op = Op(kind, [int(i) for i in inputs], [int(o) for o in outputs], coerce_options(kind, options, where), name)
        self.ops.append(op)
        return op

    def length_of(self, shapes: dict[int, tuple[int, ...]]) -> int:
        """The actual length s that graph inputs of these shapes (by tensor id) carry; ValueError when
        they carry none in [1, L] or disagree."""
        name, bound = self.dynamic
        seen = {}
        for tid, shape in shapes.items():
            t = self.tensors[tid]
            if len(shape) != len(t.shape):
                raise ValueError(f"input '{t.name}': expected rank {len(t.shape)}, got shape {tuple(shape)}")
            for a, (want, got) in enumerate(zip(t.shape, shape)):
                if a not in t.dynamic_axes:
                    if got != want:
                        raise ValueError(f"input '{t.name}': dimension {a} is {got}, expected {want}")
                    continue
                k = want // bound
                if got % k or not 1 <= got // k <= bound:
                    raise ValueError(f"input '{t.name}': dimension {a} is {got}; the dynamic dimension '{name}' "
                                     f"takes lengths 1 to {bound}" + (f" (times {k})" if k > 1 else ""))
                seen.setdefault(got // k, f"'{t.name}' dimension {a}")
        if len(seen) > 1:
            raise ValueError(f"inputs disagree on the dynamic dimension '{name}': lengths {sorted(seen)}")
        return next(iter(seen)) if seen else bound

    def at_length(self, s: int) -> Graph:
        """The static graph this one is at length s (1 ≤ s ≤ L): every dynamic axis k·L becomes k·s, and
        constants keep their first k·s entries along it. Ops and options are shared, not copied."""
        name, bound = self.dynamic
        if not 1 <= s <= bound:
            raise ValueError(f"length {s} for the dynamic dimension '{name}' is outside [1, {bound}]")
        g = Graph(ops=self.ops, inputs=self.inputs, outputs=self.outputs, name=self.name, metadata=self.metadata)
        for t in self.tensors:
            if not t.dynamic_axes:
                g.tensors.append(t)
                continue
            shape = tuple(d // bound * s if a in t.dynamic_axes else d for a, d in enumerate(t.shape))
            data = None
            if t.data is not None:
                data = t.data[tuple(slice(0, n) for n in shape)]
            g.tensors.append(Tensor(t.name, t.dtype, shape, t.scale, data, is_state=t.is_state))
        return g

    def tensor_id(self, name: str) -> int:
        for i, t in enumerate(self.tensors):
            if t.name == name:
                return i
        raise KeyError(f"no tensor named {name!r}")

    # --- checking and files -------------------------------------------------

    def validate(self) -> Graph:
        from .validate import validate

        validate(self)
        return self

    def save(self, path) -> None:
        from .ieg_io import write_ieg

        self.validate()
        with open(path, "wb") as f:
            f.write(write_ieg(self))

    def to_bytes(self) -> bytes:
        from .ieg_io import write_ieg

        return write_ieg(self.validate())

    def state_tensors(self) -> list[int]:
        return [i for i, t in enumerate(self.tensors) if t.is_state]

    def summary(self) -> dict:
        """Counts for `intedge inspect`: ops per kind, constant bytes per dtype, the state tensors' bytes."""
        ops: dict[str, int] = {}
        for op in self.ops:
            ops[op.kind] = ops.get(op.kind, 0) + 1
        const_bytes: dict[str, int] = {}
        for t in self.tensors:
            if t.is_constant:
                const_bytes[t.dtype] = const_bytes.get(t.dtype, 0) + t.nbytes
        state = sum(self.tensors[i].nbytes for i in self.state_tensors())
        return {"ops": ops, "constant_bytes": const_bytes, "state_bytes": state}


def load(path) -> Graph:
    """Read and fully verify a .ieg file (raises InvalidGraphError subclasses)."""
    from .ieg_io import read_ieg

    with open(path, "rb") as f:
        return read_ieg(f.read(), source=str(path))
