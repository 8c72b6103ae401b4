"""The Raspberry Pi 5's PMIC rails: the board's power management IC measures the current and voltage of
each rail it makes (the SoC core, its 1.1/1.8/3.3 V supplies, the DRAM's, HDMI), and the firmware reports
them through `vcgencmd pmic_read_adc`, a command, not sysfs:

    VDD_CORE_A current(7)=0.78066000A        (older firmware: VDD_CORE_A=0.78066000A)
    VDD_CORE_V volt(15)=0.72439360V

The power is Σ current × voltage over the rails that report both. It covers what the PMIC supplies, not
the USB ports' devices nor the PMIC's own conversion losses (monitoring tools add about 15 % and 0.6 W
to estimate the wall: we do not). The snapshot keeps the command's output under `commands/`, and the
benchmark samples a pipeline that prints the sum in µW.
"""

from __future__ import annotations

import re
from pathlib import Path

from intedge.profilers.energy import mirror
from intedge.profilers.energy.sensor import Found, Sensor

GLOBS = ("proc/device-tree/model",)
# What the snapshot runs on the target (output kept as commands/<name> in the mirror).
COMMANDS = {"vcgencmd_pmic_read_adc": "vcgencmd pmic_read_adc"}
# Σ A·V in µW, for the benchmark's sampler: awk is on every Raspberry Pi OS. A line is NAME_A or NAME_V,
# then anything up to "=", then the number (awk reads "0.78066000A" as 0.78066).
SAMPLED = ("!vcgencmd pmic_read_adc | awk '{ sub(/^[ \\t]+/, \"\"); name = $0; sub(/[ =].*/, \"\", name); "
           "value = $0; sub(/.*=/, \"\", value); rail = substr(name, 1, length(name) - 2); "
           "unit = substr(name, length(name)); if (unit == \"A\") amps[rail] = value + 0; "
           "else if (unit == \"V\") volts[rail] = value + 0 } "
           "END { for (r in amps) if (r in volts) p += amps[r] * volts[r]; printf \"%d\\n\", p * 1e6 }'")
MODELS = ("Raspberry Pi 5", "Raspberry Pi Compute Module 5")
_LINE = re.compile(r"^\s*(\S+)_([AV])\b[^=]*=\s*([0-9.]+)[AV]\s*$", re.M)


def rails(output: str) -> dict[str, float]:
    """Watts per rail that reports both its current and its voltage."""
    amps, volts = {}, {}
    for rail, unit, value in _LINE.findall(output):
        (amps if unit == "A" else volts)[rail] = float(value)
    return {rail: amps[rail] * volts[rail] for rail in amps if rail in volts}


def find(root: Path) -> Found:
    model = (mirror.text(root, "proc/device-tree/model") or "").strip("\0 ")
    if not model.startswith(MODELS):
        return Found([], [], [])
    output = mirror.text(root, "commands/vcgencmd_pmic_read_adc") or ""
    if not rails(output):
        return Found([], [], [f"{model}: `vcgencmd pmic_read_adc` printed no rail readings (it needs the Pi 5 "
                              "firmware of late 2023 or newer, and a user in the video group)"])
    return Found([Sensor("Pi 5 PMIC rails", "rpi_pmic", "the PMIC's rails: SoC, DRAM, I/O, HDMI (not USB devices, "
                         "nor conversion losses)", (SAMPLED,), "power_uw")], [], [])
