#!/usr/bin/env bash
# Renders a `nw demo` report (index.html and its SVGs) to a PNG with headless Chromium, so a
# person can look at the figures without a browser at hand.
#
#   scripts/render_report.sh [DEMO_DIR] [OUT.png]      (defaults: nw-demo, nw-demo/report.png)
#
# Needs Chromium (Debian: apt-get install chromium). Also renders each SVG alone to
# DEMO_DIR/png/NAME.png.
set -euo pipefail
dir=${1:-nw-demo}
out=${2:-$dir/report.png}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
    echo "render_report.sh: Chromium not found; install it (Debian: apt-get install chromium)" >&2
    exit 1
fi
[[ -f $dir/index.html ]] || { echo "render_report.sh: $dir/index.html not found; run nw demo --out $dir first" >&2; exit 1; }
abs=$(cd "$dir" && pwd)
shot() { # URL OUT WIDTH HEIGHT
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --window-size="$3,$4" --screenshot="$2" "$1" >/dev/null 2>&1
}
shot "file://$abs/index.html" "$out" 1200 9000
mkdir -p "$dir/png"
for svg in "$abs"/*.svg; do
    name=$(basename "$svg" .svg)
    size=$(sed -n 's/.*<svg [^>]*width="\([0-9.]*\)" height="\([0-9.]*\)".*/\1 \2/p' "$svg" | head -1)
    read -r w h <<<"$size"
    shot "file://$svg" "$dir/png/$name.png" "${w%.*}" "${h%.*}"
done
echo "$out and $dir/png/*.png"
