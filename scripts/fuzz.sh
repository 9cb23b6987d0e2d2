#!/usr/bin/env bash
# Fuzzes the CSV reader, the number parser and option parsing with libFuzzer (the toolchain's
# -sanitize=fuzzer), starting from Fuzz/corpus; new inputs go to a scratch corpus, never the repo.
# Usage: scripts/fuzz.sh [RUNS] (default 1000000). Exits non-zero on a crash, a hang (-timeout)
# or a failed property (a multi-line error, a number that differs from Double(String)).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1000000}"
swift build -c release --product NWFuzz --build-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DNW_LIBFUZZER -Xswiftc -use-ld=lld
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp Fuzz/corpus/* "$work/"
.build-fuzz/release/NWFuzz "$work" -runs="$runs" -max_len=2048 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 2>&1 | grep -E 'Done|stat::|ERROR|crash|timeout|deadly' || true
test "${PIPESTATUS[0]}" -eq 0
