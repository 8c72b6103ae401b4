#!/usr/bin/env bash
# The test command (README, and .ci/run): lint, generated-code freshness, the
# C++ tests under AddressSanitizer + UBSan, a bounded libFuzzer run, the
# aarch64 cross-build and its tests under qemu, then the whole Python suite
# (the mutation agreement test, whole models under qemu). Needs what the
# README's test command installs: the `all` extra, g++-aarch64-linux-gnu,
# qemu-user-static, clang, openssh-server (tests/test_profile.py starts an sshd),
# and default-jdk-headless and junit4 (the Java bridge: tests/test_android_bridge.py).
# `pytest -m "not slow"` alone is the fast tier.
# FUZZ_SECONDS (default 60) bounds the fuzzing; INTEDGE_MUTANTS (default
# 10000) sets the mutants per graph.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff"
ruff check .

echo "== generated code matches the op spec and ieg.fbs"
edge_runtime/schema/generate.sh --check

echo "== C++ tests (ASan + UBSan, -Werror)"
edge_runtime/tests/run_sanitized.sh

echo "== fuzzing: open and run sessions from bytes (libFuzzer, ASan + UBSan), ${FUZZ_SECONDS:-60} s"
edge_runtime/tests/fuzz/run_fuzz.sh "${FUZZ_SECONDS:-60}"

echo "== aarch64: cross-build, C++ tests and libintedge_jni.so's driver under qemu (cortex-a57, cortex-a76, max)"
cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
  -DINTEDGE_BUILD_PYTHON=OFF -DINTEDGE_BUILD_TESTS=ON -DINTEDGE_BUILD_JNI=ON -DCMAKE_CXX_FLAGS="-Werror" \
  -DCMAKE_C_FLAGS="-Werror" >/dev/null
cmake --build build/aarch64 -j "$(nproc)"
for cpu in cortex-a57 cortex-a76 max; do
  QEMU_CPU=$cpu ctest --test-dir build/aarch64 --output-on-failure
done
export INTEDGE_AARCH64_BENCH="$PWD/build/aarch64/edge_runtime/intedge-bench"  # tests/test_engine_arm.py
export INTEDGE_AARCH64_GENERATE="$PWD/build/aarch64/edge_runtime/intedge-generate"

echo "== the Java bridge's native library for this machine (JDK headers)"
cmake -S . -B build/jni -DINTEDGE_BUILD_JNI=ON -DINTEDGE_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="-Werror" >/dev/null
cmake --build build/jni -j "$(nproc)" --target intedge_jni
export INTEDGE_JNI_LIB="$PWD/build/jni/edge_runtime/jni/libintedge_jni.so"  # tests/test_android_bridge.py

echo "== pytest"
set +e
python -m pytest -q -p no:cacheprovider --durations=15 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
