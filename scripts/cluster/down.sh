#!/usr/bin/env bash
# Stops a control plane started by up.sh and removes its work dir; a real node
# added by node-up.sh is stopped first (node-down.sh).
#
# Usage: scripts/cluster/down.sh [WORK_DIR]   (default: $K8S_WORK_DIR)
#
# Every process recorded in WORK_DIR/pids is sent SIGTERM (newest first) and
# SIGKILL if it is still there after DOWN_TIMEOUT_SECONDS (default 10). A PID
# is only signalled while its command line still mentions WORK_DIR, so a
# recycled PID is never hit. Works on a half-started cluster too.
# KEEP_WORK_DIR=1 keeps the directory (logs) after the processes are gone.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK_DIR="${1:-${K8S_WORK_DIR:-}}"
TIMEOUT="${DOWN_TIMEOUT_SECONDS:-10}"
log() { printf '[down] %s\n' "$*" >&2; }

[[ -n "$WORK_DIR" ]] || { log "usage: $0 WORK_DIR (or set K8S_WORK_DIR)"; exit 2; }
if [[ ! -d "$WORK_DIR" ]]; then
  log "$WORK_DIR does not exist; nothing to do"
  exit 0
fi
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
if [[ ! -f "$WORK_DIR/.cdk8s-stateful-k8s-workdir" ]]; then
  log "$WORK_DIR was not created by up.sh (no marker file); refusing to touch it"
  exit 1
fi

# ours PID: true while PID runs and its command line mentions the work dir.
ours() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ && "$pid" != "$$" ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK_DIR"
}

# stop NAME PID
stop() {
  local name="$1" pid="$2" deadline
  ours "$pid" || return 0
  # The watchdog is a shell loop in its own process group; take its sleep along.
  if [[ "$name" == watchdog ]]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  else
    kill -TERM "$pid" 2>/dev/null
  fi
  deadline=$((SECONDS + TIMEOUT))
  while ours "$pid" && (( SECONDS < deadline )); do
    # A zombie whose parent is gone stays until reaped; treat it as stopped.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
    sleep 0.1
  done
  if ours "$pid" && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
    log "$name ($pid) ignored SIGTERM for ${TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
  fi
  log "stopped $name ($pid)"
}

# Volumes made by kube-controller-manager's host-path provisioner are empty
# directories /tmp/hostpath_pv/<uuid>; note them while the API server still
# answers, remove them once everything is stopped.
hostpath_dirs=()
if [[ -f "$WORK_DIR/cluster.env" && -f "$WORK_DIR/kubeconfig" ]]; then
  kubectl_bin="$(sed -n 's/^KUBECTL=//p' "$WORK_DIR/cluster.env")"
  if [[ -x "$kubectl_bin" ]]; then
    mapfile -t hostpath_dirs < <("$kubectl_bin" --kubeconfig="$WORK_DIR/kubeconfig" --request-timeout=5s \
      get pv -o jsonpath='{range .items[*]}{.spec.hostPath.path}{"\n"}{end}' 2>/dev/null |
      grep -E '^/tmp/hostpath_pv/[0-9a-f-]+$' || true)
  fi
fi

# A real node (node-up.sh) goes first, while the API server still answers.
if [[ -d "$WORK_DIR/node" ]]; then
  "$SCRIPT_DIR/node-down.sh" "$WORK_DIR"
fi

# Newest first: watchdog, kwok, scheduler, controller-manager, apiserver, etcd.
if [[ -f "$WORK_DIR/pids/order" ]]; then
  mapfile -t names < <(tac "$WORK_DIR/pids/order")
  for name in "${names[@]}"; do
    [[ -n "$name" && -f "$WORK_DIR/pids/$name.pid" ]] || continue
    stop "$name" "$(cat "$WORK_DIR/pids/$name.pid")"
  done
fi

# Anything else still running from this work dir (e.g. a component whose PID
# file was never written because up.sh was interrupted at that moment).
for p in /proc/[0-9]*; do
  pid="${p#/proc/}"
  [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
  if ours "$pid"; then
    comm="$(cat "/proc/$pid/comm" 2>/dev/null)"
    case "$comm" in
      etcd|kube-apiserver|kube-controller|kube-scheduler|kwok) stop "$comm" "$pid" ;;
    esac
  fi
done

for d in "${hostpath_dirs[@]}"; do
  rmdir -- "$d" 2>/dev/null || true
done

if [[ "${KEEP_WORK_DIR:-0}" == 1 ]]; then
  log "kept $WORK_DIR"
else
  rm -rf -- "$WORK_DIR"
  log "removed $WORK_DIR"
fi
