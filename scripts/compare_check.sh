#!/usr/bin/env bash
# Checks `moonlab compare` on finished runs (scripts/smoke.sh calls it with its output
# folder): two runs and the sweeps found there are compared, and each compare.html is
# opened in headless Chromium, which must log no console error. Without Chromium that
# step is skipped (scripts/screenshot_report.sh PAGE.html installs it and runs it alone).
#   scripts/compare_check.sh MOONLAB_BIN SMOKE_OUT
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin=${1:?usage: $0 MOONLAB_BIN SMOKE_OUT}
out=${2:?usage: $0 MOONLAB_BIN SMOKE_OUT}
"$bin" compare "$out/quickstart" "$out/relu_vs_sigmoid" --out "$out/compare-runs" >/dev/null
mapfile -t sweeps < <(find "$out" -path '*/sweeps/*' -name sweep.json -exec dirname {} \; | sort)
[ "${#sweeps[@]}" -ge 2 ] || { echo "compare_check: expected two sweeps under $out" >&2; exit 1; }
"$bin" compare "${sweeps[@]}" --out "$out/compare-sweeps" >/dev/null
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  for page in "$out/compare-runs/compare.html" "$out/compare-sweeps/compare.html"; do
    "$root/scripts/screenshot_report.sh" "$page" >/dev/null
  done
  echo "compare_check: runs and sweeps compared; compare.html clean in Chromium"
else
  echo "compare_check: runs and sweeps compared; Chromium check skipped (not installed)"
fi
