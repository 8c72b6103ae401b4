"""Native code built on first use from the checkout, into a cache folder: the ExecuTorch backend
(intedge.exporters.executorch_delegate) and the static aarch64 intedge-bench that `intedge profile`
pushes to boards and phones (intedge.profilers.bench_binary). pip builds only what runs on this
machine in this environment; these depend on another library's install or another CPU, so they are
built when first asked for, keyed by a hash of everything they are made from."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent  # an editable install runs from the checkout


class NativeBuildError(RuntimeError):
    """A first-use build could not be done: what is missing and how to get it."""


def cache_root() -> Path:
    if os.environ.get("INTEDGE_CACHE_DIR"):
        return Path(os.environ["INTEDGE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "intedge"


def find_cmake(what: str, extra: str) -> str:
    # The environment's own first (the extra installs one), so an unactivated venv finds it too.
    cmake = shutil.which("cmake", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if cmake is None:
        raise NativeBuildError(f"building {what} needs cmake >= 3.28: pip install -c constraints.txt -e '.[{extra}]' "
                               "in the checkout")
    return cmake


def key_of(files: Iterable[Path], *strings: str) -> str:
    """A short hash of the files' bytes and the strings (paths, versions) that a build depends on."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(str(f).encode() + b"\0" + f.read_bytes())
    for s in strings:
        h.update(s.encode() + b"\0")
    return h.hexdigest()[:16]


def _run_step(what: str, step: str, command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        log = (done.stdout + done.stderr).strip().splitlines()
        raise NativeBuildError(f"building {what}: {step} failed ({' '.join(command)}); its last lines:\n"
                               + "\n".join(log[-15:]))


def cached_build(what: str, folder: str, source: Path, configure: list[str], product: str, extra: str,
                 targets: list[str] = ()) -> Path:
    """cache_root()/folder/product, configured from `source` with `configure` (-D... flags) and built
    (only `targets` if given) the first time; later calls return it at once. `folder` must carry the
    key of everything the build reads (key_of); `extra` is the pip extra that brings cmake."""
    cmake = find_cmake(what, extra)
    out = cache_root() / folder
    if (out / product).exists():
        return out / product
    print(f"intedge: building {what} into {out} (once)", file=sys.stderr)
    staging = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _run_step(what, "configuring", [cmake, "-S", str(source), "-B", str(staging), "-DCMAKE_BUILD_TYPE=Release",
                                        *configure])
        _run_step(what, "compiling", [cmake, "--build", str(staging), "--parallel", str(os.cpu_count() or 2),
                                      *(["--target", *targets] if targets else [])])
    except BaseException:  # a failed or interrupted build leaves nothing half-made in the cache
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:  # another process may have finished the same build first: theirs is as good
        staging.rename(out)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return out / product
