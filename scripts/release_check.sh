#!/usr/bin/env bash
# Checks a release tarball (scripts/release.sh) the way a user without Swift would meet it:
#   scripts/release_check.sh [TARBALL]     (default: builds one with scripts/release.sh)
# 1. `ldd` of its binary lists only libc, libm, libstdc++/libgcc, Lua and zlib (OpenBLAS is
#    linked in statically), nothing from the Swift toolchain, and the binary
#    has no RUNPATH into the toolchain;
# 2. unpacked elsewhere, with a clean environment (no LD_LIBRARY_PATH, no data root) and the
#    toolchain's library folder hidden behind an empty mount (a private mount namespace,
#    where `unshare` may make one), it finds its bundled sample next to itself and runs
#    the quickstart in smoke mode to a finished run directory.
# scripts/test.sh runs it on the tarball of the build it has just made.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tarball="${1:-$(scripts/release.sh)}"
fail() {
  echo "release check: $*" >&2
  exit 1
}
[ -f "$tarball" ] || fail "no tarball at $tarball"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d)
bin="$dir/moonlab"
[ -x "$bin" ] || fail "the tarball has no moonlab binary at its top"
for f in README.md LICENSE experiments/quickstart.lua \
  Moonlab_MoonlabData.resources/Sample/cifar10/train.bin.gz; do
  [ -f "$dir/$f" ] || fail "the tarball lacks $f"
done

# The toolchain: where `swift` lives, its lib/ holding the runtime and Foundation.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
toolchain_lib="$toolchain/lib"

libraries=$(ldd "$bin")
if grep -q "not found" <<<"$libraries"; then fail "missing libraries:"$'\n'"$libraries"; fi
if grep -qF "$toolchain" <<<"$libraries"; then
  fail "the binary loads libraries from the Swift toolchain ($toolchain):"$'\n'"$libraries"
fi
allowed='^(linux-vdso|ld-linux-x86-64|ld-linux-aarch64|libc|libm|libstdc\+\+|libgcc_s|liblua5\.4|libz)\.so'
while read -r name _; do
  [[ "$(basename "$name")" =~ $allowed ]] || fail "unexpected library $name:"$'\n'"$libraries"
done <<<"$libraries"
if readelf -d "$bin" | grep -E 'RPATH|RUNPATH' | grep -qF "$toolchain"; then
  fail "the binary's RUNPATH points into the toolchain"
fi
echo "release check: ldd lists $(wc -l <<<"$libraries") libraries, none from $toolchain"

# A clean environment and a folder of its own: no data root, so the sample must come from
# the tarball; no LD_LIBRARY_PATH.
mkdir "$work/home" "$work/cwd"
clean=(env -i PATH=/usr/bin:/bin HOME="$work/home" MOONLAB_DATA="$work/no-data")
hidden=("${clean[@]}")
# An empty tmpfs over the toolchain's lib/ in a private mount namespace: nothing there can
# be loaded, even through a path compiled into the binary.
hide=(unshare --mount --propagation private sh -c
  'mount -t tmpfs none "$0" && test -z "$(ls -A "$0")" && exec "$@"' "$toolchain_lib")
if "${hide[@]}" true 2>/dev/null; then
  hidden=("${hide[@]}" "${clean[@]}")
  how="with $toolchain_lib hidden"
else
  how="with a clean environment (unshare not permitted here, so $toolchain_lib stays visible)"
fi

info=$(cd "$work/cwd" && "${hidden[@]}" "$bin" data info)
grep -qF "bundled CIFAR-10 sample: $dir/Moonlab_MoonlabData.resources/Sample/cifar10" <<<"$info" ||
  fail "the binary did not find the sample next to itself:"$'\n'"$info"
(cd "$work/cwd" && "${hidden[@]}" "$bin" run "$dir/experiments/quickstart.lua" \
  --set smoke=true --out "$work/run") >"$work/quickstart.log" 2>&1 ||
  fail "the quickstart failed $how:"$'\n'"$(tail -20 "$work/quickstart.log")"
[ -f "$work/run/DONE" ] || fail "the quickstart left no finished run directory"
echo "release check: $(basename "$tarball") runs the quickstart $how"
