#!/usr/bin/env bash
# The test command (README, and .ci/run): lint, schema freshness, the C++
# tests under AddressSanitizer + UBSan, then the Python suite.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff"
ruff check .

echo "== generated FlatBuffers code matches ieg.fbs"
edge_runtime/schema/generate.sh
git diff --exit-code -- edge_runtime/schema intedge/ir/fb

echo "== C++ tests (ASan + UBSan, -Werror)"
edge_runtime/tests/run_sanitized.sh

echo "== pytest"
set +e
python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
