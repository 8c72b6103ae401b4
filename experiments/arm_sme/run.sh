#!/bin/sh
# The evidence behind docs/arm_sme.md: build the standalone SME int8 GEMM and
# run it under a qemu new enough to execute SME's 4-way smopa correctly (10.x)
# at every streaming vector length, then under Debian 12's qemu 7.2, whose
# smopa is wrong (za_layout shows how).
#
# qemu 10 is not installed system-wide; fetch it without touching apt's state:
#   mkdir -p /tmp/bp/lists && echo "deb http://deb.debian.org/debian bookworm-backports main" > /tmp/bp/sources.list
#   apt-get -o Dir::State::Lists=/tmp/bp/lists -o Dir::Etc::SourceList=/tmp/bp/sources.list update
#   (cd /tmp/bp && apt-get -o Dir::State::Lists=/tmp/bp/lists -o Dir::Etc::SourceList=/tmp/bp/sources.list \
#      download qemu-user/bookworm-backports && dpkg -x qemu-user_*.deb root)
#   QEMU10=/tmp/bp/root/usr/bin/qemu-aarch64 sh run.sh
set -eux
cd "$(dirname "$0")"
: "${QEMU10:?set QEMU10 to a qemu-aarch64 10.x (see the comment above)}"
out=$(mktemp -d)
aarch64-linux-gnu-g++ -std=c++17 -O2 -march=armv8.2-a+dotprod -static -Wall -Wextra gemm_sme.cc -o "$out/gemm_sme"
aarch64-linux-gnu-g++ -std=c++17 -O2 -static za_layout.cc -o "$out/za_layout"
for svl in 16 32 64 128 256; do
  "$QEMU10" -cpu max,sme-default-vector-length=$svl "$out/gemm_sme" | tail -1
done
"$QEMU10" -cpu max,sme_fa64=off "$out/gemm_sme" | tail -1  # nothing in the streaming block needs FA64
"$QEMU10" -cpu max "$out/gemm_sme" 64 | head -1             # SVL set by prctl(PR_SME_SET_VL) in the process
qemu-aarch64-static -cpu max "$out/gemm_sme" | grep -c MISMATCH || true  # qemu 7.2: its smopa is wrong
qemu-aarch64-static -cpu max,sme=off "$out/gemm_sme" || true            # no SME: the HWCAP2 check refuses
qemu-aarch64-static -cpu max,sme-default-vector-length=16 "$out/za_layout"
"$QEMU10" -cpu max,sme-default-vector-length=16 "$out/za_layout"
