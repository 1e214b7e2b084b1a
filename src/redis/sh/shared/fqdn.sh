# shellcheck shell=sh
# pod_fqdn: the stable DNS name of a pod.

pod_fqdn() {
  printf '%s-%s.%s.%s.svc.%s' "$STS_NAME" "$1" "$HEADLESS" "$NAMESPACE" "$CLUSTER_DOMAIN"
}
