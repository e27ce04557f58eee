#!/usr/bin/env bash
# A real one-node Slurm for `pvsim sweep --backend slurm`: munged, slurmctld and slurmd (Debian's munge and
# slurm-wlm) started here with a generated slurm.conf and munge key, inside `unshare --mount` with private mounts: the
# generated files are bind-mounted over /etc/slurm and /etc/munge in this namespace only, so nothing of the machine's
# configuration or daemons is touched. The 20-point sweep runs as a job array (chunks of 3 points), and its CSV must
# be the one the local backend writes.
# Usage: bash tests/sweep/slurm_test.sh PVSIM_BINARY        (root; ctest -L slurm runs it)
# Exit 0 passed, 1 failed, 77 skipped (not root, or the packages missing: apt-get install slurm-wlm munge).
set -euo pipefail
pvsim=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)

if [[ ${PVSIM_SLURM_INNER:-} != 1 ]]; then
  if [[ $(id -u) != 0 ]]; then echo "SKIPPED: a private Slurm needs root (unshare, daemons)"; exit 77; fi
  for tool in unshare munged mungekey slurmctld slurmd sbatch sinfo; do
    command -v "$tool" >/dev/null || { echo "SKIPPED: $tool missing (apt-get install slurm-wlm munge)"; exit 77; }
  done
  unshare --mount --propagation private true 2>/dev/null ||
    { echo "SKIPPED: unshare --mount is not permitted here (a container without CAP_SYS_ADMIN?)"; exit 77; }
  exec env PVSIM_SLURM_INNER=1 unshare --mount --propagation private bash "$0" "$@"
fi

# ---- inside the private mount namespace ----
work=$(mktemp -d /tmp/pvsim-slurm-test.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  if [[ ${PVSIM_KEEP:-} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work"/{etc-slurm,etc-munge,munge,state,spool,log}
chmod 700 "$work/etc-munge" "$work/munge"

# Free TCP ports for the two daemons (other Slurms on this machine keep theirs).
read -r ctld_port slurmd_port < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
node=$(hostname -s)
cpus=$(nproc)

mungekey -c -k "$work/etc-munge/munge.key" >/dev/null 2>&1 || dd if=/dev/urandom of="$work/etc-munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/etc-munge/munge.key"
cat >"$work/etc-slurm/slurm.conf" <<CONF
ClusterName=pvsimtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=sweep Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
# In this namespace only: the generated configuration where the tools look by default.
mount --bind "$work/etc-slurm" /etc/slurm
mount --bind "$work/etc-munge" /etc/munge
export SLURM_CONF=/etc/slurm/slurm.conf

munged --force --socket="$work/munge/munge.socket" --key-file=/etc/munge/munge.key --pid-file="$work/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" -F >"$work/log/munged.out" 2>&1 &
pids+=($!)
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)

up=0
for _ in $(seq 1 100); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then up=1; break; fi
  sleep 0.2
done
if [[ $up != 1 ]]; then
  echo "FAILED: the node did not come up; logs:"
  tail -n 20 "$work"/log/* || true
  exit 1
fi
echo "== one-node Slurm up: $(sinfo -h -o '%P %D %T %c')"

out=$work/out
set +e
"$pvsim" sweep "$src/scenarios/sweeps/mm1-20.json" --backend slurm --chunk 3 -o "$out/slurm"
rc_slurm=$?
"$pvsim" sweep "$src/scenarios/sweeps/mm1-20.json" --backend local -j 2 -o "$out/local" 2>/dev/null
rc_local=$?
set -e
fail=0
if [[ $rc_slurm != 0 ]]; then echo "FAILED: the slurm sweep exited $rc_slurm"; fail=1; fi
if [[ $rc_local != 0 ]]; then echo "FAILED: the local sweep exited $rc_local"; fail=1; fi
tasks=$(ls "$out/slurm/slurm"/task-*.out 2>/dev/null | wc -l)
if [[ $tasks != 7 ]]; then echo "FAILED: expected 7 array tasks (20 points by 3), found $tasks outputs"; fail=1; fi
if ! cmp "$out/slurm/sweep.csv" "$out/local/sweep.csv"; then
  echo "FAILED: the slurm sweep's CSV differs from the local one's"; diff "$out/slurm/sweep.csv" "$out/local/sweep.csv" | head
  fail=1
fi
# Resumed on Slurm: a lost point (its folder gone) is the only one the second array runs.
rm -rf "$out/slurm/points/0007"
resumed=$("$pvsim" sweep "$src/scenarios/sweeps/mm1-20.json" --backend slurm --chunk 3 -o "$out/slurm" 2>&1) || true
if ! grep -q "(19 already finished, 1 to run)" <<<"$resumed" || ! grep -q "1 array tasks" <<<"$resumed"; then
  echo "FAILED: the resumed slurm sweep should run one point in one task:"; echo "$resumed"; fail=1
fi
if ! cmp "$out/slurm/sweep.csv" "$out/local/sweep.csv"; then echo "FAILED: the resumed sweep's CSV differs"; fail=1; fi
if [[ $fail != 0 ]]; then tail -n 20 "$work"/log/* || true; exit 1; fi
echo "== slurm and local sweeps wrote the same sweep.csv ($(($(wc -l <"$out/local/sweep.csv") - 1)) points, $tasks array tasks)"
echo "1 passed, 0 failed"
