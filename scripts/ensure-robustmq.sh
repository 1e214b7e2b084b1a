#!/usr/bin/env bash
# Builds RobustMQ's broker-server, at the release PlacementCenter targets, from its source, for
# the real-server tests (npm run test:robustmq). Nothing is written into the repository: source,
# build and binary live in a cache directory,
#
#   ${ROBUSTMQ_CACHE_DIR:-$HOME/.cache/cdk8s-stateful-robustmq}/<version>/
#     src/                         the source tree, unpacked from ROBUSTMQ_SOURCE
#     target/                      CARGO_TARGET_DIR
#     robustmq/libs/broker-server  the binary, at the path it has in the image (/robustmq/libs)
#
# and a cached binary is reused, so the source is needed only for the first build.
#
# ROBUSTMQ_SOURCE: the RobustMQ source tree at the pinned tag, either a .tar.gz of it (with or
# without one top-level directory) or a directory (a checkout; it is copied, never built in place).
#
# Usage:
#   scripts/ensure-robustmq.sh              build unless cached
#   scripts/ensure-robustmq.sh --print-bin  print the path of the binary and exit
#   scripts/ensure-robustmq.sh --check      exit 0 when the binary is cached
#   scripts/ensure-robustmq.sh --prepare    install packages, unpack the source and fetch crates; no compile
set -euo pipefail

# The release PlacementCenterRelease.current() renders for; the only place the tests' server version lives.
ROBUSTMQ_VERSION="0.4.11"
# RobustMQ's rust-toolchain.toml asks for 1.97; 1.95 builds this tag. RUSTUP_TOOLCHAIN overrides the
# file without editing it.
RUST_TOOLCHAIN="${ROBUSTMQ_RUST_TOOLCHAIN:-1.95.0}"
# Debian packages the build needs: clang and lld because the source's .cargo/config.toml links with
# clang -fuse-ld=lld; libclang for bindgen (rocksdb); protoc and the well-known .proto files
# (libprotobuf-dev: google/protobuf/*.proto, which prost-validate imports) for the gRPC code; the -dev libraries
# for the crates that link the system's libssl, libsasl2, libcurl and libzstd.
PACKAGES=(clang lld libclang-dev protobuf-compiler libprotobuf-dev cmake pkg-config libssl-dev libsasl2-dev libcurl4-openssl-dev libzstd-dev)

CACHE_ROOT="${ROBUSTMQ_CACHE_DIR:-$HOME/.cache/cdk8s-stateful-robustmq}"
CACHE_DIR="$CACHE_ROOT/v$ROBUSTMQ_VERSION"
SRC_DIR="$CACHE_DIR/src"
TARGET_DIR="$CACHE_DIR/target"
BIN="$CACHE_DIR/robustmq/libs/broker-server"
STAMP="$CACHE_DIR/robustmq/build.stamp"

log() { echo "ensure-robustmq: $*" >&2; }
die() { log "$*"; exit 1; }

mode="${1:-build}"
case "$mode" in
  --print-bin) echo "$BIN"; exit 0 ;;
  --check) [ -x "$BIN" ] && [ -f "$STAMP" ]; exit $? ;;
  --prepare|build) ;;
  *) die "unknown argument '$mode' (use --print-bin, --check or --prepare, or nothing)" ;;
esac

if [ "$mode" = build ] && [ -x "$BIN" ] && [ -f "$STAMP" ]; then
  log "cached: $BIN ($(cat "$STAMP"))"
  exit 0
fi

mkdir -p "$CACHE_DIR"
# one build at a time per cache directory
exec 9>"$CACHE_DIR/.lock"
flock 9
if [ "$mode" = build ] && [ -x "$BIN" ] && [ -f "$STAMP" ]; then
  log "cached: $BIN ($(cat "$STAMP"))"
  exit 0
fi

# ---------------------------------------------------------------- packages
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing Debian packages ${missing[*]} and not root (no sudo): install them"
    SUDO="sudo -n"
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO flock /tmp/cdk8s-stateful-apt.lock apt-get update -qq
  $SUDO flock /tmp/cdk8s-stateful-apt.lock apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- toolchain
command -v rustup >/dev/null 2>&1 || die "rustup not found: install Rust $RUST_TOOLCHAIN (or set ROBUSTMQ_RUST_TOOLCHAIN to an installed toolchain)"
export RUSTUP_TOOLCHAIN="$RUST_TOOLCHAIN"
rustc --version >/dev/null 2>&1 || die "Rust toolchain '$RUST_TOOLCHAIN' is not installed (rustup toolchain list shows what is; set ROBUSTMQ_RUST_TOOLCHAIN)"

# ---------------------------------------------------------------- source
if [ ! -f "$SRC_DIR/.unpacked" ]; then
  if [ -z "${ROBUSTMQ_SOURCE:-}" ]; then
    die "ROBUSTMQ_SOURCE is not set and no broker-server is cached at $BIN.
  The real-server tests build RobustMQ v$ROBUSTMQ_VERSION from its source. Provide it with either
    export ROBUSTMQ_SOURCE=/path/to/robustmq-v$ROBUSTMQ_VERSION.tar.gz   (a tarball of the source tree at tag v$ROBUSTMQ_VERSION)
    export ROBUSTMQ_SOURCE=/path/to/robustmq                             (a checkout: git clone --branch v$ROBUSTMQ_VERSION https://github.com/robustmq/robustmq)
  then run npm run test:robustmq again. The first build takes 30-60 minutes on 2 cores; later runs reuse the binary."
  fi
  [ -e "$ROBUSTMQ_SOURCE" ] || die "ROBUSTMQ_SOURCE=$ROBUSTMQ_SOURCE does not exist (a .tar.gz of the RobustMQ v$ROBUSTMQ_VERSION source tree or a checkout of tag v$ROBUSTMQ_VERSION)"
  rm -rf "$SRC_DIR" "$SRC_DIR.tmp"
  mkdir -p "$SRC_DIR.tmp"
  if [ -d "$ROBUSTMQ_SOURCE" ]; then
    log "copying $ROBUSTMQ_SOURCE"
    tar -C "$ROBUSTMQ_SOURCE" --exclude=./.git --exclude=./target -cf - . | tar -C "$SRC_DIR.tmp" -xf -
  else
    log "unpacking $ROBUSTMQ_SOURCE"
    tar -C "$SRC_DIR.tmp" -xzf "$ROBUSTMQ_SOURCE"
  fi
  root="$SRC_DIR.tmp"
  if [ ! -f "$root/Cargo.toml" ]; then
    entries=("$root"/*)
    if [ "${#entries[@]}" -eq 1 ] && [ -f "${entries[0]}/Cargo.toml" ]; then root="${entries[0]}"; fi
  fi
  [ -f "$root/Cargo.toml" ] || die "ROBUSTMQ_SOURCE=$ROBUSTMQ_SOURCE holds no Cargo.toml at its top (or under one top-level directory)"
  grep -q "^version = \"$ROBUSTMQ_VERSION\"" "$root/Cargo.toml" \
    || die "ROBUSTMQ_SOURCE=$ROBUSTMQ_SOURCE is not RobustMQ v$ROBUSTMQ_VERSION (Cargo.toml: $(grep -m1 '^version = ' "$root/Cargo.toml" || echo 'no workspace version'))"
  mv "$root" "$SRC_DIR"
  rm -rf "$SRC_DIR.tmp"
  touch "$SRC_DIR/.unpacked"
fi

# ---------------------------------------------------------------- build
cd "$SRC_DIR"
export CARGO_TARGET_DIR="$TARGET_DIR"
# No debug info and no incremental cache: both cost compile time and disk, and the tests need neither.
export CARGO_PROFILE_DEV_DEBUG=0
export CARGO_INCREMENTAL=0
export CARGO_TERM_PROGRESS_WHEN=never

if [ "$mode" = --prepare ]; then
  log "fetching crates"
  cargo fetch --locked
  log "prepared: source in $SRC_DIR, crates fetched; run without --prepare to compile"
  exit 0
fi

log "building broker-server v$ROBUSTMQ_VERSION with $(rustc --version) into $TARGET_DIR"
start=$(date +%s)
nice -n 10 cargo build --locked -p cmd --bin broker-server
elapsed=$(( $(date +%s) - start ))
mkdir -p "$(dirname "$BIN")"
cp "$TARGET_DIR/debug/broker-server" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "v$ROBUSTMQ_VERSION, $(rustc --version), dev profile without debug info, built in ${elapsed} s on $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$STAMP"
log "built $BIN in ${elapsed} s"
