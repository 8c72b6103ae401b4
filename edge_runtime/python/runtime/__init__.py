"""intedge.runtime — the C++ engine's Python face.

    sess = intedge.runtime.Session("model.ieg", threads=2)
    out = sess.run({"image": x})            # {output name: numpy array}
    sess.inputs, sess.outputs               # names, dtypes, shapes, scales
    sess.kernels                            # the kernel each op runs, chosen when the session opened
    sess.profile()                          # per-op time (profile=True)
    sess.reset_state()                      # a decoder: forget the KV cache (a new sequence)

Session goes through the C API (edge_runtime/include/intedge/intedge.h),
the same calls the Android bridge and intedge-bench make. Its outputs equal
the reference executor's (intedge.reference.run) bit for bit on every ISA
and thread count. One session may be shared by threads: its runs take
turns. `kernels` exposes the scalar oracle kernels for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intedge import _runtime
from intedge.reference import ExecutionError, check_input_names

kernels = _runtime.kernels


def known_isas() -> list[str]:
    """Every kernel path this library knows by name, on any CPU (scalar first)."""
    return list(_runtime.known_isas())


def supported_isas() -> list[str]:
    """Kernel paths this build runs on this CPU, scalar first, best last (INTEDGE_ISA picks one)."""
    return list(_runtime.supported_isas())


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int, ...]  # a dynamic graph's: at the bound
    scale: float
    dynamic_axes: tuple[int, ...] = ()  # axes that follow the graph's dynamic dimension (Session.dynamic)


@dataclass(frozen=True)
class OpTime:
    kind: str
    name: str
    kernel: str
    total_us: float
    runs: int

    @property
    def mean_us(self) -> float:
        return self.total_us / self.runs if self.runs else 0.0


class Session:
    """A .ieg graph in the C++ engine.

    model: a path, or the file's bytes. threads: worker threads (results do
    not depend on it). isa: force a kernel path (default: $INTEDGE_ISA, else
    the best this CPU has). profile: time every op. check_finite: refuse
    float inputs holding NaN or ±inf (off: NaN quantizes to 0 and ±inf
    saturates, in every executor alike). max_arena_bytes: refuse a graph
    whose activations need more memory. A malformed file raises
    intedge.IegFormatError naming the file and the fault.
    """

    def __init__(self, model: str | Path | bytes, threads: int = 1, isa: str | None = None, profile: bool = False,
                 check_finite: bool = True, max_arena_bytes: int = 0):
        if not isinstance(model, str | Path | bytes | bytearray):
            raise TypeError(f"model must be a path or a .ieg file's bytes, got {type(model).__name__}")
        if not isinstance(model, bytes | bytearray):
            model = str(model)
            if not Path(model).exists():
                raise FileNotFoundError(f"{model}: no such file")
        else:
            model = bytes(model)
        self._s = _runtime.Session(model, threads, isa or "", profile, check_finite, max_arena_bytes)
        self.inputs = [TensorSpec(**d, dynamic_axes=a) for d, a in zip(self._s.inputs, self._s.input_dynamic_axes)]
        self.outputs = [TensorSpec(**d) for d in self._s.outputs]
        # State tensors (a decoder's KV cache): zeros at first, then what the runs left there (state()).
        self.states = [TensorSpec(**d) for d in self._s.states]
        # (name, bound L) of the graph's dynamic dimension, or None: inputs whose dynamic axes hold k·s
        # for any s in [1, L] run at s, and the outputs come back at s.
        self.dynamic: tuple[str, int] | None = self._s.dynamic

    isa = property(lambda self: self._s.isa, doc="the kernel path this session runs")
    threads = property(lambda self: self._s.threads)
    arena_bytes = property(lambda self: self._s.arena_bytes, doc="planned activation memory and the state tensors")
    state_bytes = property(lambda self: self._s.state_bytes, doc="the state tensors' part of arena_bytes")
    weight_bytes = property(lambda self: self._s.weight_bytes, doc="constants plus repacked weights")

    @property
    def kernels(self) -> list[tuple[str, str]]:
        """The kernel table: (op name, kernel) for every op of the graph, in order."""
        return [(d["name"] or d["kind"], d["kernel"]) for d in self._s.ops()]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run on named inputs of exactly the graph's dtypes and shapes (a dynamic graph: at any one length
        up to its bound); returns {output name: array}."""
        if not isinstance(inputs, dict):
            raise TypeError(f"inputs must be a dict {{input name: array}} (this graph takes "
                            f"{[t.name for t in self.inputs]}), got {type(inputs).__name__}")
        check_input_names([t.name for t in self.inputs], inputs)
        arrays = []
        for spec in self.inputs:
            x = np.asarray(inputs[spec.name])
            same = len(x.shape) == len(spec.shape) and all(
                a in spec.dynamic_axes or got == want for a, (got, want) in enumerate(zip(x.shape, spec.shape)))
            if x.dtype != np.dtype(spec.dtype) or not same:  # the engine checks the dynamic axes' lengths
                bound = self.dynamic[1] if self.dynamic else 1
                want = ", ".join((f"{d // bound}·" if d != bound else "") + f"(1..{bound})" if a in spec.dynamic_axes
                                 else str(d) for a, d in enumerate(spec.shape))
                raise ExecutionError(f"input {spec.name!r}: expected {spec.dtype}[{want}], got {x.dtype}{list(x.shape)}")
            arrays.append(x)
        try:
            values = self._s.run(arrays)
        except ValueError as e:  # data-dependent faults: a token id outside the vocabulary, a NaN input
            raise ExecutionError(str(e)) from None
        return {spec.name: v for spec, v in zip(self.outputs, values)}

    def reset_state(self) -> None:
        """Zero every state tensor: the next run starts as the first one did (a decoder: a new sequence)."""
        self._s.reset_state()

    def state(self) -> dict[str, np.ndarray]:
        """A copy of every state tensor, by name, as the runs so far left it (take it between runs)."""
        return {spec.name: self._s.read_state(i) for i, spec in enumerate(self.states)}

    def set_state(self, values: dict[str, np.ndarray]) -> None:
        """Overwrite state tensors by name (a saved state(), say) with arrays of exactly their dtype and shape;
        the others keep what they hold."""
        index = {spec.name: i for i, spec in enumerate(self.states)}
        for name, value in values.items():
            if name not in index:
                raise KeyError(f"{name!r} is not a state tensor of this graph (it has {list(index)})")
            spec, x = self.states[index[name]], np.asarray(value)
            if x.dtype != np.dtype(spec.dtype) or x.shape != spec.shape:
                raise ValueError(f"state {name!r}: expected {spec.dtype}{list(spec.shape)}, got {x.dtype}{list(x.shape)}")
            self._s.write_state(index[name], x)

    def run_list(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """run() without the names: arrays in the order of `inputs`, the outputs in the order of `outputs`. The
        engine still checks each array's dtype and shape; this only skips the dict and the messages that name
        a wrong input, for loops that run a graph thousands of times (decoding a token costs ~0.1 ms)."""
        try:
            return self._s.run(arrays)
        except ValueError as e:
            raise ExecutionError(str(e)) from None

    def profile(self) -> list[OpTime]:
        """Per-op kernel, total time and run count, in graph order (profile=True)."""
        return [OpTime(**d) for d in self._s.ops()]


__all__ = ["Session", "TensorSpec", "OpTime", "known_isas", "supported_isas", "kernels"]
