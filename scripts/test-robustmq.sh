#!/usr/bin/env bash
# The real-server suite: builds (or finds cached) RobustMQ's broker-server from the source named by
# ROBUSTMQ_SOURCE (see scripts/ensure-robustmq.sh), then runs test/robustmq-real.test.ts: three members
# of the example app's PlacementCenter on 127.0.0.1. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

build_start=$(date +%s)
bash scripts/ensure-robustmq.sh
echo "robustmq build: $(( $(date +%s) - build_start )) s"

suite_start=$(date +%s)
rc=0
ROBUSTMQ_REAL_REQUIRED=1 npx jest --testPathIgnorePatterns /node_modules/ --runInBand test/robustmq-real.test.ts "$@" || rc=$?
echo "robustmq suite: $(( $(date +%s) - suite_start )) s"
exit "$rc"
