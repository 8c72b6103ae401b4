"""The `intedge` command line. Each subcommand is one function below; `intedge SUB --help` explains it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _inspect(args) -> int:
    from intedge.ir import load

    g = load(args.model)
    s = g.summary()
    if args.json:
        print(json.dumps({"name": g.name, **s}))
        return 0
    print(f"{args.model}: graph {g.name!r}, {len(g.ops)} ops, {len(g.tensors)} tensors")
    for kind, tids in (("input", g.inputs), ("output", g.outputs)):
        for t in (g.tensors[i] for i in tids):
            print(f"  {kind:6} {t.name:24} {t.dtype:8} {list(t.shape)}")
    print("ops:")
    for kind, n in sorted(s["ops"].items(), key=lambda kv: -kv[1]):
        print(f"  {kind:18} {n}")
    print("constant bytes per dtype:")
    for dtype, n in sorted(s["constant_bytes"].items()):
        print(f"  {dtype:8} {n:>12,}")
    print(f"  {'total':8} {sum(s['constant_bytes'].values()):>12,}")
    if args.verbose:
        print("tensors:")
        for i, t in enumerate(g.tensors):
            kind = "const" if t.is_constant else ""
            print(f"  {i:4} {t.name:28} {t.dtype:8} {str(list(t.shape)):20} scale={t.scale:.6g} {kind}")
    return 0


def _load_inputs(g, specs: list[str]) -> dict[str, np.ndarray]:
    """NAME=FILE.npy pairs; a bare FILE.npy feeds the graph's only input."""
    names = [g.tensors[i].name for i in g.inputs]
    inputs = {}
    for spec in specs:
        name, _, path = spec.rpartition("=")
        if not name:
            if len(names) != 1:
                raise SystemExit(f"the graph has inputs {names}: pass NAME=FILE.npy for each")
            name = names[0]
        inputs[name] = np.load(path)
    return inputs


def _run(args) -> int:
    from intedge import reference
    from intedge.ir import load

    g = load(args.model)
    inputs = _load_inputs(g, args.input)
    t0 = time.perf_counter()
    outputs = reference.run(g, inputs, kernels=args.kernels)
    dt = time.perf_counter() - t0
    if args.output:
        np.savez(args.output, **outputs)
    for name, value in outputs.items():
        print(f"{name}: {value.dtype}{list(value.shape)}")
        print(np.array2string(value, threshold=64, edgeitems=4))
    print(f"ran {len(g.ops)} ops with {args.kernels} kernels in {dt * 1e3:.1f} ms", file=sys.stderr)
    return 0


def _demo(args) -> int:
    from intedge import reference
    from intedge.examples.every_op import build_every_op_graph, example_inputs
    from intedge.ir import load

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "every_op.ieg"
    build_every_op_graph().save(path)
    g = load(path)
    print(f"built {path} ({path.stat().st_size:,} bytes): {len(g.ops)} ops covering all {len(g.summary()['ops'])} op kinds")
    inputs = example_inputs()
    results = {}
    for kernels in ("numpy", "scalar-cpp"):
        t0 = time.perf_counter()
        results[kernels] = reference.run(g, inputs, kernels=kernels)
        print(f"  {kernels:11} executor: {(time.perf_counter() - t0) * 1e3:7.1f} ms")
    same = all(np.array_equal(results["numpy"][k], results["scalar-cpp"][k]) for k in results["numpy"])
    for name, value in results["numpy"].items():
        print(f"  {name:18} {np.array2string(value.ravel()[:8], precision=3)}")
    print(f"numpy reference == C++ scalar kernels on every output: {same}")
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="intedge", description="Integer-only transformers for phones and boards.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="list a .ieg file's inputs, outputs, ops and constant bytes per dtype",
                       description="Verify a .ieg file and summarize it: inputs, outputs, op counts, constant bytes per dtype.")
    p.add_argument("model", help="path to a .ieg file")
    p.add_argument("-v", "--verbose", action="store_true", help="also list every tensor")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=_inspect)

    p = sub.add_parser("run", help="run a .ieg file on .npy inputs with the reference executor",
                       description="Run a .ieg graph with the reference executor (numpy spec or the C++ scalar kernels).")
    p.add_argument("model", help="path to a .ieg file")
    p.add_argument("--input", "-i", action="append", default=[], metavar="[NAME=]FILE.npy",
                   help="an input array; repeat for each graph input (dtype and shape must match exactly)")
    p.add_argument("--kernels", choices=["numpy", "scalar-cpp"], default="numpy", help="which op implementations to use")
    p.add_argument("--output", "-o", metavar="FILE.npz", help="also save the outputs to this .npz")
    p.set_defaults(func=_run)

    p = sub.add_parser("demo", help="build the bundled every-op graph, run it with both executors, compare",
                       description="Build the bundled example graph (every op kind), save and reload it as .ieg, "
                       "run it with the numpy reference and the C++ scalar kernels, and check they agree bit for bit.")
    p.add_argument("--out", default="out", help="folder for the written .ieg (default: ./out)")
    p.set_defaults(func=_demo)

    args = parser.parse_args(argv)
    from intedge.ir import InvalidGraphError
    from intedge.reference import ExecutionError

    try:
        return args.func(args)
    except (InvalidGraphError, ExecutionError, FileNotFoundError) as e:
        print(f"intedge {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
