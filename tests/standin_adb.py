"""A STAND-IN for adb, for tests only: no phone is attached here. It takes the adb commands
`intedge profile --target adb` uses (`[-s SERIAL] shell CMD`, `push SRC DST`, `pull SRC DST`) and acts
on a local folder that plays the phone's /data/local/tmp, appending each command to a log so a test can
check the sequence. With STANDIN_ADB_ARCH=aarch64 the "phone" is an emulated Arm one: `uname -m` says
aarch64 and intedge-bench runs under qemu-aarch64-static (a static binary: no Arm libraries needed).

    STANDIN_ADB_DEVICE=folder STANDIN_ADB_LOG=log [STANDIN_ADB_ARCH=aarch64] python tests/standin_adb.py ARGS
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PHONE_SCRATCH = "/data/local/tmp"


def main(argv: list[str]) -> int:
    device, log = Path(os.environ["STANDIN_ADB_DEVICE"]), Path(os.environ["STANDIN_ADB_LOG"])
    arch = os.environ.get("STANDIN_ADB_ARCH", "x86_64")
    with log.open("a") as f:
        f.write(" ".join(argv) + "\n")
    if argv[:1] == ["-s"]:
        argv = argv[2:]
    if not argv:
        print("adb: no command", file=sys.stderr)
        return 1

    def on_device(path: str) -> str:
        return path.replace(PHONE_SCRATCH, str(device))

    command, args = argv[0], argv[1:]
    if command == "push" and len(args) == 2:
        shutil.copy(args[0], on_device(args[1]))
        return 0
    if command == "pull" and len(args) == 2:
        shutil.copy(on_device(args[0]), args[1])
        return 0
    if command == "shell" and args:
        script = on_device(" ".join(args))
        with tempfile.TemporaryDirectory() as tools:
            # what an Android shell has that this machine lacks, and the emulated CPU
            Path(tools, "getprop").write_text("#!/bin/sh\necho 'Stand-in phone'\n")
            if arch == "aarch64":
                Path(tools, "uname").write_text('#!/bin/sh\n[ "$1" = -m ] && echo aarch64 || exec /bin/uname "$@"\n')
                script = re.sub(r"&& (\S+/intedge-bench) model.ieg", r"&& qemu-aarch64-static \1 model.ieg", script)
            for tool in Path(tools).iterdir():
                tool.chmod(0o755)
            env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
            return subprocess.run(["sh", "-c", script], env=env).returncode
    print(f"adb (stand-in): unsupported command {argv}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
