"""`intedge profile`: latency, memory and energy of a model on this machine, a board or a phone.

One path for every target (profilers/targets.py): describe the target from its files, copy its
power-sensor files into a local mirror and find the sensors there, push intedge-bench for its CPU and
the model into a fresh folder, run, read the JSON back, remove the folder. intedge-bench itself
samples the sensors' files while it idles and runs, so power and latency share one clock; what the
numbers mean is worked out here (profilers/energy/). Where no sensor is readable, the report says
why and gives an estimate from the graph's op counts (profilers/estimate.py).

    from intedge.profilers import profile
    report = profile("vit.ieg", target="ssh:pi@board", threads=4)
    print(report.markdown())
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from intedge.extras import require
from intedge.ir import Graph, load

from . import bench_binary, device_info, energy
from .estimate import estimate
from .exported_runner import EXPORTED_SUFFIXES
from .report import Report
from .targets import FORMS, LocalTarget, Target, parse_target

CALIBRATION = 64  # a zoo model's calibration inputs: `intedge convert`'s default


class ProfileError(ValueError):
    """A user error: a model, target or option the profiler cannot use; the message says which and why."""


def is_zoo_name(model: str | Path) -> bool:
    from intedge.converters import ZOO_NAMES

    return not Path(model).exists() and str(model) in ZOO_NAMES


def check(model: str | Path, target: str | Target, weights: str | None = None, ssh_options: list[str] = ()) -> Target:
    """What profile() would refuse, found before anything runs (so `--compare` fails before its first
    half): the target's form, the model's existence, options that do not apply. Returns the target."""
    from intedge.converters import ZOO_NAMES

    try:
        t = target if isinstance(target, Target) else parse_target(target, ssh_options)
    except ValueError as e:
        raise ProfileError(str(e)) from None
    path = Path(model)
    if is_zoo_name(model):
        require("torch", "torch", "profiling a zoo model (it is converted first)")
        return t
    if weights:
        raise ProfileError("--weights is for a zoo model; a file is converted already")
    if not path.exists():
        also = f", nor a target ({FORMS})" if ":" in str(model) else ""
        raise ProfileError(f"{model}: no such file, nor a zoo model ({', '.join(ZOO_NAMES)}){also}")
    if path.suffix in EXPORTED_SUFFIXES:
        module, runtime = EXPORTED_SUFFIXES[path.suffix]
        if not isinstance(t, LocalTarget):
            raise ProfileError(f"{path.name}: a {path.suffix} runs in its own runtime's Python API, on this "
                               "machine only (--target local); on a board or phone profile the .ieg")
        require(module, "peers", f"profiling a {path.suffix} in {runtime}")
    return t


def _model_graph(model: str | Path, weights: str | None, work: Path) -> tuple[Path, Graph | None, str]:
    """(file to run, its graph when it is one of ours, display name): a .ieg, a zoo name (converted
    here), or an exported .pte/.tflite/.onnx (no graph: run in its own runtime)."""
    path = Path(model)
    if is_zoo_name(model):
        from intedge.converters import zoo

        w = weights or "w8"
        # calibrated as `intedge convert` does by default, so the graph profiled is the one convert writes
        graph = zoo.get(str(model)).calibrated(w, CALIBRATION).graph(batch=1, name=f"{model}-{w}")
        path = work / f"{graph.name}.ieg"
        graph.save(path)
        return path, graph, graph.name
    if path.suffix in EXPORTED_SUFFIXES:
        return path, None, path.name
    return path, load(path), path.name


def _run_with_progress(target: Target, command: str, progress: bool, label: str, program: str) -> None:
    """Runs intedge-bench (or the exported runner) with --progress, feeding its 'progress PHASE FRACTION'
    lines to a bar; TargetError with the rest of its stderr if it fails."""
    proc = target.popen(command)
    errors = []
    with tqdm(total=100, desc=label, disable=not progress, leave=False,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:
        for line in proc.stderr:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "progress":
                bar.set_postfix_str(parts[1])
                bar.n = float(parts[2]) * 100
                bar.refresh()
            else:
                errors.append(line.rstrip())
    proc.wait()
    if proc.returncode != 0:
        raise target.failure(program, proc.returncode, "\n".join(errors[-20:]))


def _sensors(target: Target, root: str, work: Path):
    """The target's power sensors, found in a local mirror of its sensor files and commands."""
    files, unreadable = device_info.snapshot(target, root, energy.SNAPSHOT_GLOBS)
    for name, command in energy.SNAPSHOT_COMMANDS.items():  # empty where the command is missing or fails
        files[f"commands/{name}"] = target.shell(f"{command} 2>/dev/null || true", f"`{command}`")
    return energy.discover(device_info.mirror(files, unreadable, work / "sensors"))


def profile(model: str | Path, target: str | Target = "local", *, threads: int = 1, isa: str | None = None,
            runs: int = 50, warmup: int = 5, weights: str | None = None, measure_energy: bool = True,
            energy_seconds: float = 2.0, idle_seconds: float = 1.0, sensors_root: str = "/",
            ssh_options: list[str] = (), progress: bool = False) -> Report:
    """Profiles `model` (a .ieg, a zoo name, or a .pte/.tflite/.onnx on this machine) on `target`
    (local, ssh:[user@]host[:port], adb[:serial]). With sensors, the timed runs last at least
    `energy_seconds` and an idle phase of `idle_seconds` comes first; `sensors_root` is where the
    target's /sys is (a recorded tree in tests); `ssh_options` are what `ssh -o` takes, for ssh targets."""
    if runs < 1 or warmup < 0 or threads < 1 or not 0 <= energy_seconds <= 86400 or not 0 <= idle_seconds <= 86400:
        raise ProfileError("--runs and --threads must be at least 1; --warmup and --energy-seconds at least 0")
    t = check(model, target, weights, ssh_options)
    with tempfile.TemporaryDirectory(prefix="intedge-profile-") as tmp:
        work = Path(tmp)
        path, graph, name = _model_graph(model, weights, work)
        info = device_info.describe(t)
        found = _sensors(t, sensors_root, work) if measure_energy else None
        sensors = found.sensors if found else []
        if graph is None:
            command = [sys.executable, "-m", "intedge.profilers.exported_runner", str(path), "--runs", str(runs),
                       "--warmup", str(warmup), "--threads", str(threads), "--progress"]
            _run_with_progress(t, f"{shlex.join(command)} > {shlex.quote(str(work / 'result.json'))}", progress,
                               name, f"running {path.name} in {EXPORTED_SUFFIXES[path.suffix][1]}")
            result = json.loads((work / "result.json").read_text())
            if sensors:  # see docs/profiling.md
                found = energy.Discovery([], [f"not sampled: the power sensors are read by intedge-bench, and a "
                                              f"{path.suffix} runs in its own runtime"])
                sensors = []
        else:
            result = _bench_on(t, path, info["arch"], threads, isa, runs, warmup, sensors, sensors_root,
                               energy_seconds if sensors else 0.0, idle_seconds, progress, name, work)
        after = device_info.temperatures(t)
    return Report.build(model=name, model_format=path.suffix.lstrip("."), target=t.spec, device=info,
                        thermal_after=after, bench=result, sensors=sensors,
                        unavailable=found.unavailable if found else ["not measured (--no-energy)"],
                        estimate=estimate(graph) if graph is not None else None)


def _bench_on(t: Target, path: Path, arch: str, threads: int, isa: str | None, runs: int, warmup: int, sensors,
              sensors_root: str, min_seconds: float, idle_seconds: float, progress: bool, name: str,
              work: Path) -> dict:
    binary = bench_binary.for_target(arch, remote=not isinstance(t, LocalTarget))
    remote = t.make_workdir()
    try:
        t.push(binary, f"{remote}/intedge-bench")
        t.push(path, f"{remote}/model.ieg")
        args = [f"{remote}/intedge-bench", "model.ieg", "--runs", str(runs), "--warmup", str(warmup), "--threads",
                str(threads), "--progress", *(["--isa", isa] if isa else [])]
        files = sorted({f for s in sensors for f in s.files})
        if files:
            root = sensors_root.rstrip("/")
            for f in files:  # a root-relative file, or a !command run as it is
                args += ["--sample", f if f.startswith("!") else f"{root}/{f}"]
            args += ["--idle-ms", str(int(idle_seconds * 1000)), "--min-seconds", f"{min_seconds:g}"]
        q = shlex.quote
        _run_with_progress(t, f"cd {q(remote)} && chmod +x intedge-bench && {shlex.join(args)} > result.json",
                           progress, f"{name} on {t}", f"intedge-bench on {name}")
        t.pull(f"{remote}/result.json", work / "result.json")
    finally:  # also on Ctrl-C or SIGTERM (the CLI turns it into an exception): nothing stays on the target
        t.remove(remote, "intedge-bench")
    result = json.loads((work / "result.json").read_text())
    if files:  # back to root-relative names, the sensors' own
        result["sampling"].update(files=files, runs=result["runs"])
    result["kernels"] = dict(Counter(op["kernel"] for op in result.get("ops", [])))
    return result
