#!/usr/bin/env bash
# Simulates the loss of a kwok node (its "kubelet" stops heart-beating) or
# brings it back.
#
# Usage:
#   scripts/cluster/node-loss.sh [--wait] NODE            lose NODE
#   scripts/cluster/node-loss.sh --restore [--wait] NODE  bring NODE back
#
# The cluster is found through K8S_WORK_DIR (a work dir printed by up.sh) or,
# failing that, KUBECONFIG plus KUBECTL (or kubectl on PATH).
#
# How it works: up.sh starts kwok with
#   --manage-nodes-with-label-selector=kwok.x-k8s.io/node=fake
# kwok watches nodes with that label selector, so relabelling a node to
# kwok.x-k8s.io/node=lost makes the API server send kwok a DELETED event for
# it: kwok releases the node, stops renewing its Lease in kube-node-lease and
# stops updating the status of its pods. Nothing else is touched. After
# --node-monitor-grace-period (NODE_MONITOR_GRACE_PERIOD, default 40s) the
# node lifecycle controller of kube-controller-manager marks the node
# Ready=Unknown, taints it node.kubernetes.io/unreachable (NoExecute) and
# marks its pods NotReady; the taint evicts the pods once their toleration
# (DEFAULT_TOLERATION_SECONDS, default 300s) runs out, and those pods then stay
# Terminating, as they would with a dead kubelet, until they are force-deleted
# or the node comes back or is deleted.
#
# --restore sets the label back to "fake": kwok manages the node again, renews
# its lease and sets Ready=True; the node lifecycle controller removes the taint.
#
# --wait blocks until the node's Ready condition is Unknown (lose) or True
# (restore); NODE_LOSS_TIMEOUT_SECONDS bounds the wait (default: grace period + 60s).
set -euo pipefail

restore=0 wait=0 node=""
for a in "$@"; do
  case "$a" in
    --restore) restore=1 ;;
    --wait) wait=1 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    -*) echo "node-loss.sh: unknown option $a" >&2; exit 2 ;;
    *) node="$a" ;;
  esac
done
[[ -n "$node" ]] || { echo "usage: $0 [--restore] [--wait] NODE" >&2; exit 2; }

grace=40
if [[ -n "${K8S_WORK_DIR:-}" ]]; then
  # shellcheck disable=SC1091
  source "$K8S_WORK_DIR/cluster.env"
  grace="$(sed -n 's/.*"nodeMonitorGracePeriodSeconds": \([0-9]*\).*/\1/p' "$K8S_WORK_DIR/cluster.json")"
fi
: "${KUBECONFIG:?set K8S_WORK_DIR or KUBECONFIG}"
KUBECTL="${KUBECTL:-kubectl}"
k() { "$KUBECTL" --kubeconfig="$KUBECONFIG" "$@"; }

if (( restore )); then
  k label node "$node" kwok.x-k8s.io/node=fake --overwrite >/dev/null
  want=True
else
  k label node "$node" kwok.x-k8s.io/node=lost --overwrite >/dev/null
  want=Unknown
fi
echo "node $node: $([[ $restore == 1 ]] && echo restored || echo lost)" >&2

if (( wait )); then
  timeout="${NODE_LOSS_TIMEOUT_SECONDS:-$((grace + 60))}"
  k wait --for="jsonpath={.status.conditions[?(@.type==\"Ready\")].status}=$want" \
    "node/$node" --timeout="${timeout}s" >/dev/null
  echo "node $node: Ready=$want" >&2
fi
