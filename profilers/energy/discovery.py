"""Which energy sensors a target has: discover() over a snapshot of its sensor files (mirror.py), ordered by
preference, with a reason for each sensor found and not usable.

The first sensor is the primary, the one a report's energy per inference comes from, so the order goes from
the widest scope to the narrowest: the Jetson module's input rail, RAPL psys, the RAPL packages (one sensor
for their sum), a Raspberry Pi 5's PMIC rails, batteries, the ACPI power meter; then the parts: other rails, single packages, RAPL
subzones, other hwmon channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intedge.profilers.energy import hwmon, ina3221, power_supply, rapl, rpi_pmic
from intedge.profilers.energy.sensor import Sensor

FINDERS = (ina3221, rapl, rpi_pmic, power_supply, hwmon)
# What the snapshot must copy from the target: root-relative shell globs, each source's own, once each.
SNAPSHOT_GLOBS = tuple(dict.fromkeys(glob for finder in FINDERS for glob in finder.GLOBS))
# Commands whose output the snapshot keeps too, as commands/<name> in the mirror (sensors that are not files).
SNAPSHOT_COMMANDS = {name: command for finder in FINDERS for name, command in getattr(finder, "COMMANDS", {}).items()}

NOTHING_FOUND = ("no energy sensor on the target: none of powercap RAPL (/sys/class/powercap), hwmon power or "
                 "energy (/sys/class/hwmon), INA3221 (hwmon, or /sys/bus/i2c/drivers/ina3221x), a Raspberry Pi 5's "
                 "PMIC (vcgencmd) or a battery (/sys/class/power_supply)")


@dataclass(frozen=True)
class Discovery:
    sensors: list[Sensor]
    unavailable: list[str]

    @property
    def primary(self) -> Sensor | None:
        return self.sensors[0] if self.sensors else None


def discover(root: Path) -> Discovery:
    """The sensors under root (a snapshot mirror, or a recorded tree), by preference."""
    found = [finder.find(Path(root)) for finder in FINDERS]
    sensors = [sensor for each in found for sensor in each.headline] + [sensor for each in found for sensor in each.parts]
    unavailable = [reason for each in found for reason in each.unavailable]
    return Discovery(sensors, unavailable if sensors or unavailable else [NOTHING_FOUND])
