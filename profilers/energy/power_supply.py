"""Batteries through the Linux power_supply class (Android phones, laptops, battery boards):
/sys/class/power_supply/*/{type,status,current_now,voltage_now,power_now}, for supplies of type Battery.

The battery powers the whole device, so it is the phone's headline sensor, but it is a fuel gauge, not a
meter: units and signs vary by vendor (sensor.py decides µA or mA and µV or mV by magnitude, and takes |I|·V),
many gauges update current_now only every 0.25–10 s, and with a charger connected the current is the net of
charger and device. Batteries that report power_now (µW) instead of a current (many laptops) are read by it.
"""

from __future__ import annotations

from pathlib import Path

from intedge.profilers.energy import mirror
from intedge.profilers.energy.sensor import Found, Sensor

SUPPLIES = "sys/class/power_supply/*"
GLOBS = tuple(f"{SUPPLIES}/{leaf}" for leaf in ("type", "status", "current_now", "voltage_now", "power_now"))


def find(root: Path) -> Found:
    headline, unavailable = [], []
    for supply in [path.removesuffix("/type") for path in mirror.matches(root, f"{SUPPLIES}/type")]:
        if mirror.text(root, f"{supply}/type") != "Battery":
            continue
        supply_name = supply.rsplit("/", 1)[-1]
        name = "battery" if supply_name == "battery" else f"battery {supply_name}"
        current_voltage = (f"{supply}/current_now", f"{supply}/voltage_now")
        power = (f"{supply}/power_now",)
        if all(mirror.integer(root, path) is not None for path in current_voltage):
            files, reading = current_voltage, "battery_current_voltage"
        elif mirror.integer(root, power[0]) is not None:
            files, reading = power, "battery_power_uw"
        else:
            root_only = [path for path in (*current_voltage, *power) if mirror.unreadable(root, path)]
            why = (mirror.root_only(root_only) if root_only
                   else "neither current_now and voltage_now nor power_now read as integers")
            unavailable.append(f"{name}: {why}")
            continue
        headline.append(Sensor(name, "power_supply", "whole device (battery)", files, reading,
                               caveat=charging_caveat(mirror.text(root, f"{supply}/status"))))
    return Found(headline, [], unavailable)


def charging_caveat(status: str | None) -> str | None:
    if status is None or status == "Discharging":
        return None
    return (f"the battery's status was {status} when the sensors were found: with a charger connected, its "
            "current is the net of charger and device, not what the device draws; unplug it (adb over Wi-Fi)")
