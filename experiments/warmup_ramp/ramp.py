"""How long each engine takes to come up to speed after a pause: the evidence behind `intedge bench`'s
BLOCK_WARMUP_S (profilers/bench.py).

For each engine, ROUNDS times: 30 ms of busy Python (the core stays awake, the engine's units go idle),
then RUNS timed runs back to back. Prints the median of each run position over the rounds, and the
elapsed milliseconds after each of the first runs. The engines are those of `intedge bench` for the model
(LiteRT's need the 'litert' extra).

    python experiments/warmup_ramp/ramp.py [minilm|deit-tiny] [ENGINE ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from intedge.profilers import bench

ROUNDS, RUNS, PAUSE_S = 10, 20, 0.03


def _timed(run, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def main(argv: list[str]) -> None:
    model = argv[0] if argv else "minilm"
    engines = argv[1:] or ["intedge-w8a8", "litert-int8-static"]
    with tempfile.TemporaryDirectory() as work:
        art = bench._Artifacts(bench.MODELS[model](), engines, Path(work), progress=False)
        runners = {e: art.runner(e, 1, None, art.example) for e in engines if e not in art.skipped}
        _ramps(runners)


def _ramps(runners: dict) -> None:
    for run in runners.values():
        _timed(run, 10)
    for engine, run in runners.items():
        by_position = [[] for _ in range(RUNS)]
        for _ in range(ROUNDS):
            start = time.perf_counter()
            while time.perf_counter() - start < PAUSE_S:
                pass
            for k, ms in enumerate(_timed(run, RUNS)):
                by_position[k].append(ms)
        medians = [float(np.median(p)) for p in by_position]
        print(f"{engine}: run 1..{RUNS} after a {PAUSE_S * 1e3:.0f} ms pause, median ms: "
              f"{' '.join(f'{m:.2f}' for m in medians)}")
        print(f"  first run / last: {medians[0] / medians[-1]:.2f}x; ms elapsed after runs 1-8: "
              f"{' '.join(f'{c:.0f}' for c in np.cumsum(medians)[:8])}")


if __name__ == "__main__":
    main(sys.argv[1:])
