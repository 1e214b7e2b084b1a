# shellcheck shell=sh
# Reading CLUSTER NODES: nodes_table and its helpers, shared by cluster-init.sh and drain.sh.

# redis-cli --cluster colours its output for xterm-like terminals only.
TERM=dumb
export TERM

now() {
  date +%s
}

pod_name() {
  printf '%s-%s' "$STS_NAME" "$1"
}

# ordinal_of_host NAME: the ordinal when NAME is the stable DNS name of one of our pods.
ordinal_of_host() {
  _o_pod=${1%%.*}
  _o_ord=${_o_pod##*-}
  is_uint "$_o_ord" || return 1
  [ "$1" = "$(pod_fqdn "$_o_ord")" ] || return 1
  printf '%s' "$_o_ord"
}

# resolve NAME: the current address of a DNS name (REDIS_RESOLVER replaces getent outside a pod).
resolve() {
  if [ -n "${REDIS_RESOLVER:-}" ]; then
    _r_out=$("$REDIS_RESOLVER" "$1" 2>/dev/null) || return 1
  else
    _r_out=$(getent hosts "$1" 2>/dev/null) || return 1
  fi
  # shellcheck disable=SC2086 # split "address name..." into words
  set -- $_r_out
  [ $# -gt 0 ] || return 1
  printf '%s' "$1"
}

# Ordinals N*(1+replicas) start shard N and are its intended master; the next ones its replicas.
is_master_ordinal() {
  [ $(($1 % (REPLICAS + 1))) -eq 0 ]
}

# nodes_table HOST: CLUSTER NODES as seen by HOST, one node a line:
#   id address ordinal flags master-id link slot-count open
# address and master-id are "-" when unknown, ordinal "-" for nodes that are not our pods,
# open is 1 while the node has slots in migrating or importing state.
nodes_table() {
  _t_raw=$(cli "$1" CLUSTER NODES)
  case $_t_raw in
    *myself*) ;;
    *) return 1 ;;
  esac
  printf '%s\n' "$_t_raw" | while read -r _t_id _t_addr _t_flags _t_master _t_ping _t_pong _t_epoch _t_link _t_slots; do
    [ -n "$_t_id" ] || continue
    _t_hostport=${_t_addr%%@*}
    _t_ip=${_t_hostport%:*}
    case $_t_addr in
      *,*) _t_host=${_t_addr#*,} ; _t_host=${_t_host%%,*} ;;
      *) _t_host= ;;
    esac
    _t_ord=$(ordinal_of_host "$_t_host") || _t_ord=-
    _t_count=0
    _t_open=0
    for _t_range in $_t_slots; do
      case $_t_range in
        \[*) _t_open=1 ;;
        *-*) _t_count=$((_t_count + ${_t_range#*-} - ${_t_range%-*} + 1)) ;;
        *) _t_count=$((_t_count + 1)) ;;
      esac
    done
    printf '%s %s %s %s %s %s %s %s\n' "$_t_id" "${_t_ip:--}" "$_t_ord" "$_t_flags" "$_t_master" "$_t_link" "$_t_count" "$_t_open"
  done
}

# self_entry TABLE: this node's line of TABLE.
self_entry() {
  while read -r _s_id _s_ip _s_ord _s_flags _s_rest; do
    case $_s_flags in
      *myself*)
        printf '%s %s %s %s %s\n' "$_s_id" "$_s_ip" "$_s_ord" "$_s_flags" "$_s_rest"
        return 0 ;;
    esac
  done <<END
$1
END
  return 1
}

# any_open TABLE: some node has slots in migrating or importing state.
any_open() {
  while read -r _a_id _a_ip _a_ord _a_flags _a_master _a_link _a_count _a_open; do
    [ "$_a_open" = 1 ] && return 0
  done <<END
$1
END
  return 1
}

# healthy FLAGS: neither failing, nor in handshake, nor without address.
healthy() {
  case $1 in
    *fail* | *handshake* | *noaddr*) return 1 ;;
  esac
  return 0
}
