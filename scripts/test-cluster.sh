#!/usr/bin/env bash
# The cluster suite: builds (or finds cached) Kubernetes binaries, then runs
# test/cluster/*.test.ts against one local control plane with kwok nodes.
# Extra arguments go to jest (e.g. -t 'node loss').
set -euo pipefail
cd "$(dirname "$0")/.."

build_start=$(date +%s)
bash scripts/cluster/build.sh
echo "control plane build: $(( $(date +%s) - build_start )) s"
# Checkov, one of the scanners the linter tests run (kubectl-validate comes with the build above)
CHECKOV="$(bash scripts/ensure-checkov.sh)"
export CHECKOV

suite_start=$(date +%s)
rc=0
npx jest -c jest.cluster.config.js --runInBand "$@" || rc=$?
echo "cluster suite: $(( $(date +%s) - suite_start )) s"
exit "$rc"
