#!/usr/bin/env bash
# Builds the C++ core and its tests with AddressSanitizer + UBSan (and
# -Werror, so warnings fail CI), then runs them with ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/sanitize}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
  -DINTEDGE_BUILD_PYTHON=OFF -DINTEDGE_BUILD_TESTS=ON -DINTEDGE_BUILD_JNI=ON -DINTEDGE_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS="-Werror" -DCMAKE_C_FLAGS="-Werror" >/dev/null
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure
