"""Wall-clock latency of a callable: warm-up runs, then the median and 90th
percentile of timed runs. Machines here are shared and noisy, so callers
compare engines measured in the same process, back to back, and quote ratios.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p90_ms: float
    runs: int


def measure(fn: Callable[[], object], runs: int = 30, warmup: int = 5) -> Latency:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return Latency(float(np.median(times)), float(np.percentile(times, 90)), runs)
