#!/usr/bin/env bash
# Builds the container images of the real node locally (there is no registry to
# pull from) and keeps them as OCI archives in the cache of build.sh:
#
#   ${K8S_CACHE_DIR:-$HOME/.cache/cdk8s-stateful-k8s}/<k8s-version>/images/
#     pause.oci.tar   registry.k8s.io/pause:<tag of the release>: Kubernetes' own
#                     build/pause/linux/pause.c (from the Go module cache that
#                     build.sh filled) compiled with gcc -static
#     redis.oci.tar   one Debian bookworm root file system (mmdebstrap, variant
#                     essential, plus redis-server, redis-tools, hostname and
#                     prometheus-redis-exporter), as two images that share it:
#                       REDIS_IMAGE     command redis-server (the name the
#                                       library's default flavour uses)
#                       EXPORTER_IMAGE  entrypoint prometheus-redis-exporter
#                     The Redis inside is Debian's (7.0 on bookworm), not the
#                     release the image name says; images/redis.versions lists
#                     the package versions.
#     postgres.oci.tar
#                     POSTGRES_IMAGE: a Debian bookworm root file system
#                     (mmdebstrap, variant essential, plus postgresql-15) with
#                     a postgres user of uid 999, no JIT (no LLVM), and the entrypoint
#                     scripts/cluster/images/postgres-entrypoint.sh (PGDATA,
#                     POSTGRES_PASSWORD[_FILE], initdb on an empty data
#                     directory). The PostgreSQL inside is Debian's 15.x, not
#                     the 16.4 the image name says; images/postgres.versions
#                     lists the package versions.
#     robustmq.oci.tar
#                     ROBUSTMQ_IMAGE: the broker-server that
#                     scripts/ensure-robustmq.sh builds from the RobustMQ
#                     source of the release the name says, at
#                     /robustmq/libs/broker-server, with the shared libraries
#                     ldd lists, /bin/sh (dash) for the pods' command, and a
#                     robustmq user of uid 1000 (like the release image).
#                     Skipped with a warning when that binary is not built.
#     node.oci.tar    NODE_IMAGE: this machine's Node.js (the `node` on PATH, the
#                     one that runs the test suite) with the shared libraries
#                     ldd lists, for the failover controller's pods. Its
#                     version is the machine's (images/node.version), not the
#                     one the image name says.
#
# node-up.sh imports the archives with `ctr images import`; the manifests'
# imagePullPolicy IfNotPresent then never pulls.
#
# An archive is rebuilt only when it is missing or its recipe changed (a
# "<name>.recipe" stamp sits next to it). Needs root (mmdebstrap), gcc with a
# static libc, and the Go module cache of build.sh; installs mmdebstrap from
# Debian when it is missing.
#
# Cold build times on a 2-core VM (measured): pause and Node.js about 1 s, Redis
# 50-60 s, PostgreSQL 28 s, RobustMQ 1 s (a copy of the built binary).
#
# Usage:
#   scripts/cluster/node-images.sh                  build whatever is missing
#   scripts/cluster/node-images.sh --print-dir      print the image dir and exit
#   scripts/cluster/node-images.sh --print-names    print "<archive> <image name>" lines and exit
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN_DIR="$("$SCRIPT_DIR/build.sh" --print-bin-dir)"
CACHE_DIR="$(dirname "$BIN_DIR")"
K8S_VERSION="$(basename "$CACHE_DIR")"
IMAGE_DIR="$CACHE_DIR/images"
SRC_DIR="$CACHE_DIR/src"

# Image names the manifests of the tests use (RedisFlavour.REDIS_7_4 and the
# metrics sidecar of RedisCluster).
REDIS_IMAGE="${REDIS_IMAGE:-docker.io/library/redis:7.4.2}"
EXPORTER_IMAGE="${EXPORTER_IMAGE:-docker.io/oliver006/redis_exporter:v1.66.0}"
# the failover controller's image (FailoverController's default)
NODE_IMAGE="${NODE_IMAGE:-docker.io/library/node:24.11.1-alpine3.22}"
# the example app's RwopStatefulApp and PlacementCenter
POSTGRES_IMAGE="${POSTGRES_IMAGE:-docker.io/library/postgres:16.4}"
ROBUSTMQ_IMAGE="${ROBUSTMQ_IMAGE:-ghcr.io/robustmq/robustmq:v0.4.11}"
DEBIAN_SUITE="bookworm"
REDIS_PACKAGES="redis-server,redis-tools,hostname,prometheus-redis-exporter"
POSTGRES_PACKAGES="postgresql-15"
POSTGRES_ENTRYPOINT="$SCRIPT_DIR/images/postgres-entrypoint.sh"
ROBUSTMQ_BIN="$(bash "$SCRIPT_DIR/../ensure-robustmq.sh" --print-bin)"

log() { printf '[node-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pause_tag() {
  local src="$1"
  sed -n 's/^TAG ?= *\([0-9][0-9.]*\)$/\1/p' "$src/build/pause/Makefile" | head -n 1
}

case "${1:-}" in
  --print-dir) echo "$IMAGE_DIR"; exit 0 ;;
  --print-names)
    printf 'redis.oci.tar %s\nredis.oci.tar %s\nnode.oci.tar %s\npostgres.oci.tar %s\n' \
      "$REDIS_IMAGE" "$EXPORTER_IMAGE" "$NODE_IMAGE" "$POSTGRES_IMAGE"
    [[ -f "$IMAGE_DIR/robustmq.oci.tar" ]] && printf 'robustmq.oci.tar %s\n' "$ROBUSTMQ_IMAGE"
    [[ -f "$IMAGE_DIR/pause.name" ]] && printf 'pause.oci.tar %s\n' "$(cat "$IMAGE_DIR/pause.name")"
    exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-dir|--print-names]" >&2; exit 2 ;;
esac

(( EUID == 0 )) || die "needs root (mmdebstrap writes a root-owned file system)"
mkdir -p "$IMAGE_DIR"
exec 9>"$IMAGE_DIR/.build.lock"
flock 9

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# oci_archive OUT LAYER_TAR NAME CONFIG [NAME CONFIG]...: writes an OCI image
# layout holding one image per NAME, all made of the one uncompressed LAYER_TAR,
# with CONFIG (a JSON object) as the image's runtime config, and tars it to OUT.
oci_archive() {
  local out="$1" layer="$2"; shift 2
  local dir entries="" layer_digest layer_size name config cfg man cfg_digest man_digest
  dir="$(mktemp -d "$IMAGE_DIR/.layout.XXXXXX")"
  mkdir -p "$dir/blobs/sha256"
  layer_digest="$(sha "$layer")"
  layer_size="$(size "$layer")"
  cp "$layer" "$dir/blobs/sha256/$layer_digest"
  while (( $# >= 2 )); do
    name="$1" config="$2"; shift 2
    cfg="$dir/config.json"
    printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"scripts/cluster/node-images.sh"}]}' \
      "$config" "$layer_digest" >"$cfg"
    cfg_digest="$(sha "$cfg")"
    man="$dir/manifest.json"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
      "$cfg_digest" "$(size "$cfg")" "$layer_digest" "$layer_size" >"$man"
    man_digest="$(sha "$man")"
    mv "$cfg" "$dir/blobs/sha256/$cfg_digest"
    mv "$man" "$dir/blobs/sha256/$man_digest"
    entries+="${entries:+,}$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}' \
      "$man_digest" "$(size "$dir/blobs/sha256/$man_digest")" "$name" "${name##*:}")"
  done
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$entries" >"$dir/index.json"
  tar -C "$dir" -cf "$out.tmp" oci-layout index.json blobs
  mv -f "$out.tmp" "$out"
  rm -rf "$dir"
}

ensure_mmdebstrap() {
  if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    flock /tmp/cdk8s-stateful-apt.lock apt-get update -qq >&2
    flock /tmp/cdk8s-stateful-apt.lock env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends mmdebstrap >&2
  fi
}

# debian_sources: SOURCES, the machine's own apt sources (one-line or deb822
# files) that name the mirror.
debian_sources() {
  SOURCES=()
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -s "$f" ]] && grep -qE "^[^#]*($DEBIAN_SUITE|Suites:)" "$f" && SOURCES+=("$f")
  done
  (( ${#SOURCES[@]} > 0 )) || die "no apt sources for $DEBIAN_SUITE found under /etc/apt"
}

# up_to_date NAME RECIPE: the archive exists and was built from RECIPE.
up_to_date() {
  [[ -f "$IMAGE_DIR/$1.oci.tar" && "$(cat "$IMAGE_DIR/$1.recipe" 2>/dev/null)" == "$2" ]]
}

# debian_rootfs NAME PACKAGES WORK [MMDEBSTRAP OPTION...]: a root file system of Debian's
# essential set plus PACKAGES in WORK/rootfs.tar, without documentation, manual pages or
# translations and without device nodes (the runtime makes /dev); the installed packages and
# their versions go to $IMAGE_DIR/NAME.versions.
debian_rootfs() {
  local name="$1" packages="$2" work="$3"
  shift 3
  ensure_mmdebstrap
  debian_sources
  mmdebstrap --quiet --variant=essential --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --skip=output/dev "$@" \
    --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Package} \${Version}\n' >'$work/versions'" \
    "$DEBIAN_SUITE" "$work/rootfs.tar" "${SOURCES[@]}" >&2
  mv -f "$work/versions" "$IMAGE_DIR/$name.versions"
}

# copy_with_libraries ROOT FILE...: each FILE's dynamic loader and every library ldd resolves
# for it, copied into ROOT at the same paths.
copy_with_libraries() {
  local root="$1" lib
  shift
  while read -r lib; do
    cp -L --parents "$lib" "$root/"
  done < <(for f in "$@"; do ldd "$f"; done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
}

# ------------------------------- pause ------------------------------------
k8s_src="$(cd "$SRC_DIR/kubernetes" 2>/dev/null && GOFLAGS=-mod=mod GOTOOLCHAIN=local go list -m -f '{{.Dir}}' k8s.io/kubernetes 2>/dev/null)" ||
  die "the k8s.io/kubernetes module is not in the Go module cache; run scripts/cluster/build.sh first"
[[ -f "$k8s_src/build/pause/linux/pause.c" ]] || die "$k8s_src/build/pause/linux/pause.c is missing"
PAUSE_TAG="$(pause_tag "$k8s_src")"
[[ -n "$PAUSE_TAG" ]] || die "cannot read the pause image tag from $k8s_src/build/pause/Makefile"
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_TAG"
pause_recipe="pause $PAUSE_IMAGE from k8s.io/kubernetes@$K8S_VERSION, gcc -Os -static, layout 1"
if up_to_date pause "$pause_recipe"; then
  log "pause image present, skipping"
else
  t0=$SECONDS
  command -v gcc >/dev/null || die "gcc is required to build the pause image"
  work="$(mktemp -d "$IMAGE_DIR/.pause.XXXXXX")"
  mkdir -p "$work/root"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-cdk8s-stateful" \
    -o "$work/root/pause" "$k8s_src/build/pause/linux/pause.c"
  strip "$work/root/pause" 2>/dev/null || true
  tar -C "$work/root" --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" pause
  oci_archive "$IMAGE_DIR/pause.oci.tar" "$work/layer.tar" \
    "$PAUSE_IMAGE" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  rm -rf "$work"
  echo "$PAUSE_IMAGE" >"$IMAGE_DIR/pause.name"
  echo "$pause_recipe" >"$IMAGE_DIR/pause.recipe"
  log "pause image $PAUSE_IMAGE built in $((SECONDS - t0))s"
fi

# ------------------------------- Redis ------------------------------------
redis_recipe="redis $DEBIAN_SUITE essential+$REDIS_PACKAGES as $REDIS_IMAGE and $EXPORTER_IMAGE, layout 1"
if up_to_date redis "$redis_recipe"; then
  log "redis images present, skipping"
else
  t0=$SECONDS
  work="$(mktemp -d "$IMAGE_DIR/.redis.XXXXXX")"
  debian_rootfs redis "$REDIS_PACKAGES" "$work"
  redis_version="$(awk '$1 == "redis-server" { print $2 }' "$IMAGE_DIR/redis.versions")"
  [[ -n "$redis_version" ]] || die "redis-server is missing from the root file system"
  path_env='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
  oci_archive "$IMAGE_DIR/redis.oci.tar" "$work/rootfs.tar" \
    "$REDIS_IMAGE" "{$path_env,\"Cmd\":[\"redis-server\"],\"WorkingDir\":\"/data\",\"Labels\":{\"redis-server.debian-version\":\"$redis_version\"}}" \
    "$EXPORTER_IMAGE" "{$path_env,\"Entrypoint\":[\"/usr/bin/prometheus-redis-exporter\"],\"User\":\"59000:59000\"}"
  rm -rf "$work"
  echo "$redis_recipe" >"$IMAGE_DIR/redis.recipe"
  log "redis images built in $((SECONDS - t0))s (Debian redis-server $redis_version, $(du -h "$IMAGE_DIR/redis.oci.tar" | cut -f1))"
fi

# ------------------------------- Node.js ----------------------------------
node_bin="$(command -v node || true)"
[[ -n "$node_bin" ]] || die "node is not on PATH (the failover controller's image is made from it)"
node_bin="$(readlink -f "$node_bin")"
node_version="$("$node_bin" --version)"
node_recipe="node $NODE_IMAGE from $node_bin $node_version $(sha256sum "$node_bin" | cut -c1-16), layout 1"
if up_to_date node "$node_recipe"; then
  log "node image present, skipping"
else
  t0=$SECONDS
  work="$(mktemp -d "$IMAGE_DIR/.node.XXXXXX")"
  mkdir -p "$work/root/usr/local/bin" "$work/root/tmp"
  chmod 1777 "$work/root/tmp"
  cp "$node_bin" "$work/root/usr/local/bin/node"
  copy_with_libraries "$work/root" "$node_bin"
  tar -C "$work/root" --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" .
  oci_archive "$IMAGE_DIR/node.oci.tar" "$work/layer.tar" \
    "$NODE_IMAGE" '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["node"]}'
  rm -rf "$work"
  echo "$node_version" >"$IMAGE_DIR/node.version"
  echo "$node_recipe" >"$IMAGE_DIR/node.recipe"
  log "node image built in $((SECONDS - t0))s (Node.js $node_version, $(du -h "$IMAGE_DIR/node.oci.tar" | cut -f1))"
fi


# ------------------------------ PostgreSQL --------------------------------
postgres_recipe="postgres $DEBIAN_SUITE essential+$POSTGRES_PACKAGES without JIT, uid 999, as $POSTGRES_IMAGE, entrypoint $(sha "$POSTGRES_ENTRYPOINT" | cut -c1-16), layout 1"
if up_to_date postgres "$postgres_recipe"; then
  log "postgres image present, skipping"
else
  t0=$SECONDS
  work="$(mktemp -d "$IMAGE_DIR/.postgres.XXXXXX")"
  # No JIT (LLVM alone is half the size; without its provider library the server runs without JIT).
  # The postgres user exists before the packages install (their adduser call then keeps it), with
  # the uid of the official image, 999, which the example's security context names. The cluster
  # the package creates at install time is removed: the entrypoint initializes PGDATA.
  debian_rootfs postgres "$POSTGRES_PACKAGES" "$work" \
    --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libLLVM-*' \
    --dpkgopt='path-exclude=/usr/lib/postgresql/15/lib/llvmjit*' \
    --dpkgopt='path-exclude=/usr/lib/postgresql/15/lib/bitcode/*' \
    --essential-hook="echo 'postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/sh' >>\"\$1/etc/passwd\"" \
    --essential-hook="echo 'postgres:x:999:' >>\"\$1/etc/group\"" \
    --customize-hook="rm -rf \"\$1/var/lib/postgresql/15\" \"\$1/etc/postgresql/15\"" \
    --customize-hook="mkdir -p \"\$1/var/lib/postgresql/data\" \"\$1/run/postgresql\"" \
    --customize-hook="chown 999:999 \"\$1/var/lib/postgresql\" \"\$1/var/lib/postgresql/data\" \"\$1/run/postgresql\"" \
    --customize-hook="install -m 0755 '$POSTGRES_ENTRYPOINT' \"\$1/usr/local/bin/docker-entrypoint.sh\""
  postgres_version="$(awk '$1 == "postgresql-15" { print $2 }' "$IMAGE_DIR/postgres.versions")"
  [[ -n "$postgres_version" ]] || die "postgresql-15 is missing from the root file system"
  # the server's binaries (initdb, postgres, pg_isready) first on PATH; SIGINT is the fast shutdown
  oci_archive "$IMAGE_DIR/postgres.oci.tar" "$work/rootfs.tar" \
    "$POSTGRES_IMAGE" "{\"Env\":[\"PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"PGDATA=/var/lib/postgresql/data\",\"LANG=C.UTF-8\"],\"Entrypoint\":[\"docker-entrypoint.sh\"],\"Cmd\":[\"postgres\"],\"User\":\"999:999\",\"StopSignal\":\"SIGINT\",\"Labels\":{\"postgresql.debian-version\":\"$postgres_version\"}}"
  rm -rf "$work"
  echo "$postgres_recipe" >"$IMAGE_DIR/postgres.recipe"
  log "postgres image built in $((SECONDS - t0))s (Debian postgresql-15 $postgres_version, $(du -h "$IMAGE_DIR/postgres.oci.tar" | cut -f1))"
fi

# ------------------------------- RobustMQ ---------------------------------
if [[ ! -x "$ROBUSTMQ_BIN" ]]; then
  log "WARNING: $ROBUSTMQ_BIN is not built (scripts/ensure-robustmq.sh); no $ROBUSTMQ_IMAGE image"
else
  robustmq_recipe="robustmq $ROBUSTMQ_IMAGE from $(sha "$ROBUSTMQ_BIN" | cut -c1-16), sh $(readlink -f /bin/sh), uid 1000, layout 1"
  if up_to_date robustmq "$robustmq_recipe"; then
    log "robustmq image present, skipping"
  else
    t0=$SECONDS
    work="$(mktemp -d "$IMAGE_DIR/.robustmq.XXXXXX")"
    root="$work/root"
    mkdir -p "$root/robustmq/libs" "$root/robustmq/data" "$root/robustmq/logs" "$root/bin" "$root/etc" "$root/tmp"
    chmod 1777 "$root/tmp"
    cp "$ROBUSTMQ_BIN" "$root/robustmq/libs/broker-server"
    # the pods' command is /bin/sh -c '...'
    cp "$(readlink -f /bin/sh)" "$root/bin/sh"
    copy_with_libraries "$root" "$ROBUSTMQ_BIN" /bin/sh
    printf 'root:x:0:0:root:/root:/bin/sh\nrobustmq:x:1000:1000:RobustMQ:/robustmq:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\nrobustmq:x:1000:\n' >"$root/etc/group"
    chown -R 1000:1000 "$root/robustmq/data" "$root/robustmq/logs"
    tar -C "$root" --numeric-owner -cf "$work/layer.tar" .
    oci_archive "$IMAGE_DIR/robustmq.oci.tar" "$work/layer.tar" \
      "$ROBUSTMQ_IMAGE" '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/robustmq/libs/broker-server"],"WorkingDir":"/robustmq","User":"1000:1000"}'
    rm -rf "$work"
    echo "$robustmq_recipe" >"$IMAGE_DIR/robustmq.recipe"
    log "robustmq image built in $((SECONDS - t0))s ($(du -h "$IMAGE_DIR/robustmq.oci.tar" | cut -f1))"
  fi
fi
