"""The host JVM that the Java tests run on (the Android bridge, tests/test_android_bridge.py; the app's
core, tests/test_android_core.py): javac and java from a JDK, and Debian's JUnit 4 with hamcrest."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

JUNIT = (Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar"))
JUNIT_CLASSPATH = os.pathsep.join(map(str, JUNIT))


def unavailable(tests: str, why: str) -> None:
    """Skips the calling test for `why`, except in CI, which must run `tests`."""
    import pytest

    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI must run {tests}: {why}")
    pytest.skip(why)


def require(tests: str) -> None:
    """javac, java and JUnit 4 are here, else unavailable(tests, what is missing)."""
    missing = [tool for tool in ("javac", "java") if shutil.which(tool) is None]
    missing += [str(jar) for jar in JUNIT if not jar.exists()]
    if missing:
        unavailable(tests, f"no {', '.join(missing)} (apt-get install default-jdk-headless junit4)")


def javac(sources: Path, dest: Path, *options: str) -> None:
    """Compiles every .java under `sources` into `dest`, warnings as errors."""
    files = sorted(map(str, Path(sources).rglob("*.java")))
    run = subprocess.run(["javac", "-Xlint:all", "-Werror", "-encoding", "UTF-8", "-d", str(dest), *options, *files],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-6000:]
