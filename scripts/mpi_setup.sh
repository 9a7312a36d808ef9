#!/usr/bin/env bash
# Makes sure Open MPI's launcher and library are here for data-parallel runs and their
# tests (docs/scale-out.md, "Training across processes"): installs Debian's openmpi-bin
# and libopenmpi3 when mpirun or libmpi.so.40 is missing. Moonlab loads libmpi at run
# time, so neither the build nor runs outside MPI need it. Exits 77 when it can't install.
set -euo pipefail
have_lib() { ldconfig -p 2>/dev/null | grep -q 'libmpi\.so\.40 '; }
command -v mpirun >/dev/null && have_lib && exit 0
exec "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh" mpi_setup openmpi-bin libopenmpi3
