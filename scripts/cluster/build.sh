#!/usr/bin/env bash
# Builds (from source, through the Go module proxy) the binaries used by the
# local integration-test control plane:
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (k8s.io/kubernetes)
#   kubelet, kube-proxy (the real node, see node-up.sh)               (k8s.io/kubernetes)
#   coredns (cluster DNS of the real node; plugins bind, ready,
#     errors and kubernetes only, so it never forwards a query)       (github.com/coredns/coredns)
#   etcd                                                              (go.etcd.io/etcd/server/v3)
#   kwok                                                              (sigs.k8s.io/kwok)
#   kube-score                                                        (github.com/zegl/kube-score)
#   kubectl-validate                                                  (sigs.k8s.io/kubectl-validate)
#   kube-linter (optional, see KUBE_LINTER_VERSION below)             (golang.stackrox.io/kube-linter)
#
# Output goes to a cache directory outside the repository:
#   ${K8S_CACHE_DIR:-$HOME/.cache/cdk8s-stateful-k8s}/<k8s-version>/bin
#
# The script is idempotent: a binary is rebuilt only when it is missing or was
# built from another version (a "<name>.version" stamp sits next to it).
#
# Usage:
#   scripts/cluster/build.sh                 build whatever is missing
#   scripts/cluster/build.sh --print-bin-dir print the bin dir and exit
#   scripts/cluster/build.sh --print-versions print the pinned versions and exit
#   scripts/cluster/build.sh --check         exit 0 when every required binary is present
set -euo pipefail

# --------------------------------------------------------------------------
# Pinned versions: the only place where versions of the test cluster live.
# --------------------------------------------------------------------------
# Newest Kubernetes release served by the module proxy that builds with the
# local Go toolchain (go.mod of v1.37.2 says "go 1.26.0").
K8S_VERSION="v1.37.2"
# etcd server built from go modules. Kubernetes v1.37 is tested against etcd
# 3.7.0 (build/dependencies.yaml), and its apiserver needs etcd >= 3.4.31 /
# 3.5.13 for watch progress notifications; Debian bookworm ships 3.4.23.
ETCD_VERSION="v3.7.3"
# kwok release; v0.8.0 is built against k8s.io/* v0.36 client libraries.
KWOK_VERSION="v0.8.0"
KUBE_SCORE_VERSION="v1.20.0"
# strict validation of manifests against OpenAPI schemas taken from the local API server (the only release
# the module proxy lists)
KUBECTL_VALIDATE_VERSION="v0.0.4"
# CoreDNS for the real node's cluster DNS, built from its module with a main of
# our own that links the plugins bind, ready, errors and kubernetes only.
COREDNS_VERSION="v1.15.0"
# kube-linter is published under the vanity module path golang.stackrox.io,
# which the module proxy used here may refuse to serve. The build of this
# tool is therefore best-effort (a warning, not a failure).
KUBE_LINTER_VERSION="v0.7.6"
# --------------------------------------------------------------------------

K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"   # v1.37.2 -> v0.37.2
CACHE_ROOT="${K8S_CACHE_DIR:-$HOME/.cache/cdk8s-stateful-k8s}"
CACHE_DIR="${CACHE_ROOT}/${K8S_VERSION}"
BIN_DIR="${CACHE_DIR}/bin"
SRC_DIR="${CACHE_DIR}/src"

# kube-linter is optional (see KUBE_LINTER_VERSION above) and not listed here.
REQUIRED_TOOLS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy etcd kwok kube-score kubectl-validate coredns)

tool_version() {
  case "$1" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet|kube-proxy) echo "$K8S_VERSION" ;;
    coredns) echo "$COREDNS_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    kube-score) echo "$KUBE_SCORE_VERSION" ;;
    kubectl-validate) echo "$KUBECTL_VALIDATE_VERSION" ;;
    kube-linter) echo "$KUBE_LINTER_VERSION" ;;
    *) echo "unknown tool $1" >&2; return 1 ;;
  esac
}

is_built() {
  local name="$1"
  [[ -x "$BIN_DIR/$name" && -f "$BIN_DIR/$name.version" ]] &&
    [[ "$(cat "$BIN_DIR/$name.version")" == "$(tool_version "$name")" ]]
}

case "${1:-}" in
  --print-bin-dir) echo "$BIN_DIR"; exit 0 ;;
  --print-versions)
    printf 'kubernetes %s\netcd %s\nkwok %s\nkube-score %s\nkubectl-validate %s\ncoredns %s\nkube-linter %s\n' \
      "$K8S_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" "$KUBE_SCORE_VERSION" "$KUBECTL_VALIDATE_VERSION" "$COREDNS_VERSION" "$KUBE_LINTER_VERSION"
    exit 0 ;;
  --check)
    for t in "${REQUIRED_TOOLS[@]}"; do is_built "$t" || { echo "missing: $t" >&2; exit 1; }; done
    [[ -f "$CACHE_DIR/share/kwok/stages.yaml" ]] || { echo "missing: kwok stages" >&2; exit 1; }
    exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-bin-dir|--print-versions|--check]" >&2; exit 2 ;;
esac

command -v go >/dev/null || { echo "build.sh: the Go toolchain (go) is required" >&2; exit 1; }

mkdir -p "$BIN_DIR" "$SRC_DIR"

# Serialise concurrent invocations (e.g. two test runs starting at once).
exec 9>"$CACHE_DIR/.build.lock"
if command -v flock >/dev/null; then flock 9; fi

export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
NICE=(nice -n 10)
GO_BUILD=(go build -p 2 -trimpath)

log() { printf '[build] %s\n' "$*" >&2; }

# build_tool NAME MODULE_DIR PACKAGE [extra ldflags]
build_tool() {
  local name="$1" moddir="$2" pkg="$3" extra_ldflags="${4:-}"
  local start end
  start=$(date +%s)
  log "building $name $(tool_version "$name") ($pkg)"
  # Explicit error checks: this function also runs inside "if", where set -e is off.
  if ! (cd "$moddir" && "${NICE[@]}" "${GO_BUILD[@]}" -ldflags="-s -w $extra_ldflags" \
          -o "$BIN_DIR/.$name.tmp" "$pkg"); then
    rm -f "$BIN_DIR/.$name.tmp"
    log "FAILED to build $name after $(( $(date +%s) - start ))s"
    return 1
  fi
  mv -f "$BIN_DIR/.$name.tmp" "$BIN_DIR/$name" || return 1
  tool_version "$name" >"$BIN_DIR/$name.version" || return 1
  end=$(date +%s)
  log "built $name in $((end - start))s ($(du -h "$BIN_DIR/$name" | cut -f1))"
}

# requires GO_MOD MODULE VERSION: true when GO_MOD requires MODULE at VERSION.
requires() {
  awk -v m="$2" -v v="$3" '
    ($1 == "require" && $2 == m && $3 == v) || ($1 == m && $2 == v) { found = 1 }
    END { exit !found }' "$1"
}

# write_wrapper DIR MODULE VERSION [replace-block]
write_wrapper() {
  local dir="$1" mod="$2" ver="$3" replaces="${4:-}"
  mkdir -p "$dir"
  if [[ -f "$dir/go.mod" ]] && requires "$dir/go.mod" "$mod" "$ver"; then
    return 0
  fi
  rm -f "$dir/go.mod" "$dir/go.sum"
  {
    echo "module local.invalid/build-$(basename "$dir")"
    echo
    echo "go 1.26.0"
    echo
    echo "require $mod $ver"
    if [[ -n "$replaces" ]]; then
      echo
      echo "replace ("
      printf '%s\n' "$replaces"
      echo ")"
    fi
  } >"$dir/go.mod"
}

total_start=$(date +%s)

# ----------------------------- Kubernetes ---------------------------------
K8S_TOOLS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
need_k8s=0
for t in "${K8S_TOOLS[@]}"; do is_built "$t" || need_k8s=1; done
if (( need_k8s )); then
  k8s_dir="$SRC_DIR/kubernetes"
  if [[ ! -f "$k8s_dir/go.mod" ]] || ! requires "$k8s_dir/go.mod" k8s.io/kubernetes "$K8S_VERSION"; then
    log "resolving k8s.io/kubernetes $K8S_VERSION staging modules"
    mkdir -p "$k8s_dir"
    # k8s.io/kubernetes requires its staging modules as v0.0.0 and replaces
    # them with ./staging/...; a consumer has to pin each of them itself.
    # Generate that list from the release's own go.mod.
    gomod_file="$(cd "$k8s_dir" && GOFLAGS='' go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
      sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -f "$gomod_file" ]] || { log "could not download the go.mod of k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
    replaces="$(awk -v v="$K8S_STAGING_VERSION" '
        /^require[[:space:]]*\(/ { inreq = 1; next }
        inreq && /^\)/ { inreq = 0; next }
        inreq && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { printf "\t%s => %s %s\n", $1, $1, v }
      ' "$gomod_file")"
    [[ -n "$replaces" ]] || { log "no staging modules found in $gomod_file"; exit 1; }
    write_wrapper "$k8s_dir" k8s.io/kubernetes "$K8S_VERSION" "$replaces"
  fi
  k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
  build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  k8s_ldflags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
    k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
  done
  for t in "${K8S_TOOLS[@]}"; do
    is_built "$t" && { log "$t $K8S_VERSION present, skipping"; continue; }
    build_tool "$t" "$k8s_dir" "k8s.io/kubernetes/cmd/$t" "$k8s_ldflags"
  done
else
  log "kubernetes $K8S_VERSION binaries present, skipping"
fi

# -------------------------------- etcd ------------------------------------
if is_built etcd; then
  log "etcd $ETCD_VERSION present, skipping"
else
  write_wrapper "$SRC_DIR/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  build_tool etcd "$SRC_DIR/etcd" go.etcd.io/etcd/server/v3
fi

# -------------------------------- kwok ------------------------------------
if is_built kwok; then
  log "kwok $KWOK_VERSION present, skipping"
else
  write_wrapper "$SRC_DIR/kwok" sigs.k8s.io/kwok "$KWOK_VERSION"
  build_tool kwok "$SRC_DIR/kwok" sigs.k8s.io/kwok/cmd/kwok \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"
fi

# kwok reads its stages from a config file. Keep the release's default stages
# (the same ones kwokctl writes) next to the binaries: node-initialize,
# node-heartbeat-with-lease, pod-ready, pod-complete and pod-delete.
KWOK_SHARE="$CACHE_DIR/share/kwok"
if [[ -f "$KWOK_SHARE/stages.yaml" && "$(cat "$KWOK_SHARE/stages.version" 2>/dev/null)" == "$KWOK_VERSION" ]]; then
  log "kwok $KWOK_VERSION stages present, skipping"
else
  write_wrapper "$SRC_DIR/kwok" sigs.k8s.io/kwok "$KWOK_VERSION"
  kwok_src="$(cd "$SRC_DIR/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  mkdir -p "$KWOK_SHARE"
  {
    for f in node/fast/node-initialize.yaml \
             node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo "---"
      cat "$kwok_src/kustomize/stage/$f"
    done
  } >"$KWOK_SHARE/.stages.yaml.tmp"
  mv -f "$KWOK_SHARE/.stages.yaml.tmp" "$KWOK_SHARE/stages.yaml"
  echo "$KWOK_VERSION" >"$KWOK_SHARE/stages.version"
  log "kwok $KWOK_VERSION default stages saved to $KWOK_SHARE/stages.yaml"
fi

# ----------------------------- kube-score ---------------------------------
if is_built kube-score; then
  log "kube-score $KUBE_SCORE_VERSION present, skipping"
else
  write_wrapper "$SRC_DIR/kube-score" github.com/zegl/kube-score "$KUBE_SCORE_VERSION"
  build_tool kube-score "$SRC_DIR/kube-score" github.com/zegl/kube-score/cmd/kube-score \
    "-X main.version=${KUBE_SCORE_VERSION#v}"
fi

# -------------------------- kubectl-validate ------------------------------
if is_built kubectl-validate; then
  log "kubectl-validate $KUBECTL_VALIDATE_VERSION present, skipping"
else
  write_wrapper "$SRC_DIR/kubectl-validate" sigs.k8s.io/kubectl-validate "$KUBECTL_VALIDATE_VERSION"
  build_tool kubectl-validate "$SRC_DIR/kubectl-validate" sigs.k8s.io/kubectl-validate
fi

# ------------------------------- CoreDNS ----------------------------------
# Only the plugins the real node's DNS needs: bind (listen on the node bridge's
# address only), ready (a readiness endpoint on 127.0.0.1), errors and
# kubernetes (answers for the cluster domain from Services and EndpointSlices).
# Without forward or any other resolver plugin, a name outside the cluster
# domain is refused, never passed on.
if is_built coredns; then
  log "coredns $COREDNS_VERSION present, skipping"
else
  coredns_dir="$SRC_DIR/coredns"
  write_wrapper "$coredns_dir" github.com/coredns/coredns "$COREDNS_VERSION"
  cat >"$coredns_dir/main.go" <<'EOF'
// CoreDNS with the plugins bind, ready, errors and kubernetes only.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// the order in which the plugins see a query
	dnsserver.Directives = []string{"bind", "ready", "errors", "kubernetes"}
}

func main() { coremain.Run() }
EOF
  build_tool coredns "$coredns_dir" . \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
fi

# ---------------------------- kube-linter ---------------------------------
if is_built kube-linter; then
  log "kube-linter $KUBE_LINTER_VERSION present, skipping"
elif [[ -f "$CACHE_DIR/.kube-linter.unavailable" && -z "${RETRY_KUBE_LINTER:-}" ]]; then
  log "kube-linter: skipped (unavailable on a previous run; set RETRY_KUBE_LINTER=1 to try again)"
else
  write_wrapper "$SRC_DIR/kube-linter" golang.stackrox.io/kube-linter "$KUBE_LINTER_VERSION"
  if build_tool kube-linter "$SRC_DIR/kube-linter" golang.stackrox.io/kube-linter/cmd/kube-linter \
        "-X golang.stackrox.io/kube-linter/internal/version.version=$KUBE_LINTER_VERSION"; then
    rm -f "$CACHE_DIR/.kube-linter.unavailable"
  else
    touch "$CACHE_DIR/.kube-linter.unavailable"
    log "WARNING: kube-linter could not be built (module host not reachable?); continuing without it"
  fi
fi

log "all done in $(( $(date +%s) - total_start ))s; binaries in $BIN_DIR"
