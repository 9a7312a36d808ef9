#!/usr/bin/env bash
# Runs every experiment under experiments/ in smoke mode (a small subset, one epoch) so
# no script rots. Needs the release build (scripts/test.sh makes it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export MOONLAB_DATA="${MOONLAB_DATA:-$root/../shared/data}"
bin=.build/release/moonlab
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0
for script in experiments/*.lua; do
  name=$(basename "$script" .lua)
  # Run from the temporary folder: sweeps keep their trials in ./runs/SWEEP, and a
  # leftover folder there would resume (skip) finished trials instead of running them.
  if (cd "$out" && "$root/$bin" run "$root/$script" --set smoke=true --out "$out/$name") >"$out/$name.log" 2>&1; then
    echo "smoke: $name ok"
    passed=$((passed + 1))
  else
    echo "smoke: $name FAILED"
    sed 's/^/    /' "$out/$name.log" | tail -20
    failed=$((failed + 1))
  fi
done
# The speedrun's report shows what issue 15 asks of it (docs/EXPERIMENTS.md, "The CIFAR-10
# speedrun"): the whitening filters, the accuracy curve, the time per epoch, the lr schedule
# and the confusion matrix.
missing=""
for title in "Whitening filters" "Test accuracy (no TTA) per epoch" "Seconds per epoch" \
  "Learning rate" "Test set (no TTA)"; do
  grep -qF "$title" "$out/cifar_speedrun/report.md" 2>/dev/null || missing="$missing '$title'"
done
if [ -z "$missing" ]; then
  echo "smoke: cifar_speedrun report ok"
  passed=$((passed + 1))
else
  echo "smoke: cifar_speedrun report FAILED: missing$missing"
  failed=$((failed + 1))
fi
# moonlab compare on the runs above, compare.html checked in headless Chromium.
if scripts/compare_check.sh "$bin" "$out" >"$out/compare.log" 2>&1; then
  echo "smoke: compare ok ($(tail -1 "$out/compare.log"))"
  passed=$((passed + 1))
else
  echo "smoke: compare FAILED"
  sed 's/^/    /' "$out/compare.log" | tail -20
  failed=$((failed + 1))
fi
echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
