"""Measuring models.

* `profile(model, target=...)` → Report (profiler.py): latency, per-op time, memory and energy of a
  model on this machine, a board (ssh) or a phone (adb) — what `intedge profile` prints;
* `intedge bench` against other runtimes (bench.py, exports_bench.py, with the runtimes in peers.py);
* wall-clock latency of a callable in this process (latency.py).
"""

from __future__ import annotations

import importlib

# Loaded when first asked for: `python -m intedge.profilers.estimate` and the exporters' use of latency.py
# should not import the whole profiler first.
_PUBLIC = {"profile": "profiler", "ProfileError": "profiler", "Report": "report", "compare": "report"}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
