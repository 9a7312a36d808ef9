#!/usr/bin/env bash
# apt_install.sh WHO PACKAGE…: installs Debian packages for an optional part of the test
# command (Slurm, Open MPI), as root or through `sudo -n`. Exits 77, saying why on stderr
# with WHO as prefix, when there is no apt-get or it fails: the tests that need the
# packages then skip loudly.
set -uo pipefail
who="$1"
shift
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
if ! command -v apt-get >/dev/null; then
  echo "$who: no apt-get to install $*" >&2
  exit 77
fi
echo "$who: installing $*" >&2
if ! { "${sudo[@]}" apt-get update -q &&
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "$@"; } >&2; then
  echo "$who: apt-get could not install $*" >&2
  exit 77
fi
