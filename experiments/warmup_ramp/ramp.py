"""How long each engine takes to come up to speed after a pause: the evidence behind `intedge bench`'s
BLOCK_WARMUP_S (profilers/bench.py).

For each engine, ROUNDS times: 30 ms of busy Python (the core stays awake, the engine's units go idle),
then RUNS timed runs back to back. Prints the median of each run position over the rounds, and the
elapsed milliseconds after each of the first runs. The engines are those of `intedge bench` for the model
(LiteRT's need the 'litert' extra).

    python experiments/warmup_ramp/ramp.py [minilm|deit-tiny] [ENGINE ...]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", nargs="?", default="minilm", choices=sorted(bench.MODELS))
    p.add_argument("engines", nargs="*", default=["intedge-w8a8", "litert-int8-static"],
                   help=f"of: {', '.join(bench.ENGINES)} (default: intedge-w8a8 litert-int8-static)")
    args = p.parse_args()
    unknown = sorted(set(args.engines) - set(bench.ENGINES))
    if unknown:
        p.error(f"unknown engines: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory() as work:
        art = bench._Artifacts(bench.MODELS[args.model](), args.engines, Path(work), progress=False)
        for engine, why in art.skipped.items():
            print(f"{engine}: skipped: {why}")
        _ramps({e: art.runner(e, 1, None, art.example) for e in args.engines if e not in art.skipped})


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
    main()
