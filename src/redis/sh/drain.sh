# shellcheck shell=sh
# Body of drain.sh, run by the drain Job while shards are drained.

ACTIVE_SHARDS=$((SHARDS - DRAINING_SHARDS))
ACTIVE_NODES=$((ACTIVE_SHARDS * (REPLICAS + 1)))
if [ "$DRAINING_SHARDS" -eq 1 ]; then
  SHARD_RANGE="shard $ACTIVE_SHARDS"
else
  SHARD_RANGE="shards $ACTIVE_SHARDS to $((SHARDS - 1))"
fi
NAMESPACE=${POD_NAMESPACE:-}
[ -n "$NAMESPACE" ] || die "POD_NAMESPACE is not set (expose metadata.namespace through the downward API)"

# draining ORDINAL: the pod belongs to one of the shards being removed.
draining() {
  [ "$1" != - ] && [ "$1" -ge "$ACTIVE_NODES" ]
}

# active_views: "ordinal address" of every pod of the remaining shards that answers CLUSTER NODES.
active_views() {
  _v_ord=0
  while [ "$_v_ord" -lt "$ACTIVE_NODES" ]; do
    if _v_ip=$(resolve "$(pod_fqdn "$_v_ord")") && nodes_table "$_v_ip" >/dev/null; then
      printf '%s %s\n' "$_v_ord" "$_v_ip"
    fi
    _v_ord=$((_v_ord + 1))
  done
}

# One pass: returns 0 once no remaining node knows a node of the drained shards and those keep no
# peers. Every pass looks at the cluster as it is, so a pass or a job that was cut short resumes.
pass() {
  _d_views=$(active_views)
  if [ -z "$_d_views" ]; then
    log "no pod of the remaining shards answers yet"
    return 1
  fi
  _d_seed=${_d_views%%"$NL"*}
  _d_seed=${_d_seed#* }
  _d_table=$(nodes_table "$_d_seed") || return 1
  if any_open "$_d_table"; then
    log "slots left open by an interrupted move: running cluster fix"
    timeout "$JOIN_TIMEOUT" redis-cli --cluster fix "$_d_seed:$PORT" --cluster-yes </dev/null >&2
    return 1
  fi
  _d_weights=
  _d_left=0
  while read -r _d_id _d_ip _d_ord _d_flags _d_master _d_link _d_count _d_open; do
    draining "$_d_ord" || continue
    [ "$_d_count" -gt 0 ] || continue
    if ! healthy "$_d_flags"; then
      log "$(pod_name "$_d_ord") owns $_d_count slots but is not reachable ($_d_flags); waiting for it"
      return 1
    fi
    _d_weights="$_d_weights $_d_id=0"
    _d_left=$((_d_left + _d_count))
  done <<END
$_d_table
END
  if [ -n "$_d_weights" ]; then
    _d_check=$(timeout 120 redis-cli --cluster check "$_d_seed:$PORT" </dev/null 2>&1)
    case $_d_check in
      *"[OK] All 16384 slots covered"*) ;;
      *)
        log "cluster check does not pass yet; not moving slots"
        return 1 ;;
    esac
    log "moving $_d_left slots off $SHARD_RANGE to the $ACTIVE_SHARDS remaining masters"
    # Weight 0 empties the draining masters; the remaining ones end with even shares.
    # shellcheck disable=SC2086 # one word per node=weight
    timeout "$JOIN_TIMEOUT" redis-cli --cluster rebalance "$_d_seed:$PORT" --cluster-weight $_d_weights </dev/null >&2
    return 1
  fi
  # The drained nodes own no slots: every remaining node forgets them (FORGET bans a node for 60 s,
  # long enough to reset it before gossip brings it back), then they are reset.
  _d_done=0
  while read -r _d_ord _d_ip; do
    [ -n "$_d_ord" ] || continue
    _d_view=$(nodes_table "$_d_ip") || continue
    while read -r _d_id _d_nip _d_nord _d_rest; do
      draining "$_d_nord" || continue
      _d_done=1
      log "$(pod_name "$_d_ord") forgets $_d_id ($(pod_name "$_d_nord"))"
      cli "$_d_ip" CLUSTER FORGET "$_d_id" >&2
    done <<END
$_d_view
END
  done <<END
$_d_views
END
  _d_ord=$ACTIVE_NODES
  while [ "$_d_ord" -lt "$NODE_COUNT" ]; do
    if _d_ip=$(resolve "$(pod_fqdn "$_d_ord")"); then
      _d_known=$(field cluster_known_nodes "$(cli "$_d_ip" CLUSTER INFO)")
      if [ -n "$_d_known" ] && [ "$_d_known" -gt 1 ]; then
        _d_done=1
        log "resetting $(pod_name "$_d_ord"): it keeps no peers, slots or data"
        cli "$_d_ip" CLUSTER RESET SOFT >&2
      fi
    fi
    _d_ord=$((_d_ord + 1))
  done
  if [ "$_d_done" -eq 0 ]; then
    log "the cluster runs on the $ACTIVE_SHARDS remaining shards:"
    timeout 120 redis-cli --cluster info "$_d_seed:$PORT" </dev/null >&2
    return 0
  fi
  return 1
}

START=$(now)
log "removing $SHARD_RANGE (pods $(pod_name "$ACTIVE_NODES") to $(pod_name $((NODE_COUNT - 1))))"
while :; do
  if pass; then
    log "done: lower shards to $ACTIVE_SHARDS (and drainingShards to 0) and apply"
    exit 0
  fi
  if [ "$(now)" -ge $((START + JOIN_TIMEOUT)) ]; then
    log "not done after ${JOIN_TIMEOUT}s; the job starts again and resumes"
    exit 1
  fi
  sleep "$STEP_INTERVAL"
done
