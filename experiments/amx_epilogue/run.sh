#!/bin/sh
# The evidence behind docs/benchmarks.md's eighth-session section: builds
# overlap.cc and runs it at MiniLM's 128x384x384 and at 1024x1024x1024.
# Needs a CPU with AMX-INT8 and a kernel that grants tile data (Linux ≥ 5.16).
set -eu
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -std=c++17 -O2 -Wall -Wextra -march=sapphirerapids overlap.cc -o "$out/overlap"
"$out/overlap"
"$out/overlap" 1024 1024 1024 | tail -5
