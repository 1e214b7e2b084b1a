#!/usr/bin/env bash
# Adds one real node to a cluster started by up.sh: containerd with runc, a CNI
# bridge, the kubelet, kube-proxy (iptables mode, for ClusterIP Services) and a
# cluster DNS (CoreDNS with the kubernetes plugin only), so that pods scheduled
# to it run in real containers. Images come from node-images.sh (built locally)
# and are imported into containerd; nothing is ever pulled.
#
# Usage: scripts/cluster/node-up.sh WORK_DIR     (the work dir printed by up.sh)
# Stop:  scripts/cluster/node-down.sh WORK_DIR   (down.sh calls it too)
#
# Needs root. Installs containerd, runc, containernetworking-plugins and
# iptables from Debian when they are missing (apt-get serialized with
# /tmp/cdk8s-stateful-apt.lock).
#
# Network: the pods get addresses of REAL_NODE_POD_CIDR on a bridge of their own
# whose address is set here (the CNI plugin neither makes it a gateway nor
# masquerades). That address (.1) is also the node's InternalIP, where the
# kubelet listens (it refuses a loopback node IP) and the API server dials it. Pods have routes to that subnet and to the Service range only:
# no default route. Forwarding is switched on for the bridge alone (the
# machine's net.ipv4.ip_forward is left as it is), FORWARD drops whatever would
# enter or leave the bridge through another interface, and the Service range is
# a blackhole route unless kube-proxy translated the address to a pod. CoreDNS
# listens on the bridge address, serves the cluster domain only and forwards
# nothing; the kubelet gives pods no other name server. containerd runs with
# HTTP(S)_PROXY set to a closed loopback port, so an accidental pull fails at
# once instead of resolving a registry name.
#
# Host settings: the kubelet and kube-proxy change some sysctls
# (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, kernel.keys.*,
# ...), and iptables rules and cgroups are added; node-down.sh restores the
# values saved here before anything changed and removes what was added. One
# real node per machine: the kubelet uses some fixed paths (/var/lib/kubelet,
# /var/log/containers, /run/containerd).
#
# Settings (environment variables, all optional):
#   REAL_NODE_NAME              node name (default real-node)
#   REAL_NODE_POD_CIDR          pod subnet on the bridge (default 10.245.0.0/24)
#   REAL_NODE_BRIDGE            bridge interface name (default cdk8s0)
#   REAL_NODE_IMPORT_IMAGES     1 (default): import the images of node-images.sh
#   UP_TIMEOUT_SECONDS          how long to wait for each component (default 120)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK_DIR="${1:-${K8S_WORK_DIR:-}}"
[[ -n "$WORK_DIR" && -f "$WORK_DIR/.cdk8s-stateful-k8s-workdir" && -f "$WORK_DIR/cluster.env" ]] ||
  { echo "usage: $0 WORK_DIR (a work dir of a running up.sh cluster)" >&2; exit 2; }
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
# shellcheck disable=SC1091
source "$WORK_DIR/cluster.env"

NODE_NAME="${REAL_NODE_NAME:-real-node}"
POD_CIDR="${REAL_NODE_POD_CIDR:-10.245.0.0/24}"
BRIDGE="${REAL_NODE_BRIDGE:-cdk8s0}"
TIMEOUT="${UP_TIMEOUT_SECONDS:-120}"
SERVICE_CIDR="${K8S_SERVICE_CIDR:?cluster.env has no K8S_SERVICE_CIDR}"
CLUSTER_DOMAIN="cluster.local"
NODE_DIR="$WORK_DIR/node"
PKI="$WORK_DIR/pki"
OWNER_FILE=/run/cdk8s-stateful-real-node.owner

log() { printf '[node-up] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

(( EUID == 0 )) || die "needs root"
[[ "$POD_CIDR" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || die "REAL_NODE_POD_CIDR must be a /24 ending in .0 (got $POD_CIDR)"
BRIDGE_IP="${BASH_REMATCH[1]}.1"
[[ ! -e "$NODE_DIR" ]] || die "$NODE_DIR exists: this cluster has a real node already"
if [[ -f "$OWNER_FILE" ]]; then
  other="$(cat "$OWNER_FILE")"
  [[ ! -d "$other/node" ]] || die "the real node of $other runs on this machine (one per machine); stop it with node-down.sh $other"
  log "removing the stale owner file of $other"
  rm -f "$OWNER_FILE"
fi
! ip link show "$BRIDGE" >/dev/null 2>&1 || die "interface $BRIDGE exists already"

START="$(now)"
t0="$(now)"

# ----------------------------- packages -----------------------------------
missing=()
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
command -v socat >/dev/null || missing+=(socat)
if (( ${#missing[@]} > 0 )); then
  log "installing ${missing[*]}"
  flock /tmp/cdk8s-stateful-apt.lock apt-get update -qq >&2
  flock /tmp/cdk8s-stateful-apt.lock env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  log "packages installed in $(elapsed "$t0")s"
fi

"$SCRIPT_DIR/node-images.sh"
IMAGE_DIR="$("$SCRIPT_DIR/node-images.sh" --print-dir)"
PAUSE_IMAGE="$(cat "$IMAGE_DIR/pause.name")"
for b in kubelet kube-proxy coredns; do
  [[ -x "$K8S_BIN_DIR/$b" ]] || die "$K8S_BIN_DIR/$b is missing; run scripts/cluster/build.sh"
done

# ------------------------ state to restore later --------------------------
mkdir -p "$NODE_DIR"/{state,logs,pids,pki,containerd,cni/net.d,cni/ipam,cni/cache,kubelet,pod-logs,volumes}
chmod 700 "$NODE_DIR"
: >"$NODE_DIR/pids/order"
echo "$WORK_DIR" >"$OWNER_FILE"
echo "$BRIDGE" >"$NODE_DIR/state/bridge"
echo "$SERVICE_CIDR" >"$NODE_DIR/state/service-cidr"
echo "$NODE_NAME" >"$NODE_DIR/state/node-name"
# sysctls the kubelet, kube-proxy, the CNI plugins or this script may change
SYSCTLS=(
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding
  net.ipv6.conf.all.forwarding net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_tcp_be_liberal
  net.netfilter.nf_conntrack_udp_timeout net.netfilter.nf_conntrack_udp_timeout_stream
)
for k in "${SYSCTLS[@]}"; do
  v="$(sysctl -n "$k" 2>/dev/null)" && printf '%s=%s\n' "$k" "$v"
done >"$NODE_DIR/state/sysctl"
iptables-save >"$NODE_DIR/state/iptables" 2>/dev/null || true
ip6tables-save >"$NODE_DIR/state/ip6tables" 2>/dev/null || true
# paths outside the work dir that the runtime or the kubelet create
for p in /var/lib/kubelet /var/log/containers /var/log/pods /run/containerd /var/lib/cni /run/netns /etc/cni /opt/cni; do
  [[ -e "$p" ]] || echo "$p"
done >"$NODE_DIR/state/created-paths"
find /run/netns -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | sort >"$NODE_DIR/state/netns-before" || true
for c in /sys/fs/cgroup/*/; do
  [[ -d "$c/kubepods" ]] || echo "$c/kubepods"
done >"$NODE_DIR/state/created-cgroups" 2>/dev/null

on_exit() {
  local rc=$?
  if (( rc != 0 )); then
    log "startup failed (exit $rc); last lines of the node's logs:"
    for f in "$NODE_DIR"/logs/*.log; do
      [[ -f "$f" ]] || continue
      printf '\n===== %s =====\n' "$(basename "$f")" >&2
      tail -n 25 "$f" >&2 || true
    done
    if [[ "${KEEP_ON_FAILURE:-0}" == 1 ]]; then
      log "KEEP_ON_FAILURE=1: leaving the node running; clean up with node-down.sh $WORK_DIR"
    else
      "$SCRIPT_DIR/node-down.sh" "$WORK_DIR" >&2 || true
    fi
  fi
}
trap on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# -------------------------------- ports -----------------------------------
USED_PORTS=" "
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPHEMERAL_LOW=32768
PORT_MIN=20000
PORT_MAX=$((EPHEMERAL_LOW - 1))
(( PORT_MAX - PORT_MIN >= 1000 )) || { PORT_MIN=20000; PORT_MAX=29999; }
pick_port() {
  local var="$1" p i
  for ((i = 0; i < 500; i++)); do
    p=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % (PORT_MAX - PORT_MIN + 1)))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    ss -Hatnu "( sport = :$p )" 2>/dev/null | grep -q . && continue
    printf -v "$var" '%s' "$p"; USED_PORTS+="$p "; return
  done
  die "no free port found for $var"
}
pick_port KUBELET_PORT
pick_port KUBELET_HEALTHZ_PORT
pick_port PROXY_HEALTHZ_PORT
pick_port PROXY_METRICS_PORT
pick_port DNS_READY_PORT
APISERVER_RELAY_PORT=6443

# ---------------------------- certificates --------------------------------
t0="$(now)"
cat >"$NODE_DIR/pki/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_kubelet]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:$BRIDGE_IP, DNS:$NODE_NAME
EOF
# sign NAME SUBJECT EXTENSIONS: a key pair signed by the cluster's CA
sign() {
  local name="$1" subj="$2" ext="$3" dir="$NODE_DIR/pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" 2>/dev/null
  openssl req -new -key "$dir/$name.key" -subj "$subj" -config "$dir/openssl.cnf" -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 30 \
    -extfile "$dir/openssl.cnf" -extensions "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr"
  chmod 600 "$dir/$name.key"
}
sign kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" v3_client
sign kubelet-serving "/CN=$NODE_NAME" v3_kubelet
sign kube-proxy "/CN=system:kube-proxy" v3_client
sign coredns "/CN=cdk8s-stateful:coredns" v3_client

# write_kubeconfig FILE USER CERT_NAME
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cdk8s-stateful-test
  cluster:
    server: $K8S_SERVER
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $NODE_DIR/pki/$3.crt
    client-key: $NODE_DIR/pki/$3.key
contexts:
- name: cdk8s-stateful-test
  context:
    cluster: cdk8s-stateful-test
    user: $2
current-context: cdk8s-stateful-test
EOF
  chmod 600 "$1"
}
write_kubeconfig "$NODE_DIR/kubelet.kubeconfig" "system:node:$NODE_NAME" kubelet-client
write_kubeconfig "$NODE_DIR/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
write_kubeconfig "$NODE_DIR/coredns.kubeconfig" cdk8s-stateful:coredns coredns

k() { "$KUBECTL" --kubeconfig="$KUBECONFIG" "$@"; }
# The roles the components' users need (kube-proxy's and the API server's
# kubelet client roles are built in; the node's group has no binding by
# default once the Node authorizer is not used).
k apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cdk8s-stateful:real-node
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node }
subjects:
- { apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cdk8s-stateful:kube-proxy
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node-proxier }
subjects:
- { apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kube-proxy }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cdk8s-stateful:coredns
rules:
- { apiGroups: [""], resources: [services, namespaces, pods], verbs: [list, watch] }
- { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cdk8s-stateful:coredns
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cdk8s-stateful:coredns }
subjects:
- { apiGroup: rbac.authorization.k8s.io, kind: User, name: cdk8s-stateful:coredns }
EOF
log "certificates and RBAC in $(elapsed "$t0")s"

# ------------------------------ processes ---------------------------------
start() {
  local name="$1"; shift
  printf '%q ' "$@" >"$NODE_DIR/logs/$name.cmdline"
  setsid "$@" >"$NODE_DIR/logs/$name.log" 2>&1 </dev/null &
  echo "$!" >"$NODE_DIR/pids/$name.pid"
  echo "$name" >>"$NODE_DIR/pids/order"
}
alive() { kill -0 "$(cat "$NODE_DIR/pids/$1.pid")" 2>/dev/null; }
wait_for() {
  local name="$1" what="$2"; shift 2
  local t deadline=$((SECONDS + TIMEOUT))
  t="$(now)"
  until "$@" >/dev/null 2>&1; do
    alive "$name" || die "$name exited while waiting for $what (see $NODE_DIR/logs/$name.log)"
    (( SECONDS < deadline )) || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.2
  done
  log "$what after $(elapsed "$t")s"
}

# ------------------------------- network ----------------------------------
t0="$(now)"
ip link add "$BRIDGE" type bridge
ip addr add "$BRIDGE_IP/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
# forwarding for packets that arrive on the bridge only (pod -> Service -> pod)
sysctl -qw "net.ipv4.conf.$BRIDGE.forwarding=1"
# kube-proxy's translations must see the packets pods exchange over the bridge
sysctl -qw net.bridge.bridge-nf-call-iptables=1
# an address of the Service range that kube-proxy did not translate goes nowhere
ip route add blackhole "$SERVICE_CIDR"
echo "$SERVICE_CIDR" >"$NODE_DIR/state/blackhole-route"
RULE_COMMENT="cdk8s-stateful-real-node"
iptables -I FORWARD 1 -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment "$RULE_COMMENT" -j DROP
iptables -I FORWARD 1 -o "$BRIDGE" ! -i "$BRIDGE" -m comment --comment "$RULE_COMMENT" -j DROP
cat >"$NODE_DIR/cni/net.d/10-cdk8s-stateful.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "cdk8s-stateful",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$BRIDGE_IP" }]],
        "routes": [{ "dst": "$SERVICE_CIDR", "gw": "$BRIDGE_IP" }]
      }
    }
  ]
}
EOF
log "bridge $BRIDGE ($BRIDGE_IP, pods $POD_CIDR) in $(elapsed "$t0")s"

# ------------------------------ containerd --------------------------------
CTRD="$NODE_DIR/containerd"
CTRD_SOCK="$CTRD/containerd.sock"
cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root on this kind of machine may lack CAP_SYS_RESOURCE: without this every
  # sandbox fails with "can't get final child's PID from pipe: EOF"
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CTRD/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
    max_conf_num = 1
EOF
# HTTP(S)_PROXY at a closed loopback port: a registry request fails at once
# without looking up the registry's name.
start containerd env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
  containerd --config "$CTRD/config.toml"
ctr() { command ctr --address "$CTRD_SOCK" --namespace k8s.io "$@"; }
wait_for containerd "containerd up" ctr version

if [[ "${REAL_NODE_IMPORT_IMAGES:-1}" == 1 ]]; then
  t0="$(now)"
  # every archive node-images.sh lists (the RobustMQ one only when its binary was built)
  while read -r a; do
    ctr images import --all-platforms "$IMAGE_DIR/$a" >/dev/null
  done < <("$SCRIPT_DIR/node-images.sh" --print-names | cut -d' ' -f1 | sort -u)
  log "images imported in $(elapsed "$t0")s: $(ctr images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
fi

# -------------------------------- kubelet ---------------------------------
cat >"$NODE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# the node's address is the bridge's (the kubelet refuses a loopback node IP):
# the API server reaches the kubelet there for logs, exec and port-forward
address: $BRIDGE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $NODE_DIR/pki/kubelet-serving.crt
tlsPrivateKeyFile: $NODE_DIR/pki/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$CTRD_SOCK
imageServiceEndpoint: unix://$CTRD_SOCK
cgroupDriver: cgroupfs
# this kind of machine has cgroup v1
failCgroupV1: false
failSwapOn: false
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$BRIDGE_IP]
# pods get the cluster DNS only, never the machine's resolver
resolvConf: ""
podLogsDir: $NODE_DIR/pod-logs
maxPods: 110
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
rotateCertificates: false
serverTLSBootstrap: false
EOF
if [[ -n "${KUBE_FEATURE_GATES:-}" ]]; then
  echo "featureGates:" >>"$NODE_DIR/kubelet.yaml"
  tr ',' '\n' <<<"$KUBE_FEATURE_GATES" | sed 's/^\(.*\)=\(.*\)$/  \1: \2/' >>"$NODE_DIR/kubelet.yaml"
fi
start kubelet "$K8S_BIN_DIR/kubelet" \
  --config="$NODE_DIR/kubelet.yaml" \
  --kubeconfig="$NODE_DIR/kubelet.kubeconfig" \
  --root-dir="$NODE_DIR/kubelet" \
  --hostname-override="$NODE_NAME" \
  --node-ip="$BRIDGE_IP" \
  --node-labels="cdk8s-stateful.test/node=real" \
  --v=1
node_ready() { [[ "$(k get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }
wait_for kubelet "node $NODE_NAME Ready" node_ready

# ------------------------------ kube-proxy --------------------------------
cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $NODE_DIR/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: $NODE_NAME
bindAddress: $BRIDGE_IP
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$PROXY_METRICS_PORT
nodePortAddresses: ["$BRIDGE_IP/32"]
iptables:
  # no route_localnet: NodePorts are not served on 127.0.0.1
  localhostNodePorts: false
  masqueradeAll: false
# 0: leave the machine's conntrack settings alone
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
  udpTimeout: 0s
  udpStreamTimeout: 0s
EOF
start kube-proxy "$K8S_BIN_DIR/kube-proxy" --config="$NODE_DIR/kube-proxy.yaml" --v=1
proxy_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz"; }
wait_for kube-proxy "kube-proxy healthy" proxy_healthy

# -------------------------------- CoreDNS ---------------------------------
cat >"$NODE_DIR/Corefile" <<EOF
$CLUSTER_DOMAIN:53 {
    bind $BRIDGE_IP
    ready 127.0.0.1:$DNS_READY_PORT
    errors
    kubernetes $CLUSTER_DOMAIN {
        kubeconfig $NODE_DIR/coredns.kubeconfig cdk8s-stateful-test
    }
}
EOF
start coredns "$K8S_BIN_DIR/coredns" -conf "$NODE_DIR/Corefile"
dns_ready() { curl -sf --max-time 2 "http://127.0.0.1:$DNS_READY_PORT/ready"; }
wait_for coredns "CoreDNS ready" dns_ready

# ------------------------- API server for pods ----------------------------
# The API server listens on 127.0.0.1 only. Pods reach it as in any cluster,
# through the "kubernetes" Service (its serving certificate names the Service
# address): kube-proxy sends that address to the bridge address, where socat
# relays each connection to the API server's loopback port. The EndpointSlice
# is set here because up.sh runs the API server without an endpoint reconciler.
# (argv[0] names the node dir, so that node-down.sh knows the process as ours)
# shellcheck disable=SC2016
start apiserver-relay bash -c 'exec -a "$0" socat "$@"' "socat:$NODE_DIR" \
  "TCP-LISTEN:$APISERVER_RELAY_PORT,bind=$BRIDGE_IP,reuseaddr,fork" \
  "TCP:127.0.0.1:$K8S_APISERVER_PORT"
k apply -f - >/dev/null <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-real-node
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: cdk8s-stateful.test
addressType: IPv4
endpoints:
- addresses: ["$BRIDGE_IP"]
  conditions: { ready: true }
ports:
- name: https
  port: $APISERVER_RELAY_PORT
  protocol: TCP
EOF
relay_up() { (exec 3<>"/dev/tcp/$BRIDGE_IP/$APISERVER_RELAY_PORT") 2>/dev/null; }
wait_for apiserver-relay "API server relay on $BRIDGE_IP:$APISERVER_RELAY_PORT" relay_up

# ------------------------------- summary ----------------------------------
STARTUP_SECONDS="$(elapsed "$START")"
cat >"$NODE_DIR/node.env" <<EOF
REAL_NODE_NAME=$NODE_NAME
REAL_NODE_DIR=$NODE_DIR
REAL_NODE_POD_CIDR=$POD_CIDR
REAL_NODE_BRIDGE=$BRIDGE
REAL_NODE_DNS=$BRIDGE_IP
REAL_NODE_CONTAINERD_SOCKET=$CTRD_SOCK
REAL_NODE_VOLUME_DIR=$NODE_DIR/volumes
REAL_NODE_STARTUP_SECONDS=$STARTUP_SECONDS
EOF
cat >"$NODE_DIR/node.json" <<EOF
{
  "name": "$NODE_NAME",
  "dir": "$NODE_DIR",
  "podCidr": "$POD_CIDR",
  "dns": "$BRIDGE_IP",
  "containerdSocket": "$CTRD_SOCK",
  "volumeDir": "$NODE_DIR/volumes",
  "startupSeconds": $STARTUP_SECONDS
}
EOF
log "real node $NODE_NAME up in ${STARTUP_SECONDS}s (containerd $(ctr version 2>/dev/null | awk '/Version:/ { print $2; exit }'))"
echo "$NODE_DIR"
