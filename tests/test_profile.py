"""`intedge profile` end to end: on this machine, over a real OpenSSH server on 127.0.0.1, and over a
stand-in adb (tests/standin_adb.py: no phone here) — the report's fields, energy from recorded sensor
trees whose counters a separate process advances, the plots, --compare, the refusals, and that nothing
is left on the target."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from every_op_bins import FIXTURES
from sysfs_trees import FIXTURES as SYSFS
from sysfs_trees import advancing, recorded, standin_vcgencmd

from intedge.cli import main
from intedge.examples.every_op import build_every_op_graph
from intedge.profilers import ProfileError, Report, compare, profile
from intedge.profilers.targets import TargetError

RAPL_PACKAGE = "sys/class/powercap/intel-rapl:0/energy_uj"
RAPL_PSYS = "sys/class/powercap/intel-rapl:2/energy_uj"
WATTS, PSYS_WATTS = 7.5, 12.0


def _check_report(r: Report, runs: int) -> None:
    assert r.run["runs"] >= runs and len(r.latency_ms["samples"]) == r.run["runs"]
    lat = r.latency_ms
    assert 0 < lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert r.ops and {op["kind"] for op in r.ops} == {op.kind for op in build_every_op_graph().ops}
    assert sum(k["count"] for k in r.ops_by_kind) == len(r.ops)
    assert set(r.run["kernels"]) == {op["kernel"] for op in r.ops}
    m = r.memory
    assert m["model_file_bytes"] == r.model["file_bytes"] > 0
    assert m["mapped_weight_bytes"] + m["packed_weight_bytes"] > 0 and m["arena_bytes"] > 0
    assert m["peak_rss_bytes"] > m["arena_bytes"] and m["minor_page_faults"] > 0
    assert r.target["arch"] and r.target["cores"] >= 1 and r.target["cpu_model"]
    est = r.energy["estimate"]
    assert est["kind"] == "estimate" and est["float32"]["total_j"] > est["integer"]["total_j"] > 0


def test_profile_local_end_to_end(every_op_path, tmp_path):
    r = profile(every_op_path, "local", runs=20, warmup=2)
    _check_report(r, 20)
    assert r.target["spec"] == "local" and r.energy["measured"] == [] and r.energy["unavailable"]
    assert Report.from_dict(json.loads(r.to_json())) == r
    text = r.markdown()
    assert "| ms |" in text and "Energy: unavailable" in text and "Estimate from op counts" in text
    from intedge.profilers.plots import write_plots

    pngs = write_plots(r, tmp_path / "plots")
    assert sorted(p.name.rsplit("-", 1)[-1] for p in pngs) == ["estimate.png", "latency.png", "ops.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_cli_json_and_plots(every_op_path, tmp_path, capsys):
    assert main(["profile", str(every_op_path), "--runs", "5", "--json", "--plot", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "intedge-profile/1"
    assert set(data) == {"schema", "model", "target", "run", "latency_ms", "ops", "ops_by_kind", "memory", "energy"}
    assert len(list(tmp_path.glob("*.png"))) == 3


def test_energy_from_a_recorded_rapl_tree_with_an_advancing_counter(every_op_path, tmp_path):
    """A separate process advances the package counter at 7.5 W from just below its wrap: energy per
    inference must be 7.5 W × the run's time / runs, within 10 %, and idle power the same 7.5 W."""
    tree = recorded("rapl-intel", tmp_path / "tree")
    wrap = int((tree / "sys/class/powercap/intel-rapl:0/max_energy_range_uj").read_text())
    (tree / RAPL_PACKAGE).write_text(f"{wrap - int(WATTS * 1e6)}\n")  # wraps about a second in
    with advancing(tree, {RAPL_PACKAGE: WATTS * 1e6, RAPL_PSYS: PSYS_WATTS * 1e6}, wrap_at={RAPL_PACKAGE: wrap}):
        r = profile(every_op_path, "local", runs=20, energy_seconds=1.5, idle_seconds=0.5, sensors_root=str(tree))
    _check_energy(r)


def _check_energy(r: Report) -> None:
    package = next(m for m in r.energy["measured"] if m["sensor"] == "RAPL package-0")
    seconds = r.latency_ms["mean"] * r.run["runs"] / 1e3
    assert seconds >= 1.4  # --energy-seconds kept it running
    assert package["per_inference_j"] == pytest.approx(WATTS * seconds / r.run["runs"], rel=0.10)
    assert package["idle_w"] == pytest.approx(WATTS, rel=0.10) and package["run_w"] == pytest.approx(WATTS, rel=0.10)
    assert abs(package["per_inference_above_idle_j"]) < 0.1 * package["per_inference_j"]
    trace = r.energy["trace"]
    assert trace["sensor"] == "RAPL psys" and len(trace["t_s"]) == len(trace["watts"]) + 1 > 20
    watts, dt = np.array(trace["watts"], dtype=float), np.diff(trace["t_s"])
    known = ~np.isnan(watts)
    assert (watts[known] * dt[known]).sum() / dt[known].sum() == pytest.approx(PSYS_WATTS, rel=0.10)


def test_energy_from_a_raspberry_pi_5s_pmic_through_a_standin_vcgencmd(every_op_path, tmp_path, monkeypatch):
    """A Pi 5's rails come from a command, which the snapshot runs and intedge-bench samples as `!command`."""
    from intedge.profilers.energy import rpi_pmic

    output = (SYSFS / "raspberry-pi-5/commands/vcgencmd_pmic_read_adc").read_text()
    monkeypatch.setenv("PATH", f"{standin_vcgencmd(tmp_path / 'bin', output)}{os.pathsep}{os.environ['PATH']}")
    tree = tmp_path / "board"
    (tree / "proc/device-tree").mkdir(parents=True)
    shutil.copy(SYSFS / "raspberry-pi-5/proc/device-tree/model", tree / "proc/device-tree/model")
    r = profile(every_op_path, "local", runs=5, energy_seconds=0.3, idle_seconds=0.2, sensors_root=str(tree))
    (pmic,) = r.energy["measured"]
    watts = int(sum(rpi_pmic.rails(output).values()) * 1e6) / 1e6  # the pipeline prints whole µW
    assert pmic["sensor"] == r.energy["primary"] == "Pi 5 PMIC rails"
    assert pmic["idle_w"] == pytest.approx(watts, rel=1e-9) and pmic["run_w"] == pytest.approx(watts, rel=1e-9)
    assert "did not change during the run" in pmic["caveat"]  # a recorded, constant reading: said so


# ---- ssh: a real OpenSSH server on 127.0.0.1 ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """sshd on a high port of 127.0.0.1 with a throwaway host key, a throwaway client key and its own
    config; yields (target spec, what `ssh -o` takes: the options of --ssh-option)."""
    if not Path("/usr/sbin/sshd").exists():
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI must run the ssh test: the README's test command installs openssh-server")
        pytest.skip("no sshd (apt-get install openssh-server)")
    d = tmp_path_factory.mktemp("sshd")
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True)
    shutil.copy(d / "client.pub", d / "authorized_keys")
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        f"PidFile {d / 'sshd.pid'}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    server = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE)
    options = [f"IdentityFile={d / 'client'}", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null",
               "LogLevel=ERROR"]
    user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    spec = f"ssh:{user}@127.0.0.1:{port}"
    for _ in range(100):
        if subprocess.run(["ssh", "-p", str(port), *[a for o in options for a in ("-o", o)], "-o", "BatchMode=yes",
                           f"{user}@127.0.0.1", "true"],
                          capture_output=True).returncode == 0:
            break
        if server.poll() is not None:
            raise RuntimeError(f"sshd exited: {server.stderr.read().decode()}")
        time.sleep(0.1)
    yield spec, options
    server.terminate()
    server.wait()


def _scratch_left() -> set[str]:
    return {p.name for p in Path("/tmp").glob("intedge.*")}


def test_profile_over_ssh(every_op_path, sshd, tmp_path):
    spec, options = sshd
    before = _scratch_left()
    tree = recorded("rapl-intel", tmp_path / "tree")
    wrap = int((tree / "sys/class/powercap/intel-rapl:0/max_energy_range_uj").read_text())
    with advancing(tree, {RAPL_PACKAGE: WATTS * 1e6, RAPL_PSYS: PSYS_WATTS * 1e6}, wrap_at={RAPL_PACKAGE: wrap}):
        r = profile(every_op_path, spec, runs=20, energy_seconds=1.5, idle_seconds=0.5, sensors_root=str(tree),
                    ssh_options=options)
    _check_report(r, 20)
    _check_energy(r)
    assert r.target["spec"] == spec
    assert _scratch_left() == before  # intedge-bench, the model and the result are gone from the "board"


def test_cli_over_ssh_and_compare_two_targets(every_op_path, sshd, capsys):
    spec, options = sshd
    argv = ["profile", str(every_op_path), "--runs", "5", "--compare", spec]
    argv += [a for o in options for a in ("--ssh-option", o)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"on {spec}" in out and "| latency median (ms) |" in out and "×" in out


def test_a_terminated_profile_leaves_nothing_running_or_behind(every_op_path, sshd):
    """SIGTERM to `intedge profile` alone (ssh does not pass it on) mid-run: exit 130, the benchmark stopped on
    the "board", its folder removed."""
    spec, options = sshd
    before = _scratch_left()
    argv = [sys.executable, "-m", "intedge.cli", "profile", str(every_op_path), "--target", spec, "--runs", "100000000",
            *[a for o in options for a in ("--ssh-option", o)]]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    for _ in range(300):  # until the benchmark runs on the "board"
        if subprocess.run(["pgrep", "-f", "[/]tmp/intedge[.].*/intedge-bench"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("intedge-bench never started")
    proc.terminate()
    assert proc.wait(timeout=60) == 130 and "interrupted" in proc.stderr.read()
    assert subprocess.run(["pgrep", "-f", "[/]tmp/intedge[.].*/intedge-bench"], capture_output=True).returncode == 1
    assert _scratch_left() == before


def test_unreachable_ssh_target_is_a_clear_error(every_op_path, capsys):
    port = _free_port()  # nothing listens there
    assert main(["profile", str(every_op_path), "--target", f"ssh:127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert f"ssh:127.0.0.1:{port}" in err and "refused" in err.lower()


# ---- adb: a stand-in on PATH --------------------------------------------------------------------------------


@pytest.fixture
def standin_adb(tmp_path, monkeypatch):
    """tests/standin_adb.py as `adb` on PATH, with a folder playing the phone's /data/local/tmp."""
    bin_dir, device, log = tmp_path / "bin", tmp_path / "phone", tmp_path / "adb.log"
    bin_dir.mkdir()
    device.mkdir()
    (bin_dir / "adb").write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).parent / 'standin_adb.py'} \"$@\"\n")
    (bin_dir / "adb").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_ADB_DEVICE", str(device))
    monkeypatch.setenv("STANDIN_ADB_LOG", str(log))
    return device, log


def test_profile_over_a_standin_adb(every_op_path, standin_adb):
    device, log = standin_adb
    r = profile(every_op_path, "adb:emulator-5554", runs=10)
    _check_report(r, 10)
    assert r.target["device"] == "Stand-in phone"
    commands = log.read_text().splitlines()
    assert all(c.startswith("-s emulator-5554 ") for c in commands)

    def first(fragment: str) -> int:
        return next(i for i, c in enumerate(commands) if fragment in c)

    order = [first("shell mktemp -d /data/local/tmp/intedge."), first("push "), first("/model.ieg"),
             first("/intedge-bench model.ieg --runs 10"), first("pull "), first("rm -rf")]
    assert order == sorted(order) and len(set(order)) == len(order), commands
    assert sum(c.split()[2] == "push" for c in commands) == 2 and sum(c.split()[2] == "pull" for c in commands) == 1
    assert list(device.iterdir()) == []  # nothing left on the "phone"


AARCH64_BENCH = os.environ.get("INTEDGE_AARCH64_BENCH")


@pytest.mark.skipif(not AARCH64_BENCH and os.environ.get("CI") != "true", reason="no aarch64 build (tests/run.sh)")
def test_the_static_aarch64_bench_on_an_emulated_arm_phone(every_op_path, standin_adb, tmp_path, monkeypatch):
    """The static aarch64 intedge-bench runs under qemu with no Arm libraries (no -L), gives the reference's
    bytes (tests/fixtures/every_op.out.bin, kept current by tests/every_op_bins.py), and `intedge profile
    --target adb` drives it on a stand-in phone whose CPU is emulated."""
    done = subprocess.run(["qemu-aarch64-static", "-cpu", "max", AARCH64_BENCH, str(every_op_path), "--runs", "1",
                           "--warmup", "0", "--no-ops", "--inputs", str(FIXTURES / "every_op.in.bin"), "--outputs",
                           str(tmp_path / "out.bin")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.bin").read_bytes() == (FIXTURES / "every_op.out.bin").read_bytes()
    monkeypatch.setenv("STANDIN_ADB_ARCH", "aarch64")
    r = profile(every_op_path, "adb", runs=3, warmup=1)
    assert r.target["arch"] == "aarch64" and r.run["isa"].startswith("neon")
    assert any("neon" in k for k in r.run["kernels"]) and not any("avx" in k for k in r.run["kernels"])


# ---- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["--target", "usb:phone"], "use local, ssh:[user@]host[:port]"),
    (["--target", "ssh:@host"], "use local, ssh:[user@]host[:port]"),
    (["--target", "ssh:host:70000"], "a number from 1 to 65535"),
    (["--target", "adb:"], "give the serial after the colon"),
    (["--ssh-option", "Port=2"], "--ssh-option is for ssh: targets"),
    (["--compare", "usb:x"], "nor a target"),
    (["--target", "ssh:host:port"], "the port after the host must be a number"),
    (["--weights", "w4"], "--weights is for a zoo model"),
])
def test_bad_options_are_refused(every_op_path, argv, message, capsys):
    assert main(["profile", str(every_op_path), *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("seconds", ["-1", "nan", "inf"])
def test_bad_energy_seconds_are_refused_by_the_parser(every_op_path, seconds, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["profile", str(every_op_path), "--energy-seconds", seconds])
    assert exit_status.value.code == 2 and "not between 0 and 86400 seconds" in capsys.readouterr().err


def test_missing_model_is_refused(capsys):
    assert main(["profile", "no-such.ieg"]) == 2
    assert "no such file, nor a zoo model" in capsys.readouterr().err


def test_an_exported_artifact_is_profiled_here_only(tmp_path, standin_adb):
    (tmp_path / "m.onnx").write_bytes(b"not used")
    with pytest.raises(ProfileError, match="on this machine only"):
        profile(tmp_path / "m.onnx", "adb")


def test_a_failing_bench_names_the_target_and_says_why(every_op_path):
    with pytest.raises(TargetError, match="local: intedge-bench on every_op.ieg failed .*neon"):
        profile(every_op_path, "local", isa="neon")  # an Arm kernel path on this x86 machine


def test_an_export_is_profiled_in_its_own_runtime(tmp_path):
    pytest.importorskip("ai_edge_litert")
    from intedge import exporters

    path = exporters.export(build_every_op_graph(), tmp_path / "every_op.tflite")
    r = profile(path, "local", runs=5)
    assert r.model["format"] == "tflite" and r.run["isa"].startswith("ai-edge-litert ")
    assert r.ops is None and r.memory["model_file_bytes"] == path.stat().st_size and r.memory["peak_rss_bytes"] > 0
    assert len(r.latency_ms["samples"]) == 5 and r.energy["estimate"] is None
    assert "| ms |" in r.markdown()


def test_compare_two_models(every_op_path):
    a = profile(every_op_path, "local", runs=5)
    b = profile(every_op_path, "local", runs=5, threads=2)
    table = compare(a, b)
    assert table.count("\n") >= 6 and "B / A" in table
