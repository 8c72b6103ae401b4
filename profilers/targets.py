"""Where `intedge profile` runs a model: this machine, a board over ssh, or a phone over adb.

A Target is a POSIX shell on some machine plus a way to copy files there and back; the profiler
needs nothing more (no Python, no agent on the device), so the same steps serve all three:

    local               this machine (sh)
    ssh:[user@]host[:port]   any machine ssh reaches without a password prompt (keys, ~/.ssh/config)
    adb[:serial]        an Android device over adb (USB debugging on); serial when several are attached

Files go to a fresh folder under the target's scratch directory (/tmp; /data/local/tmp on Android,
the one place an app-less shell may execute files) and are removed afterwards.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path


class TargetError(RuntimeError):
    """A target could not be reached or refused a step: the message says which and what it printed."""


class Target:
    """A shell on a machine. Subclasses say how a command and a file get there."""

    spec: str
    scratch = "/tmp"

    def command(self, shell_command: str) -> list[str]:
        """The host-side argv that runs `shell_command` in the target's shell."""
        raise NotImplementedError

    def push(self, local: Path, remote: str) -> None:
        raise NotImplementedError

    def pull(self, remote: str, local: Path) -> None:
        raise NotImplementedError

    def shell(self, shell_command: str, what: str | None = None, timeout: float = 120) -> str:
        """Runs a command; its stdout, or TargetError saying `what` failed (default: the command) and why."""
        what = what or f"`{shell_command}`"
        try:
            done = subprocess.run(self.command(shell_command), capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError as e:
            raise TargetError(f"{self.spec}: {e.filename} is not installed") from None
        except subprocess.TimeoutExpired:
            raise TargetError(f"{self.spec}: {what} did not finish in {timeout:.0f} s") from None
        if done.returncode != 0:
            raise self.failure(what, done.returncode, done.stderr or done.stdout)
        return done.stdout

    def failure(self, what: str, status: int, output: str) -> TargetError:
        """The error for a step that exited with `status`, printing `output`."""
        return TargetError(f"{self.spec}: {what} failed (exit {status}): {output.strip()[-2000:]}")

    def popen(self, shell_command: str) -> subprocess.Popen:
        """Starts a command with stdout and stderr as text pipes (for a live progress bar)."""
        try:
            return subprocess.Popen(self.command(shell_command), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        except FileNotFoundError as e:
            raise TargetError(f"{self.spec}: {e.filename} is not installed") from None

    def make_workdir(self) -> str:
        return self.shell(f"mktemp -d {shlex.quote(self.scratch)}/intedge.XXXXXX",
                          f"making a folder in {self.scratch}").strip()

    def remove(self, remote_dir: str, binary: str) -> None:
        """Stops `binary` if it still runs (an interrupted profile: ssh and adb do not pass the signal on),
        then removes the folder."""
        program = f"{remote_dir}/{binary}"
        # "[/]tmp/..." matches the program's command line but not this shell's own, which holds "[/]"
        pattern = f"[{program[0]}]{program[1:]}".replace(".", "[.]")  # mktemp's names: letters, digits, . / - _
        self.shell(f"pkill -f {shlex.quote(pattern)} 2>/dev/null; rm -rf {shlex.quote(remote_dir)}",
                   f"removing {remote_dir}")

    def __str__(self) -> str:
        return self.spec


class LocalTarget(Target):
    spec = "local"

    def command(self, shell_command: str) -> list[str]:
        return ["sh", "-c", shell_command]

    def push(self, local: Path, remote: str) -> None:
        shutil.copy(local, remote)

    def pull(self, remote: str, local: Path) -> None:
        shutil.copy(remote, local)


class SshTarget(Target):
    """Files travel through ssh itself (cat on the far side), so a board needs only sshd and sh. options:
    what `ssh -o` takes (IdentityFile=~/.ssh/board), as `--ssh-option` gives them."""

    def __init__(self, spec: str, destination: str, port: int | None, options: list[str]):
        self.spec, self.destination, self.port, self.options = spec, destination, port, options

    def _ssh(self) -> list[str]:
        # BatchMode: a password prompt would hang a progress bar; fail with ssh's message instead.
        # ConnectTimeout: an unreachable host fails in seconds, not after TCP's two minutes.
        return ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", *(["-p", str(self.port)] if self.port else []),
                *(arg for option in self.options for arg in ("-o", option)), self.destination]

    def failure(self, what: str, status: int, output: str) -> TargetError:
        if status == 255:  # ssh's own failure: the host, the port, the key, an option
            return TargetError(f"{self.spec}: cannot connect: {output.strip()[-2000:]}")
        return super().failure(what, status, output)

    def command(self, shell_command: str) -> list[str]:
        return [*self._ssh(), shell_command]

    def _transfer(self, shell_command: str, stdin=None, stdout=None) -> None:
        done = subprocess.run(self.command(shell_command), stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise self.failure(f"`{shell_command}`", done.returncode, done.stderr.decode(errors="replace"))

    def push(self, local: Path, remote: str) -> None:
        with open(local, "rb") as f:
            self._transfer(f"cat > {shlex.quote(remote)}", stdin=f)

    def pull(self, remote: str, local: Path) -> None:
        with open(local, "wb") as f:
            self._transfer(f"cat {shlex.quote(remote)}", stdout=f)


class AdbTarget(Target):
    scratch = "/data/local/tmp"

    def __init__(self, serial: str | None):
        self.serial = serial
        self.spec = "adb" + (f":{serial}" if serial else "")

    def _adb(self) -> list[str]:
        return [os.environ.get("ADB", "adb"), *(["-s", self.serial] if self.serial else [])]

    def command(self, shell_command: str) -> list[str]:
        return [*self._adb(), "shell", shell_command]

    def _adb_run(self, *args: str) -> None:
        try:
            done = subprocess.run([*self._adb(), *args], capture_output=True, text=True)
        except FileNotFoundError as e:
            raise TargetError(f"{self.spec}: {e.filename} is not installed (apt-get install adb)") from None
        if done.returncode != 0:
            raise TargetError(f"{self.spec}: adb {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}")

    def push(self, local: Path, remote: str) -> None:
        self._adb_run("push", str(local), remote)

    def pull(self, remote: str, local: Path) -> None:
        self._adb_run("pull", remote, str(local))


FORMS = "local, ssh:[user@]host[:port] (an IPv6 host in brackets: ssh:[::1]:22) or adb[:serial]"


def parse_target(spec: str, ssh_options: list[str] = ()) -> Target:
    """local | ssh:[user@]host[:port] | adb[:serial]; ValueError naming the forms otherwise."""
    if ssh_options and not spec.startswith("ssh:"):
        raise ValueError(f"--ssh-option is for ssh: targets, not {spec!r}")
    if spec == "local":
        return LocalTarget()
    if spec == "adb" or spec.startswith("adb:"):
        if spec == "adb:":
            raise ValueError("target 'adb:': give the serial after the colon (adb devices lists them), or just adb")
        return AdbTarget(spec[4:] or None)
    if spec.startswith("ssh:"):
        m = re.fullmatch(r"(?:([^@:\[\]]+)@)?(\[[0-9a-fA-F:.]+\]|[^@:\[\]]+)(?::([^:]*))?", spec[4:])
        if not m:
            raise ValueError(f"target {spec!r}: use {FORMS}")
        user, host, port = m.groups()
        if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"target {spec!r}: the port after the host must be a number from 1 to 65535")
        destination = f"{user}@{host.strip('[]')}" if user else host.strip("[]")
        return SshTarget(spec, destination, int(port) if port else None, list(ssh_options))
    raise ValueError(f"target {spec!r}: use {FORMS}")


def is_target(spec: str) -> bool:
    try:
        parse_target(spec)
    except ValueError:
        return False
    return True
