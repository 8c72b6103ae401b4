"""RAPL energy counters through Linux powercap: /sys/class/powercap/<zone>/{name,energy_uj,max_energy_range_uj}.

Zones `intel-rapl:N` are packages (`package-N`, or `package-N-die-M` on multi-die parts) and, where the
platform has one, `psys` (the platform's power as its voltage regulators see it); `intel-rapl:N:M` are
their subzones (`core`, `uncore`, `dram`). AMD's counters (Zen, Linux 5.11 and later) come through the same
`intel-rapl` control type, with a `core` subzone. `intel-rapl-mmio` repeats the package counter through
MMIO on some laptops, so its zones are used only where `intel-rapl` is absent: summing both would count the
package twice.

energy_uj counts µJ and wraps at max_energy_range_uj (about 262 kJ for packages: 70 minutes at 60 W).
"""

from __future__ import annotations

from pathlib import Path

from intedge.profilers.energy import mirror
from intedge.profilers.energy.sensor import Found, Sensor

GLOBS = ("sys/class/powercap/*/name", "sys/class/powercap/*/energy_uj", "sys/class/powercap/*/max_energy_range_uj")

PREFERRED_CONTROL = "intel-rapl"
SUBZONE_SCOPES = {"core": "CPU cores of {package}", "uncore": "uncore of {package} (the integrated GPU)",
                  "dram": "DRAM of {package}"}


def find(root: Path) -> Found:
    zones = [path.removesuffix("/energy_uj") for path in mirror.matches(root, "sys/class/powercap/*/energy_uj")]
    controls = sorted({zone_id(zone).split(":")[0] for zone in zones}, key=lambda c: (c != PREFERRED_CONTROL, c))
    zones = [zone for zone in zones if controls and zone_id(zone).split(":")[0] == controls[0]]
    unavailable, root_only, usable = [], [], {}
    for zone in zones:
        energy = f"{zone}/energy_uj"
        if mirror.unreadable(root, energy):
            root_only.append(energy)
        elif mirror.integer(root, energy) is None:
            unavailable.append(f"RAPL: {mirror.not_integers([energy])}")
        elif mirror.integer(root, f"{zone}/max_energy_range_uj") is None:
            unavailable.append(f"RAPL: {mirror.on_target(zone)}/max_energy_range_uj is missing, so a wrap of "
                               "its counter could not be told from a reset")
        else:
            usable[zone] = mirror.text(root, f"{zone}/name") or zone_id(zone)
    if root_only:
        which = (f"{mirror.on_target(root_only[0])} exists but is" if len(root_only) == 1 else
                 f"{mirror.on_target(root_only[0])} and {len(root_only) - 1} more zones' energy_uj exist but are")
        unavailable.append(f"RAPL: {which} readable by root only (since Linux 5.10 and its stable updates, "
                           "CVE-2020-8694): run as root or `chmod o+r` them")
    top = {zone: name for zone, name in usable.items() if zone_id(zone).count(":") == 1}
    psys = [counter(root, f"RAPL {name}", "platform (psys: what the platform's regulators deliver)", [zone])
            for zone, name in top.items() if name == "psys"]
    packages = {zone: name for zone, name in top.items() if name.startswith("package")}
    each_package = [counter(root, f"RAPL {name}", "CPU " + name.replace("-", " "), [zone])
                    for zone, name in packages.items()]
    others = [counter(root, f"RAPL {name}", f"RAPL zone {name}", [zone])
              for zone, name in top.items() if name != "psys" and zone not in packages]
    if len(packages) > 1:
        total = counter(root, "RAPL packages", f"the {len(packages)} CPU packages together", list(packages))
        headline, parts = [*psys, total], each_package
    else:
        headline, parts = psys + each_package, []
    return Found(headline, parts + others + subzones(root, usable, top), unavailable)


def subzones(root: Path, usable: dict[str, str], top: dict[str, str]) -> list[Sensor]:
    found = []
    for zone, name in usable.items():
        parent = zone.rsplit(":", 1)[0]
        if parent in top:
            package = top[parent]
            scope = SUBZONE_SCOPES.get(name, f"{name} of {{package}}").format(package=package.replace("-", " "))
            found.append(counter(root, f"RAPL {package} {name}", scope, [zone]))
    return found


def counter(root: Path, name: str, scope: str, zones: list[str]) -> Sensor:
    return Sensor(name, "rapl", scope, tuple(f"{zone}/energy_uj" for zone in zones), "energy_uj",
                  tuple(mirror.integer(root, f"{zone}/max_energy_range_uj") for zone in zones))


def zone_id(zone: str) -> str:
    """intel-rapl:0:1 from sys/class/powercap/intel-rapl:0:1."""
    return zone.rsplit("/", 1)[-1]
