#!/usr/bin/env bash
# Stops the real node that node-up.sh added to a cluster and undoes its changes
# to the machine: kills every container (runc), stops the kubelet, kube-proxy,
# CoreDNS, containerd and its shims, unmounts what they mounted, removes the
# pods' network namespaces, the bridge, the blackhole route, the iptables rules
# and chains and the cgroups that were added, restores the sysctls saved before
# the node started, removes the paths outside the work dir that did not exist
# before, and deletes the Node object while the API server still answers.
#
# Usage: scripts/cluster/node-down.sh WORK_DIR
# Safe to run on a half-started node, and more than once. down.sh runs it first.
set -uo pipefail

WORK_DIR="${1:-${K8S_WORK_DIR:-}}"
TIMEOUT="${DOWN_TIMEOUT_SECONDS:-10}"
OWNER_FILE=/run/cdk8s-stateful-real-node.owner
log() { printf '[node-down] %s\n' "$*" >&2; }

[[ -n "$WORK_DIR" && -f "$WORK_DIR/.cdk8s-stateful-k8s-workdir" ]] || { log "usage: $0 WORK_DIR"; exit 2; }
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
NODE_DIR="$WORK_DIR/node"
STATE="$NODE_DIR/state"
if [[ ! -d "$NODE_DIR" ]]; then
  exit 0
fi

# ours PID: true while PID runs and its command line mentions the work dir.
ours() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ && "$pid" != "$$" ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK_DIR"
}
zombie() { [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]]; }
stop_pid() {
  local name="$1" pid="$2" deadline
  ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  deadline=$((SECONDS + TIMEOUT))
  while ours "$pid" && ! zombie "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
  if ours "$pid" && ! zombie "$pid"; then
    log "$name ($pid) ignored SIGTERM for ${TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
  fi
  log "stopped $name ($pid)"
}
pid_of() { cat "$NODE_DIR/pids/$1.pid" 2>/dev/null; }

KUBECTL="$(sed -n 's/^KUBECTL=//p' "$WORK_DIR/cluster.env" 2>/dev/null)"
NODE_NAME="$(cat "$STATE/node-name" 2>/dev/null)"

# 1. No new pods: the kubelet goes first, then the cluster DNS and kube-proxy.
for name in kubelet apiserver-relay coredns kube-proxy; do
  pid="$(pid_of "$name")" && stop_pid "$name" "$pid"
done

# 2. Every container, killed through runc (the kubelet is gone, so none restarts).
RUNC_ROOT="$NODE_DIR/containerd/runc/k8s.io"
if [[ -d "$RUNC_ROOT" ]] && command -v runc >/dev/null; then
  mapfile -t ids < <(runc --root "$RUNC_ROOT" list -q 2>/dev/null)
  for id in "${ids[@]}"; do
    runc --root "$RUNC_ROOT" kill --all "$id" KILL 2>/dev/null
  done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 50); do
      [[ "$(runc --root "$RUNC_ROOT" state "$id" 2>/dev/null | sed -n 's/.*"status": "\(.*\)".*/\1/p')" == running ]] || break
      sleep 0.1
    done
    runc --root "$RUNC_ROOT" delete --force "$id" 2>/dev/null
  done
  (( ${#ids[@]} == 0 )) || log "killed ${#ids[@]} containers"
fi

# Connections the relay forked are its children; anything of ours still running goes now.
for p in /proc/[0-9]*; do
  pid="${p#/proc/}"
  case "$(cat "$p/comm" 2>/dev/null)" in
    socat|kubelet|kube-proxy|coredns) ours "$pid" && kill -KILL "$pid" 2>/dev/null && log "killed leftover $(cat "$p/comm" 2>/dev/null) $pid" ;;
  esac
done

# 3. containerd, then any shim of it that is left.
pid="$(pid_of containerd)" && stop_pid containerd "$pid"
for p in /proc/[0-9]*; do
  pid="${p#/proc/}"
  [[ "$(cat "$p/comm" 2>/dev/null)" == containerd-shim* ]] || continue
  ours "$pid" && kill -KILL "$pid" 2>/dev/null && log "killed shim $pid"
done
sleep 0.2

# 4. Mounts under the node dir (container root file systems, pod volumes, shm),
#    deepest first; then the network namespaces the runtime made.
for _ in 1 2 3; do
  mapfile -t mounts < <(awk -v d="$NODE_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  (( ${#mounts[@]} == 0 )) && break
  for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
done
if [[ -f "$STATE/netns-before" ]]; then
  while read -r ns; do
    [[ "$ns" == cni-* ]] || continue
    grep -qxF "$ns" "$STATE/netns-before" && continue
    ip netns delete "$ns" 2>/dev/null || { umount "/run/netns/$ns" 2>/dev/null; rm -f "/run/netns/$ns"; }
  done < <(find /run/netns -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null)
fi

# 5. Network: bridge, route, iptables.
if [[ -f "$STATE/bridge" ]]; then
  bridge="$(cat "$STATE/bridge")"
  ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge" && log "removed bridge $bridge"
fi
if [[ -f "$STATE/blackhole-route" ]]; then
  ip route del blackhole "$(cat "$STATE/blackhole-route")" 2>/dev/null
fi
# restore_tables SAVE RESTORE SNAPSHOT: every table in use before gets its old
# rules back; tables that appeared since are emptied.
restore_tables() {
  local save="$1" restore="$2" snapshot="$3" t
  command -v "$save" >/dev/null && [[ -f "$snapshot" ]] || return 0
  [[ "$("$save" 2>/dev/null | grep -v '^#')" == "$(grep -v '^#' "$snapshot")" ]] && return 0
  for t in $("$save" 2>/dev/null | sed -n 's/^\*//p'); do
    grep -qx "\*$t" "$snapshot" && continue
    "${save%-save}" -t "$t" -F 2>/dev/null
    "${save%-save}" -t "$t" -X 2>/dev/null
  done
  "$restore" <"$snapshot" && log "restored the rules saved in $snapshot"
}
restore_tables iptables-save iptables-restore "$STATE/iptables"
restore_tables ip6tables-save ip6tables-restore "$STATE/ip6tables"

# 6. cgroups the kubelet made (deepest first; they are empty once the containers are gone).
if [[ -f "$STATE/created-cgroups" ]]; then
  while read -r c; do
    [[ -d "$c" ]] || continue
    find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d "$c" ]] && log "could not remove cgroup $c"
  done <"$STATE/created-cgroups"
fi

# 7. sysctls back to their saved values.
if [[ -f "$STATE/sysctl" ]]; then
  while IFS='=' read -r k v; do
    [[ -n "$k" ]] || continue
    cur="$(sysctl -n "$k" 2>/dev/null)" || continue
    if [[ "$cur" != "$v" ]]; then
      sysctl -qw "$k=$v" && log "restored $k=$v (was $cur)"
    fi
  done <"$STATE/sysctl"
fi

# 8. Paths outside the work dir that did not exist before (nothing may be mounted there any more).
if [[ -f "$STATE/created-paths" ]]; then
  while read -r p; do
    [[ -e "$p" ]] || continue
    if awk -v d="$p" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
      log "not removing $p: something is still mounted there"
      continue
    fi
    rm -rf -- "$p" && log "removed $p"
  done <"$STATE/created-paths"
fi

# 9. The Node object and the API server's endpoint for pods, while the API server answers.
if [[ -n "$NODE_NAME" && -x "$KUBECTL" && -f "$WORK_DIR/kubeconfig" ]]; then
  "$KUBECTL" --kubeconfig="$WORK_DIR/kubeconfig" --request-timeout=5s delete node "$NODE_NAME" \
    --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "$KUBECTL" --kubeconfig="$WORK_DIR/kubeconfig" --request-timeout=5s -n default delete endpointslice \
    kubernetes-real-node --ignore-not-found --wait=false >/dev/null 2>&1 || true
fi

if [[ "$(cat "$OWNER_FILE" 2>/dev/null)" == "$WORK_DIR" ]]; then
  rm -f "$OWNER_FILE"
fi
rm -rf -- "$NODE_DIR" 2>/dev/null || log "could not remove all of $NODE_DIR"
log "real node stopped"
