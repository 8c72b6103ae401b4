"""The profile of one model on one target: the fields of `intedge profile --json` (schema in
docs/profiling.md), a Markdown summary, and side-by-side ratios of two profiles (`--compare`)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np

from . import energy as energy_readers
from .energy.windows import readings

SCHEMA = "intedge-profile/1"


@dataclass
class Report:
    model: dict      # name, format, file_bytes
    target: dict     # spec, arch, kernel, device, cpu_model, cores, governors, clocks, thermal before and after
    run: dict        # threads, isa (the kernel path), warmup, runs, kernels: {kernel: ops using it}
    latency_ms: dict  # median, p90, p99, min, max, mean, stdev, samples (every timed run)
    ops: list | None  # per op: kind, name, kernel, mean_us (None for an exported artifact's runtime)
    ops_by_kind: list | None  # per op kind: count, us, share of the ops' time
    memory: dict     # model_file_bytes, mapped/packed_weight_bytes, arena_bytes, peak_rss_bytes, page faults
    energy: dict     # measured (per sensor), primary, per_inference_j, unavailable (why), trace, estimate

    @classmethod
    def build(cls, *, model: str, model_format: str, target: str, device: dict, thermal_after, bench: dict, sensors,
              unavailable: list[str], estimate: dict | None) -> Report:
        ops = bench.get("ops")
        measured = energy_readers.measure(sensors, bench["sampling"]) if sensors else []
        primary = measured[0] if measured else None
        return cls(
            model={"name": model, "format": model_format, "file_bytes": bench["memory"]["model_file_bytes"]},
            target={"spec": target, **{k: v for k, v in device.items() if k != "thermal"},
                    "thermal_before": device.get("thermal"), "thermal_after": thermal_after},
            run={"threads": bench["threads"], "isa": bench["isa"], "warmup": bench["warmup"], "runs": bench["runs"],
                 "kernels": bench.get("kernels")},
            latency_ms=bench["latency_ms"],
            ops=ops,
            ops_by_kind=_by_kind(ops) if ops else None,
            memory=bench["memory"],
            energy={"measured": measured,
                    "primary": primary["sensor"] if primary else None,
                    "per_inference_j": primary["per_inference_j"] if primary else None,
                    "unavailable": [] if measured else unavailable,
                    "trace": _trace(sensors[0], bench["sampling"]) if measured else None,
                    "estimate": estimate},
        )

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not an intedge profile (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        return cls(**{k: v for k, v in data.items() if k != "schema"})

    def markdown(self) -> str:
        lat, mem, t = self.latency_ms, self.memory, self.target
        device = f"{t['device']}: " if t.get("device") and t["device"] not in t["cpu_model"] else ""
        path = "ISA" if self.ops else "runtime"  # an export runs in its own runtime, not on our kernels
        lines = [f"## {self.model['name']} on {t['spec']}", "",
                 f"{device}{t['cpu_model']} ({t['arch']}, {t['cores']} cores"
                 + (f", governor {'/'.join(t['governors'])}" if t.get("governors") else "") + "), "
                 f"{self.run['threads']} thread(s), {path}: {self.run['isa']}", "",
                 "| latency | median | p90 | p99 | min | max | mean | stdev | runs |",
                 "|---|---|---|---|---|---|---|---|---|",
                 f"| ms | {lat['median']:.3f} | {lat['p90']:.3f} | {lat['p99']:.3f} | {lat['min']:.3f} | "
                 f"{lat['max']:.3f} | {lat['mean']:.3f} | {lat['stdev']:.3f} | "
                 f"{self.run['runs']} (after {self.run['warmup']} warm-up) |", "",
                 "| memory | bytes |", "|---|---|"]
        for key, value in mem.items():
            if value is not None and key.endswith("_bytes"):
                lines.append(f"| {key.removesuffix('_bytes').replace('_', ' ')} | {value:,} |")
        lines += ["", f"Page faults: {mem['minor_page_faults']:,} minor, {mem['major_page_faults']:,} major.",
                  "", *self._energy_lines()]
        if self.ops_by_kind:
            lines += ["", "| op kind | ops | µs per timed run (mean) | share |", "|---|---|---|---|"]
            lines += [f"| {k['kind']} | {k['count']} | {k['us']:.1f} | {k['share']:.0%} |" for k in self.ops_by_kind]
        if t.get("thermal_after"):
            hottest = max(t["thermal_after"], key=lambda z: z["temp_c"])
            lines += ["", f"Hottest thermal zone after the run: {hottest['type']} {hottest['temp_c']:.1f} °C."]
        return "\n".join(lines) + "\n"

    def _energy_lines(self) -> list[str]:
        e = self.energy
        lines = []
        if e["measured"]:
            lines += ["| energy sensor | idle W | run W | mJ per inference | above idle | caveat |",
                      "|---|---|---|---|---|---|"]
            for m in e["measured"]:
                lines.append(f"| {m['sensor']} | {_num(m['idle_w'], '.2f')} | {_num(m['run_w'], '.2f')} | "
                             f"{_num(m['per_inference_j'], '.3f', 1e3)} | "
                             f"{_num(m['per_inference_above_idle_j'], '.3f', 1e3)} | {m.get('caveat') or ''} |")
        else:
            lines.append("Energy: unavailable — " + "; ".join(e["unavailable"]))
        est = e.get("estimate")
        if est:
            lines += ["", f"Estimate from op counts ({est['short_source']}, {est['process']}; not a measurement): "
                      f"{est['integer']['total_j'] * 1e3:.3f} mJ per inference integer-only, "
                      f"{est['float32']['total_j'] * 1e3:.3f} mJ for the same network in float32 "
                      f"({est['ratio']:.1f}×)."]
        return lines


def _num(value, spec: str, scale: float = 1.0) -> str:
    return "—" if value is None else format(value * scale, spec)


def _by_kind(ops: list[dict]) -> list[dict]:
    us, count = defaultdict(float), defaultdict(int)
    for op in ops:
        us[op["kind"]] += op["mean_us"]
        count[op["kind"]] += 1
    total = sum(us.values()) or 1.0
    return [{"kind": k, "count": count[k], "us": us[k], "share": us[k] / total}
            for k in sorted(us, key=lambda k: -us[k])]


def _trace(sensor, sampling: dict) -> dict:
    """The primary sensor's power over the whole sampled span, for the power plot."""
    t, values = readings(sensor, sampling)
    # The window edges add a sample just beside a periodic one; over so short an interval a counter's
    # quantum reads as a spike. Measurements integrate every interval; the picture keeps regular ones.
    keep = np.concatenate([[True], np.diff(t) > sampling["period_ms"] / 4e3])
    edges, watts = sensor.power(t[keep], values[keep])
    return {"sensor": sensor.name, "t_s": [float(x) for x in edges],  # n sample times
            "watts": [None if np.isnan(w) else float(w) for w in watts],  # the mean over each of the n - 1 intervals
            "idle_s": sampling["idle_s"], "run_s": sampling["run_s"]}


def label(r: Report) -> str:
    return f"{r.model['name']} on {r.target['spec']}"


def ratios(a: Report, b: Report) -> dict[str, dict]:
    """What --compare sets side by side: {quantity: {a, b, ratio b/a}}, JSON-ready (ratio None where a side
    has no number)."""
    def estimated(r: Report):
        return ((r.energy.get("estimate") or {}).get("integer") or {}).get("total_j")

    rows = {"latency_median_ms": (a.latency_ms["median"], b.latency_ms["median"]),
            "latency_p90_ms": (a.latency_ms["p90"], b.latency_ms["p90"]),
            "latency_p99_ms": (a.latency_ms["p99"], b.latency_ms["p99"]),
            "model_file_bytes": (a.memory["model_file_bytes"], b.memory["model_file_bytes"]),
            "peak_rss_bytes": (a.memory["peak_rss_bytes"], b.memory["peak_rss_bytes"]),
            "energy_per_inference_j": (a.energy["per_inference_j"], b.energy["per_inference_j"]),
            "estimated_energy_per_inference_j": (estimated(a), estimated(b))}
    return {name: {"a": x, "b": y, "ratio": y / x if x and y is not None else None} for name, (x, y) in rows.items()}


def compare(a: Report, b: Report) -> str:
    """A Markdown table of two profiles and b/a ratios: latency, memory, energy."""
    lines = [f"| | A: {label(a)} | B: {label(b)} | B / A |", "|---|---|---|---|"]
    for name, row in ratios(a, b).items():
        if row["a"] is None and row["b"] is None:
            continue
        scale = 1e3 if name.endswith("_j") else 1  # joules are shown as mJ
        title = name.replace("_per_inference_j", " per inference (mJ)").replace("_ms", " (ms)") \
            .replace("_bytes", " (bytes)").replace("_", " ")
        ratio = f"{row['ratio']:.2f}×" if row["ratio"] is not None else "—"
        lines.append(f"| {title} | {_cell(row['a'], scale)} | {_cell(row['b'], scale)} | {ratio} |")
    return "\n".join(lines) + "\n"


def _cell(value, scale: float = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value * scale:.3f}"
