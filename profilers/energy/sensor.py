"""One energy sensor of a target and how its sampled files become watts.

A sensor is a few root-relative files that the benchmark's sampler reads as
integers every period (text, like sysfs), and a `reading` that says what the
integers are. Two kinds exist:

* counters (`energy_uj`: RAPL `energy_uj`, hwmon `energy*_input`, both µJ):
  the power over an interval is the counter's increase divided by its length.
  A counter that drops has wrapped (RAPL, at its zone's `max_energy_range_uj`)
  or been reset (hwmon's 64-bit counters, when the driver reloads); a reset
  interval has no known energy, so its power is NaN and callers skip it.
* readings (µW, mW, mV·mA, a battery's current and voltage): the power at each
  sample. Between two samples the power is taken as the mean of the two (the
  trapezoid rule, exact for power that changes linearly).

Either way `Sensor.power` returns a step function: the sample times and, for
each interval between two consecutive samples, its mean power in watts. Both
kinds then integrate the same way over any window (profilers/energy/windows.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Reading = Literal["energy_uj", "power_uw", "power_mw", "millivolt_milliamp", "battery_current_voltage",
                  "battery_power_uw"]
Source = Literal["rapl", "hwmon", "ina3221", "power_supply", "rpi_pmic"]

# Battery fuel gauges report current_now in µA (the ABI) or mA (some vendors), and voltage_now in µV (the ABI)
# or mV. The two ranges do not overlap for a phone or laptop doing work: it draws 10 mA to 10 A, which is
# 10_000 to 10_000_000 in µA but 10 to 10_000 in mA; its battery is 2.5 to 20 V, which is 2_500_000 to
# 20_000_000 in µV but 2_500 to 20_000 in mV. The unit is decided once per series, from its largest magnitude.
MICROAMP_MIN = 10_000
MICROVOLT_MIN = 100_000


@dataclass(frozen=True)
class Sensor:
    """name and scope are for people ("RAPL package-0", "CPU package 0"); files are root-relative and sampled
    in this order; counter_max has one entry per file for energy counters: the value the counter wraps at
    (RAPL's max_energy_range_uj), or 0 where a drop means a reset. caveat is what the reader must know about
    every result of this sensor (a battery read while charging)."""

    name: str
    source: Source
    scope: str
    files: tuple[str, ...]
    reading: Reading
    counter_max: tuple[int, ...] = ()
    caveat: str | None = None

    def __post_init__(self):
        if self.reading == "energy_uj" and len(self.counter_max) != len(self.files):
            raise ValueError(f"sensor {self.name}: {len(self.files)} counters but {len(self.counter_max)} "
                             "counter_max entries")

    def power(self, t_s: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sample times (n) and the mean power in watts over each interval between them (n - 1; NaN where
        unknown). values: (n, len(files)) integers, column k read from files[k] at t_s."""
        t = np.asarray(t_s, dtype=np.float64)
        v = np.asarray(values, dtype=np.int64).reshape(len(t), len(self.files))
        if self.reading == "energy_uj":
            watts = counter_watts(t, v, self.counter_max)
        else:
            watts = trapezoid(READING_WATTS[self.reading](v))
        return t, watts


@dataclass(frozen=True)
class Found:
    """What one source's finder saw: headline sensors (whole board, device or source, in its order of
    preference), parts (rails, subzones), and a reason for each thing it found and could not use."""

    headline: list[Sensor]
    parts: list[Sensor]
    unavailable: list[str]


def counter_watts(t: np.ndarray, microjoules: np.ndarray, counter_max: tuple[int, ...]) -> np.ndarray:
    """Mean power over each interval, summed over the counters; a drop adds counter_max (a wrap), or makes
    the interval NaN where counter_max is 0 (a reset: the energy before it is lost)."""
    delta = np.diff(microjoules, axis=0).astype(np.float64)
    for column, top in enumerate(counter_max):
        dropped = delta[:, column] < 0
        delta[dropped, column] = delta[dropped, column] + top if top else np.nan
    dt = np.diff(t)
    # two samples with one timestamp say nothing about power; the NaN keeps them out of every window
    return np.divide(delta.sum(axis=1) / 1e6, dt, out=np.full(len(dt), np.nan), where=dt > 0)


def trapezoid(watts_at_samples: np.ndarray) -> np.ndarray:
    return (watts_at_samples[:-1] + watts_at_samples[1:]) / 2


def microwatts(v: np.ndarray) -> np.ndarray:
    return v.sum(axis=1) / 1e6


def milliwatts(v: np.ndarray) -> np.ndarray:
    return v.sum(axis=1) / 1e3


def millivolt_milliamp(v: np.ndarray) -> np.ndarray:
    """Columns come in (mV, mA) pairs, one pair per rail; the rails add."""
    return (v[:, 0::2].astype(np.float64) * v[:, 1::2]).sum(axis=1) / 1e6


def battery_current_voltage(v: np.ndarray) -> np.ndarray:
    """Columns (current_now, voltage_now). |I|·V: the sign of current_now for a discharge differs by vendor."""
    current, voltage = np.abs(v[:, 0]).astype(np.float64), v[:, 1].astype(np.float64)
    amps = current / (1e6 if current.max(initial=0) >= MICROAMP_MIN else 1e3)
    volts = voltage / (1e6 if voltage.max(initial=0) >= MICROVOLT_MIN else 1e3)
    return amps * volts


def battery_power(v: np.ndarray) -> np.ndarray:
    """power_now in µW; its sign, like current_now's, differs by vendor."""
    return np.abs(v[:, 0]) / 1e6


READING_WATTS = {
    "power_uw": microwatts,
    "power_mw": milliwatts,
    "millivolt_milliamp": millivolt_milliamp,
    "battery_current_voltage": battery_current_voltage,
    "battery_power_uw": battery_power,
}
