#!/usr/bin/env bash
# A single-node Slurm cluster on loopback, all of it inside one folder: munged with its own
# key and socket, slurmctld and slurmd in the foreground on free ports, no cgroups, no
# accounting (docs/scale-out.md, "Testing against a real Slurm"). For the tests, and for
# trying `moonlab sweep --slurm` on one machine.
#
#   scripts/slurm_cluster.sh start DIR   # prints SLURM_CONF=DIR/slurm.conf once the node is idle
#   scripts/slurm_cluster.sh stop DIR    # cancels its jobs, stops the daemons
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge when missing (apt-get update
# once, then install). Exits 77 when they can't be had, so a caller can skip loudly.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[[ ($cmd == start || $cmd == stop) && -n $dir ]] || {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export SLURM_CONF=$dir/slurm.conf

# Kills the daemon whose pid file is $1, waiting up to 10 s before SIGKILL.
stop_daemon() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

if [[ $cmd == stop ]]; then
  if [[ -f $dir/slurm.conf ]] && command -v scancel >/dev/null; then
    scancel --user "$(id -un)" 2>/dev/null || true
    for _ in $(seq 100); do
      [[ -z $(squeue -h 2>/dev/null) ]] && break
      sleep 0.1
    done
  fi
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  stop_daemon "$dir/munge/munged.pid"
  exit 0
fi

missing=()
for tool in slurmctld slurmd sbatch squeue scancel sinfo munged; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
# `srun --mpi=pmix`: Slurm's plugin dlopens the unversioned libpmix.so, which only
# libpmix-dev installs (libpmix2, which Open MPI pulls in, has libpmix.so.2).
compgen -G "/usr/lib/*/libpmix.so" >/dev/null || missing+=(libpmix.so)
if ((${#missing[@]})); then
  echo "slurm_cluster: missing ${missing[*]}" >&2
  "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh" slurm_cluster slurmctld slurmd slurm-client munge \
    libpmix-dev || exit $?
fi

# A port nobody listens on (checked in /proc/net/tcp*), from a range Slurm doesn't default to.
free_port() {
  local port hex
  while :; do
    port=$((20000 + RANDOM % 20000))
    hex=$(printf ':%04X ' "$port")
    grep -qi -- "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null || {
      echo "$port"
      return
    }
  done
}

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
user=$(id -un)
ctld_port=$(free_port)
slurmd_port=$(free_port)
while [[ $slurmd_port == "$ctld_port" ]]; do slurmd_port=$(free_port); done
cat >"$dir/slurm.conf" <<CONF
ClusterName=moonlab-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# Runs a daemon in the background, detached, logging to $1, and holding none of this
# script's other descriptors: a caller that waits on one of them (Foundation's Process
# watches a socket its child inherits) would otherwise wait for the daemon too.
detach() {
  local log=$1 fd
  shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@" >"$log" 2>&1 </dev/null
  ) &
}

# Daemons in the foreground (-F, -D), detached from this script with their own logs.
detach "$dir/munged.out" munged -F -f --key-file="$dir/munge/munge.key" \
  --socket="$dir/munge/munge.sock" --pid-file="$dir/munge/munged.pid" \
  --seed-file="$dir/munge/seed" --log-file="$dir/munge/munged.log"
for _ in $(seq 100); do
  [[ -S $dir/munge/munge.sock ]] && break
  sleep 0.1
done
detach "$dir/slurmctld.out" slurmctld -D -i
echo $! >"$dir/slurmctld.pid"
detach "$dir/slurmd.out" slurmd -D -N localhost
echo $! >"$dir/slurmd.pid"
for _ in $(seq 300); do
  if [[ $(sinfo -h -o %t 2>/dev/null) == idle ]]; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.1
done
echo "slurm_cluster: the node did not come up in 30 s; logs in $dir:" >&2
tail -n 20 "$dir"/slurmctld.out "$dir"/slurmd.out "$dir"/munged.out >&2 || true
"$0" stop "$dir" || true
exit 1
