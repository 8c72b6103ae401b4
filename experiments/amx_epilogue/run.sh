#!/bin/sh
# The evidence behind docs/benchmarks.md's eighth- and ninth-session sections:
# builds overlap.cc and runs it at MiniLM's 128x384x384 and at 1024x1024x1024,
# then placement.cc (the step's rate by where its operands live),
# block_variants.cc (the block loop without stores, staggered, in K chunks) at
# 128x384x384, 224x192x768 and 1024^3, requant.cc (the int8 epilogue alone),
# and zero_operands.cc (the step's rate on zeros and on other bytes).
# Needs a CPU with AMX-INT8 and a kernel that grants tile data (Linux ≥ 5.16).
set -eu
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -std=c++17 -O2 -Wall -Wextra -march=sapphirerapids overlap.cc -o "$out/overlap"
"$out/overlap"
"$out/overlap" 1024 1024 1024 > "$out/overlap.txt"  # not piped: its exit status (1: outputs differ) counts
tail -5 "$out/overlap.txt"
g++ -std=c++17 -O2 -Wall -Wextra -march=sapphirerapids placement.cc -o "$out/placement"
"$out/placement"
g++ -std=c++17 -O2 -Wall -Wextra -march=sapphirerapids block_variants.cc -o "$out/block_variants"
for shape in "128 384 384" "224 192 768" "1024 1024 1024"; do "$out/block_variants" $shape; done
g++ -std=c++17 -O2 -Wall -Wextra -march=sapphirerapids requant.cc -o "$out/requant"
"$out/requant"
g++ -std=c++17 -O2 -Wall -Wextra -march=sapphirerapids zero_operands.cc -o "$out/zero_operands"
"$out/zero_operands"
