"""The energy sensor readers of `intedge profile` (profilers/energy): discovery on recorded sysfs trees, power
from sampled integers (wraps, resets, units), energy over windows, and a live run in which a separate process
advances the counters at known rates while the test samples them as the benchmark binary would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from sysfs_trees import FIXTURES, advancing, recorded, sample, standin_vcgencmd

from intedge.profilers.energy import SNAPSHOT_COMMANDS, SNAPSHOT_GLOBS, Sensor, discover, measure, rpi_pmic
from intedge.profilers.energy.discovery import NOTHING_FOUND

RAPL_MAX = 262143328850
PACKAGE_0 = "sys/class/powercap/intel-rapl:0/energy_uj"
PACKAGE_1 = "sys/class/powercap/intel-rapl:1/energy_uj"
PSYS = "sys/class/powercap/intel-rapl:2/energy_uj"
BATTERY = "sys/class/power_supply/battery"


def names(tree) -> list[str]:
    return [sensor.name for sensor in discover(tree).sensors]


def by_name(sensors, name: str) -> Sensor:
    return next(sensor for sensor in sensors if sensor.name == name)


# discovery on the recorded trees


def test_rapl_psys_first_then_the_packages_summed_then_parts():
    found = discover(FIXTURES / "rapl-intel")
    assert names(FIXTURES / "rapl-intel") == [
        "RAPL psys", "RAPL packages", "RAPL package-0", "RAPL package-1",
        "RAPL package-0 core", "RAPL package-0 dram", "RAPL package-1 core", "RAPL package-1 dram"]
    assert found.primary.name == "RAPL psys"
    assert found.unavailable == []
    packages = by_name(found.sensors, "RAPL packages")
    assert packages.files == (PACKAGE_0, PACKAGE_1)
    assert packages.counter_max == (RAPL_MAX, RAPL_MAX)
    assert by_name(found.sensors, "RAPL package-0 dram").counter_max == (65712999613,)
    assert by_name(found.sensors, "RAPL package-1 core").scope == "CPU cores of package 1"


def root_only(more: int) -> str:
    return (f"RAPL: /sys/class/powercap/intel-rapl:0/energy_uj and {more} more zones' energy_uj exist but are "
            "readable by root only (since Linux 5.10 and its stable updates, CVE-2020-8694): run as root or "
            "`chmod o+r` them")


def test_rapl_readable_by_root_only_says_so_once():
    found = discover(FIXTURES / "rapl-root-only")
    assert found.sensors == []
    assert found.unavailable == [root_only(more=3)]


def test_rapl_mmio_repeats_the_package_so_it_is_read_only_without_intel_rapl(tmp_path):
    tree = recorded("rapl-intel", tmp_path / "tree")
    mmio = tree / "sys/class/powercap/intel-rapl-mmio:0"
    mmio.mkdir()
    (mmio / "name").write_text("package-0\n")
    (mmio / "energy_uj").write_text("71829463512\n")
    (mmio / "max_energy_range_uj").write_text(f"{RAPL_MAX}\n")
    assert names(tree) == names(FIXTURES / "rapl-intel")
    for zone in tree.glob("sys/class/powercap/intel-rapl:*"):
        shutil.rmtree(zone)
    assert names(tree) == ["RAPL package-0"]
    assert discover(tree).primary.files == ("sys/class/powercap/intel-rapl-mmio:0/energy_uj",)


def test_hwmon_socket_counters_and_power_channels_not_per_core_nor_temperatures():
    found = discover(FIXTURES / "hwmon-amd")
    assert [(s.name, s.scope, s.files, s.reading) for s in found.sensors] == [
        ("hwmon amd_energy Esocket0", "CPU socket 0", ("sys/class/hwmon/hwmon1/energy5_input",), "energy_uj"),
        ("hwmon zenpower SVI2_P_Core", "CPU cores (as the voltage regulator reports)",
         ("sys/class/hwmon/hwmon2/power1_input",), "power_uw"),
        ("hwmon zenpower SVI2_P_SoC", "CPU SoC (as the voltage regulator reports)",
         ("sys/class/hwmon/hwmon2/power2_input",), "power_uw"),
        ("hwmon amdgpu PPT", "GPU package (PPT)", ("sys/class/hwmon/hwmon3/power1_average",), "power_uw")]
    assert by_name(found.sensors, "hwmon amd_energy Esocket0").counter_max == (0,)
    # the same machine's powercap zones are root-only: said, and the hwmon sensors still used
    assert found.unavailable == [root_only(more=1)]


def test_hwmon_channels_that_cannot_be_read_are_named(tmp_path):
    tree = recorded("hwmon-amd", tmp_path / "tree")
    socket = tree / "sys/class/hwmon/hwmon1/energy5_input"
    socket.unlink()
    socket.with_name("energy5_input.unreadable").touch()
    (tree / "sys/class/hwmon/hwmon2/power2_input").write_text("")
    found = discover(tree)
    assert "hwmon amd_energy Esocket0" not in [s.name for s in found.sensors]
    assert "hwmon zenpower SVI2_P_SoC" not in [s.name for s in found.sensors]
    assert found.unavailable[1:] == [
        "hwmon amd_energy: only root may read /sys/class/hwmon/hwmon1/energy5_input (run as root, or `chmod o+r` "
        "them)",
        "hwmon zenpower: no integer could be read from /sys/class/hwmon/hwmon2/power2_input"]


def test_jetson_orin_input_rail_first_and_the_ina3221_not_read_twice():
    found = discover(FIXTURES / "jetson-orin-ina3221")
    assert names(FIXTURES / "jetson-orin-ina3221") == ["INA3221 VDD_IN", "INA3221 VDD_CPU_GPU_CV", "INA3221 VDD_SOC"]
    vdd_in = found.primary
    assert (vdd_in.source, vdd_in.reading) == ("ina3221", "millivolt_milliamp")
    assert vdd_in.files == ("sys/class/hwmon/hwmon1/in1_input", "sys/class/hwmon/hwmon1/curr1_input")
    assert vdd_in.scope == "whole module input (not the carrier board)"
    assert found.unavailable == []


def test_jetson_nano_iio_rails():
    found = discover(FIXTURES / "jetson-nano-ina3221x")
    assert names(FIXTURES / "jetson-nano-ina3221x") == ["INA3221 POM_5V_IN", "INA3221 POM_5V_GPU", "INA3221 POM_5V_CPU"]
    assert found.primary.files == ("sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0/in_power0_input",)
    assert found.primary.reading == "power_mw"


def test_jetson_unconnected_channels_are_skipped(tmp_path):
    tree = recorded("jetson-orin-ina3221", tmp_path / "tree")
    (tree / "sys/class/hwmon/hwmon1/in3_label").write_text("NC\n")
    assert names(tree) == ["INA3221 VDD_IN", "INA3221 VDD_CPU_GPU_CV"]
    assert discover(tree).unavailable == []


@pytest.mark.parametrize("tree", ["android-battery", "android-battery-milliamps"])
def test_android_battery_only_the_battery_supply(tree):
    found = discover(FIXTURES / tree)
    assert [(s.name, s.source, s.scope, s.files, s.caveat) for s in found.sensors] == [
        ("battery", "power_supply", "whole device (battery)", (f"{BATTERY}/current_now", f"{BATTERY}/voltage_now"),
         None)]


def test_battery_read_while_charging_carries_a_caveat(tmp_path):
    tree = recorded("android-battery", tmp_path / "tree")
    (tree / BATTERY / "status").write_text("Charging\n")
    caveat = discover(tree).primary.caveat
    assert caveat.startswith("the battery's status was Charging when the sensors were found")


def test_laptop_battery_without_current_reads_power_now():
    found = discover(FIXTURES / "laptop-battery-power-now")
    assert [(s.name, s.files, s.reading) for s in found.sensors] == [
        ("battery BAT0", ("sys/class/power_supply/BAT0/power_now",), "battery_power_uw")]


def test_an_empty_tree_has_no_sensor_and_says_where_it_looked(tmp_path):
    found = discover(tmp_path)
    assert found.sensors == []
    assert found.primary is None
    assert found.unavailable == [NOTHING_FOUND]


@pytest.mark.parametrize("tree", sorted(path.name for path in FIXTURES.iterdir() if path.is_dir()))
def test_the_snapshot_globs_copy_all_that_discovery_reads(tree, tmp_path):
    """A snapshot that copies only what SNAPSHOT_GLOBS match, the unreadable markers of their matches, and the
    output of SNAPSHOT_COMMANDS, discovers what the whole tree does."""
    source = FIXTURES / tree
    for glob in [*SNAPSHOT_GLOBS, *(f"commands/{name}" for name in SNAPSHOT_COMMANDS)]:
        for path in [*source.glob(glob), *source.glob(glob + ".unreadable")]:
            copy = tmp_path / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, copy)
    assert discover(tmp_path) == discover(source)


def test_rails_and_batteries_that_cannot_be_read_are_named(tmp_path):
    jetson = recorded("jetson-orin-ina3221", tmp_path / "jetson")
    (jetson / "sys/class/hwmon/hwmon1/curr2_input").write_text("")
    assert names(jetson) == ["INA3221 VDD_IN", "INA3221 VDD_SOC"]
    assert discover(jetson).unavailable == [
        "INA3221 VDD_CPU_GPU_CV: no integer could be read from /sys/class/hwmon/hwmon1/curr2_input"]
    phone = recorded("android-battery", tmp_path / "phone")
    (phone / BATTERY / "current_now").unlink()
    (phone / BATTERY / "current_now.unreadable").touch()
    assert discover(phone).sensors == []
    assert discover(phone).unavailable == [
        "battery: only root may read /sys/class/power_supply/battery/current_now (run as root, or `chmod o+r` them)"]


# power from sampled integers


def test_rapl_counter_wraps_at_its_max_energy_range():
    packages = Sensor("RAPL packages", "rapl", "CPU packages", (PACKAGE_0, PACKAGE_1), "energy_uj",
                      (RAPL_MAX, 65712999613))
    t = np.array([0.0, 0.25, 0.5, 0.75])
    package_0 = [RAPL_MAX - 2_000_000, RAPL_MAX - 125_000, 1_750_000, 3_625_000]  # 7.5 W, wraps in the 2nd interval
    package_1 = [65712999613 - 500_000, 625_000, 1_750_000, 2_875_000]  # 4.5 W, wraps in the 1st
    edges, watts = packages.power(t, np.array([package_0, package_1]).T)
    assert edges.tolist() == t.tolist()
    assert watts.tolist() == [12.0, 12.0, 12.0]


def test_hwmon_counter_reset_drops_that_interval():
    socket = Sensor("hwmon amd_energy Esocket0", "hwmon", "CPU socket 0", ("energy5_input",), "energy_uj", (0,))
    _, watts = socket.power(np.array([0.0, 0.5, 1.0, 1.5]), np.array([[8_000_000], [12_000_000], [1_000_000],
                                                                       [5_000_000]]))
    assert watts[[0, 2]].tolist() == [8.0, 8.0]
    assert np.isnan(watts[1])


def test_readings_are_power_at_each_sample_and_the_trapezoid_between():
    ppt = Sensor("hwmon amdgpu PPT", "hwmon", "GPU", ("power1_average",), "power_uw")
    _, watts = ppt.power(np.array([0.0, 1.0, 2.0]), np.array([[1_000_000], [3_000_000], [2_000_000]]))
    assert watts.tolist() == [2.0, 2.5]
    rails = Sensor("INA3221 two rails", "ina3221", "rails", ("in1", "curr1", "in2", "curr2"), "millivolt_milliamp")
    _, watts = rails.power(np.array([0.0, 1.0]), np.array([[5000, 1000, 5000, 200], [5000, 1000, 5000, 200]]))
    assert watts.tolist() == [6.0]
    nano = Sensor("INA3221 POM_5V_IN", "ina3221", "module", ("in_power0_input",), "power_mw")
    assert nano.power(np.array([0.0, 1.0]), np.array([[2500], [3500]]))[1].tolist() == [3.0]


@pytest.mark.parametrize("current, voltage", [
    (-500_000, 4_000_000),  # µA, µV, negative on discharge (the ABI since 2020)
    (500_000, 4_000_000),   # µA, positive on discharge
    (-500, 4_000_000),      # mA
    (500, 4_000),           # mA, mV
    (500_000, 4_000),       # µA, mV
])
def test_battery_units_and_sign_are_told_by_magnitude(current, voltage):
    battery = Sensor("battery", "power_supply", "whole device (battery)", ("current_now", "voltage_now"),
                     "battery_current_voltage")
    _, watts = battery.power(np.array([0.0, 1.0]), np.array([[current, voltage], [current, voltage]]))
    assert watts.tolist() == [2.0]


# energy over the idle and run windows


def two_phase_counter() -> tuple[Sensor, dict]:
    """A counter sampled every 0.25 s: 2 W idle over [0, 1] s, 10 W over the 8 runs in [1, 3] s."""
    t = np.arange(0, 3.25, 0.25)
    steps = np.where(t[1:] <= 1.0, 500_000, 2_500_000)
    counter = np.concatenate([[1_000_000], 1_000_000 + np.cumsum(steps)])
    sensor = Sensor("RAPL package-0", "rapl", "CPU package 0", (PACKAGE_0,), "energy_uj", (RAPL_MAX,))
    sampling = {"files": [PSYS, PACKAGE_0], "period_ms": 250, "t_s": t.tolist(),
                "values": [[0, int(v)] for v in counter], "idle_s": [0.0, 1.0], "run_s": [1.0, 3.0], "runs": 8}
    return sensor, sampling


def test_measure_integrates_each_window():
    sensor, sampling = two_phase_counter()
    assert measure([sensor], sampling) == [{
        "sensor": "RAPL package-0", "source": "rapl", "scope": "CPU package 0", "idle_w": 2.0, "run_w": 10.0,
        "run_j": 20.0, "per_inference_j": 2.5, "per_inference_above_idle_j": 2.0, "samples_in_run": 9,
        "caveat": None}]


def test_measure_clips_intervals_to_the_window():
    sensor, sampling = two_phase_counter()
    sampling |= {"idle_s": [0.5, 0.875], "run_s": [0.875, 1.375], "runs": 1}
    [result] = measure([sensor], sampling)
    assert result["idle_w"] == 2.0
    assert result["run_j"] == 4.0  # 0.125 s of the last idle interval at 2 W, then 0.375 s at 10 W
    assert result["run_w"] == 8.0


def test_measure_without_two_samples_in_a_window_gives_no_numbers_and_says_why():
    sensor, sampling = two_phase_counter()
    sampling |= {"idle_s": [0.3, 0.45]}
    [result] = measure([sensor], sampling)
    assert result["idle_w"] is None and result["per_inference_above_idle_j"] is None
    assert result["run_w"] == 10.0
    assert result["caveat"] == "idle window: 0 samples in 0.150 s, fewer than 2: no power for it"


def test_measure_leaves_out_a_reset_and_says_so():
    sensor, sampling = two_phase_counter()
    sensor = Sensor("hwmon amd_energy Esocket0", "hwmon", "CPU socket 0", sensor.files, "energy_uj", (0,))
    sampling["values"] = [[0, v if k < 6 else v - 5_000_000] for k, (_, v) in enumerate(sampling["values"])]
    [result] = measure([sensor], sampling)
    assert result["run_w"] == 10.0
    assert result["run_j"] == 20.0
    assert result["caveat"] == "run window: 1 intervals of unknown power (a counter reset) left out"


def test_measure_says_when_a_reading_never_changed_and_passes_the_sensors_caveat(tmp_path):
    tree = recorded("android-battery", tmp_path / "tree")
    (tree / BATTERY / "status").write_text("Full\n")
    battery = discover(tree).primary
    sampling = {"files": list(battery.files), "t_s": [0.0, 0.5, 1.0, 1.5], "values": [[-500_000, 4_000_000]] * 4,
                "idle_s": [0.0, 0.5], "run_s": [0.5, 1.5], "runs": 4}
    [result] = measure([battery], sampling)
    assert (result["run_w"], result["per_inference_j"]) == (2.0, 0.5)
    assert result["caveat"].startswith("the battery's status was Full")
    assert "; the readings did not change during the run" in result["caveat"]


def test_measure_refuses_a_sensor_whose_files_were_not_sampled():
    sensor, sampling = two_phase_counter()
    sampling |= {"files": [PSYS, PACKAGE_1]}
    with pytest.raises(ValueError, match="RAPL package-0: sys/class/powercap/intel-rapl:0/energy_uj not among"):
        measure([sensor], sampling)


# live: a separate process advances the files while the test samples them


IDLE_S, RUN_S, RUNS = 0.3, 0.8, 8


def within_ten_percent(result: dict, watts: float, sampling: dict) -> bool:
    run_duration = sampling["run_s"][1] - sampling["run_s"][0]
    return result["per_inference_j"] == pytest.approx(watts * run_duration / RUNS, rel=0.10)


def test_live_rapl_counters_including_a_wrap_mid_run(tmp_path):
    tree = recorded("rapl-intel", tmp_path / "tree")
    # package-0 at 7.5 W reaches max_energy_range_uj half way through the run
    (tree / PACKAGE_0).write_text(f"{RAPL_MAX - round(7.5e6 * (IDLE_S + RUN_S / 2))}\n")
    found = discover(tree)
    files = [PSYS, PACKAGE_0, PACKAGE_1]
    with advancing(tree, {PSYS: 20e6, PACKAGE_0: 7.5e6, PACKAGE_1: 4.5e6}, wrap_at={path: RAPL_MAX for path in files}):
        sampling = sample(tree, files, IDLE_S, RUN_S, RUNS)
    package_0 = np.array(sampling["values"])[:, 1]
    assert np.count_nonzero(np.diff(package_0) < 0) == 1  # it wrapped, once
    results = {result["sensor"]: result for result in measure(found.sensors[:4], sampling)}
    for name, watts in [("RAPL psys", 20.0), ("RAPL packages", 12.0), ("RAPL package-0", 7.5),
                        ("RAPL package-1", 4.5)]:
        assert within_ten_percent(results[name], watts, sampling), (name, results[name])
        assert results[name]["idle_w"] == pytest.approx(watts, rel=0.10)
        assert results[name]["caveat"] is None


def test_live_battery_at_a_fixed_current(tmp_path):
    tree = recorded("android-battery", tmp_path / "tree")
    battery = discover(tree).primary
    # the current holds at -412 mA; the voltage sags 20 mV/s (0.5 % over the test)
    with advancing(tree, {f"{BATTERY}/current_now": 0, f"{BATTERY}/voltage_now": -20_000}):
        sampling = sample(tree, battery.files, IDLE_S, RUN_S, RUNS)
    [result] = measure([battery], sampling)
    assert within_ten_percent(result, 0.412 * 3.987, sampling), result
    assert result["samples_in_run"] >= RUN_S / 0.02 * 0.5


# the Raspberry Pi 5's PMIC: a command, not sysfs

PI5_OUTPUT = FIXTURES / "raspberry-pi-5" / "commands" / "vcgencmd_pmic_read_adc"


def test_pi5_pmic_is_found_by_the_board_model_and_the_command_output(tmp_path):
    assert names(FIXTURES / "raspberry-pi-5") == ["Pi 5 PMIC rails"]
    tree = recorded("raspberry-pi-5", tmp_path / "pi4")
    (tree / "proc/device-tree/model").write_text("Raspberry Pi 4 Model B Rev 1.5\0")
    assert discover(tree).sensors == [] and discover(tree).unavailable == [NOTHING_FOUND]
    tree = recorded("raspberry-pi-5", tmp_path / "old-firmware")
    (tree / "commands/vcgencmd_pmic_read_adc").write_text("error=1 error_msg=\"Command not registered\"\n")
    found = discover(tree)
    assert found.sensors == [] and "printed no rail readings" in found.unavailable[0]


@pytest.mark.parametrize("form", ["current(7)=", "="])
def test_pi5_sampled_pipeline_prints_the_rails_power_in_microwatts(tmp_path, form):
    """The pipeline the benchmark samples, in a real shell and awk, sums current × voltage as rails() does,
    in both output forms the firmware has had (VDD_CORE_A current(7)=0.78A and VDD_CORE_A=0.78A)."""
    output = PI5_OUTPUT.read_text()
    if form == "=":
        output = re.sub(r"_([AV]) \w+\(\d+\)=", r"_\1=", output)
    env = {**os.environ, "PATH": f"{standin_vcgencmd(tmp_path / 'bin', output)}{os.pathsep}{os.environ['PATH']}"}
    (sensor,) = discover(FIXTURES / "raspberry-pi-5").sensors
    printed = subprocess.run(["sh", "-c", sensor.files[0][1:]], env=env, capture_output=True, text=True, check=True)
    watts = sum(rpi_pmic.rails(output).values())
    assert watts == pytest.approx(1.5747, abs=1e-4) and len(rpi_pmic.rails(output)) == 12
    assert int(printed.stdout) == int(watts * 1e6)
