"""The INA3221 rail monitors of NVIDIA Jetson boards, in both of the forms L4T has given them.

* hwmon (mainline driver; L4T 34 and later: Orin, and Xavier on JetPack 5): /sys/class/hwmon/hwmon*/ with
  name `ina3221`, in{1,2,3}_label (the rail), in{1,2,3}_input (bus voltage, mV) and curr{1,2,3}_input (mA).
  Power is mV·mA / 10⁶ W. in4–in7 are shunt voltages and their sum, not rails.
* iio (L4T's own driver, L4T 32 and earlier: Nano, TX1, TX2, Xavier on JetPack 4):
  /sys/bus/i2c/drivers/ina3221x/*/iio:device*/ with rail_name_{0,1,2} and in_power{0,1,2}_input (mW).

The module's input rail (VDD_IN; POM_5V_IN on the Nano, 5V_IN in some Xavier NX device trees) is the
headline: the whole module, not the carrier board. Channels labelled NC are not connected.
"""

from __future__ import annotations

from pathlib import Path

from intedge.profilers.energy import mirror
from intedge.profilers.energy.sensor import Found, Sensor

HWMON_SAMPLED = ("in{n}_input", "curr{n}_input")  # mV, mA: the order millivolt_milliamp reads them in
IIO_DEVICES = "sys/bus/i2c/drivers/ina3221x/*/iio:device*"
GLOBS = ("sys/class/hwmon/*/name",
         *(f"sys/class/hwmon/*/{leaf.format(n='[1-3]')}" for leaf in ("in{n}_label", *HWMON_SAMPLED)),
         f"{IIO_DEVICES}/rail_name_[0-2]", f"{IIO_DEVICES}/in_power[0-2]_input")

MODULE_INPUTS = {"VDD_IN", "POM_5V_IN", "5V_IN"}
NOT_CONNECTED = "NC"


def find(root: Path) -> Found:
    rails, unavailable = [], []
    for device in [path.removesuffix("/name") for path in mirror.matches(root, "sys/class/hwmon/*/name")]:
        if mirror.text(root, f"{device}/name") == "ina3221":
            for n in (1, 2, 3):
                files = tuple(f"{device}/{leaf.format(n=n)}" for leaf in HWMON_SAMPLED)
                rails.append((mirror.text(root, f"{device}/in{n}_label"), files, "millivolt_milliamp"))
    for device in mirror.matches(root, IIO_DEVICES):
        for k in (0, 1, 2):
            rails.append((mirror.text(root, f"{device}/rail_name_{k}"), (f"{device}/in_power{k}_input",), "power_mw"))
    headline, parts = [], []
    for label, files, reading in rails:
        if not label or label == NOT_CONNECTED:
            continue
        broken = [path for path in files if mirror.integer(root, path) is None]
        if broken:
            why = mirror.root_only(broken) if mirror.unreadable(root, broken[0]) else mirror.not_integers(broken)
            unavailable.append(f"INA3221 {label}: {why}")
        elif label in MODULE_INPUTS:
            headline.append(Sensor(f"INA3221 {label}", "ina3221", "whole module input (not the carrier board)",
                                   files, reading))
        else:
            parts.append(Sensor(f"INA3221 {label}", "ina3221", f"rail {label}", files, reading))
    return Found(headline, parts, unavailable)
