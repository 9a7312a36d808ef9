#!/bin/bash
# Runs a cell script with `moonlab notebook` and screenshots its notebook.html with
# headless Chromium (through scripts/screenshot_report.sh, which installs Chromium when
# missing and fails on console errors).
#   scripts/screenshot_notebook.sh SCRIPT [OUT.png] [WIDTH,HEIGHT] [-- moonlab notebook options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
script=${1:?usage: $0 SCRIPT [OUT.png] [WIDTH,HEIGHT] [-- notebook options]}
shift
out=notebook.png size=1100,2600
[ $# -gt 0 ] && [ "$1" != "--" ] && { out=$1; shift; }
[ $# -gt 0 ] && [ "$1" != "--" ] && { size=$1; shift; }
[ "${1:-}" = "--" ] && shift
(cd "$root" && swift build --product moonlab >/dev/null)
moonlab="$(cd "$root" && swift build --show-bin-path)/moonlab"
run=$(mktemp -d)
"$moonlab" notebook "$script" --out "$run/run" "$@" || echo "a cell failed (exit $?); screenshotting what ran" >&2
# screenshot_report.sh shows RUN_DIR/report.html: point one at the notebook.
page=$(mktemp -d)
ln -s "$run/run/notebook.html" "$page/report.html"
"$root/scripts/screenshot_report.sh" "$page" "$out" "$size"
