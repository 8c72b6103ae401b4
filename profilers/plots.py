"""`intedge profile --plot DIR`: the report's pictures — where the time goes (per-op bars), how the
latency spreads (histogram), and power over the run (idle, warm-up, timed runs); where no sensor
was readable, the op-count estimate of integer-only against float32 takes the power plot's place."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only: no screen here, nor on a CI runner
import matplotlib.pyplot as plt  # noqa: E402 - after the backend

from .report import Report  # noqa: E402

_TOP_OPS = 25


def file_stem(report: Report) -> str:
    """MODEL-TARGET, safe as a file name: vit-fmnist-w8-local, vit-ssh_pi_board."""
    model = report.model["name"]
    model = model.rsplit(".", 1)[0] if model.endswith(f".{report.model['format']}") else model
    return f"{model}-{re.sub(r'[^A-Za-z0-9_.-]', '_', report.target['spec'])}"


def write_plots(report: Report, folder: Path, stem: str | None = None) -> list[Path]:
    """The PNGs, named after `stem` (default file_stem(report)), into folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or file_stem(report)
    written = [_latency(report, folder / f"{stem}-latency.png")]
    if report.ops:
        written.append(_ops(report, folder / f"{stem}-ops.png"))
    if report.energy["trace"]:
        written.append(_power(report, folder / f"{stem}-power.png"))
    elif report.energy.get("estimate"):
        written.append(_estimate(report, folder / f"{stem}-energy-estimate.png"))
    return written


def _title(report: Report, what: str) -> str:
    return f"{report.model['name']} on {report.target['spec']} ({report.run['isa']}, {report.run['threads']} t): {what}"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _ops(report: Report, path: Path) -> Path:
    """The slowest ops, each bar coloured by its op kind, with the kernel that ran it."""
    ops = sorted(report.ops, key=lambda o: -o["mean_us"])[:_TOP_OPS][::-1]
    kinds = sorted({o["kind"] for o in ops})
    colours = {k: plt.get_cmap("tab10")(i % 10) for i, k in enumerate(kinds)}
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(ops) + 1.4))
    ax.barh(range(len(ops)), [o["mean_us"] for o in ops], color=[colours[o["kind"]] for o in ops])
    ax.set_yticks(range(len(ops)), [f"{o['name'] or o['kind']}  [{o['kernel']}]" for o in ops], fontsize=7)
    ax.set_xlabel("µs per timed run (mean)")
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=colours[k]) for k in kinds], labels=kinds, fontsize=7,
              loc="lower right")
    share = sum(o["mean_us"] for o in ops) / max(sum(o["mean_us"] for o in report.ops), 1e-9)
    ax.set_title(_title(report, f"the {len(ops)} slowest ops ({share:.0%} of op time)"), fontsize=9)
    return _save(fig, path)


def _latency(report: Report, path: Path) -> Path:
    lat = report.latency_ms
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.hist(lat["samples"], bins=min(60, max(10, len(lat["samples"]) // 5)), color="tab:blue", alpha=0.8)
    for key, style in (("median", "-"), ("p90", "--"), ("p99", ":")):
        ax.axvline(lat[key], color="black", linestyle=style, label=f"{key} {lat[key]:.3f} ms")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("runs")
    ax.legend(fontsize=8)
    ax.set_title(_title(report, f"latency of {report.run['runs']} runs"), fontsize=9)
    return _save(fig, path)


def _power(report: Report, path: Path) -> Path:
    trace = report.energy["trace"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.stairs([np.nan if w is None else w for w in trace["watts"]], trace["t_s"], color="tab:red", linewidth=1)
    ax.axvspan(*trace["idle_s"], color="tab:gray", alpha=0.2, label="idle (engine loaded)")
    ax.axvspan(trace["idle_s"][1], trace["run_s"][0], color="tab:orange", alpha=0.15, label="warm-up")
    ax.axvspan(*trace["run_s"], color="tab:green", alpha=0.15, label="timed runs")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("power (W)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(_title(report, f"power ({trace['sensor']})"), fontsize=9)
    return _save(fig, path)


def _estimate(report: Report, path: Path) -> Path:
    est = report.energy["estimate"]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    names = ["integer-only", "float32"]
    compute = [est["integer"]["compute_j"] * 1e3, est["float32"]["compute_j"] * 1e3]
    memory = [est["integer"]["memory_j"] * 1e3, est["float32"]["memory_j"] * 1e3]
    ax.bar(names, compute, label="arithmetic", color="tab:blue")
    ax.bar(names, memory, bottom=compute, label="memory traffic", color="tab:orange")
    ax.set_ylabel("mJ per inference (estimate)")
    ax.legend(fontsize=8)
    ax.set_title(f"{report.model['name']}: energy estimated from op counts ({est['ratio']:.1f}× less)\n"
                 f"{est['short_source']}, {est['process']}; no power sensor on {report.target['spec']}", fontsize=9)
    return _save(fig, path)
