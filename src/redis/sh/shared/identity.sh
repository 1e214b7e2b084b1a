# shellcheck shell=sh
# identity: who this pod is (ORDINAL, NAMESPACE, SELF_HOST, SELF_IP), for the script that includes it.
# shellcheck disable=SC2034 # SELF_HOST is read by the scripts that include this file

# Who this pod is: ORDINAL, SELF_HOST (stable DNS name) and SELF_IP.
identity() {
  # shellcheck disable=SC3028 # HOSTNAME is set by the container runtime; hostname is the fallback
  _i_hostname=${HOSTNAME:-$(hostname)}
  ORDINAL=${POD_ORDINAL:-${_i_hostname##*-}}
  is_uint "$ORDINAL" || die "cannot tell the pod ordinal from HOSTNAME '$_i_hostname' (expected $STS_NAME-<ordinal>) or POD_ORDINAL"
  if [ "$ORDINAL" -ge "$NODE_COUNT" ]; then
    die "ordinal $ORDINAL is outside the topology of $NODE_COUNT nodes ($SHARDS shards of 1 + $REPLICAS); the configuration may not be updated yet"
  fi
  NAMESPACE=${POD_NAMESPACE:-}
  [ -n "$NAMESPACE" ] || die "POD_NAMESPACE is not set (expose metadata.namespace through the downward API)"
  SELF_HOST=$(pod_fqdn "$ORDINAL")
  SELF_IP=${POD_IP:-}
  if [ -z "$SELF_IP" ]; then
    # shellcheck disable=SC2046 # the first word of the address list
    set -- $(hostname -i 2>/dev/null)
    SELF_IP=${1:-}
  fi
  [ -n "$SELF_IP" ] || die "cannot tell the pod address: POD_IP is not set and hostname -i gave nothing"
}
