#!/usr/bin/env bash
# Stop the test cluster started by start_slurm.sh: slurmd, slurmctld, munged, each by the PID it recorded;
# remove its /etc/slurm/slurm.conf link.
set -uo pipefail

DIR=${SELFSEED_SLURM_DIR:-/tmp/selfseed-slurm}
for daemon in slurmd slurmctld munged; do
    pidfile=$DIR/$daemon.pid
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid"
        fi
        echo "stopped $daemon (PID $pid)"
    fi
    rm -f "$pidfile"
done

if [[ $(readlink /etc/slurm/slurm.conf) == "$DIR/slurm.conf" ]]; then
    rm -f /etc/slurm/slurm.conf
fi
