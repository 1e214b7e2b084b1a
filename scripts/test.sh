#!/usr/bin/env bash
# The fast test suite: unit, snapshot, schema and real-Redis tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f scripts/ensure-redis.sh ]; then
  bash scripts/ensure-redis.sh
fi
# Valkey 8 binaries for the real-Valkey tests (skipped with a warning when they cannot be had)
if [ -f scripts/ensure-valkey.sh ]; then
  bash scripts/ensure-valkey.sh
fi
# a Redis 8 server for the real-Redis-8 tests (skipped with a warning when it cannot be had)
if [ -f scripts/ensure-redis8.sh ]; then
  bash scripts/ensure-redis8.sh
fi
# the failover controller program is bundled from TypeScript; the constructs embed the bundle
node scripts/bundle-controller.js >/dev/null
exec npx jest "$@"
