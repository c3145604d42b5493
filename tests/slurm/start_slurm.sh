#!/usr/bin/env bash
# Start a one-node SLURM cluster on this host for tests/test_slurm.py: munged, slurmctld and slurmd, run
# directly (no systemd), all state, logs and PID files under $SELFSEED_SLURM_DIR (default /tmp/selfseed-slurm),
# all traffic on 127.0.0.1. Installs nothing (.ci/slurm.sh does: slurmctld slurmd slurm-client munge).
# The config is $SELFSEED_SLURM_DIR/slurm.conf, linked from SLURM's default path /etc/slurm/slurm.conf: the
# job-step plugin runs srun inside each job with every SLURM_* variable removed (SLURM_CONF too), so srun
# only finds the default path. An /etc/slurm/slurm.conf that is not this link is never touched.
# Stop it with tests/slurm/stop_slurm.sh.
set -euo pipefail

DIR=${SELFSEED_SLURM_DIR:-/tmp/selfseed-slurm}
PARTITION=selfseed # not the default partition: a job runs only if it names it (see profiles/slurm)
export SLURM_CONF=$DIR/slurm.conf
SYSTEM_CONF=/etc/slurm/slurm.conf

for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || { echo "start_slurm: $tool not installed (see .ci/slurm.sh)" >&2; exit 1; }
done
for pidfile in "$DIR"/*.pid; do
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "start_slurm: $(basename "$pidfile" .pid) already runs (PID $(cat "$pidfile")); run stop_slurm.sh first" >&2
        exit 1
    fi
done

if [[ -e $SYSTEM_CONF || -L $SYSTEM_CONF ]] && [[ $(readlink "$SYSTEM_CONF") != "$SLURM_CONF" ]]; then
    echo "start_slurm: $SYSTEM_CONF exists and is not this test cluster's; not touching it" >&2
    exit 1
fi

rm -rf "$DIR"
mkdir -p "$DIR"/munge "$DIR"/state "$DIR"/spool
chmod 700 "$DIR" "$DIR"/munge

# munge: a fresh key, the socket in our directory (slurm.conf's AuthInfo points there)
dd if=/dev/urandom of="$DIR"/munge/munge.key bs=1024 count=1 status=none
chmod 400 "$DIR"/munge/munge.key
munged --force --key-file="$DIR"/munge/munge.key --socket="$DIR"/munge/munge.socket \
    --pid-file="$DIR"/munged.pid --log-file="$DIR"/munged.log --seed-file="$DIR"/munge/munge.seed

# the node line as slurmd sees this host (CPUs, sockets, cores, threads, RealMemory), on the loopback address
host=$(hostname -s)
node=$(slurmd -C | grep '^NodeName=')
cat >"$SLURM_CONF" <<EOF
ClusterName=selfseed
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
# finished jobs stay visible to squeue for 300 s: the plugin's squeue status check needs >= 3 x its delay
MinJobAge=300
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=NO MaxTime=INFINITE State=UP
EOF

mkdir -p "$(dirname "$SYSTEM_CONF")"
ln -sfn "$SLURM_CONF" "$SYSTEM_CONF"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"

for _ in $(seq 60); do
    state=$(sinfo --noheader --partition "$PARTITION" --format %T 2>/dev/null || true)
    if [[ $state == idle ]]; then
        echo "SLURM up: node $host idle in partition $PARTITION;" \
            "PIDs munged $(cat "$DIR"/munged.pid) slurmctld $(cat "$DIR"/slurmctld.pid) slurmd $(cat "$DIR"/slurmd.pid)"
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 1
done
echo "start_slurm: node not idle after 60 s (state: '${state:-none}'); logs in $DIR" >&2
tail -n 20 "$DIR"/slurmctld.log "$DIR"/slurmd.log >&2 || true
exit 1
