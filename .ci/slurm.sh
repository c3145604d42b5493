#!/usr/bin/env bash
# CI, after `make test`: install SLURM, start a one-node cluster, run tests/test_slurm.py on it, stop it.
# Runs after `make test` on purpose: with SLURM's client tools installed, every snakemake start waits ~9 s
# on `scontrol` unless slurmctld runs.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null

export SELFSEED_SLURM_DIR=${SELFSEED_SLURM_DIR:-/tmp/selfseed-slurm}
export SLURM_CONF=$SELFSEED_SLURM_DIR/slurm.conf
trap 'bash tests/slurm/stop_slurm.sh' EXIT
bash tests/slurm/start_slurm.sh

status=0
.venv/bin/pytest -q -rs tests/test_slurm.py || status=$?
exit "$status"
