#!/bin/bash
# Screenshots a run's report.html (or any HTML file, such as compare.html) with headless
# Chromium (installed from Debian when missing) and fails when the page logs a console error.
#   scripts/screenshot_report.sh RUN_DIR|PAGE.html [OUT.png] [WIDTH,HEIGHT]
set -euo pipefail
run_dir=${1:?usage: $0 RUN_DIR|PAGE.html [OUT.png] [WIDTH,HEIGHT]}
if [ -f "$run_dir" ]; then
  report=$(realpath "$run_dir")
  out=${2:-${report%.html}.png}
else
  report=$(realpath "$run_dir/report.html")
  out=${2:-$run_dir/report.png}
fi
size=${3:-1100,2600}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "installing chromium from Debian…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files)
# Console messages go to stderr with --enable-logging=stderr --v=0, all at level INFO
# whatever their kind; report.html has no scripts, so any console line is a fault.
log=$(mktemp)
"$browser" "${flags[@]}" --enable-logging=stderr --v=0 --window-size="$size" \
  --screenshot="$(realpath -m "$out")" "file://$report" 2>"$log" >/dev/null || { cat "$log" >&2; exit 1; }
if grep -E ':CONSOLE[:(]|Uncaught' "$log" >&2; then
  echo "$(basename "$report") logged console errors (above)" >&2
  exit 1
fi
rm -f "$log"
echo "$out"
