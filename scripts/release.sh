#!/usr/bin/env bash
# Builds the tarball users copy to another machine (README, "Install"; docs/architecture.md,
# "Start-up and the release binary") and prints its path:
#   scripts/release.sh                     dist/moonlab-VERSION-linux-ARCH.tar.gz, for this
#                                          machine's vector unit (AVX2/FMA, AVX-512)
#   MOONLAB_PORTABLE=1 scripts/release.sh  dist/moonlab-VERSION-linux-ARCH-portable.tar.gz,
#                                          any x86-64 (built in .build-portable)
# The tarball holds the binary (Swift runtime and Foundation linked in: it needs only libc,
# libm, libstdc++/libgcc, Lua 5.4, OpenBLAS and zlib), the bundled CIFAR-10 sample in the
# folder the binary looks for next to itself, the quickstart, README.md and LICENSE.
# scripts/release_check.sh checks it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
if [ -n "${MOONLAB_PORTABLE:-}" ]; then
  # A scratch folder of its own: Package.swift picks the CPU flags when SwiftPM evaluates
  # it, so the host build in .build stays as it is.
  scratch=.build-portable
  variant=-portable
else
  scratch=.build
  variant=""
fi
# The same flags as scripts/moonlab and scripts/test.sh: the host tarball reuses their build.
swift build -q -c release -Xswiftc -enable-testing --scratch-path "$scratch" --product moonlab >&2
bin="$scratch/release"
version=$("$bin/moonlab" --version)
name="moonlab-$version-linux-$(uname -m)$variant"

# Assembled in a temporary folder inside dist/ and renamed into place: dist/ never holds
# a half-written tarball.
mkdir -p dist
stage=$(mktemp -d dist/.stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/experiments"
cp "$bin/moonlab" "$stage/$name/moonlab"
# Debug sections are most of the binary's size and unused at run time.
strip --strip-debug "$stage/$name/moonlab"
cp -R "$bin/Moonlab_MoonlabData.resources" "$stage/$name/"
cp experiments/quickstart.lua "$stage/$name/experiments/"
cp README.md LICENSE "$stage/$name/"
tar -czf "$stage/$name.tar.gz" -C "$stage" --owner=0 --group=0 --numeric-owner "$name"
mv -f "$stage/$name.tar.gz" "dist/$name.tar.gz"
echo "$root/dist/$name.tar.gz"
