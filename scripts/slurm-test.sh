#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine: munge and slurmctld + slurmd on localhost (process
# tracker proctrack/linuxproc, task/none: no cgroups), private config, ports and sockets under a
# temporary folder. It writes the sbatch script of a small experiment with `tokbench slurm` (a raw-patch
# sweep and one short learned run, 3 shards), submits it with sbatch, waits for the array and the merge
# job, and checks that the merged database equals an unsharded run of the same experiment: the same run
# keys and every final metric (wall times aside). Then it stops the daemons it started, by their pids.
# Needs root (munged and slurmd); without it this script says so and fails. Usage: slurm-test.sh TOKBENCH
set -uo pipefail
bin=$(readlink -f "${1:?usage: slurm-test.sh TOKBENCH}")
here=$(cd "$(dirname "$0")/.." && pwd)
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: slurm-test: $*"; }
finish() { echo "slurm-test: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if [ "$(id -u)" -ne 0 ]; then
  bad "needs root to start munged and slurmd for a one-node cluster (CI runs as root); not run"
  finish
fi
"$here/scripts/install-deps.sh" slurmctld slurmd slurm-client munge || { bad "could not install slurm-wlm and munge"; finish; }

start=$(date +%s)
work=$(mktemp -d /tmp/tokbench-slurm.XXXXXX)
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap stop EXIT

# munge: a private key and socket.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none && chmod 400 "$work/munge.key"
mkdir -p "$work/munge" && chmod 700 "$work/munge"
munged --force --key-file="$work/munge.key" --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" || { bad "munged did not start"; finish; }
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=tokbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=defer_batch
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 & pids+=($!)
slurmd -D -N "$host" -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 & pids+=($!)
up=""
for _ in $(seq 60); do
  state=$(sinfo -h -N -o "%t" 2>/dev/null | head -1)
  if [ "$state" = "idle" ]; then up=1; break; fi
  sleep 1
done
if [ -z "$up" ]; then
  bad "the one-node cluster did not come up (node state '${state:-none}'); slurmctld: $(tail -3 "$work/slurmctld.log" 2>/dev/null | tr '\n' ' ') slurmd: $(tail -3 "$work/slurmd.log" 2>/dev/null | tr '\n' ' ')"
  finish
fi
ok

# The experiment: a raw-patch sweep and one short learned run, 5 runs.
mkdir -p "$work/project/experiments"
cd "$work/project"
cat >experiments/small.toml <<'T'
name = "slurm-small"
seed = 0
[dataset]
kind = "fashion-mnist"
eval_images = 100
train_images = 500
[training]
steps = 30
batch = 16
eval_every = 30
[[tokenizer]]
kind = "raw-patch"
bits = [8, 4, 2, 1]
[[tokenizer]]
kind = "vq-vae"
codebook_size = 32
hidden = 16
residual = 8
latent_dim = 8
T
"$bin" run experiments/small.toml --db reference/ref.sqlite >"$work/reference.out" 2>&1 || { bad "unsharded reference run failed: $(tail -3 "$work/reference.out")"; finish; }

"$bin" slurm experiments/small.toml --shards 3 --cpus 1 --time 00:20:00 --partition test -o job.sh >"$work/slurm.out" 2>&1 \
  && grep -q "^#SBATCH --array=0-2" job.sh && grep -qF -- '--dependency=afterok:"$SLURM_ARRAY_JOB_ID"' job.sh && grep -q -- "--requeue" job.sh \
  && ok || bad "tokbench slurm: $(cat "$work/slurm.out")"
job=$(sbatch --parsable job.sh 2>"$work/sbatch.err") || { bad "sbatch failed: $(cat "$work/sbatch.err")"; finish; }
# Wait until the queue is empty: the array, and the merge job its first task submits (queued, waiting
# on the array, before the array ends).
done_=""
for _ in $(seq 900); do
  sleep 1
  if [ -z "$(squeue -h -o %i 2>/dev/null)" ]; then done_=1; break; fi
done
[ -n "$done_" ] || bad "jobs did not finish in 15 minutes: $(squeue 2>&1 | head -5)"
for f in results/shards/logs/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -4 "$f"; }; done | sed 's/^/  /' | head -60

[ "$(ls results/shards/slurm-small-*.sqlite 2>/dev/null | wc -l)" -eq 3 ] && ok || bad "expected 3 shard databases, got: $(ls results/shards)"
[ -s results/slurm-small/report.html ] && ok || bad "the merge job wrote no report"
# The merged store equals the unsharded one: run keys, statuses and every final metric (wall times aside).
python3 - results/tokbench.sqlite reference/ref.sqlite <<'P' && ok || bad "merged database differs from the unsharded run"
import sqlite3, sys
def load(p):
    c = sqlite3.connect(p)
    runs = {k: s for k, s in c.execute("select run_key, status from run")}
    res = {(k, key): v for k, key, v in c.execute(
        "select r.run_key, x.key, x.value from run r join result x on x.run_id = r.id where x.key not in ('train_seconds', 'eval_seconds')")}
    img = {(k, key): d for k, key, d in c.execute("select r.run_key, i.key, i.data from run r join image_metric i on i.run_id = r.id")}
    return runs, res, img
m, r = load(sys.argv[1]), load(sys.argv[2])
assert len(r[0]) == 5 and all(s == "finished" for s in r[0].values()), r[0]
assert m[0] == r[0], (m[0], r[0])
assert m[1] == r[1], [k for k in set(m[1]) | set(r[1]) if m[1].get(k) != r[1].get(k)][:5]
assert m[2] == r[2], "per-image values differ"
print(f"  merged = unsharded: {len(m[0])} runs, {len(m[1])} final metrics, {len(m[2])} per-image series")
P
# Merging the same shards again adds nothing.
"$bin" merge results/tokbench.sqlite results/shards/slurm-small-*.sqlite >"$work/merge2.out" 2>&1 && grep -q ": 0 runs added, 5 already present" "$work/merge2.out" \
  && ok || bad "second merge: $(cat "$work/merge2.out")"
cd "$here"
echo "slurm-test: one-node cluster, 3-shard array + merge job, wall time $(( $(date +%s) - start )) s"
finish
