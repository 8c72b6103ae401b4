"""An intedge graph as an ExecuTorch program: one delegate call to `IntedgeBackend` whose processed blob
is the `.ieg` file, run by intedge's engine inside ExecuTorch's runtime.

    export_delegated(graph, "model.pte")          # ahead of time (needs torch and executorch)
    run_pte("model.pte", {"image": x})            # ExecuTorch's stock Python runtime → {output name: array}

Ahead of time, the program that torch.export sees is a stand-in with the graph's signature (its inputs'
and outputs' dtypes and shapes, in order) and no meaning; a partitioner hands every op of it to
`IntedgeBackend`, whose `preprocess` returns the graph's `.ieg` bytes. The `.ieg` reaches `preprocess` by
its SHA-256 (the one compile spec that names it), not as a compile spec itself: compile specs are
stored in the `.pte` beside the blob, so the weights would be in the file twice. The input and output
names go into the `.pte` as two constant methods, so `run_pte` needs only the file.

At run time the backend is a shared library built against the installed executorch wheel
(edge_runtime/executorch/): `load_backend_library()` builds it on first use into a cache folder and
loads it with RTLD_GLOBAL, and its static initializer registers "IntedgeBackend" in the registry of
the wheel's libexecutorch.so, which the Python runtime shares. docs/exports.md says why it is built
then and not by `pip install`.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.metadata
import importlib.util
import operator
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from intedge import reference
from intedge.extras import require
from intedge.ir import Graph
from intedge.native_build import NativeBuildError, cached_build, key_of
from intedge.profilers.latency import Latency, measure

from .errors import ExportError, refuse_decoder_graphs

require("executorch", "peers", "the ExecuTorch delegate")
import torch  # noqa: E402 - after the check above (executorch brings torch)
from executorch.exir import ExecutorchBackendConfig, to_edge_transform_and_lower  # noqa: E402
from executorch.exir.backend.backend_details import BackendDetails, PreprocessResult  # noqa: E402
from executorch.exir.backend.compile_spec_schema import CompileSpec  # noqa: E402
from executorch.exir.backend.partitioner import DelegationSpec, Partitioner, PartitionResult  # noqa: E402
from executorch.exir.passes import MemoryPlanningPass  # noqa: E402

BACKEND_ID = "IntedgeBackend"
METHOD = "forward"
INPUT_NAMES_METHOD = "intedge_input_names"  # constant methods: the graph's names, in order
OUTPUT_NAMES_METHOD = "intedge_output_names"
IO_DTYPES = ("int8", "uint8", "int16", "int32", "int64", "float32")  # what ie_tensor and ExecuTorch share

# ExecuTorch's ScalarType codes of IO_DTYPES (runtime/core/portable_type/scalar_type.h), as MethodMeta gives them
SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 6: "float32"}

_SOURCE = Path(__file__).resolve().parent.parent / "edge_runtime" / "executorch"
_LIBRARY_NAME = "libintedge_executorch.so"


class BackendBuildError(NativeBuildError):
    """The backend library could not be built or loaded; the message names the step and its output."""


class DelegateRunError(RuntimeError):
    """ExecuTorch's runtime refused a .pte or failed running it; the message carries the backend's reason."""


# ---- ahead of time ---------------------------------------------------------------------------------

# .ieg bytes by SHA-256 while export_delegated lowers them (preprocess runs inside that call).
_PENDING: dict[bytes, bytes] = {}


class IntedgeBackend(BackendDetails):  # the class name is the backend id that the .pte records
    """The processed blob is the .ieg whose SHA-256 is the `ieg_sha256` compile spec."""

    @staticmethod
    def preprocess(edge_program, compile_specs) -> PreprocessResult:
        digest = next((s.value for s in compile_specs if s.key == "ieg_sha256"), None)
        if digest not in _PENDING:
            raise ExportError("IntedgeBackend lowers only through export_delegated(graph, path), which gives it "
                              "the .ieg (no `ieg_sha256` compile spec of a graph being exported)")
        return PreprocessResult(processed_bytes=_PENDING[digest])


class _WholeGraphPartitioner(Partitioner):
    """Every op of the stand-in program goes to IntedgeBackend, as one partition."""

    def __init__(self, compile_specs: list[CompileSpec]):
        super().__init__()
        self.delegation_spec = DelegationSpec(BACKEND_ID, compile_specs)

    def partition(self, exported_program) -> PartitionResult:
        for node in exported_program.graph_module.graph.nodes:
            if node.op == "call_function":
                node.meta["delegation_tag"] = "intedge"
        return PartitionResult(tagged_exported_program=exported_program,
                               partition_tags={"intedge": self.delegation_spec})


def _io(graph: Graph, ids: list[int], role: str) -> list:
    for t in ids:
        if graph.tensors[t].dtype not in IO_DTYPES:
            raise ExportError(f"{role} '{graph.tensors[t].name}' is {graph.tensors[t].dtype}; a delegate's "
                              f"{role}s are one of {', '.join(IO_DTYPES)}")
    return [graph.tensors[t] for t in ids]


def _stand_in(graph: Graph):
    """A module with the graph's signature: every output depends on every input (so the delegate call
    takes them all), and what it computes is never run."""
    outputs = [(tuple(t.shape), getattr(torch, t.dtype)) for t in _io(graph, graph.outputs, "output")]

    class Signature(torch.nn.Module):
        def forward(self, *xs):
            anchor = functools.reduce(torch.add, (x.reshape(-1)[:1].to(torch.float32) for x in xs))
            return tuple(torch.zeros(shape, dtype=dtype) + anchor.to(dtype) for shape, dtype in outputs)

    example = tuple(torch.zeros(t.shape, dtype=getattr(torch, t.dtype)) for t in _io(graph, graph.inputs, "input"))
    return Signature(), example


def _check_one_call(program, inputs: int) -> None:
    """The lowered program must be the delegate call on the user inputs alone: the backend binds its
    arguments to the graph's inputs by position."""
    calls = [n for n in program.graph.nodes if n.op == "call_function" and n.target is not operator.getitem]
    placeholders = [n for n in program.graph.nodes if n.op == "placeholder"]
    if (len(calls) != 1 or "executorch_call_delegate" not in str(calls[0].target)
            or list(calls[0].args[1:]) != placeholders or len(placeholders) != inputs):
        raise ExportError(f"the stand-in program did not lower to one IntedgeBackend call on the {inputs} "
                          f"inputs: {program.graph}")


def export_delegated(graph: Graph, path, threads: int | None = None) -> None:
    """Write `graph` to `path` as a .pte whose whole method is one IntedgeBackend call on its .ieg.
    threads: the engine's thread count, stored as a compile spec (at load time, a `threads` given to
    DelegatedProgram or $INTEDGE_THREADS wins; without any, 1)."""
    refuse_decoder_graphs(graph, "the delegated .pte export")
    if graph.dynamic is not None:
        raise ExportError(f"graph '{graph.name}' has a dynamic dimension {graph.dynamic[0]!r} (bound "
                          f"{graph.dynamic[1]}): the delegate takes static shapes; export graph.at_length(n)")
    if threads is not None and threads < 1:
        raise ExportError(f"threads must be at least 1, not {threads}")
    blob = graph.to_bytes()
    digest = hashlib.sha256(blob).digest()
    specs = [CompileSpec("ieg_sha256", digest)] + ([CompileSpec("threads", str(threads).encode())] if threads else [])
    module, example = _stand_in(graph)
    names = {INPUT_NAMES_METHOD: [graph.tensors[t].name for t in graph.inputs],
             OUTPUT_NAMES_METHOD: [graph.tensors[t].name for t in graph.outputs]}
    _PENDING[digest] = blob
    try:
        exported = torch.export.export(module, example, strict=False)
        edge = to_edge_transform_and_lower(exported, partitioner=[_WholeGraphPartitioner(specs)],
                                           constant_methods=names)
    finally:
        del _PENDING[digest]
    _check_one_call(edge.exported_program(), len(graph.inputs))
    # Inputs unplanned: the runtime binds the caller's tensors (no copy into an arena); outputs planned:
    # the backend writes the engine's results there.
    config = ExecutorchBackendConfig(memory_planning_pass=MemoryPlanningPass(alloc_graph_input=False))
    Path(path).write_bytes(edge.to_executorch(config).buffer)


# ---- the runtime side ------------------------------------------------------------------------------

_lock = threading.Lock()
_threads_lock = threading.Lock()
_loaded: ctypes.CDLL | None = None


def _engine_library() -> Path:
    """libintedge.so, which pip installed beside intedge._runtime."""
    spec = importlib.util.find_spec("intedge._runtime")
    lib = Path(spec.origin).parent / "libintedge.so" if spec and spec.origin else None
    if lib is None or not lib.exists():
        raise BackendBuildError(f"libintedge.so is not beside intedge._runtime ({lib}): reinstall intedge "
                                "(pip install -c constraints.txt -e '.[all]')")
    return lib


def build_backend_library() -> Path:
    """The backend library for the installed executorch and intedge, built on first use (seconds: one
    source file against libintedge.so) and cached; returns its path."""
    if not (_SOURCE / "intedge_backend.cc").exists():
        raise BackendBuildError(f"the backend's source is not at {_SOURCE}: it builds from a checkout "
                                "(pip install -e); see docs/exports.md")
    engine = _engine_library()
    include = _SOURCE.parent / "include"
    executorch_root = Path(importlib.util.find_spec("executorch.exir").origin).parent.parent
    # The paths count too: the library finds libintedge.so and libexecutorch.so by absolute path (its
    # RUNPATH), and one linked to another environment's libexecutorch.so would register in that copy's registry.
    key = key_of([_SOURCE / "intedge_backend.cc", _SOURCE / "CMakeLists.txt", include / "intedge/intedge.h", engine],
                 str(engine), str(executorch_root), importlib.metadata.version("executorch"))
    try:
        return cached_build("the ExecuTorch backend", f"executorch-backend-{key}", _SOURCE,
                            [f"-DCMAKE_PREFIX_PATH={executorch_root}", f"-DINTEDGE_LIBRARY={engine}",
                             f"-DINTEDGE_INCLUDE_DIR={include}"], _LIBRARY_NAME, "peers")
    except NativeBuildError as e:
        raise BackendBuildError(str(e)) from None


def load_backend_library() -> Path:
    """Makes IntedgeBackend available to ExecuTorch's runtime in this process (building it if needed);
    call before loading a delegated program. Returns the library's path."""
    global _loaded
    with _lock:
        if _loaded is None:
            path = build_backend_library()
            try:
                _loaded = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            except OSError as e:
                raise BackendBuildError(f"loading {path}: {e}") from None
            _loaded.intedge_executorch_last_error.restype = ctypes.c_char_p
            _loaded.intedge_executorch_set_threads.argtypes = [ctypes.c_int]
        return Path(_loaded._name)


def _runtime_error(action: str, error: Exception) -> DelegateRunError:
    """ExecuTorch's error with the backend's own message, which its Python runtime does not carry."""
    reason = _loaded.intedge_executorch_last_error().decode() if _loaded is not None else ""
    return DelegateRunError(f"{action}: {reason or error}")


class DelegatedProgram:
    """A delegated .pte loaded in ExecuTorch's stock Python runtime (executorch.runtime), with the graph's
    input and output names from the file. threads: the engine's thread count (the backend's option, set
    for this load only); None: $INTEDGE_THREADS, else the file's compile spec, else 1."""

    def __init__(self, path, threads: int | None = None):
        load_backend_library()
        from executorch.runtime import Runtime

        with _threads_lock:  # the option is process-wide, and the backend reads it when a method loads
            if threads is not None and _loaded.intedge_executorch_set_threads(threads) != 0:
                raise DelegateRunError(f"threads={threads}: {_loaded.intedge_executorch_last_error().decode()}")
            try:
                program = Runtime.get().load_program(Path(path))
                self.method = program.load_method(METHOD)
                self.input_names = list(program.load_method(INPUT_NAMES_METHOD).execute([]))
                self.output_names = list(program.load_method(OUTPUT_NAMES_METHOD).execute([]))
            except (RuntimeError, ValueError) as e:
                raise _runtime_error(f"loading {path}", e) from None
            finally:
                if threads is not None:
                    _loaded.intedge_executorch_set_threads(0)
        meta = self.method.metadata
        self.input_specs = [(np.dtype(SCALAR_TYPES.get(t.dtype(), "V")), tuple(t.sizes()))
                            for t in map(meta.input_tensor_meta, range(meta.num_inputs()))]

    def feed(self, inputs: dict[str, np.ndarray]) -> list:
        """The inputs as the method's argument list: torch tensors over the arrays (no copy when they are
        already contiguous and of the graph's dtype)."""
        missing = [n for n in self.input_names if n not in inputs]
        extra = [n for n in inputs if n not in self.input_names]
        if missing or extra:
            raise DelegateRunError(f"inputs: missing {missing}, not the graph's {extra}")
        for name, (dtype, shape) in zip(self.input_names, self.input_specs):
            x = inputs[name]
            if x.dtype != dtype or x.shape != shape:
                raise DelegateRunError(f"input '{name}' is {x.dtype} {x.shape}; the program takes {dtype} {shape}")
        return [torch.from_numpy(np.ascontiguousarray(inputs[n])) for n in self.input_names]

    def execute(self, args: list) -> list:
        try:
            return self.method.execute(args)
        except RuntimeError as e:
            raise _runtime_error("running", e) from None

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.execute(self.feed(inputs))
        return {n: t.numpy().copy() for n, t in zip(self.output_names, outputs)}


def run_pte(path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run a .pte written by export_delegated in ExecuTorch's Python runtime: {output name: array}."""
    return DelegatedProgram(path).run(inputs)


def load(path, threads: int = 1) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """intedge.exporters' loader interface: list of arrays in the graph's input order → list of arrays in
    its output order."""
    program = DelegatedProgram(path, threads)

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        return list(program.run(dict(zip(program.input_names, inputs))).values())

    return run


def time_pte(path, inputs: dict[str, np.ndarray], runs: int = 30, warmup: int = 5,
             threads: int | None = None) -> Latency:
    """Latency of the loaded program's method on fixed inputs: what a caller of ExecuTorch's Python runtime
    waits for, inputs bound and outputs returned (for interleaving with other engines: pte_runner)."""
    return measure(pte_runner(path, inputs, threads), runs, warmup)


def pte_runner(path, inputs: dict[str, np.ndarray], threads: int | None = None) -> Callable[[], object]:
    """One call of the delegated program on fixed inputs."""
    program = DelegatedProgram(path, threads)
    args = program.feed(inputs)
    return lambda: program.execute(args)


# ---- latency against the engine --------------------------------------------------------------------

def compare(ieg_path, pte_path, inputs: dict[str, np.ndarray], runs: int = 30, warmup: int = 5,
            threads: int = 1) -> dict:
    """Median and minimum ms of the engine (intedge.runtime.Session) and of the delegated .pte in
    ExecuTorch's runtime, on the same inputs and `threads`, and the ratios (.pte / engine). The two
    alternate call by call, each pair in turn order, so a neighbour's load on a shared machine falls on
    both alike (intedge bench's blocks would let it fall on one: they exist for thread pools that spin
    after a run, which alternating calls on several threads would also meet)."""
    from intedge.runtime import Session

    session = Session(ieg_path, threads=threads)
    runners = {"engine": lambda: session.run(inputs), "pte": pte_runner(pte_path, inputs, threads)}
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {k: [] for k in runners}
    for i in range(runs):
        for name in sorted(runners, reverse=i % 2 == 1):
            t0 = time.perf_counter()
            runners[name]()
            times[name].append((time.perf_counter() - t0) * 1e3)
    median = {k: float(np.median(t)) for k, t in times.items()}
    low = {k: float(np.min(t)) for k, t in times.items()}
    return {"engine_ms": round(median["engine"], 4), "pte_ms": round(median["pte"], 4),
            "ratio": round(median["pte"] / median["engine"], 4), "engine_min_ms": round(low["engine"], 4),
            "pte_min_ms": round(low["pte"], 4), "min_ratio": round(low["pte"] / low["engine"], 4), "runs": runs,
            "threads": threads, "isa": session.isa}


def _bench(model: str, weights: str, runs: int, repeat: int, work: Path) -> list[dict]:
    """`intedge bench`'s model and input, converted, exported to .ieg and .pte, and compared `repeat` times."""
    from intedge.converters.convert import Converter
    from intedge.profilers.bench import CALIBRATION_INPUTS, MODELS

    spec = MODELS[model]()
    calibration = spec.calibration(CALIBRATION_INPUTS)
    conv = Converter.calibrate(spec.build(), tuple(torch.from_numpy(x) for x in calibration[0]), calibration,
                               progress=False, **(spec.conversion | {"weights": weights}))
    graph = conv.graph(name=f"{model}-{weights}")
    ieg, pte = work / f"{model}-{weights}.ieg", work / f"{model}-{weights}.pte"
    graph.save(ieg)
    export_delegated(graph, pte, threads=1)
    inputs = {graph.tensors[t].name: x.astype(graph.tensors[t].dtype) for t, x in zip(graph.inputs, spec.example())}
    exact = all(np.array_equal(a, b) for a, b in zip(run_pte(pte, inputs).values(),
                                                      reference.run(graph, inputs).values()))
    return [{"model": model, "weights": weights, "bit_exact": exact} | compare(ieg, pte, inputs, runs, threads=1)
            for _ in range(repeat)]


if __name__ == "__main__":
    import argparse
    import json
    import tempfile

    parser = argparse.ArgumentParser(description="The delegated .pte in ExecuTorch's runtime against intedge's "
                                                 "engine, 1 thread, on `intedge bench`'s models")
    parser.add_argument("models", nargs="+", choices=["deit-tiny", "minilm"])
    parser.add_argument("--weights", default="w8", choices=["w8", "w4"])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1, help="comparisons per model (one conversion)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for m in args.models:
            for row in _bench(m, args.weights, args.runs, args.repeat, Path(d)):
                print(json.dumps(row), flush=True)
