#!/usr/bin/env bash
# Builds an `nw` binary for any x86-64-v3 CPU (AVX2 + FMA: Haswell, Zen 1 and later), with the
# Swift runtime linked in statically and no ICU (the tool imports FoundationEssentials only),
# so it runs on a Linux machine without the Swift toolchain. The native build
# (NW_TARGET_CPU=native) stays the fastest on the machine that builds it: AVX-512 where present.
#
# Usage: scripts/build-portable.sh [OUTPUT]     (default: dist/nw-x86_64-v3)
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-dist/nw-x86_64-v3}"

NW_TARGET_CPU=x86-64-v3 swift build -c release --product nw --static-swift-stdlib --scratch-path .build-portable
mkdir -p "$(dirname "$output")"
cp .build-portable/release/nw "$output"
strip "$output" 2>/dev/null || true

# What it needs at run time: only the C library and its friends.
if ldd "$output" | grep -E "swift|icu|Foundation" >/dev/null; then
    echo "build-portable: $output still links a Swift runtime or ICU library:" >&2
    ldd "$output" >&2
    exit 1
fi
ls -l "$output"
