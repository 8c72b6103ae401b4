"""Energy per inference from the benchmark's sampling: each sensor's power, integrated over the idle window
(engine loaded, not running) and over the window of the timed runs.

A sensor's power is a step function over the intervals between samples (sensor.py). The energy in a window
is each interval's power times the part of it inside the window, so intervals that straddle an edge count
for their share only. Intervals of unknown power (a counter reset) are left out, and the window's mean power
is taken over the time that remains; a window holding fewer than 2 samples has no numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from intedge.profilers.energy.sensor import Sensor

MIN_SAMPLES = 2


def measure(sensors: Sequence[Sensor], sampling: dict) -> list[dict]:
    """One result per sensor. sampling is the benchmark's: files (root-relative, a superset of the sensors'),
    t_s (monotonic s), values (one row per t), idle_s and run_s ([start, end]), runs (timed runs in run_s)."""
    return [result(sensor, *readings(sensor, sampling), sampling["idle_s"], sampling["run_s"], sampling["runs"])
            for sensor in sensors]


def readings(sensor: Sensor, sampling: dict) -> tuple[np.ndarray, np.ndarray]:
    """The sample times and the sensor's own columns of the sampled values, in the order of its files."""
    t = np.asarray(sampling["t_s"], dtype=np.float64)
    values = np.asarray(sampling["values"], dtype=np.int64).reshape(len(t), len(sampling["files"]))
    column = {path: k for k, path in enumerate(sampling["files"])}
    missing = [path for path in sensor.files if path not in column]
    if missing:
        raise ValueError(f"sensor {sensor.name}: {', '.join(missing)} not among the sampled files")
    return t, values[:, [column[path] for path in sensor.files]]


def result(sensor: Sensor, t: np.ndarray, values: np.ndarray, idle_s: Sequence[float], run_s: Sequence[float],
           runs: int) -> dict:
    edges, watts = sensor.power(t, values)
    caveats = [sensor.caveat] if sensor.caveat else []
    idle_w, idle_why = mean_power(edges, watts, *idle_s)
    run_w, run_why = mean_power(edges, watts, *run_s)
    caveats += [f"idle window: {idle_why}"] if idle_why else []
    caveats += [f"run window: {run_why}"] if run_why else []
    in_run = (t >= run_s[0]) & (t <= run_s[1])
    if np.count_nonzero(in_run) >= MIN_SAMPLES and (values[in_run] == values[in_run][0]).all():
        slow = " (battery fuel gauges update every 0.25–10 s)" if sensor.source == "power_supply" else ""
        caveats.append(f"the readings did not change during the run: the sensor updates more slowly than the run "
                       f"lasted{slow}, so this is one reading, not a mean: run longer (--energy-seconds)")
    run_duration = run_s[1] - run_s[0]
    run_j = run_w * run_duration if run_w is not None else None
    above_idle = (run_w - idle_w) * run_duration / runs if run_w is not None and idle_w is not None else None
    return {"sensor": sensor.name, "source": sensor.source, "scope": sensor.scope, "idle_w": idle_w,
            "run_w": run_w, "run_j": run_j, "per_inference_j": run_j / runs if run_j is not None else None,
            "per_inference_above_idle_j": above_idle, "samples_in_run": int(np.count_nonzero(in_run)),
            "caveat": "; ".join(caveats) or None}


def mean_power(edges: np.ndarray, watts: np.ndarray, start: float, end: float) -> tuple[float | None, str | None]:
    """The mean power over [start, end] in watts (None where it cannot be known), and what the reader must know
    about it."""
    samples = np.count_nonzero((edges >= start) & (edges <= end))
    if samples < MIN_SAMPLES:
        return None, f"{samples} samples in {end - start:.3f} s, fewer than {MIN_SAMPLES}: no power for it"
    overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0, None)
    inside = overlap > 0
    known = inside & ~np.isnan(watts)
    unknown = np.count_nonzero(inside & ~known)
    note = f"{unknown} intervals of unknown power (a counter reset) left out" if unknown else None
    if not known.any():
        return None, note
    return float((watts[known] * overlap[known]).sum() / overlap[known].sum()), note
