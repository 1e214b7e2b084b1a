#!/usr/bin/env bash
# Starts a throw-away Kubernetes control plane on 127.0.0.1 for integration
# tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# (which plays the kubelets of a few fake nodes).
#
# Everything lives in a fresh work dir (certificates, kubeconfigs, etcd data,
# logs, PID files). On success the work dir path is printed on stdout (the
# only line written to stdout); its files include:
#
#   kubeconfig          admin kubeconfig (O=system:masters)
#   cluster.env         shell-sourceable summary (KUBECONFIG, K8S_SERVER, ...)
#   cluster.json        the same summary as JSON
#   logs/<name>.log     output of each component
#   pids/<name>.pid     PID of each component (used by down.sh)
#
# Stop it with: scripts/cluster/down.sh <work-dir>
#
# Settings (environment variables, all optional):
#   K8S_WORK_DIR                  work dir to use (default: mktemp -d /tmp/cdk8s-stateful-k8s.XXXXXX)
#   K8S_BIN_DIR                   where the binaries are (default: from build.sh --print-bin-dir)
#   K8S_APISERVER_PORT, K8S_ETCD_PORT, K8S_ETCD_PEER_PORT,
#   K8S_CONTROLLER_MANAGER_PORT, K8S_SCHEDULER_PORT
#                                 fixed ports; unset or 0 = pick a random free port
#   KWOK_NODE_COUNT               number of fake nodes (default 3)
#   KWOK_ZONES                    space separated zones, assigned round-robin (default "zone-a zone-b zone-c")
#   KWOK_REGION                   topology.kubernetes.io/region of every node (default region-1)
#   KWOK_NODE_CPU, KWOK_NODE_MEMORY, KWOK_NODE_PODS
#                                 capacity/allocatable of each node (default 8, 32Gi, 110)
#   NODE_MONITOR_GRACE_PERIOD     kube-controller-manager --node-monitor-grace-period (default 40s)
#   NODE_MONITOR_PERIOD           kube-controller-manager --node-monitor-period (default 5s)
#   KWOK_NODE_LEASE_DURATION_SECONDS
#                                 node lease duration kwok uses; renewed every duration/4
#                                 (default: the grace period in seconds)
#   DEFAULT_TOLERATION_SECONDS    kube-apiserver --default-not-ready-toleration-seconds and
#                                 --default-unreachable-toleration-seconds (default 300)
#   KUBE_FEATURE_GATES            --feature-gates passed to the Kubernetes components (default none)
#   HOSTPATH_PROVISIONER          1 (default) = create a default StorageClass "standard" served by
#                                 kube-controller-manager's built-in host-path provisioner; 0 = none
#   UP_TIMEOUT_SECONDS            how long to wait for each component (default 120)
#   OWNER_PID                     if set, a watchdog runs down.sh once this process is gone
#   KEEP_ON_FAILURE               1 = leave processes and work dir behind when startup fails
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN_DIR="${K8S_BIN_DIR:-$("$SCRIPT_DIR/build.sh" --print-bin-dir)}"
K8S_VERSION="$(basename "$(dirname "$BIN_DIR")")"

HOST=127.0.0.1
NODE_COUNT="${KWOK_NODE_COUNT:-3}"
read -r -a ZONES <<<"${KWOK_ZONES:-zone-a zone-b zone-c}"
REGION="${KWOK_REGION:-region-1}"
NODE_CPU="${KWOK_NODE_CPU:-8}"
NODE_MEMORY="${KWOK_NODE_MEMORY:-32Gi}"
NODE_PODS="${KWOK_NODE_PODS:-110}"
GRACE_PERIOD="${NODE_MONITOR_GRACE_PERIOD:-40s}"
MONITOR_PERIOD="${NODE_MONITOR_PERIOD:-5s}"
TOLERATION_SECONDS="${DEFAULT_TOLERATION_SECONDS:-300}"
FEATURE_GATES="${KUBE_FEATURE_GATES:-}"
HOSTPATH_PROVISIONER="${HOSTPATH_PROVISIONER:-1}"
TIMEOUT="${UP_TIMEOUT_SECONDS:-120}"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_IP="10.96.0.1"
POD_CIDR="10.244.0.0/16"
# The label kwok selects the nodes it plays by; node-loss.sh flips it.
KWOK_NODE_LABEL_KEY="kwok.x-k8s.io/node"
KWOK_NODE_LABEL_VALUE="fake"

log() { printf '[up] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Duration like 40s / 2m / 1m30s -> whole seconds.
duration_seconds() {
  local d="$1" total=0 n unit
  [[ "$d" =~ ^[0-9]+$ ]] && { echo "$d"; return; }
  while [[ "$d" =~ ^([0-9]+)(h|m|s)(.*)$ ]]; do
    n="${BASH_REMATCH[1]}"; unit="${BASH_REMATCH[2]}"; d="${BASH_REMATCH[3]}"
    case "$unit" in h) total=$((total + n * 3600)) ;; m) total=$((total + n * 60)) ;; s) total=$((total + n)) ;; esac
  done
  [[ -z "$d" ]] || die "cannot parse duration '$1' (use e.g. 40s, 2m, 1m30s)"
  echo "$total"
}
GRACE_SECONDS="$(duration_seconds "$GRACE_PERIOD")"
LEASE_SECONDS="${KWOK_NODE_LEASE_DURATION_SECONDS:-$GRACE_SECONDS}"
(( LEASE_SECONDS >= 4 )) || LEASE_SECONDS=4

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b is missing; run scripts/cluster/build.sh first"
done
command -v openssl >/dev/null || die "openssl is required"
command -v curl >/dev/null || die "curl is required"
KUBECTL="$BIN_DIR/kubectl"

START="$(now)"

# ------------------------------- work dir ---------------------------------
if [[ -n "${K8S_WORK_DIR:-}" ]]; then
  WORK_DIR="$K8S_WORK_DIR"
  [[ ! -e "$WORK_DIR" || -z "$(ls -A "$WORK_DIR")" ]] || die "K8S_WORK_DIR $WORK_DIR exists and is not empty"
  mkdir -p "$WORK_DIR"
else
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cdk8s-stateful-k8s.XXXXXX")"
fi
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
chmod 700 "$WORK_DIR"
# down.sh only deletes directories that carry this marker.
echo "$K8S_VERSION" >"$WORK_DIR/.cdk8s-stateful-k8s-workdir"
mkdir -p "$WORK_DIR"/{pki,logs,pids,etcd,kwok-home}
chmod 700 "$WORK_DIR/etcd"
: >"$WORK_DIR/pids/order"
PKI="$WORK_DIR/pki"

on_exit() {
  local rc=$?
  if (( rc != 0 )); then
    log "startup failed (exit $rc); last lines of the component logs:"
    for f in "$WORK_DIR"/logs/*.log; do
      [[ -f "$f" ]] || continue
      printf '\n===== %s =====\n' "$(basename "$f")" >&2
      tail -n 25 "$f" >&2 || true
    done
    if [[ "${KEEP_ON_FAILURE:-0}" == 1 ]]; then
      log "KEEP_ON_FAILURE=1: leaving $WORK_DIR and its processes; clean up with down.sh $WORK_DIR"
    else
      "$SCRIPT_DIR/down.sh" "$WORK_DIR" >&2 || true
    fi
  fi
}
trap on_exit EXIT
# Turn signals into an ordinary exit so that on_exit cleans up.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# -------------------------------- ports -----------------------------------
USED_PORTS=" "
# Random ports are taken below the kernel's ephemeral range, so that they
# cannot collide with the local side of outgoing connections.
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPHEMERAL_LOW=32768
PORT_MIN=20000
PORT_MAX=$((EPHEMERAL_LOW - 1))
(( PORT_MAX - PORT_MIN >= 1000 )) || { PORT_MIN=20000; PORT_MAX=29999; }
port_in_use() {
  if command -v ss >/dev/null; then
    ss -Hatn "( sport = :$1 )" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
  fi
}
# pick_port VAR [fixed]: fixed port if given and non-zero, else a random free one.
pick_port() {
  local var="$1" fixed="${2:-0}" p i
  if [[ -n "$fixed" && "$fixed" != 0 ]]; then
    port_in_use "$fixed" && die "port $fixed ($var) is already in use"
    printf -v "$var" '%s' "$fixed"; USED_PORTS+="$fixed "; return
  fi
  for ((i = 0; i < 500; i++)); do
    p=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % (PORT_MAX - PORT_MIN + 1)))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    port_in_use "$p" && continue
    printf -v "$var" '%s' "$p"; USED_PORTS+="$p "; return
  done
  die "no free port found for $var"
}
pick_port ETCD_PORT "${K8S_ETCD_PORT:-0}"
pick_port ETCD_PEER_PORT "${K8S_ETCD_PEER_PORT:-0}"
pick_port APISERVER_PORT "${K8S_APISERVER_PORT:-0}"
pick_port KCM_PORT "${K8S_CONTROLLER_MANAGER_PORT:-0}"
pick_port SCHEDULER_PORT "${K8S_SCHEDULER_PORT:-0}"
SERVER="https://$HOST:$APISERVER_PORT"

# ---------------------------- certificates --------------------------------
cat >"$PKI/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @server_alt_names
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server_alt_names]
DNS.1 = localhost
DNS.2 = kubernetes
DNS.3 = kubernetes.default
DNS.4 = kubernetes.default.svc
DNS.5 = kubernetes.default.svc.cluster.local
IP.1 = 127.0.0.1
IP.2 = $SERVICE_IP
EOF

gen_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null; }
# sign NAME SUBJECT EXTENSIONS
sign() {
  local name="$1" subj="$2" ext="$3"
  gen_key "$name"
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -config "$PKI/openssl.cnf" -out "$PKI/$name.csr"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 30 \
    -extfile "$PKI/openssl.cnf" -extensions "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr"
}
t0="$(now)"
gen_key ca
openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=cdk8s-stateful-test-ca" -days 30 \
  -config "$PKI/openssl.cnf" -extensions v3_ca -out "$PKI/ca.crt"
sign apiserver "/CN=kube-apiserver" v3_server
sign admin "/O=system:masters/CN=kubernetes-admin" v3_client
sign controller-manager "/CN=system:kube-controller-manager" v3_client
sign scheduler "/CN=system:kube-scheduler" v3_client
# how the API server authenticates to a real kubelet (node-up.sh) for logs, exec and port-forward
sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" v3_client
gen_key service-account
openssl pkey -in "$PKI/service-account.key" -pubout -out "$PKI/service-account.pub"
chmod 600 "$PKI"/*.key
log "certificates generated in $(elapsed "$t0")s"

# write_kubeconfig FILE USER CERT_NAME
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cdk8s-stateful-test
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$3.crt")
    client-key-data: $(base64 -w0 "$PKI/$3.key")
contexts:
- name: cdk8s-stateful-test
  context:
    cluster: cdk8s-stateful-test
    user: $2
current-context: cdk8s-stateful-test
EOF
  chmod 600 "$1"
}
KUBECONFIG_FILE="$WORK_DIR/kubeconfig"
write_kubeconfig "$KUBECONFIG_FILE" kubernetes-admin admin
write_kubeconfig "$WORK_DIR/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
write_kubeconfig "$WORK_DIR/scheduler.kubeconfig" system:kube-scheduler scheduler

# ------------------------------ processes ---------------------------------
# start NAME BINARY ARGS...: runs detached (own session, output to logs/NAME.log).
start() {
  local name="$1" bin="$2"; shift 2
  printf '%q ' "$bin" "$@" >"$WORK_DIR/logs/$name.cmdline"
  setsid "$bin" "$@" >"$WORK_DIR/logs/$name.log" 2>&1 </dev/null &
  echo "$!" >"$WORK_DIR/pids/$name.pid"
  echo "$name" >>"$WORK_DIR/pids/order"
}
alive() { kill -0 "$(cat "$WORK_DIR/pids/$1.pid")" 2>/dev/null; }
# wait_for NAME DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local name="$1" what="$2"; shift 2
  local t deadline=$((SECONDS + TIMEOUT))
  t="$(now)"
  until "$@" >/dev/null 2>&1; do
    alive "$name" || die "$name exited while waiting for $what (see $WORK_DIR/logs/$name.log)"
    (( SECONDS < deadline )) || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.2
  done
  log "$what after $(elapsed "$t")s"
}
FEATURE_GATE_ARGS=()
[[ -z "$FEATURE_GATES" ]] || FEATURE_GATE_ARGS=(--feature-gates="$FEATURE_GATES")

start etcd "$BIN_DIR/etcd" \
  --name=default \
  --data-dir="$WORK_DIR/etcd" \
  --listen-client-urls="http://$HOST:$ETCD_PORT" \
  --advertise-client-urls="http://$HOST:$ETCD_PORT" \
  --listen-peer-urls="http://$HOST:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://$HOST:$ETCD_PEER_PORT" \
  --initial-cluster="default=http://$HOST:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --unsafe-no-fsync=true \
  --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) \
  --log-level=warn
etcd_healthy() { curl -sf --max-time 2 "http://$HOST:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_for etcd "etcd healthy" etcd_healthy

# The --kubelet-* flags matter to a real node (node-up.sh) only: the API server
# authenticates to it with a client certificate, checks its serving certificate
# against the CA, and dials it at its InternalIP (by default it would try the
# Hostname address first, a name lookup through the machine's resolver).
start kube-apiserver "$BIN_DIR/kube-apiserver" \
  --bind-address="$HOST" \
  --advertise-address="$HOST" \
  --secure-port="$APISERVER_PORT" \
  --endpoint-reconciler-type=none \
  --etcd-servers="http://$HOST:$ETCD_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" \
  --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/service-account.pub" \
  --service-account-signing-key-file="$PKI/service-account.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI/ca.crt" \
  --kubelet-preferred-address-types=InternalIP \
  --authorization-mode=RBAC \
  --allow-privileged=true \
  --default-not-ready-toleration-seconds="$TOLERATION_SECONDS" \
  --default-unreachable-toleration-seconds="$TOLERATION_SECONDS" \
  --profiling=false \
  "${FEATURE_GATE_ARGS[@]}"
apiserver_ready() {
  [[ "$(curl -s --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
        "$SERVER/readyz")" == ok ]]
}
wait_for kube-apiserver "kube-apiserver ready (/readyz)" apiserver_ready

start kube-controller-manager "$BIN_DIR/kube-controller-manager" \
  --kubeconfig="$WORK_DIR/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$WORK_DIR/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$WORK_DIR/controller-manager.kubeconfig" \
  --bind-address="$HOST" \
  --secure-port="$KCM_PORT" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --controllers='*' \
  --service-account-private-key-file="$PKI/service-account.key" \
  --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --cluster-name=cdk8s-stateful-test \
  --node-monitor-grace-period="$GRACE_PERIOD" \
  --node-monitor-period="$MONITOR_PERIOD" \
  --enable-hostpath-provisioner="$([[ "$HOSTPATH_PROVISIONER" == 1 ]] && echo true || echo false)" \
  --profiling=false \
  "${FEATURE_GATE_ARGS[@]}"

start kube-scheduler "$BIN_DIR/kube-scheduler" \
  --kubeconfig="$WORK_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig="$WORK_DIR/scheduler.kubeconfig" \
  --authorization-kubeconfig="$WORK_DIR/scheduler.kubeconfig" \
  --bind-address="$HOST" \
  --secure-port="$SCHEDULER_PORT" \
  --leader-elect=false \
  --profiling=false \
  "${FEATURE_GATE_ARGS[@]}"

# kwok needs its stages in a config file; build.sh saved the release's
# default node (initialize, heartbeat-with-lease) and pod (ready, complete,
# delete) stages next to the binaries.
KWOK_STAGES="$BIN_DIR/../share/kwok/stages.yaml"
[[ -f "$KWOK_STAGES" ]] || die "$KWOK_STAGES is missing; run scripts/cluster/build.sh"
cp "$KWOK_STAGES" "$WORK_DIR/kwok.yaml"
# One stage of our own: a real kubelet marks its running pods Ready again after
# the node comes back (node-loss.sh --restore); kwok's default stages only
# handle Pending pods, so pods the node lifecycle controller marked NotReady
# would stay NotReady for good.
cat >>"$WORK_DIR/kwok.yaml" <<'EOF'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready-again
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values:
      - 'True'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
EOF
# HOME points into the work dir so that no ~/.kwok/kwok.yaml of the user is picked up.
start kwok env HOME="$WORK_DIR/kwok-home" "$BIN_DIR/kwok" \
  --config="$WORK_DIR/kwok.yaml" \
  --kubeconfig="$KUBECONFIG_FILE" \
  --manage-all-nodes=false \
  --manage-nodes-with-label-selector="$KWOK_NODE_LABEL_KEY=$KWOK_NODE_LABEL_VALUE" \
  --node-lease-duration-seconds="$LEASE_SECONDS" \
  --cidr="$POD_CIDR" \
  --node-ip="$HOST" \
  --node-port=0

healthz() { [[ "$(curl -sk --max-time 3 "https://$HOST:$1/healthz")" == ok ]]; }
wait_for kube-controller-manager "kube-controller-manager healthy" healthz "$KCM_PORT"
wait_for kube-scheduler "kube-scheduler healthy" healthz "$SCHEDULER_PORT"

k() { "$KUBECTL" --kubeconfig="$KUBECONFIG_FILE" "$@"; }

# ------------------------------ fake nodes --------------------------------
NODES=()
{
  for ((i = 0; i < NODE_COUNT; i++)); do
    name="kwok-node-$i"
    zone="${ZONES[$((i % ${#ZONES[@]}))]}"
    NODES+=("$name")
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node.kubernetes.io/instance-type: kwok
    topology.kubernetes.io/region: $REGION
    topology.kubernetes.io/zone: $zone
    type: kwok
    $KWOK_NODE_LABEL_KEY: $KWOK_NODE_LABEL_VALUE
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
status:
  # Both address types are set so that kwok's node-initialize stage leaves
  # them alone (it rewrites the list when one of them is missing).
  addresses:
  - type: InternalIP
    address: $HOST
  - type: Hostname
    address: $name
  nodeInfo:
    kubeletVersion: $K8S_VERSION
    operatingSystem: linux
    architecture: amd64
    osImage: kwok
  capacity:
    cpu: "$NODE_CPU"
    memory: $NODE_MEMORY
    pods: "$NODE_PODS"
    ephemeral-storage: 100Gi
  allocatable:
    cpu: "$NODE_CPU"
    memory: $NODE_MEMORY
    pods: "$NODE_PODS"
    ephemeral-storage: 100Gi
EOF
  done
} >"$WORK_DIR/nodes.yaml"
k create -f "$WORK_DIR/nodes.yaml" >/dev/null
nodes_ready() { k wait --for=condition=Ready node --all --timeout=2s; }
wait_for kwok "${#NODES[@]} kwok nodes Ready" nodes_ready

if [[ "$HOSTPATH_PROVISIONER" == 1 ]]; then
  k apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
EOF
fi

# The service account controller creating "default" in namespace default shows
# that kube-controller-manager's controllers are running.
default_sa() { k get serviceaccount default -n default; }
wait_for kube-controller-manager "default service account created" default_sa

# ------------------------------- watchdog ---------------------------------
if [[ -n "${OWNER_PID:-}" ]]; then
  # shellcheck disable=SC2016  # $1..$3 are the watchdog's own arguments
  setsid bash -c '
    while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 2; done
    [ -d "$2" ] && exec "$3" "$2"' cdk8s-stateful-k8s-watchdog "$OWNER_PID" "$WORK_DIR" "$SCRIPT_DIR/down.sh" \
    >"$WORK_DIR/logs/watchdog.log" 2>&1 </dev/null &
  echo "$!" >"$WORK_DIR/pids/watchdog.pid"
  echo watchdog >>"$WORK_DIR/pids/order"
fi

# ------------------------------- summary ----------------------------------
STARTUP_SECONDS="$(elapsed "$START")"
pid() { cat "$WORK_DIR/pids/$1.pid"; }
cat >"$WORK_DIR/cluster.env" <<EOF
K8S_WORK_DIR=$WORK_DIR
KUBECONFIG=$KUBECONFIG_FILE
K8S_SERVER=$SERVER
K8S_VERSION=$K8S_VERSION
K8S_BIN_DIR=$BIN_DIR
KUBECTL=$KUBECTL
K8S_NODES="${NODES[*]}"
K8S_APISERVER_PORT=$APISERVER_PORT
K8S_ETCD_PORT=$ETCD_PORT
K8S_CONTROLLER_MANAGER_PORT=$KCM_PORT
K8S_SCHEDULER_PORT=$SCHEDULER_PORT
K8S_SERVICE_CIDR=$SERVICE_CIDR
K8S_STARTUP_SECONDS=$STARTUP_SECONDS
EOF
json_nodes="$(printf '"%s",' "${NODES[@]}")"
cat >"$WORK_DIR/cluster.json" <<EOF
{
  "workDir": "$WORK_DIR",
  "kubeconfig": "$KUBECONFIG_FILE",
  "server": "$SERVER",
  "k8sVersion": "$K8S_VERSION",
  "binDir": "$BIN_DIR",
  "kubectl": "$KUBECTL",
  "nodes": [${json_nodes%,}],
  "nodeMonitorGracePeriodSeconds": $GRACE_SECONDS,
  "ports": {
    "apiserver": $APISERVER_PORT,
    "etcd": $ETCD_PORT,
    "etcdPeer": $ETCD_PEER_PORT,
    "controllerManager": $KCM_PORT,
    "scheduler": $SCHEDULER_PORT
  },
  "pids": {
    "etcd": $(pid etcd),
    "kubeApiserver": $(pid kube-apiserver),
    "kubeControllerManager": $(pid kube-controller-manager),
    "kubeScheduler": $(pid kube-scheduler),
    "kwok": $(pid kwok)
  },
  "startupSeconds": $STARTUP_SECONDS
}
EOF
log "control plane $K8S_VERSION up in ${STARTUP_SECONDS}s: $SERVER (work dir $WORK_DIR)"
echo "$WORK_DIR"
