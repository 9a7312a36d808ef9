#!/usr/bin/env bash
# The test command (README, CI): system packages, build, the XCTest suites, then every
# experiment script in its smoke mode.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
export MOONLAB_DATA="${MOONLAB_DATA:-$root/../shared/data}"
# Numeric suites run in release: debug builds run the kernels 10–100× slower.
# One build serves the suites and the smoke runs (testing enabled for @testable imports).
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build
scripts/smoke.sh
# The release tarball of this build runs the quickstart without the Swift toolchain.
scripts/release_check.sh
# Notebooks and the Jupyter kernel checked with the real Jupyter tools (from PyPI).
MOONLAB_BIN=.build/release/moonlab scripts/notebook_check.sh || [ $? -eq 77 ]
