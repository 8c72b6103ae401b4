"""The `intedge` command line. Each subcommand is one function below; `intedge SUB --help` explains it."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from intedge.converters import LM_NAMES, ZOO_NAMES


def _inspect(args) -> int:
    from intedge.ir import load

    g = load(args.model)
    s = g.summary()
    if args.json:
        tensors = [{"name": g.tensors[i].name, "dtype": g.tensors[i].dtype, "shape": list(g.tensors[i].shape),
                    "dynamic_axes": list(g.tensors[i].dynamic_axes)} for i in g.inputs + g.outputs]
        states = [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "bytes": t.nbytes}
                  for t in (g.tensors[i] for i in g.state_tensors())]
        dynamic = {"dynamic": {"name": g.dynamic[0], "bound": g.dynamic[1]}} if g.dynamic else {}
        print(json.dumps({"name": g.name, **dynamic, "inputs": tensors[:len(g.inputs)], "outputs": tensors[len(g.inputs):],
                          "states": states, "op_count": len(g.ops), "tensor_count": len(g.tensors), **s}))
        return 0
    print(f"{args.model}: graph {g.name!r}, {len(g.ops)} ops, {len(g.tensors)} tensors")
    if g.dynamic:
        print(f"  dynamic dimension {g.dynamic[0]!r}: any length 1 to {g.dynamic[1]} (shapes below at the bound; "
              f"* marks the axes that follow it)")
    for kind, tids in (("input", g.inputs), ("output", g.outputs)):
        for t in (g.tensors[i] for i in tids):
            shape = ", ".join(f"{d}*" if a in t.dynamic_axes else str(d) for a, d in enumerate(t.shape))
            print(f"  {kind:6} {t.name:24} {t.dtype:8} [{shape}]")
    if s["state_bytes"]:
        print(f"state tensors, kept from run to run (a KV cache), {s['state_bytes']:,} bytes:")
        for i in g.state_tensors():
            t = g.tensors[i]
            reader = next((f"{op.kind} {op.name}".strip() for op in g.ops if i in op.inputs), "no op")
            print(f"  state  {t.name:24} {t.dtype:8} {list(t.shape)}  (updated by {reader})")
    print("ops:")
    for kind, n in sorted(s["ops"].items(), key=lambda kv: -kv[1]):
        print(f"  {kind:18} {n}")
    print("constant bytes per dtype:")
    for dtype, n in sorted(s["constant_bytes"].items()):
        print(f"  {dtype:8} {n:>12,}")
    print(f"  {'total':8} {sum(s['constant_bytes'].values()):>12,}")
    if args.ops:
        _print_ops(args.model, g)
    if args.verbose:
        print("tensors:")
        for i, t in enumerate(g.tensors):
            kind = "const" if t.is_constant else "state" if t.is_state else ""
            print(f"  {i:4} {t.name:28} {t.dtype:8} {str(list(t.shape)):20} scale={t.scale:.6g} {kind}")
    return 0


def _print_ops(path, g) -> None:
    """Every op as the engine runs it: its inputs by their role in the op spec, its outputs, and the
    kernel the engine picked for this CPU (Session.kernels)."""
    from intedge.ir.opspec import BY_KIND
    from intedge.runtime import Session

    session = Session(path)
    print(f"ops ({session.isa} kernels):")

    def show(tid):
        t = g.tensors[tid]
        return f"{t.name}:{t.dtype}{list(t.shape)}"

    for k, (op, (_, kernel)) in enumerate(zip(g.ops, session.kernels)):
        spec = BY_KIND[op.kind]
        ins = ", ".join(f"{spec.role(j).name}={show(t)}" for j, t in enumerate(op.inputs) if t != -1)
        print(f"  {k:4} {op.kind:16} {op.name}")
        print(f"       {ins} -> {', '.join(show(t) for t in op.outputs)}   kernel: {kernel}")


def _load_inputs(g, specs: list[str]) -> dict[str, np.ndarray]:
    """NAME=FILE.npy pairs; a bare FILE.npy feeds the graph's only input."""
    from intedge.reference import ExecutionError

    names = [g.tensors[i].name for i in g.inputs]
    inputs = {}
    for spec in specs:
        name, eq, path = spec.rpartition("=")
        if not eq:
            if len(names) != 1:
                raise ExecutionError(f"the graph has inputs {names}: pass NAME=FILE.npy for each")
            name = names[0]
        if not name or name in inputs:
            raise ExecutionError(f"-i {spec}: {'an empty input name' if not name else f'{name!r} is given twice'}")
        try:
            inputs[name] = np.load(path, allow_pickle=False)
        except ValueError:
            raise ExecutionError(f"{path}: not a .npy array (numpy's np.save writes one)") from None
    return inputs


def _run(args) -> int:
    from intedge import reference
    from intedge.ir import load
    from intedge.reference import ExecutionError

    if args.output and (Path(args.output).is_dir() or not args.output.endswith(".npz")):
        raise ExecutionError(f"-o {args.output}: give a FILE.npz to write the outputs to")
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


def _load_factory(spec: str):
    """A zoo name, or file.py:factory where factory() returns (model, calibration inputs)."""
    from intedge.converters import zoo
    from intedge.converters.errors import ConversionError

    if spec in zoo.ZOO:
        z = zoo.get(spec)
        return z.build(), z.calibration_set, z.conversion, z.training_set
    path, _, func = spec.rpartition(":")
    if not path.endswith(".py") or not func:
        raise ConversionError(f"{spec!r} is neither a zoo model ({', '.join(zoo.ZOO)}) nor file.py:factory")
    import importlib.util

    module_spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    if module_spec is None or not Path(path).exists():
        raise FileNotFoundError(f"no such file: {path}")
    module = importlib.util.module_from_spec(module_spec)
    with _user_code(path, "importing"):
        module_spec.loader.exec_module(module)
    factory = getattr(module, func, None)
    if not callable(factory):
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise ConversionError(f"{path} has no function {func!r} (it has: {', '.join(names) or 'none'})")
    with _user_code(path, f"{func}()"):
        made = factory()
    if not (isinstance(made, tuple) and len(made) == 2):
        raise ConversionError(f"{path}:{func}() must return (model, calibration inputs), got {type(made).__name__}")
    model, calibration = made
    # an input tuple per item; a bare tensor is a model's one input
    items = [x if isinstance(x, (tuple, list)) else (x,) for x in calibration]
    return model, lambda n: items[:n], {}, None


@contextlib.contextmanager
def _user_code(path: str, what: str):
    """Errors raised by the user's file become one line naming it and its line, not a traceback."""
    from intedge.converters.errors import ConversionError

    try:
        yield
    except Exception as e:  # noqa: BLE001 - whatever the user's code raises
        frames = [f for f in traceback.extract_tb(e.__traceback__) if Path(f.filename).resolve() == Path(path).resolve()]
        where = f" at {path}:{frames[-1].lineno}: {frames[-1].line}" if frames else ""
        raise ConversionError(f"{what} of {path} raised {type(e).__name__}: {e}{where}") from None


def _conversion_options(args) -> dict:
    """The conversion flags given; the ones left out keep the model's defaults."""
    given = {"weights": args.weights, "method": args.method, "smooth_alpha": args.smooth,
             "group_size": args.group_size, "gelu": args.gelu, "budget": args.budget}
    return {k: v for k, v in given.items() if v is not None}


def _convert(args) -> int:
    from intedge import lm_commands

    if lm_commands.is_language_model(args.model):
        return lm_commands.convert(args)
    if args.context is not None:
        raise SystemExit("intedge convert: --context is for language models")
    from intedge.converters.errors import ConversionError

    if (Path(args.model) / "config.json").is_file():
        raise ConversionError(f"{args.model}: its config.json is not a LlamaForCausalLM's (folders convert for Llama "
                              "language models; other models come as file.py:factory)")
    import torch

    from intedge.converters import zoo
    from intedge.converters.convert import Converter, check_dynamic_sequence
    from intedge.converters.errors import CalibrationError, ConversionError
    from intedge.converters.evaluate import QAT_SAMPLES
    from intedge.converters.qat import finetune

    options = _conversion_options(args)
    calib_data = args.calib_data
    count = args.calib or (zoo.get(args.model).calibration_size if args.model in ZOO_NAMES else 64)
    if calib_data is not None:  # the user's own set in place of the zoo's, read (or refused) before the model loads
        if args.model not in ZOO_NAMES:
            raise ConversionError(f"--calib-data is for zoo models ({', '.join(ZOO_NAMES)}): {args.model} supplies "
                                  "its own calibration inputs, so give them from the factory instead")
        from intedge.converters.calibration_data import user_calibration

        items = user_calibration(zoo.get(args.model), calib_data, count)
        print(f"calibrating on {len(items)} input(s) from {calib_data}", file=sys.stderr)
    model, calibration_set, defaults, training_set = _load_factory(args.model)
    if args.qat and training_set is None:
        raise ConversionError("--qat needs training inputs: use it with a zoo model, or intedge.converters.qat.finetune")
    if calib_data is None:
        items = calibration_set(count)
    if not items:
        raise CalibrationError(f"the calibration set is empty: {args.model} gave no calibration inputs")
    example = tuple(torch.as_tensor(x) for x in items[0])
    if args.dynamic_seq:  # before minutes of calibration: does the model take another length at all?
        check_dynamic_sequence(model, example)
    t0 = time.perf_counter()
    conv = Converter.calibrate(model, example, items, **(defaults | options))
    stay = conv.int8_fallbacks()
    if stay:
        print(f"note: {len(stay)} linear layer(s) stay int8, as W4 needs K a multiple of 32 and of the group size: "
              f"{', '.join(stay)}", file=sys.stderr)
    if conv.mixed:
        print(conv.mixed.table())
    if args.qat:
        finetune(conv, training_set(QAT_SAMPLES), epochs=args.qat)
    if args.report:
        from intedge.converters.error_report import REPORT_SAMPLES, error_report

        print(error_report(conv, [tuple(torch.as_tensor(x) for x in item) for item in items[:REPORT_SAMPLES]],
                           args.model).table())
    g = conv.dynamic_graph(name=Path(args.output).stem) if args.dynamic_seq else conv.graph(name=Path(args.output).stem)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    g.save(out)
    s = g.summary()
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(g.ops)} integer ops, "
          f"{sum(s['constant_bytes'].values()):,} constant bytes) in {time.perf_counter() - t0:.1f} s")
    return 0


def _export_source(args):
    """(graph, real feeds): a .ieg with the -i inputs, or a zoo model converted here with its first test inputs."""
    from intedge import reference
    from intedge.converters import zoo
    from intedge.exporters import ExportError
    from intedge.ir import load

    if args.model in zoo.ZOO:
        if args.input:
            raise ExportError("-i is for a .ieg: a zoo model's real inputs are its own test inputs")
        z = zoo.get(args.model)
        weights = args.weights or "w8"
        g = z.calibrated(weights, args.calib or 8).graph(batch=1, name=f"{args.model}-{weights}")
        return g, z.test_feeds(g, args.feeds)
    if args.weights or args.calib:
        raise ExportError("--weights and --calib are for a zoo model; a .ieg is converted already")
    if not Path(args.model).exists():
        raise ExportError(f"{args.model}: no such file, nor a zoo model ({', '.join(zoo.ZOO)})")
    g = load(args.model)
    real = [_load_inputs(g, args.input)] if args.input else []
    for feed in real:  # before minutes of exporting: inputs the check could not use
        reference.check_inputs(g, feed)
    return g, real


def _export_paths(args, stem: str, formats: list[str]) -> dict[str, Path]:
    """-o is the file for one format whose suffix it carries, else a folder for every format (default: .)."""
    from intedge.exporters import ExportError

    out = Path(args.output) if args.output else Path(".")
    if len(formats) == 1 and out.suffix == f".{formats[0]}":
        return {formats[0]: out}
    if out.suffix in (".pte", ".tflite", ".onnx"):
        raise ExportError(f"-o {out}: its suffix does not match --to {formats[0]}" if len(formats) == 1 else
                          f"-o {out}: a {out.suffix} file for --to {','.join(formats)}; give a folder, or one format")
    return {f: out / f"{stem}{'-delegate' if args.delegate else ''}.{f}" for f in formats}


def _export(args) -> int:
    from intedge import exporters
    from intedge.exporters import ExportError

    formats = list(exporters.FORMATS) if args.to == "all" else args.to.split(",")
    unknown = sorted(set(formats) - set(exporters.FORMATS))
    if unknown or (args.delegate and formats != ["pte"]):
        why = f"unknown format(s) {unknown}" if unknown else "--delegate is for --to pte"
        raise ExportError(f"{why}; --to takes {', '.join(exporters.FORMATS)} or all, comma-separated")
    g, real = _export_source(args)
    if g.dynamic is not None:
        print(f"note: {g.dynamic[0]!r} is dynamic; the exports are static at its bound, {g.dynamic[1]}", file=sys.stderr)
        g = g.at_length(g.dynamic[1])
    paths = _export_paths(args, Path(args.model).stem if args.model.endswith(".ieg") else g.name, formats)
    for path in paths.values():  # before minutes of exporting: a folder we cannot write into
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=path.parent).close()
        except OSError as e:
            raise ExportError(f"-o: cannot write into {path.parent} ({e.strerror})") from None
    feeds = exporters.random_feeds(g, args.feeds) + real
    failed = False
    for fmt, path in paths.items():
        t0 = time.perf_counter()
        if args.delegate:
            from intedge.exporters.executorch_delegate import export_delegated

            export_delegated(g, path)
        else:
            exporters.export(g, path, fmt)
        print(f"wrote {path} ({path.stat().st_size:,} bytes) in {time.perf_counter() - t0:.1f} s")
        if not args.check:
            continue
        problems = exporters.check(g, exporters.load(path), feeds)
        kinds = f"{args.feeds} random" + (f" + {len(real)} real" if real else "")
        if problems:
            failed = True
            print(f"  check FAILED on {kinds} inputs: {len(problems)} (input, output) pair(s) differ from the "
                  "reference:")
            for line in problems[:20]:
                print(f"    {line}")
        else:
            print(f"  check: bit-exact with the reference executor on {kinds} inputs (every output)")
    return 1 if failed else 0


def _profile(args) -> int:
    from intedge.profilers.profiler import ProfileError, check, is_zoo_name, profile
    from intedge.profilers.report import compare, ratios
    from intedge.profilers.targets import is_target

    sides = [(args.model, args.target)]
    if args.compare:  # the same model on a second target, or a second model on the same target
        sides.append((args.model, args.compare) if is_target(args.compare) else (args.compare, args.target))
    if args.weights and not any(is_zoo_name(model) for model, _ in sides):
        raise ProfileError("--weights is for a zoo model; a file is converted already")
    if args.ssh_option and not any(target.startswith("ssh:") for _, target in sides):
        raise ProfileError("--ssh-option is for ssh: targets")
    for model, target in sides:  # every refusal before the first minute of profiling
        check(model, target, args.weights if is_zoo_name(model) else None,
              args.ssh_option if target.startswith("ssh:") else [])
    if args.plot:
        from intedge.extras import require

        require("matplotlib", "plot", "intedge profile --plot")
        if Path(args.plot).exists() and not Path(args.plot).is_dir():
            raise ProfileError(f"--plot {args.plot}: not a folder")
        Path(args.plot).mkdir(parents=True, exist_ok=True)
    reports = [profile(model, target, threads=args.threads, isa=args.isa, runs=args.runs, warmup=args.warmup,
                       weights=args.weights if is_zoo_name(model) else None, measure_energy=not args.no_energy,
                       energy_seconds=args.energy_seconds, sensors_root=args.sensors_root,
                       ssh_options=args.ssh_option if target.startswith("ssh:") else [],
                       progress=not args.json and sys.stderr.isatty())
               for model, target in sides]
    if args.json:
        data = reports[0].to_dict()
        if args.compare:
            data = {"a": data, "b": reports[1].to_dict(), "ratios": ratios(*reports)}
        print(json.dumps(data, indent=1))
    else:
        for r in reports:
            print(r.markdown())
        if args.compare:
            print(compare(*reports))
    if args.plot:
        from intedge.profilers.plots import file_stem, write_plots

        stems = [file_stem(r) for r in reports]
        if len(stems) == 2 and stems[0] == stems[1]:  # the same model and target twice: keep both sets
            stems = [f"{stems[0]}-a", f"{stems[1]}-b"]
        for r, stem in zip(reports, stems):
            for path in write_plots(r, Path(args.plot), stem):
                print(f"wrote {path}", file=sys.stderr)
    return 0


def _print_eval(r) -> None:
    unit = "" if r.metric == "cosine" else " %"
    weights = f"{r.weights.upper()}A8" + (f", {len(r.mixed.int8)} linears W8" if r.mixed else "")
    rows = [("float (PyTorch fp32)", r.float), (f"intedge integer-only {weights}", r.integer)]
    rows += [(f"{k} (quantize_dynamic)" if k == "ort-int8" else k, v) for k, v in r.peers.items()]
    if r.mixed:
        print(r.mixed.table())
    if r.report:
        print(r.report.table())
    print(f"{r.model}: {r.metric}{unit} on {r.samples:,} {r.split} samples")
    for label, value in rows:
        delta = "" if label.startswith("float") else f"   ({value - r.float:+.3f} vs float)"
        print(f"  {label:38} {value:8.3f}{delta}")


def _eval(args) -> int:
    from intedge.converters.evaluate import evaluate

    if args.model in LM_NAMES:
        from intedge import lm_commands

        lm_commands.refuse_encoder_flags(args)
        r = lm_commands.evaluate(args.model, calib=args.calib, limit=args.limit, progress=not args.json,
                                 group_size=args.group_size)
        lm_commands.print_eval(r)
        if args.json:
            print(json.dumps(r))
        return 0

    opts = _conversion_options(args)
    r = evaluate(args.model, calib=args.calib, limit=args.limit, batch=args.batch, kernels=args.kernels,
                 peers=not args.no_peers, progress=not args.json, qat_epochs=args.qat, split=args.split,
                 calib_data=args.calib_data, report=args.report, **opts)
    _print_eval(r)
    if args.json:
        print(json.dumps(r.json()))
    return 0


def _generate(args) -> int:
    from intedge import lm_commands

    return lm_commands.generate(args)


def _demo(args) -> int:
    import numpy as np
    import torch

    from intedge.converters import zoo
    from intedge.converters.evaluate import evaluate
    from intedge.profilers.latency import measure
    from intedge.runtime import Session

    t0 = time.perf_counter()
    out = Path(args.out) / "vit-fmnist-w8.ieg"
    r = evaluate("vit-fmnist", calib=64, limit=args.limit, batch=100, peers=False, progress=False, save_to=out)
    _print_eval(r)
    # Batch-1 latency, one thread each, measured back to back in this process.
    torch.set_num_threads(1)
    model = zoo.get("vit-fmnist").build()
    session = Session(out, threads=1)
    image = np.ascontiguousarray(zoo.get("vit-fmnist").test_set()[0][0][:1])
    feed = {session.inputs[0].name: image}
    with torch.no_grad():
        fp32 = measure(lambda: model(torch.from_numpy(image)))
    ours = measure(lambda: session.run(feed))
    print(f"batch-1 latency, 1 thread, median of {ours.runs}: PyTorch fp32 {fp32.median_ms:.2f} ms, "
          f"intedge W8A8 ({session.isa}) {ours.median_ms:.2f} ms ({fp32.median_ms / ours.median_ms:.1f}x)")
    print(f"saved the batch-1 integer graph to {out} ({out.stat().st_size:,} bytes); "
          f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _bench(args) -> int:
    from intedge.profilers import bench
    from intedge.runtime import supported_isas

    if args.model == "gemm" and args.engines:
        print("intedge bench: error: --engines is for models; gemm times intedge's GEMM alone", file=sys.stderr)
        return 2
    if args.isa and args.isa not in supported_isas():  # before minutes of conversion, not after
        print(f"intedge bench: error: this CPU cannot run --isa {args.isa} (it has: {', '.join(supported_isas())})",
              file=sys.stderr)
        return 2
    if args.model == "gemm":
        rows = bench.gemm(isa=args.isa, runs=max(args.runs, 30))
        print(bench.format_gemm(rows))
        if args.json:
            print(json.dumps({"model": "gemm", "results": rows}))
        return 0
    if args.model == "exports":
        return _bench_exports(args)
    if args.model in LM_NAMES:
        return _bench_lm(args)
    engines = args.engines.split(",") if args.engines else None
    unknown = sorted(set(engines or []) - set(bench.ENGINES))
    if unknown:
        print(f"intedge bench: error: unknown engines {unknown}; known: {', '.join(bench.ENGINES)}", file=sys.stderr)
        return 2
    if args.seq is not None and (args.model != "minilm" or not 1 <= args.seq <= 128):
        print("intedge bench: error: --seq is for minilm, 1 to 128", file=sys.stderr)
        return 2
    results = bench.run(args.model, args.threads, runs=args.runs, warmup=args.warmup, engines=engines, isa=args.isa,
                        progress=not args.json, save=args.save, seq=args.seq)
    print("\n\n".join(bench.format_table(r) for r in results))
    if args.json:
        for r in results:
            print(json.dumps(r.json()))
    return 0


def _bench_lm(args) -> int:
    from intedge.profilers import lm_bench

    engines = args.engines.split(",") if args.engines else None
    unknown = sorted(set(engines or []) - set(lm_bench.ALL_ENGINES))
    if unknown:
        print(f"intedge bench: error: unknown engines {unknown}; known: {', '.join(lm_bench.ALL_ENGINES)}",
              file=sys.stderr)
        return 2
    isa, tables = lm_bench.run(args.model, args.threads, engines=engines, isa=args.isa, save=args.save,
                               progress=not args.json)
    print("\n\n".join(lm_bench.table(args.model, n, rows, isa, 128, 64, lm_bench.ROUNDS) for n, rows in tables))
    if args.json:
        for n, rows in tables:
            print(json.dumps({"model": args.model, "threads": n, "results": [r.json() for r in rows],
                              "ratios": [dict(zip(("intedge", "peer", "decode", "prefill"), r))
                                         for r in lm_bench.ratios(rows)]}))
    return 0


def _bench_exports(args) -> int:
    from intedge import exporters
    from intedge.converters import zoo
    from intedge.exporters import ExportError
    from intedge.profilers import exports_bench

    models = args.zoo.split(",") if args.zoo else list(exports_bench.MODELS)
    formats = args.to.split(",") if args.to else list(exporters.FORMATS)
    weights = args.weights.split(",") if args.weights else list(exports_bench.WEIGHTS)
    for kind, given, known in (("model", models, zoo.ZOO), ("format", formats, exporters.FORMATS),
                               ("weights", weights, exports_bench.WEIGHTS)):
        if set(given) - set(known):
            raise ExportError(f"unknown {kind} {sorted(set(given) - set(known))}; known: {', '.join(known)}")
    rows = exports_bench.run(models, weights, formats, runs=args.runs, limit=args.limit or 100, progress=not args.json)
    print(exports_bench.format_tables(rows))
    if args.json:
        print(json.dumps(exports_bench.json_rows(rows)))
    return 0 if all(r.exact and r.delegate_exact is not False for r in rows) else 1


def _seconds(text: str) -> float:
    """An argparse type: a duration in seconds, 0 to a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def _at_least(low: int):
    """An argparse type: an integer >= low (argparse exits 2 with the message otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _smooth_alpha(text: str) -> float | str:
    """An argparse type: SmoothQuant's strength, in (0, 1), 0 for off, or auto (searched per layer)."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither 'auto' nor a number") from None
    if not (value == 0 or 0 < value < 1):
        raise argparse.ArgumentTypeError(f"must be in (0, 1), 0 for off, or auto; got {value}")
    return value


def _temperature(text: str) -> float:
    """An argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {value}")
    return value


def _fraction(text: str) -> float:
    """An argparse type: a fraction in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return value


def _add_conversion_flags(p) -> None:
    p.add_argument("--weights", choices=["w8", "w4"], default="w8", help="weight width: W8A8 or W4A8 (default w8)")
    p.add_argument("--calib", type=_at_least(1), metavar="N",
                   help="calibration inputs (default 64, 512 for minilm's short sentences; 1 works too; a language "
                   "model: windows of 128 tokens, default 16)")
    p.add_argument("--calib-data", type=Path, metavar="PATH",
                   help="calibrate a zoo model on your own data instead of its training split (the first N of it): "
                   "a folder of images for the image models, prepared as the Android app prepares a photo, or a "
                   "UTF-8 text file with one sentence per line for minilm (docs/accuracy.md)")
    p.add_argument("--method", choices=["minmax", "percentile", "mse"], default="minmax",
                   help="how activation ranges are chosen from calibration (default minmax)")
    p.add_argument("--smooth", type=_smooth_alpha, metavar="ALPHA|auto",
                   help="SmoothQuant outlier smoothing with this migration strength (e.g. 0.5); auto searches each "
                   "layer's strength on calibration data; 0 turns it off; default: the zoo model's choice (auto for "
                   "minilm), else off")
    p.add_argument("--budget", type=_fraction, metavar="FRACTION",
                   help="with --weights w4: mixed precision, the linears' weights within FRACTION of their W8 bytes "
                   "(e.g. 0.6; other constants, such as embeddings, are not counted); the linears whose int4 weights "
                   "cost the most accuracy (per byte, or in all) stay W8, and the choice is printed")
    p.add_argument("--report", action="store_true",
                   help="print where the error comes from: each layer's range, scale and dtype, and the error its "
                   "quantization adds alone at the output, summed per part (Shiftmax, GELU, LayerNorm, weights, ...); "
                   "it runs the model once per layer on 16 calibration inputs (about a minute for minilm)")
    p.add_argument("--group-size", type=int, choices=[0, 32, 64, 128], default=32,
                   help="int4 weight group size; 0 = per-channel int4 (default 32)")
    p.add_argument("--qat", type=_at_least(0), default=0, metavar="EPOCHS",
                   help="quantization-aware fine-tuning of the integer graph's torch twin for EPOCHS epochs on the "
                   "zoo model's training inputs (distillation from the float model); default 0 (PTQ only)")
    p.add_argument("--gelu", choices=["table", "lambda", "shiftgelu"], default="table",
                   help="integer GELU: GELU itself tabulated at the 256 int8 inputs, then requantized (default), "
                   "λ-ShiftGELU with a fitted λ, or I-ViT's ShiftGELU")


def main(argv: list[str] | None = None) -> int:
    from intedge.runtime import known_isas

    parser = argparse.ArgumentParser(prog="intedge", description="Integer-only transformers for phones and boards.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="list a .ieg file's inputs, outputs, ops and constant bytes per dtype",
                       description="Verify a .ieg file and summarize it: inputs, outputs, op counts, constant bytes per dtype.")
    p.add_argument("model", help="path to a .ieg file")
    p.add_argument("--ops", action="store_true",
                   help="also list every op: its inputs by role (docs/ops.md), outputs, and the engine's kernel for it")
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

    p = sub.add_parser("convert", help="convert a zoo model or file.py:factory to an integer-only .ieg",
                       description="Capture a PyTorch model with torch.export, calibrate it, and write its "
                       f"integer-only graph. MODEL is a zoo name ({', '.join(ZOO_NAMES)}) or "
                       "file.py:factory, where factory() returns (model, calibration) and calibration is a list "
                       "of input tuples shaped like the model's inputs (the first is the example input). A language "
                       f"model ({', '.join(LM_NAMES)}, or a folder a LlamaForCausalLM was saved to with "
                       "save_pretrained, tokenizer.json beside it) becomes a decoder graph with its KV cache and "
                       "tokenizer, for `intedge generate` (docs/decoder.md); --weights, --calib (windows of 128 "
                       "tokens, default 16), --group-size, --context and --logits apply to it.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("-o", "--output", required=True, metavar="FILE.ieg")
    p.add_argument("--context", type=_at_least(1), metavar="T",
                   help="language models: the KV cache's length, the most tokens a prompt and its continuation "
                   "may hold (default: the model's max_position_embeddings)")
    p.add_argument("--logits", choices=["last", "all"], default="last",
                   help="language models: the logits of the last token of each run (default: what generating "
                   "needs) or of every token (scoring text)")
    p.add_argument("--dynamic-seq", action="store_true",
                   help="axis 1 of every input is a sequence: the graph runs at any length up to the example's "
                   "(its bound; pad every calibration input to it, the attention mask marking the padding)")
    _add_conversion_flags(p)
    p.set_defaults(func=_convert)

    p = sub.add_parser("eval", help="float vs integer accuracy of a zoo model on its test set",
                       description="Convert a zoo model and score the float model, the integer graph (C++ "
                       "engine) and ONNX Runtime's quantize_dynamic on the same test inputs: top-1 % for "
                       "vit-fmnist and swin-fmnist, mIoU % for segmenter-fmnist, mean cosine to the float embeddings "
                       "for minilm; for the language models (llama-fortunes) perplexity on held-out text of the float "
                       "model, W8A8 and W4A8 (GPTQ), where --limit counts tokens and --calib windows of 128 tokens.")
    p.add_argument("model", metavar="MODEL", choices=ZOO_NAMES + LM_NAMES)
    _add_conversion_flags(p)
    p.add_argument("--limit", type=_at_least(1), metavar="N",
                   help="score only the first N samples of the split (language models: the first N tokens)")
    p.add_argument("--split", choices=["test", "validation"], default="test",
                   help="what to score: test (default; the accuracy table's) or validation, a split no calibration "
                   "or test data overlaps, for tuning conversion choices")
    p.add_argument("--batch", type=_at_least(1), default=50, help="batch size of the evaluation graph (default 50)")
    p.add_argument("--kernels", choices=["engine", "numpy", "scalar-cpp"], default="engine",
                   help="run the integer graph in the C++ engine (default), or the reference executor with numpy or "
                   "C++ scalar kernels (same integers, slower)")
    p.add_argument("--no-peers", action="store_true", help="skip the ONNX Runtime quantize_dynamic peer")
    p.add_argument("--json", action="store_true", help="end with one JSON line: model, weights, metric, split, float, "
                   "integer, peers (and w8_layers with --budget, report with --report)")
    p.set_defaults(func=_eval)

    p = sub.add_parser("demo", help="convert the bundled ViT; float vs integer accuracy and latency (< 1 min)",
                       description="Convert the bundled Fashion-MNIST ViT to an integer-only W8A8 graph, score float "
                       "vs integer top-1 on the test images (the integer graph runs in the C++ engine), time batch-1 "
                       "inference of both on one thread, and save the graph.")
    p.add_argument("--out", default="out", help="folder for the written .ieg (default: ./out)")
    p.add_argument("--limit", type=_at_least(1), help="score only the first N test images (default: all 10,000)")
    p.set_defaults(func=_demo)

    p = sub.add_parser("generate", help="generate text with an integer-only decoder LM; prefill and decode tokens/s",
                       description="Prefill the prompt, then decode one token at a time with the KV cache in the "
                       "C++ engine, streaming the text; prints prefill and decode tokens/s. MODEL is a decoder .ieg "
                       f"(intedge convert writes one, with its tokenizer), a language model of the zoo "
                       f"({', '.join(LM_NAMES)}) or a save_pretrained folder of a LlamaForCausalLM (converted to "
                       "W8A8 first). Sampling is greedy unless --temperature > 0, and seeded.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--prompt", required=True, help="the text to continue")
    p.add_argument("--max-tokens", type=_at_least(1), default=64, metavar="N", help="tokens to generate (default 64)")
    p.add_argument("--temperature", type=_temperature, default=0.0,
                   help="0 (default): greedy; else sample at this temperature")
    p.add_argument("--top-k", type=_at_least(0), default=0, help="sample from the k likeliest tokens (0: all)")
    p.add_argument("--top-p", type=_fraction, default=1.0, help="nucleus sampling: the likeliest tokens holding this "
                   "probability mass (default 1: all)")
    p.add_argument("--seed", type=int, default=0, help="the sampler's seed (default 0)")
    p.add_argument("--threads", type=_at_least(1), default=1, help="engine threads (default 1)")
    p.add_argument("--isa", choices=known_isas(), help="force the engine's kernel path (default: the best this CPU has)")
    p.add_argument("--executor", choices=["engine", "reference"], default="engine",
                   help="the C++ engine (default) or the numpy reference executor (same tokens, slower)")
    p.add_argument("--no-bos", dest="bos", action="store_false",
                   help="do not start the prompt with the end-of-text token the model's documents follow")
    p.set_defaults(func=_generate)

    p = sub.add_parser("bench", help="latency and accuracy of intedge W8A8/W4A8 vs ONNX Runtime, ExecuTorch, LiteRT "
                       "and PyTorch",
                       description="Convert MODEL and time it, batch 1, in every engine in this one process: intedge "
                       "W8A8 and W4A8 (C++ engine), ONNX Runtime fp32 and quantize_dynamic int8, ExecuTorch XNNPACK "
                       "fp32 and pt2e static int8, LiteRT (XNNPACK) dynamic int8 and static int8 on the linear layers "
                       "(the 'litert' extra, not in 'all'; skipped with the reason where it is missing), PyTorch fp32. "
                       "Engines take turns in interleaved blocks of runs after warm-up, so machine noise hits all "
                       "alike. Each engine's first output on a few held-out inputs is compared with PyTorch fp32's "
                       "(mean cosine); below the floor the table states, an engine is marked accuracy broken and is "
                       "not counted as a peer. The table gives medians, ratios "
                       "to ORT int8, the cosines, intedge W8A8 against the fastest other engine that is not broken, "
                       "W4/W8 weight bytes and latency, and the share of nonlinear ops. MODEL gemm instead runs the "
                       "int8 GEMM micro-benchmark (GMAC/s and the fraction of the core's int8 peak), with oneDNN's int8 "
                       "matmul (torch's, AMX brgemm where the CPU has AMX) taking turns with it on the w8 shapes.")
    p.add_argument("model", metavar="MODEL", choices=["deit-tiny", "minilm", "gemm", "exports", *LM_NAMES],
                   help="deit-tiny (224×224, random weights), minilm (sequence 128), gemm, exports: each zoo "
                   "model's .pte/.tflite/.onnx in its runtime vs intedge's engine vs the runtime's own int8 path "
                   "(bit-exact, bytes, 1-thread latency, accuracy: the README's export tables), or a language model "
                   f"({', '.join(LM_NAMES)}): prefill and decode tokens/s, peak memory and perplexity of intedge "
                   "W8A8/W4A8 against llama.cpp Q8_0/Q4_0/F32 (the 'llamacpp' extra), ExecuTorch's LLM export "
                   "(XNNPACK int8 and 8da4w) and PyTorch fp32: a 128-token prompt, then 64 tokens one at a time")
    p.add_argument("--zoo", metavar="A,B", help="exports: the zoo models (default: vit-fmnist,segmenter-fmnist,minilm)")
    p.add_argument("--to", metavar="A,B", help="exports: the formats (default: pte,tflite,onnx)")
    p.add_argument("--weights", metavar="A,B", help="exports: w8, w4 or both (default)")
    p.add_argument("--limit", type=_at_least(1), metavar="N", help="exports: test samples to score (default 100)")
    p.add_argument("--threads", type=_at_least(1), nargs="+", default=[1, 2], metavar="N",
                   help="thread counts to run, each a separate table (default: 1 2)")
    p.add_argument("--runs", type=_at_least(1), default=30, help="timed runs per engine (default 30; gemm: at least 30)")
    p.add_argument("--warmup", type=_at_least(0), default=5,
                   help="untimed runs per engine first (default 5); each interleaved block also opens with 50 ms of "
                   "untimed runs")
    p.add_argument("--engines", metavar="A,B", help="a comma-separated subset of the engines (default: all; a "
                   "language model's: intedge-w8a8, intedge-w4a8, llamacpp-q8_0, llamacpp-q4_0, llamacpp-f32, "
                   "executorch-int8, executorch-8da4w, torch-fp32)")
    p.add_argument("--seq", type=_at_least(1), metavar="N",
                   help="minilm: time the first N tokens (1 to 128); intedge runs one graph of dynamic length, "
                   "bound 128, at N; the peers a model exported at N")
    p.add_argument("--isa", choices=known_isas(), help="force intedge's kernel path (default: the best this CPU has)")
    p.add_argument("--save", type=Path, metavar="DIR",
                   help="keep the converted .ieg files and exported .onnx files in DIR (to rerun with intedge-bench)")
    p.add_argument("--json", action="store_true",
                   help="end with one JSON line per thread count: {model, threads, results: [{engine, median_ms, "
                   "p90_ms, cosine, accuracy_broken}], fastest_other, w8a8_vs_fastest_other, "
                   "unpadded_vs_fastest_other (minilm: intedge-w8a8-unpadded, every key kept), ...}")
    p.set_defaults(func=_bench)

    p = sub.add_parser("export", help="write a .ieg or zoo model as ExecuTorch .pte, LiteRT .tflite or ONNX, exact in each",
                       description="Export an integer graph to the runtimes phones carry. The artifact computes, in "
                       "the stock runtime (ExecuTorch's portable kernels, the LiteRT interpreter, ONNX Runtime), "
                       "exactly the integers of intedge's reference executor: no float op between the input "
                       "quantizer and the output dequantizer (docs/exports.md). MODEL is a .ieg file, or a zoo name "
                       f"({', '.join(ZOO_NAMES)}) converted first. Files are named after MODEL: OUT/vit.onnx, "
                       "OUT/vit-delegate.pte, OUT/vit-fmnist-w8.onnx. Exit status 1 when --check finds a mismatch.")
    p.add_argument("model", metavar="MODEL", help="a .ieg file, or a zoo name")
    p.add_argument("--to", required=True, metavar="FORMAT",
                   help="pte, tflite, onnx, a comma-separated list of them, or all")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="the file (for one format, with its suffix), else the folder to write into (default: .)")
    p.add_argument("--check", action="store_true",
                   help="run each artifact in its runtime and compare every output with the reference executor's "
                   "(==) on random inputs and the real ones (-i, or a zoo model's test inputs)")
    p.add_argument("--feeds", type=_at_least(1), default=2, metavar="N",
                   help="random inputs for --check, and a zoo model's test inputs (default 2 each)")
    p.add_argument("--input", "-i", action="append", default=[], metavar="[NAME=]FILE.npy",
                   help="a real input for --check; repeat for each graph input")
    p.add_argument("--delegate", action="store_true",
                   help="pte: delegate the whole graph to intedge's engine (the ExecuTorch IntedgeBackend, "
                   "docs/exports.md) instead of the portable kernels")
    p.add_argument("--weights", choices=["w8", "w4"], help="a zoo model's weights (default w8)")
    p.add_argument("--calib", type=_at_least(1), metavar="N", help="a zoo model's calibration inputs (default 8)")
    p.set_defaults(func=_export)

    p = sub.add_parser("profile", help="latency, memory and energy of a model here, on a board (ssh) or a phone (adb)",
                       description="Profile a model on a target: intedge-bench (static on aarch64) and the model are "
                       "pushed into a fresh folder there, run, and removed; the report gives latency percentiles, "
                       "per-op time and kernels, memory, the CPU and its state, and energy per inference from the "
                       "target's power sensors (RAPL, hwmon, Jetson INA3221, a Pi 5's PMIC, the battery) — or, where none is "
                       "readable, why, and an estimate from op counts beside float32's (docs/profiling.md).")
    p.add_argument("model", metavar="MODEL",
                   help=f"a .ieg, a zoo name ({', '.join(ZOO_NAMES)}), or a .pte/.tflite/.onnx (local only: run in "
                   "its own runtime)")
    p.add_argument("--target", default="local", metavar="TARGET",
                   help="local (default), ssh:[user@]host[:port] (key or ~/.ssh/config login), adb[:serial]")
    p.add_argument("--threads", type=_at_least(1), default=1, metavar="N", help="engine threads (default 1)")
    p.add_argument("--isa", choices=known_isas(), help="force a kernel path (default: the best the target has)")
    p.add_argument("--runs", type=_at_least(1), default=50, metavar="N",
                   help="timed runs (default 50; with an energy sensor, more until they last --energy-seconds)")
    p.add_argument("--warmup", type=_at_least(0), default=5, metavar="N", help="untimed runs first (default 5)")
    p.add_argument("--weights", choices=["w8", "w4"], help="a zoo model's weights (default w8)")
    p.add_argument("--energy-seconds", type=_seconds, default=2.0, metavar="S",
                   help="with a power sensor: the timed runs last at least S seconds (default 2), after 1 s idle")
    p.add_argument("--no-energy", action="store_true", help="skip the power sensors (the estimate is still given)")
    p.add_argument("--compare", metavar="MODEL_OR_TARGET",
                   help="profile a second model on the same target, or the same model on a second target, and "
                   "print B/A ratios")
    p.add_argument("--json", action="store_true", help="print the report as JSON (schema: docs/profiling.md)")
    p.add_argument("--plot", metavar="DIR", help="write PNGs into DIR: per-op time, latency histogram, power "
                   "over the run (or the energy estimate)")
    p.add_argument("--ssh-option", action="append", default=[], metavar="OPT",
                   help="an ssh option for ssh: targets, as ssh -o takes it (repeat); e.g. IdentityFile=~/.ssh/board")
    p.add_argument("--sensors-root", default="/", metavar="DIR", help=argparse.SUPPRESS)  # recorded sysfs trees
    p.set_defaults(func=_profile)

    args = parser.parse_args(argv)
    from intedge.extras import MissingExtraError, require
    from intedge.integer_ops import QuantizationError
    from intedge.ir import InvalidGraphError
    from intedge.reference import ExecutionError

    if args.command in ("convert", "eval", "demo", "bench"):
        try:
            require("torch", "torch", f"intedge {args.command}")
        except MissingExtraError as e:
            print(f"intedge {args.command}: error: {e}", file=sys.stderr)
            return 2
    # OSError: a path that is missing, a directory, unreadable; MissingExtraError: a feature's extra
    user_errors = (InvalidGraphError, ExecutionError, OSError, QuantizationError, MissingExtraError)
    if args.command in ("export", "bench"):  # a bad --to or -o; an exporter's refusal
        from intedge.exporters import ExportError

        user_errors += (ExportError,)
    if args.command == "profile":  # a bad model or target; an unreachable target; a binary that cannot be built
        from intedge.native_build import NativeBuildError
        from intedge.profilers.profiler import ProfileError
        from intedge.profilers.targets import TargetError

        user_errors += (ProfileError, TargetError, NativeBuildError)
    if args.command in ("convert", "eval", "demo", "generate"):
        from intedge.converters.errors import ConversionError

        user_errors += (ConversionError,)
    if args.command == "generate":  # not a decoder graph, a prompt longer than the context
        user_errors += (ValueError,)
    # SIGTERM (a CI timeout, a closed terminal) unwinds like Ctrl-C, so temporary folders here and on a
    # profiled board are removed on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"intedge {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing to report
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush does not fail too
        return 0
    except user_errors as e:
        print(f"intedge {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
