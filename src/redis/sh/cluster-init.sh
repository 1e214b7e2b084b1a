# shellcheck shell=sh
# Body of cluster-init.sh: creates, joins and rejoins the cluster; started by start.sh beside the server.
# shellcheck disable=SC2153 # SHARDS is a setting of the generated header, not a misspelt SHARD

# drainingShards: the last DRAINING shards are being removed. Their masters take no share of the
# slots, their pods join no cluster, and only the drain job moves slots meanwhile. Read on every
# pass from the mounted ConfigMap, which the kubelet updates without restarting the pod.
read_draining() {
  DRAINING=0
  [ -f "$CONFIG_DIR/draining-shards" ] || return 0
  _z_value=$(cat "$CONFIG_DIR/draining-shards" 2>/dev/null)
  if is_uint "$_z_value" && [ "$_z_value" -le $((SHARDS - 3)) ]; then
    DRAINING=$_z_value
  else
    log "ignoring draining-shards '$_z_value': not a number from 0 to $((SHARDS - 3))"
  fi
}

# is_draining ORDINAL: the ordinal belongs to a shard that is being drained.
is_draining() {
  [ "$DRAINING" -gt 0 ] && [ "$1" != - ] && [ $(($1 / (REPLICAS + 1))) -ge $((SHARDS - DRAINING)) ]
}

# shard_master SHARD TABLE [SELF_ID]: id of the current master of SHARD among healthy members other
# than this pod: a master that owns slots, the master a member replicates, or the shard's intended
# master. A member that replicates SELF_ID already follows this node, so it names no other master.
shard_master() {
  _m_first=$(($1 * (REPLICAS + 1)))
  _m_last=$((_m_first + REPLICAS))
  while read -r _m_id _m_ip _m_ord _m_flags _m_master _m_link _m_count _m_open; do
    [ "$_m_ord" != - ] || continue
    [ "$_m_ord" -ne "$ORDINAL" ] || continue
    [ "$_m_ord" -ge "$_m_first" ] || continue
    [ "$_m_ord" -le "$_m_last" ] || continue
    healthy "$_m_flags" || continue
    case $_m_flags in
      *master*)
        if [ "$_m_count" -gt 0 ] || [ "$_m_ord" -eq "$_m_first" ]; then
          printf '%s' "$_m_id"
          return 0
        fi ;;
      *slave*)
        if [ "$_m_master" != - ] && [ "$_m_master" != "${3:-}" ]; then
          printf '%s' "$_m_master"
          return 0
        fi ;;
    esac
  done <<END
$2
END
  return 1
}

# shard_has_member SHARD TABLE
shard_has_member() {
  _h_first=$(($1 * (REPLICAS + 1)))
  _h_last=$((_h_first + REPLICAS))
  while read -r _h_id _h_ip _h_ord _h_flags _h_rest; do
    [ "$_h_ord" != - ] || continue
    healthy "$_h_flags" || continue
    if [ "$_h_ord" -ge "$_h_first" ] && [ "$_h_ord" -le "$_h_last" ]; then
      return 0
    fi
  done <<END
$2
END
  return 1
}

# has_other_entry ORDINAL ID TABLE: a healthy entry other than ID carries ORDINAL's name.
has_other_entry() {
  while read -r _x_id _x_ip _x_ord _x_flags _x_rest; do
    [ "$_x_ord" = "$1" ] || continue
    [ "$_x_id" != "$2" ] || continue
    healthy "$_x_flags" && return 0
  done <<END
$3
END
  return 1
}

# A member meets every known peer again at the address its stable DNS name has now, so the cluster
# re-forms even when every pod came back with a new IP. Returns 0 once every resolvable peer is
# known at its current address.
rejoin_peers() {
  _j_table=$1
  _j_pending=0
  while read -r _j_id _j_ip _j_ord _j_flags _j_rest; do
    [ "$_j_ord" != - ] || continue
    case $_j_flags in
      *myself* | *handshake*) continue ;;
    esac
    # An old identity of a pod that came back with empty data: another entry owns the name now.
    if ! healthy "$_j_flags" && has_other_entry "$_j_ord" "$_j_id" "$_j_table"; then
      continue
    fi
    _j_want=$(resolve "$(pod_fqdn "$_j_ord")") || continue
    if [ "$_j_want" != "$_j_ip" ]; then
      _j_pending=1
      log "meeting $(pod_name "$_j_ord") at $_j_want (known at $_j_ip)"
      cli "$LOCAL_HOST" CLUSTER MEET "$_j_want" "$PORT" "$BUS_PORT" >/dev/null
    fi
  done <<END
$_j_table
END
  [ "$_j_pending" -eq 0 ]
}

# old_selves TABLE ID: entries that carry this pod's name under another id are this pod before it
# lost its data. Nodes do not gossip such dead entries, so every healthy member's view is read;
# once failed (or address-less) and without slots, every node forgets them. Returns 0 while any
# remain.
old_selves() {
  _g_views=$1
  while read -r _v_id _v_ip _v_ord _v_flags _v_rest; do
    healthy "$_v_flags" || continue
    case $_v_flags in
      *myself*) continue ;;
    esac
    _g_views="$_g_views$NL$(nodes_table "$_v_ip")"
  done <<END
$1
END
  _g_found=1
  _g_seen=
  while read -r _g_id _g_ip _g_ord _g_flags _g_master _g_link _g_count _g_open; do
    [ "$_g_ord" = "$ORDINAL" ] || continue
    [ "$_g_id" != "$2" ] || continue
    case " $_g_seen " in
      *" $_g_id "*) continue ;;
    esac
    _g_seen="$_g_seen $_g_id"
    _g_found=0
    case $_g_flags in
      *fail* | *noaddr*) ;;
      *) continue ;;
    esac
    if [ "$_g_count" -gt 0 ]; then
      log "an earlier identity $_g_id of this pod still owns slots; leaving it to an operator (--cluster fix of the CLI)"
      continue
    fi
    log "forgetting $_g_id, an earlier identity of this pod, on every node"
    timeout 60 redis-cli --cluster call "$SELF_IP:$PORT" CLUSTER FORGET "$_g_id" </dev/null >&2
  done <<END
$_g_views
END
  return "$_g_found"
}

# Percent by which a master's slots may miss its fair share: the default threshold of redis-cli
# --cluster rebalance, passed to it explicitly so that both agree on "balanced".
REBALANCE_THRESHOLD=2

# shard_owned SHARD TABLE: a healthy master of SHARD owns slots.
shard_owned() {
  _d_first=$(($1 * (REPLICAS + 1)))
  _d_last=$((_d_first + REPLICAS))
  while read -r _d_id _d_ip _d_ord _d_flags _d_master _d_link _d_count _d_open; do
    [ "$_d_ord" != - ] || continue
    [ "$_d_count" -gt 0 ] || continue
    healthy "$_d_flags" || continue
    case $_d_flags in
      *master*) ;;
      *) continue ;;
    esac
    if [ "$_d_ord" -ge "$_d_first" ] && [ "$_d_ord" -le "$_d_last" ]; then
      return 0
    fi
  done <<END
$2
END
  return 1
}

# sharing ORDINAL FLAGS COUNT TABLE: the node takes a share of the slots: a healthy master that owns
# slots, or an empty intended master of a shard that no master serves yet. Other empty masters (a
# replica between add-node's MEET and its REPLICATE, one waiting for its master) take none.
sharing() {
  healthy "$2" || return 1
  ! is_draining "$1" || return 1
  case $2 in
    *master*) ;;
    *) return 1 ;;
  esac
  [ "$3" -gt 0 ] && return 0
  [ "$1" != - ] && is_master_ordinal "$1" && ! shard_owned $(($1 / (REPLICAS + 1))) "$4"
}

# fair_share TABLE: the slots each sharing master owns once the slots are balanced (0: none shares).
fair_share() {
  _k_n=0
  while read -r _k_id _k_ip _k_ord _k_flags _k_master _k_link _k_count _k_open; do
    if sharing "$_k_ord" "$_k_flags" "$_k_count" "$1"; then
      _k_n=$((_k_n + 1))
    fi
  done <<END
$1
END
  if [ "$_k_n" -gt 0 ]; then
    printf '%s' $((16384 / _k_n))
  else
    printf 0
  fi
}

# underfilled COUNT FAIR: COUNT slots miss the fair share FAIR by more than the threshold, by the
# rule redis-cli --cluster rebalance applies (|100 - 100 * FAIR / COUNT| > threshold).
underfilled() {
  [ "$1" -lt "$2" ] && [ $((100 * ($2 - $1))) -gt $((REBALANCE_THRESHOLD * $1)) ]
}

# Spreads the slots over new (empty or underfilled) intended masters, e.g. after shards grew.
# The highest-ordinal such master acts, once every shard has a member; past half the join timeout
# any of them does. Empty ones get a first slot, then rebalance runs without
# --cluster-use-empty-masters: that flag also counts, and feeds, a replica that add-node has met
# but not yet attached (an empty master for a moment), whatever weights were computed before.
rebalance() {
  _b_table=$1
  _b_missing=
  _b_shard=0
  while [ "$_b_shard" -lt $((SHARDS - DRAINING)) ]; do
    shard_has_member "$_b_shard" "$_b_table" || _b_missing="$_b_missing $_b_shard"
    _b_shard=$((_b_shard + 1))
  done
  _b_fair=$(fair_share "$_b_table")
  _b_highest=-1
  _b_empty=
  _b_donor=
  _b_most=0
  while read -r _b_id _b_ip _b_ord _b_flags _b_master _b_link _b_count _b_open; do
    sharing "$_b_ord" "$_b_flags" "$_b_count" "$_b_table" || continue
    if [ "$_b_count" -eq 0 ]; then
      _b_empty="$_b_empty $_b_id"
    elif [ "$_b_count" -gt "$_b_most" ]; then
      _b_most=$_b_count
      _b_donor=$_b_id
    fi
    if [ "$_b_ord" != - ] && is_master_ordinal "$_b_ord" && underfilled "$_b_count" "$_b_fair" &&
      [ "$_b_ord" -gt "$_b_highest" ]; then
      _b_highest=$_b_ord
    fi
  done <<END
$_b_table
END
  _b_patient=$(($(now) < START + JOIN_TIMEOUT / 2))
  if [ -n "$_b_missing" ] && [ "$_b_patient" -eq 1 ]; then
    log "waiting for shard(s)$_b_missing to join before moving slots"
    return 1
  fi
  if [ "$_b_highest" -ne "$ORDINAL" ] && [ "$_b_patient" -eq 1 ]; then
    log "waiting for $(pod_name "$_b_highest") to move slots to the new masters"
    return 1
  fi
  # A node that just joined refuses imports (CLUSTERDOWN) until it sees the cluster healthy.
  if [ "$(field cluster_state "$(cli "$LOCAL_HOST" CLUSTER INFO)")" != ok ]; then
    log "waiting for cluster_state ok before moving slots"
    return 1
  fi
  _b_check=$(timeout 120 redis-cli --cluster check "$SELF_IP:$PORT" </dev/null 2>&1)
  case $_b_check in
    *"[OK] All 16384 slots covered"*) ;;
    *)
      log "cluster check does not pass yet; not moving slots"
      return 1 ;;
  esac
  for _b_id in $_b_empty; do
    log "giving the empty master $_b_id a first slot from $_b_donor"
    timeout "$JOIN_TIMEOUT" redis-cli --cluster reshard "$SELF_IP:$PORT" --cluster-from "$_b_donor" \
      --cluster-to "$_b_id" --cluster-slots 1 --cluster-yes </dev/null >&2 || return 1
  done
  # A move fails when a node turns replica meanwhile (add-node attaching one); the next pass resumes.
  log "moving slots to the new masters (fair share: $_b_fair slots)"
  timeout "$JOIN_TIMEOUT" redis-cli --cluster rebalance "$SELF_IP:$PORT" \
    --cluster-threshold "$REBALANCE_THRESHOLD" </dev/null >&2
  return 1
}

# A member settles its role; returns 0 when nothing is left to do.
settle() {
  _e_table=$1
  _e_self=$(self_entry "$_e_table") || return 1
  read -r _e_id _e_ip _e_ord _e_flags _e_master _e_link _e_count _e_open <<END
$_e_self
END
  if [ "$_e_open" -eq 1 ]; then
    # An interrupted slot move leaves slots open; fix completes it.
    log "slots left open by an interrupted move: running cluster fix"
    timeout "$JOIN_TIMEOUT" redis-cli --cluster fix "$SELF_IP:$PORT" --cluster-yes </dev/null >&2
    return 1
  fi
  if old_selves "$_e_table" "$_e_id"; then
    return 1
  fi
  case $_e_flags in
    *master*)
      if [ "$_e_count" -eq 0 ] && _e_target=$(shard_master "$SHARD" "$_e_table" "$_e_id"); then
        log "empty master: replicating $_e_target, the master of shard $SHARD"
        cli "$LOCAL_HOST" CLUSTER REPLICATE "$_e_target" >&2
        return 1
      fi
      if ! is_master_ordinal "$ORDINAL"; then
        if [ "$_e_count" -eq 0 ]; then
          log "empty master: waiting for the master of shard $SHARD"
          return 1
        fi
      elif [ "$DRAINING" -eq 0 ] && underfilled "$_e_count" "$(fair_share "$_e_table")"; then
        # Settled only at a fair share: a rebalance cut short leaves this master short of it. While
        # shards are drained, only the drain job moves slots.
        rebalance "$_e_table"
        return 1
      fi ;;
  esac
  _e_state=$(field cluster_state "$(cli "$LOCAL_HOST" CLUSTER INFO)")
  if [ "$_e_state" != ok ]; then
    log "cluster_state is '${_e_state:-unknown}'; waiting"
    return 1
  fi
  return 0
}

# find_cluster: asks every expected peer. Sets SEED to a peer of a formed, healthy cluster,
# PEER_CLUSTER=1 when any peer belongs to a cluster at all, PEERS_UP to the peers that answer.
find_cluster() {
  SEED=
  PEER_CLUSTER=0
  PEERS_UP=0
  _f_ord=0
  while [ "$_f_ord" -lt "$NODE_COUNT" ]; do
    if [ "$_f_ord" -ne "$ORDINAL" ] && _f_ip=$(resolve "$(pod_fqdn "$_f_ord")"); then
      _f_info=$(cli "$_f_ip" CLUSTER INFO)
      _f_known=$(field cluster_known_nodes "$_f_info")
      _f_slots=$(field cluster_slots_assigned "$_f_info")
      if [ -n "$_f_known" ]; then
        PEERS_UP=$((PEERS_UP + 1))
        if [ "$_f_known" -gt 1 ] || [ "${_f_slots:-0}" -gt 0 ]; then
          PEER_CLUSTER=1
          if [ -z "$SEED" ] && [ "$_f_known" -gt 1 ] && [ "$(field cluster_state "$_f_info")" = ok ]; then
            SEED=$_f_ip
          fi
        fi
      fi
    fi
    _f_ord=$((_f_ord + 1))
  done
}

# The creator forms the cluster from the intended masters once each of them answers as an empty
# node; replicas then join on their own, so shard N's replicas are always ordinals N*(1+r)+1..+r.
create_cluster() {
  _c_addrs=
  _c_shard=0
  while [ "$_c_shard" -lt $((SHARDS - DRAINING)) ]; do
    _c_ord=$((_c_shard * (REPLICAS + 1)))
    if [ "$_c_ord" -eq "$ORDINAL" ]; then
      _c_ip=$SELF_IP
    elif ! _c_ip=$(resolve "$(pod_fqdn "$_c_ord")"); then
      log "waiting for $(pod_name "$_c_ord") to have an address"
      return 1
    fi
    _c_info=$(cli "$_c_ip" CLUSTER INFO)
    if [ "$(field cluster_known_nodes "$_c_info")" != 1 ] || [ "$(field cluster_slots_assigned "$_c_info")" != 0 ]; then
      log "waiting for $(pod_name "$_c_ord") ($_c_ip) to answer as an empty node"
      return 1
    fi
    _c_addrs="$_c_addrs $_c_ip:$PORT"
    _c_shard=$((_c_shard + 1))
  done
  log "creating the cluster from the masters$_c_addrs"
  # shellcheck disable=SC2086 # one word per address
  timeout 300 redis-cli --cluster create $_c_addrs --cluster-replicas 0 --cluster-yes </dev/null >&2
}

# earlier_self_active TABLE: an entry with this pod's name (this pod before it lost its data) still
# owns slots or is not yet failed; joining now would race its failover.
earlier_self_active() {
  while read -r _l_id _l_ip _l_ord _l_flags _l_master _l_link _l_count _l_open; do
    [ "$_l_ord" = "$ORDINAL" ] || continue
    case $_l_flags in
      *fail* | *noaddr*) [ "$_l_count" -gt 0 ] && return 0 ;;
      *) return 0 ;;
    esac
  done <<END
$1
END
  return 1
}

# A new node joins the formed cluster that SEED belongs to: as a replica of its shard's master when
# the shard has one, else (intended masters only) as an empty master that a rebalance then fills.
join_cluster() {
  _n_table=$(nodes_table "$1") || return 1
  if any_open "$_n_table"; then
    log "slots are being moved; waiting to join"
    return 1
  fi
  if earlier_self_active "$_n_table"; then
    log "an earlier identity of this pod is still active in the cluster; waiting for its failover"
    return 1
  fi
  if _n_master=$(shard_master "$SHARD" "$_n_table"); then
    log "joining through $1 as a replica of $_n_master (shard $SHARD)"
    timeout 300 redis-cli --cluster add-node "$SELF_IP:$PORT" "$1:$PORT" \
      --cluster-slave --cluster-master-id "$_n_master" </dev/null >&2
  elif is_master_ordinal "$ORDINAL"; then
    log "joining through $1 as the master of shard $SHARD"
    timeout 300 redis-cli --cluster add-node "$SELF_IP:$PORT" "$1:$PORT" </dev/null >&2
  else
    log "waiting for the master of shard $SHARD to join"
  fi
}

# One pass; returns 0 when this node is a settled member of a healthy cluster.
step() {
  read_draining
  _p_table=$(nodes_table "$LOCAL_HOST") || return 1
  _p_self=$(self_entry "$_p_table") || return 1
  read -r _p_id _p_ip _p_ord _p_flags _p_master _p_link _p_count _p_open <<END
$_p_self
END
  if [ "$(printf '%s\n' "$_p_table" | wc -l)" -gt 1 ]; then
    MEMBER=1
    rejoin_peers "$_p_table" || return 1
    if is_draining "$ORDINAL"; then
      # reachable at its current address, which is all the drain job needs of it
      log "shard $SHARD is being drained: its slots move to the other masters (drain job); done"
      exit 0
    fi
    settle "$_p_table"
    return
  fi
  if is_draining "$ORDINAL"; then
    log "shard $SHARD is being drained: this node joins no cluster; done"
    exit 0
  fi
  if [ "$_p_count" -gt 0 ]; then
    log "owns slots but knows no peer yet (cluster creation in progress); waiting"
    return 1
  fi
  find_cluster
  if [ -n "$SEED" ]; then
    join_cluster "$SEED"
  elif [ "$PEER_CLUSTER" -eq 1 ]; then
    log "peers belong to a cluster that is not healthy; waiting to join it"
  elif [ "$ORDINAL" -eq 0 ]; then
    create_cluster
  else
    log "waiting for the cluster to be created ($PEERS_UP peers answer)"
  fi
  return 1
}

identity
SHARD=$((ORDINAL / (REPLICAS + 1)))
START=$(now)
MEMBER=0
while :; do
  _w_reply=$(cli "$LOCAL_HOST" PING)
  case $_w_reply in
    PONG) break ;;
    # Loading a big dataset may take long; the join timeout starts once it is done.
    LOADING*) START=$(now) ;;
  esac
  if [ "$(now)" -ge $((START + JOIN_TIMEOUT)) ]; then
    log "redis-server did not answer PING within ${JOIN_TIMEOUT}s (last reply: $_w_reply)"
    exit 1
  fi
  sleep 1
done
START=$(now)
while :; do
  if step; then
    log "$SELF_HOST is a member of a healthy cluster; done"
    exit 0
  fi
  if [ "$(now)" -ge $((START + JOIN_TIMEOUT)) ]; then
    if [ "$MEMBER" -eq 1 ]; then
      log "gave up after ${JOIN_TIMEOUT}s; the cluster's own gossip carries on"
      exit 1
    fi
    # A node that never joined serves nothing: restarting the container retries from scratch.
    log "not part of a cluster after ${JOIN_TIMEOUT}s; stopping redis-server so the container restarts"
    if is_uint "${REDIS_SERVER_PID:-}" && [ "$REDIS_SERVER_PID" -gt 1 ]; then
      kill -TERM "$REDIS_SERVER_PID" 2>/dev/null
    fi
    exit 1
  fi
  sleep "$STEP_INTERVAL"
done
