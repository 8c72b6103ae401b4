"""Reading a snapshot of a target's sensor files: a local directory that mirrors the files SNAPSHOT_GLOBS
matched under the target's root, at the same relative paths, or a recorded tree in the tests.

A file the target's user could not read is absent from the mirror, and an empty `<path>.unreadable` stands
beside where it would be, so discovery can say "readable by root only" instead of "not there".
"""

from __future__ import annotations

import re
from pathlib import Path

UNREADABLE = ".unreadable"


def text(root: Path, relative: str) -> str | None:
    """The file's content without surrounding whitespace, or None where it is not in the mirror."""
    try:
        return (root / relative).read_text().strip()
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None


def integer(root: Path, relative: str) -> int | None:
    """The file as one integer, as the benchmark's sampler reads it, or None where it is absent or not one
    (a channel whose driver answered the read with an error leaves an empty file)."""
    content = text(root, relative)
    try:
        return int(content) if content is not None else None
    except ValueError:
        return None


def unreadable(root: Path, relative: str) -> bool:
    return (root / (relative + UNREADABLE)).exists()


def matches(root: Path, pattern: str) -> list[str]:
    """Root-relative paths matching the glob, readable or not (an unreadable one is named without its marker),
    in natural order (hwmon2 before hwmon10)."""
    found = {path.relative_to(root).as_posix() for path in root.glob(pattern)}
    found |= {path.relative_to(root).as_posix().removesuffix(UNREADABLE) for path in root.glob(pattern + UNREADABLE)}
    return sorted(found, key=natural_key)


def on_target(relative: str) -> str:
    """The path as the target names it, for messages."""
    return "/" + relative


def root_only(paths: list[str]) -> str:
    return f"only root may read {', '.join(map(on_target, paths))} (run as root, or `chmod o+r` them)"


def not_integers(paths: list[str]) -> str:
    return f"no integer could be read from {', '.join(map(on_target, paths))}"


def natural_key(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]
