#!/usr/bin/env bash
# Runs every benchmark: Moonlab's (`moonlab bench`, release build) and, side by side in the
# same run, the PyTorch counterparts in bench/torch/, then prints the ratio per benchmark.
#   bench/run.sh [name…]        e.g. bench/run.sh lenet pipeline
#   MOONLAB_BENCH_ROUNDS=5 bench/run.sh vgg resnet20
# Each round runs Moonlab then PyTorch; with several rounds every ratio is printed per
# round and as the median over rounds (machines are small and noisy).
# PyTorch comes from a venv (.venv-bench, made on first use with pip) pinned to the
# same thread count; set MOONLAB_BENCH_NO_TORCH=1 to skip it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export MOONLAB_DATA="${MOONLAB_DATA:-$root/../shared/data}"
threads="${MOONLAB_BENCH_THREADS:-2}"
rounds="${MOONLAB_BENCH_ROUNDS:-1}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Ratios hold for one CPU: name it (model, and whether PyTorch may use AVX-512).
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
family=$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
model=$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
vector=$(grep -m1 '^flags' /proc/cpuinfo | grep -qw avx512f && echo "AVX-512" || echo "AVX2, no AVX-512")
echo "== cpu: $cpu (family $family, model $model), $(nproc) cores, $vector"

venv="${MOONLAB_TORCH_VENV:-$root/.venv-bench}"
if [ -z "${MOONLAB_BENCH_NO_TORCH:-}" ] && [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch numpy safetensors
fi
scripts/moonlab --version >/dev/null  # builds once, before anything is timed

for round in $(seq 1 "$rounds"); do
  echo "== moonlab (threads=$threads, round $round)"
  scripts/moonlab bench --threads "$threads" "$@" | tee "$out/moonlab.$round.txt"
  if [ -z "${MOONLAB_BENCH_NO_TORCH:-}" ]; then
    echo "== pytorch (threads=$threads, round $round)"
    for py in bench/torch/*_bench.py; do
      OMP_NUM_THREADS=$threads "$venv/bin/python" "$py" --threads "$threads" "$@" | tee -a "$out/torch.$round.txt"
    done
  fi
done

[ -n "${MOONLAB_BENCH_NO_TORCH:-}" ] && exit 0
echo "== moonlab / pytorch (higher is better for rates, lower for times)"
python3 - "$out" "$rounds" <<'PY'
import re, statistics, sys
def read(path):
    rows = {}
    for line in open(path):
        m = re.match(r"^([\w.\-]+): ([0-9.eE+\-]+) (\S+)", line)
        if m: rows[m.group(1)] = (float(m.group(2)), m.group(3))
    return rows
folder, rounds = sys.argv[1], int(sys.argv[2])
runs = [(read(f"{folder}/moonlab.{r}.txt"), read(f"{folder}/torch.{r}.txt")) for r in range(1, rounds + 1)]
for name, (_, unit) in runs[0][0].items():
    pairs = [(ours[name][0], theirs[name][0]) for ours, theirs in runs
             if name in ours and name in theirs and theirs[name][0] > 0]
    if not pairs:
        continue
    ratios = [a / b for a, b in pairs]
    # A time far below PyTorch's (start-up) reads better as "N× faster" than as 0.004.
    faster = lambda r: f" ({1 / r:.0f}× faster)" if unit in ("ms", "s", "µs", "ns") and 0 < r < 0.1 else ""
    if len(pairs) == 1:
        a, b = pairs[0]
        print(f"{name}: moonlab {a:.4g} {unit}, pytorch {b:.4g}, ratio {ratios[0]:.3f}{faster(ratios[0])}")
    else:
        median = statistics.median(ratios)
        print(f"{name}: moonlab median {statistics.median(a for a, _ in pairs):.4g} {unit}, "
              f"pytorch median {statistics.median(b for _, b in pairs):.4g}, "
              f"ratios {' / '.join(f'{r:.2f}' for r in ratios)}, median {median:.3f}{faster(median)}")
PY
