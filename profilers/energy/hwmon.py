"""hwmon power and energy channels: /sys/class/hwmon/hwmon*/{name, power*_input, power*_average, power*_label,
energy*_input, energy*_label}.

power*_input and power*_average are readings in µW (power_meter and amdgpu offer only the average, over an
interval their driver picks); a channel's input is taken where it has both. energy*_input counts µJ in 64 bits
(amd_energy and zenergy's Esocket/Ecore, i915 and xe): it does not wrap in practice, so a drop is a reset.

Per-core channels (amd_energy's Ecore000…, Ampere Altra's "Core Energy 000"…) are left out: the socket's
channel covers them, and reading dozens of files every period would disturb what is measured. The ina3221
hwmon is read per rail by ina3221.py, not here, so no rail is counted twice.
"""

from __future__ import annotations

import re
from pathlib import Path

from intedge.profilers.energy import mirror
from intedge.profilers.energy.sensor import Found, Sensor

GLOBS = tuple(f"sys/class/hwmon/*/{leaf}" for leaf in
              ("name", "power*_input", "power*_average", "power*_label", "energy*_input", "energy*_label"))

CHANNEL = re.compile(r"(power|energy)(\d+)_(input|average)")
PER_CORE = re.compile(r".*core\D*\d+", re.IGNORECASE)
READ_ELSEWHERE = {"ina3221"}
# (driver, label, scope), matched whole; the scope may name the label's groups. Channels not listed say only
# which driver and channel they are: hwmon does not say what a channel covers.
SCOPES = (
    ("power_meter", r".*", "whole system (ACPI power meter)"),
    ("amd_energy|zenergy", r"Esocket(\d+)", r"CPU socket \1"),
    ("zenpower", r"SVI2_P_Core", "CPU cores (as the voltage regulator reports)"),
    ("zenpower", r"SVI2_P_SoC", "CPU SoC (as the voltage regulator reports)"),
    ("amdgpu", r".*PPT", "GPU package (PPT)"),
    ("ina2xx|ina209|ina219|ina226|ina238", r".*", "the rail its shunt is on"),
)
WHOLE_SYSTEM = {"power_meter"}


def find(root: Path) -> Found:
    headline, parts, unavailable = [], [], []
    for device in [path.removesuffix("/name") for path in mirror.matches(root, "sys/class/hwmon/*/name")]:
        driver = mirror.text(root, f"{device}/name") or device.rsplit("/", 1)[-1]
        if driver in READ_ELSEWHERE:
            continue
        sensors, root_only, unreadable = channels(root, device, driver)
        (headline if driver in WHOLE_SYSTEM else parts).extend(sensors)
        if root_only:
            unavailable.append(f"hwmon {driver}: {mirror.root_only(root_only)}")
        if unreadable:
            unavailable.append(f"hwmon {driver}: {mirror.not_integers(unreadable)}")
    return Found(headline, parts, unavailable)


def channels(root: Path, device: str, driver: str) -> tuple[list[Sensor], list[str], list[str]]:
    """The device's usable power and energy channels, and the files of those it has but could not read: by
    the user (root only) and at all (not an integer)."""
    chosen = {}
    for leaf in ("power*_input", "power*_average", "energy*_input"):  # a power channel's input before its average
        for path in mirror.matches(root, f"{device}/{leaf}"):
            channel = CHANNEL.fullmatch(path.rsplit("/", 1)[-1])
            if channel:
                chosen.setdefault((channel[1], int(channel[2])), path)
    sensors, root_only, unreadable = [], [], []
    for (kind, number), path in sorted(chosen.items()):
        label = mirror.text(root, f"{device}/{kind}{number}_label")
        if label and PER_CORE.fullmatch(label):
            continue
        if mirror.unreadable(root, path):
            root_only.append(path)
        elif mirror.integer(root, path) is None:
            unreadable.append(path)
        else:
            name = f"hwmon {driver} {label or f'{kind}{number}'}"
            sensors.append(Sensor(name, "hwmon", scope(driver, label, f"{kind}{number}"), (path,),
                                  "energy_uj" if kind == "energy" else "power_uw",
                                  (0,) if kind == "energy" else ()))
    return sensors, root_only, unreadable


def scope(driver: str, label: str | None, channel: str) -> str:
    for drivers, labels, described in SCOPES:
        found = re.fullmatch(labels, label or "")
        if re.fullmatch(drivers, driver) and found:
            return found.expand(described)
    return f"{driver} {label or channel}, as its driver defines it"
