#!/usr/bin/env bash
# End-to-end check of the local test cluster:
#   build (if needed) -> up -> restricted namespace -> server-side apply of a
#   StatefulSet with a PVC -> pod Running and Ready on a kwok node, PVC Bound
#   -> PodSecurity rejects a privileged pod -> node loss seen by the node
#   lifecycle controller, node restored -> down.
#
# SMOKE_NODE_LOSS=0 skips the node-loss part. Other settings are passed on to
# up.sh (see there); for the node-loss part the node monitor grace period
# defaults to 20s here to keep the run short.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export NODE_MONITOR_GRACE_PERIOD="${NODE_MONITOR_GRACE_PERIOD:-20s}"
NS=smoke

log() { printf '[smoke] %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_total="$(now)"
"$SCRIPT_DIR/build.sh"

WORK_DIR=""
cleanup() {
  local rc=$?
  if [[ -n "$WORK_DIR" ]]; then
    if (( rc != 0 )); then
      log "failure; state of the cluster:"
      k get nodes -o wide >&2 || true
      k -n "$NS" get statefulset,pods,pvc -o wide >&2 || true
      k -n "$NS" describe pod web-0 2>/dev/null | tail -n 20 >&2 || true
    fi
    "$SCRIPT_DIR/down.sh" "$WORK_DIR" || true
  fi
  if (( rc == 0 )); then log "PASS in $(elapsed "$t_total")s"; else log "FAIL (exit $rc)"; fi
}
trap cleanup EXIT

t_up="$(now)"
WORK_DIR="$("$SCRIPT_DIR/up.sh")"
log "up.sh took $(elapsed "$t_up")s"
# shellcheck disable=SC1091
source "$WORK_DIR/cluster.env"
k() { "$KUBECTL" --kubeconfig="$KUBECONFIG" "$@"; }

log "server version: $(k version -o json | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p' | tail -n 1)"
k get nodes -L topology.kubernetes.io/zone >&2

k apply --server-side --field-manager=test --validate=strict -f - >&2 <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
EOF

t_sts="$(now)"
k apply --server-side --field-manager=test --validate=strict -f - >&2 <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $NS
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - name: http
    port: 8080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: $NS
spec:
  serviceName: web
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: web
        image: registry.k8s.io/pause:3.10
        ports:
        - name: http
          containerPort: 8080
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
          limits:
            memory: 64Mi
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: ["ALL"]
        volumeMounts:
        - name: data
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
EOF

k -n "$NS" wait --for=condition=Ready pod/web-0 --timeout=90s >&2
phase="$(k -n "$NS" get pod web-0 -o jsonpath='{.status.phase}')"
node="$(k -n "$NS" get pod web-0 -o jsonpath='{.spec.nodeName}')"
[[ "$phase" == Running ]] || { log "pod web-0 is $phase, expected Running"; exit 1; }
[[ "$node" == kwok-node-* ]] || { log "pod web-0 is on '$node', expected a kwok node"; exit 1; }
pvc="$(k -n "$NS" get pvc data-web-0 -o jsonpath='{.status.phase}')"
[[ "$pvc" == Bound ]] || { log "pvc data-web-0 is $pvc, expected Bound"; exit 1; }
k -n "$NS" rollout status statefulset/web --timeout=60s >&2
log "pod web-0 Running and Ready on $node, PVC Bound, $(elapsed "$t_sts")s after apply"
k -n "$NS" get statefulset,pods,pvc -o wide >&2

# PodSecurity admission must reject a pod that is not restricted-compliant.
if out="$(k -n "$NS" run bad --image=registry.k8s.io/pause:3.10 --restart=Never --dry-run=server \
            --overrides='{"spec":{"containers":[{"name":"bad","image":"registry.k8s.io/pause:3.10","securityContext":{"privileged":true}}]}}' 2>&1)"; then
  log "a privileged pod was admitted in a restricted namespace: $out"
  exit 1
fi
grep -q 'violates PodSecurity "restricted' <<<"$out" || { log "unexpected error for privileged pod: $out"; exit 1; }
log "PodSecurity rejected a privileged pod as expected"

if [[ "${SMOKE_NODE_LOSS:-1}" == 1 ]]; then
  t_loss="$(now)"
  K8S_WORK_DIR="$WORK_DIR" "$SCRIPT_DIR/node-loss.sh" --wait "$node"
  log "node $node NotReady (Ready=Unknown) $(elapsed "$t_loss")s after losing it (grace period $NODE_MONITOR_GRACE_PERIOD)"
  k wait --for=jsonpath='{.status.conditions[?(@.type=="Ready")].status}'=False -n "$NS" pod/web-0 --timeout=30s >&2
  taints="$(k get node "$node" -o jsonpath='{.spec.taints[*].key}')"
  [[ "$taints" == *node.kubernetes.io/unreachable* ]] || { log "node $node lacks the unreachable taint: $taints"; exit 1; }
  log "pod web-0 marked NotReady, node tainted ($taints)"
  t_restore="$(now)"
  K8S_WORK_DIR="$WORK_DIR" "$SCRIPT_DIR/node-loss.sh" --restore --wait "$node"
  k -n "$NS" wait --for=condition=Ready pod/web-0 --timeout=60s >&2
  log "node $node and pod web-0 Ready again $(elapsed "$t_restore")s after restoring"
fi
