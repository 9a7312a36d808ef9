#!/usr/bin/env bash
# Runs every benchmark: Moonlab's (`moonlab bench`, release build) and, side by side in the
# same run, the PyTorch counterparts in bench/torch/, then prints the ratio per benchmark.
#   bench/run.sh [name…]        e.g. bench/run.sh lenet pipeline
# PyTorch comes from a venv (.venv-bench, made on first use with pip) pinned to the
# same thread count; set MOONLAB_BENCH_NO_TORCH=1 to skip it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export MOONLAB_DATA="${MOONLAB_DATA:-$root/../shared/data}"
threads="${MOONLAB_BENCH_THREADS:-2}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== moonlab (threads=$threads)"
scripts/moonlab bench --threads "$threads" "$@" | tee "$out/moonlab.txt"

if [ -z "${MOONLAB_BENCH_NO_TORCH:-}" ]; then
  venv="${MOONLAB_TORCH_VENV:-$root/.venv-bench}"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch numpy safetensors
  fi
  echo "== pytorch (threads=$threads)"
  for py in bench/torch/*.py; do
    OMP_NUM_THREADS=$threads "$venv/bin/python" "$py" --threads "$threads" "$@" | tee -a "$out/torch.txt"
  done
  echo "== moonlab / pytorch (higher is better for rates, lower for times)"
  python3 - "$out/moonlab.txt" "$out/torch.txt" <<'PY'
import re, sys
def read(path):
    rows = {}
    for line in open(path):
        m = re.match(r"^([\w.\-]+): ([0-9.eE+\-]+) (\S+)", line)
        if m: rows[m.group(1)] = (float(m.group(2)), m.group(3))
    return rows
ours, theirs = read(sys.argv[1]), read(sys.argv[2])
for name, (v, unit) in ours.items():
    if name in theirs and theirs[name][0] > 0:
        print(f"{name}: moonlab {v:.4g} {unit}, pytorch {theirs[name][0]:.4g} {theirs[name][1]}, ratio {v / theirs[name][0]:.3f}")
PY
fi
