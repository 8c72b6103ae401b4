"""What a target is: its CPU, cores, governor and clocks, thermal state, and a copy of its sensor files.

Everything comes from one shell loop over file globs on the target (`snapshot`), so it works alike
on this machine, over ssh and over adb, with only `sh` and `cat` on the far side. Energy readers
then look at a local mirror of the sensor files (`mirror`): they take a filesystem root, so the same
code reads a recorded tree in the tests.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from .targets import Target

_MARK = "@@intedge@@"

DEVICE_GLOBS = (
    "proc/cpuinfo",
    "proc/device-tree/model",
    "sys/devices/system/cpu/online",
    "sys/devices/system/cpu/cpu*/cpufreq/scaling_governor",
    "sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq",
    "sys/devices/system/cpu/cpu*/cpufreq/cpuinfo_max_freq",
    "sys/class/thermal/thermal_zone*/type",
    "sys/class/thermal/thermal_zone*/temp",
)

# Arm's MIDR part numbers (the "CPU part" line of /proc/cpuinfo) of the cores in phones and boards.
_ARM_PARTS = {
    0xD03: "Cortex-A53", 0xD04: "Cortex-A35", 0xD05: "Cortex-A55", 0xD07: "Cortex-A57", 0xD08: "Cortex-A72",
    0xD09: "Cortex-A73", 0xD0A: "Cortex-A75", 0xD0B: "Cortex-A76", 0xD0C: "Neoverse-N1", 0xD0D: "Cortex-A77",
    0xD40: "Neoverse-V1", 0xD41: "Cortex-A78", 0xD44: "Cortex-X1", 0xD46: "Cortex-A510", 0xD47: "Cortex-A710",
    0xD48: "Cortex-X2", 0xD49: "Neoverse-N2", 0xD4D: "Cortex-A715", 0xD4E: "Cortex-X3", 0xD4F: "Neoverse-V2",
    0xD80: "Cortex-A520", 0xD81: "Cortex-A720", 0xD82: "Cortex-X4",
}


def snapshot(target: Target, root: str, globs) -> tuple[dict[str, str], list[str]]:
    """The text of every readable file matching the root-relative globs under `root` on the target,
    keyed by root-relative path, and the root-relative paths that exist but are not readable."""
    prefix = root.rstrip("/") + "/"
    patterns = " ".join(shlex.quote(prefix) + g for g in globs)  # the globs unquoted: the shell expands them
    script = (f'for f in {patterns}; do if [ -r "$f" ] && [ -f "$f" ]; then echo "{_MARK} $f"; cat "$f" 2>/dev/null; '
              f'echo; elif [ -e "$f" ]; then echo "{_MARK}! $f"; fi; done')
    readable, unreadable = {}, []
    for block in target.shell(script, f"reading {root.rstrip('/')}/{{proc,sys}}").split(_MARK)[1:]:
        head, _, body = block.partition("\n")
        path = head.lstrip("! ").strip()
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix):]
        if head.startswith("!"):
            unreadable.append(relative)
        else:
            readable[relative] = body.rstrip("\n")
    return readable, unreadable


def mirror(files: dict[str, str], unreadable: list[str], into: Path) -> Path:
    """Writes a snapshot as a tree under `into`; an unreadable file becomes an empty `<path>.unreadable`,
    so a reader can say why a sensor it found is of no use. Returns `into`."""
    for relative, text in files.items():
        (into / relative).parent.mkdir(parents=True, exist_ok=True)
        (into / relative).write_text(text + "\n")
    for relative in unreadable:
        (into / relative).parent.mkdir(parents=True, exist_ok=True)
        (into / f"{relative}.unreadable").write_text("")
    return into


def _cpu_model(cpuinfo: str, board: str | None) -> str:
    for key in ("model name", "Hardware", "Model"):
        m = re.search(rf"^{key}\s*:\s*(.+)$", cpuinfo, re.M)
        if m:
            return m.group(1).strip()
    parts = sorted({int(p, 16) for p in re.findall(r"^CPU part\s*:\s*(0x[0-9a-fA-F]+)$", cpuinfo, re.M)})
    if parts:
        cores = " + ".join(_ARM_PARTS.get(p, f"Arm part {p:#x}") for p in parts)
        return f"{board} ({cores})" if board else cores
    return board or "unknown"


def _by_cpu(files: dict[str, str], leaf: str) -> dict[str, str]:
    out = {}
    for path, text in files.items():
        m = re.fullmatch(rf"sys/devices/system/cpu/(cpu\d+)/cpufreq/{leaf}", path)
        if m:
            out[m.group(1)] = text.strip()
    return dict(sorted(out.items(), key=lambda kv: int(kv[0][3:])))


def describe(target: Target) -> dict:
    """The target's CPU and state, JSON-ready; absent fields are None (a container hides cpufreq)."""
    files, _ = snapshot(target, "/", DEVICE_GLOBS)
    uname = target.shell("uname -m; uname -r; (nproc || getconf _NPROCESSORS_ONLN) 2>/dev/null; "
                         "(getprop ro.product.model) 2>/dev/null || true", "uname").split("\n")
    arch, kernel, cores = uname[0].strip(), uname[1].strip(), uname[2].strip()
    android_model = uname[3].strip() if len(uname) > 3 else ""
    board = (files.get("proc/device-tree/model", "").strip("\0\n ") or android_model) or None
    khz = {cpu: int(v) for cpu, v in _by_cpu(files, "scaling_cur_freq").items() if v.isdigit()}
    max_khz = {cpu: int(v) for cpu, v in _by_cpu(files, "cpuinfo_max_freq").items() if v.isdigit()}
    return {
        "arch": "aarch64" if arch == "arm64" else arch,
        "kernel": kernel,
        "device": board,
        "cpu_model": _cpu_model(files.get("proc/cpuinfo", ""), board),
        "cores": int(cores) if cores.isdigit() else None,
        "online": files.get("sys/devices/system/cpu/online"),
        "governors": sorted(set(_by_cpu(files, "scaling_governor").values())) or None,
        "frequency_mhz": {cpu: k / 1000 for cpu, k in khz.items()} or None,
        "max_frequency_mhz": {cpu: k / 1000 for cpu, k in max_khz.items()} or None,
        "thermal": thermal(files),
    }


def thermal(files: dict[str, str]) -> list[dict] | None:
    """Each thermal zone's type and temperature (°C; sysfs gives millidegrees)."""
    zones = []
    for path, text in sorted(files.items()):
        m = re.fullmatch(r"sys/class/thermal/(thermal_zone\d+)/temp", path)
        if m and text.strip().lstrip("-").isdigit():
            kind = files.get(f"sys/class/thermal/{m.group(1)}/type", "").strip()
            zones.append({"zone": m.group(1), "type": kind or None, "temp_c": int(text) / 1000})
    return zones or None


def temperatures(target: Target) -> list[dict] | None:
    """The thermal zones now: read again after the run, to show heating or throttling."""
    return thermal(snapshot(target, "/", ("sys/class/thermal/thermal_zone*/type",
                                          "sys/class/thermal/thermal_zone*/temp"))[0])
