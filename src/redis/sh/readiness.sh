# shellcheck shell=sh
# Body of readiness.sh, the readiness probe.

# Ready only when the node answers (not LOADING) and sees the cluster healthy.
reply=$(printf 'PING\nCLUSTER INFO\n' | timeout "$CMD_TIMEOUT" redis-cli -h "$LOCAL_HOST" -p "$PORT" 2>&1 | tr -d '\r')
first=${reply%%"$NL"*}
if [ "$first" != PONG ]; then
  printf 'PING answered: %s\n' "$first"
  exit 1
fi
state=$(field cluster_state "$reply")
if [ "$state" != ok ]; then
  printf 'cluster_state is %s\n' "${state:-unknown}"
  exit 1
fi
exit 0
