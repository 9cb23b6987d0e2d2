#!/usr/bin/env bash
# Proves that other packages can depend on this one by version: clones the repository, tags
# the clone 1.0.0, builds a scratch package that depends on it with `from: "1.0.0"` (SwiftPM
# refuses unsafe flags in such a dependency) and runs the README's library example in it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset NW_TARGET_CPU

git clone -q "$repo" "$work/nw"
git -C "$work/nw" -c user.name=ci -c user.email=ci@localhost tag -f 1.0.0 >/dev/null

mkdir -p "$work/consumer/Sources/consumer"
cat > "$work/consumer/Package.swift" <<MANIFEST
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(url: "$work/nw", from: "1.0.0")],
    targets: [
        .executableTarget(name: "consumer", dependencies: [
            .product(name: "NadarayaWatson", package: "nw"),
            .product(name: "NWPlot", package: "nw"),
        ]),
    ]
)
MANIFEST

# The README's library example: the first swift code block after "## Library".
python3 - "$repo/README.md" > "$work/consumer/Sources/consumer/main.swift" <<'EXTRACT'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text[text.index("\n## Library\n"):]
print(re.search(r"```swift\n(.*?)```", section, re.S).group(1))
EXTRACT

cd "$work/consumer"
swift build 2>&1 | tail -3
swift run consumer
echo "versioned dependency: ok"
