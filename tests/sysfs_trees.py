"""Recorded sensor trees (tests/fixtures/sysfs, described in its README) and what makes them live: a separate
process that advances their files at known rates, and a Python stand-in for the benchmark's sampler.

A test copies a tree (`recorded`), runs `advancing` over it, samples it (`sample`) or points the benchmark
binary at it, and knows what the energy must be: rate × time. The writer runs in its own process, as the
kernel does, so the reader is never the one making the numbers move; it writes each file whole (a temporary
file, then os.replace), so a reader never sees half a number.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "sysfs"


def recorded(name: str, destination: Path) -> Path:
    """A writable copy of the recorded tree `name` at destination (which must not exist yet): its root."""
    return Path(shutil.copytree(FIXTURES / name, destination))


@contextlib.contextmanager
def advancing(tree: Path, rates: dict[str, float], period_s: float = 0.005,
              wrap_at: dict[str, int] | None = None) -> Iterator[None]:
    """While the block runs, a separate process rewrites every root-relative file in `rates`, every period_s,
    with its content when the process started plus rate × the seconds since (units per second: µJ/s for
    energy_uj, 0 to hold a reading), modulo wrap_at[file] where given (RAPL wraps at max_energy_range_uj).
    The files have advanced once before the block starts; the process is stopped when it ends."""
    spec = {"tree": str(tree), "rates": rates, "period_s": period_s, "wrap_at": wrap_at or {}}
    writer = subprocess.Popen([sys.executable, __file__, json.dumps(spec)], stdout=subprocess.PIPE, text=True)
    try:
        if writer.stdout.readline().strip() != "advancing":
            raise RuntimeError(f"the writer advancing {tree} did not start (exit status {writer.wait()})")
        yield
    finally:
        writer.terminate()
        writer.wait()
        writer.stdout.close()


def sample(tree: Path, files: Sequence[str], idle_s: float, run_s: float, runs: int,
           period_s: float = 0.02) -> dict:
    """The benchmark sampler's result, from Python: each root-relative file read as an integer every period_s,
    from one period before an idle window of idle_s seconds, through it and a run window of run_s seconds
    (said to hold `runs` timed runs), to one period past its end, so both windows have samples beyond their
    edges as the binary's have."""
    first = time.monotonic()
    idle = [first + period_s, first + period_s + idle_s]
    run = [idle[1], idle[1] + run_s]
    t_s, values = [], []
    tick = first
    while not t_s or t_s[-1] < run[1] + period_s:
        time.sleep(max(0.0, tick - time.monotonic()))
        t_s.append(time.monotonic())
        values.append([int((tree / path).read_text()) for path in files])
        tick += period_s
    return {"files": list(files), "period_s": period_s, "t_s": t_s, "values": values, "idle_s": idle,
            "run_s": run, "runs": runs}


def standin_vcgencmd(folder: Path, output: str) -> Path:
    """A STAND-IN for the Raspberry Pi's `vcgencmd` (no Pi here): a script in `folder` that prints `output`
    for `vcgencmd pmic_read_adc` and fails otherwise. Returns the folder, to put first on PATH."""
    folder.mkdir(exist_ok=True)
    (folder / "recorded").write_text(output)
    (folder / "vcgencmd").write_text(f'#!/bin/sh\n[ "$1" = pmic_read_adc ] && exec cat {folder / "recorded"}\nexit 1\n')
    (folder / "vcgencmd").chmod(0o755)
    return folder


def write_whole(path: Path, value: int) -> None:
    # a dot-file beside the target: no sensor glob matches it, and os.replace is atomic within a directory
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(f"{value}\n")
    os.replace(temporary, path)


def advance(tree: Path, rates: dict[str, float], period_s: float, wrap_at: dict[str, int]) -> None:
    """The writer's loop, until SIGTERM: it finishes the round it is in, so no temporary file is left."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    start_values = {path: int((tree / path).read_text()) for path in rates}
    start = time.monotonic()
    announced = False
    while not stopping:
        elapsed = time.monotonic() - start
        for path, rate in rates.items():
            value = start_values[path] + round(rate * elapsed)
            write_whole(tree / path, value % wrap_at[path] if path in wrap_at else value)
        if not announced:
            print("advancing", flush=True)
            announced = True
        time.sleep(period_s)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    advance(Path(spec["tree"]), spec["rates"], spec["period_s"], spec["wrap_at"])
