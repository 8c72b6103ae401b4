#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) and fuzzes opening
# and running a session from bytes for SECONDS (default 60). Seeds: the
# committed corpus beside this script, the every_op and decoder fixtures,
# two zoo graphs and a stock RoBERTa of dynamic length (seed_models.py),
# converted now (the committed files would go stale with the format).
# New inputs land in a scratch folder; a crash, leak or sanitizer report
# fails with the reproducer's path (fuzz_session FILE replays it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
seconds="${1:-60}"
build="$root/build/fuzz"
CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINTEDGE_BUILD_PYTHON=OFF \
  -DINTEDGE_FUZZ=ON -DCMAKE_CXX_FLAGS="-Werror" >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_session

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$work/seeds"
cp "$root/tests/fixtures/every_op.ieg" "$root/tests/fixtures/decoder.ieg" "$work/seeds/"
intedge convert vit-fmnist -o "$work/seeds/vit-fmnist-w8.ieg" --calib 2 >/dev/null 2>&1
intedge convert segmenter-fmnist -o "$work/seeds/segmenter-fmnist-w4.ieg" --weights w4 --calib 2 >/dev/null 2>&1
intedge convert "$here/seed_models.py:roberta" -o "$work/seeds/roberta-dynamic-w4.ieg" --weights w4 --dynamic-seq \
  >/dev/null 2>&1
cd "$work"  # crash reproducers are written here
if ! "$build/edge_runtime/fuzz_session" "$work/new" "$work/seeds" "$here/corpus" -max_total_time="$seconds" \
    -max_len=1048576 -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 2>"$work/log"; then
  tail -n 60 "$work/log" >&2
  mkdir -p "$root/build/fuzz-crashes"
  cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$root/build/fuzz-crashes/" 2>/dev/null || true
  echo "fuzz_session found a failure: reproducers in build/fuzz-crashes/ (replay: $build/edge_runtime/fuzz_session FILE)" >&2
  exit 1
fi
grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work/log" || true
