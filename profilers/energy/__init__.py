"""Energy per inference for `intedge profile`: which power and energy sensors a target has, and what they say
about a benchmark run.

The profiler snapshots the files SNAPSHOT_GLOBS names on the target into a local mirror (and the output of
SNAPSHOT_COMMANDS under commands/), calls discover() on it, has the benchmark binary sample the chosen
sensors' files or commands (`--sample`) through an idle window and the timed runs, and hands that sampling
to measure(). One module per source (rapl, hwmon, ina3221, rpi_pmic, power_supply); sensor.py turns sampled integers into watts, windows.py watts into joules. docs/energy.md
says what each source covers and how far to trust it.
"""

from intedge.profilers.energy.discovery import SNAPSHOT_COMMANDS, SNAPSHOT_GLOBS, Discovery, discover
from intedge.profilers.energy.sensor import Sensor
from intedge.profilers.energy.windows import measure

__all__ = ["SNAPSHOT_COMMANDS", "SNAPSHOT_GLOBS", "Discovery", "Sensor", "discover", "measure"]
