# shellcheck shell=sh
# Body of acl.sh: assembles the ACL file and applies changed Secrets (ACL users only).

# secret_value FILE: a mounted Secret value without its trailing newlines; fails when it is missing,
# empty or has a line break inside.
secret_value() {
  [ -f "$1" ] || return 1
  _s_value=$(cat "$1") || return 1
  [ -n "$_s_value" ] || return 1
  case $_s_value in
    *"$NL"* | *"$CR"*)
      log "error: $1 has a line break inside its value"
      return 1 ;;
  esac
  printf '%s' "$_s_value"
}

# hashed KEY: "#<sha256>" of the password under KEY of the auth Secret (the ACL file holds no password).
hashed() {
  _p_value=$(secret_value "$AUTH_DIR/$1") || return 1
  printf '#%s' "$(printf '%s' "$_p_value" | sha256sum | cut -d ' ' -f 1)"
}

# passwords KEY: the hashed password under KEY and, while a rotation is under way, the one under KEY.previous.
passwords() {
  if ! _w_list=$(hashed "$1"); then
    log "error: the auth Secret has no usable key $1 (mounted at $AUTH_DIR)"
    return 1
  fi
  if _w_previous=$(hashed "$1.previous"); then
    _w_list="$_w_list $_w_previous"
  fi
  printf '%s' "$_w_list"
}

# app_users: one "user NAME RULES" line per key of the users Secret.
app_users() {
  [ "$USERS_FROM_SECRET" = 1 ] || return 0
  if [ ! -d "$USERS_DIR" ]; then
    log "error: the users Secret is not mounted at $USERS_DIR"
    return 1
  fi
  set +f
  set -- "$USERS_DIR"/*
  set -f
  for _u_file in "$@"; do
    [ -f "$_u_file" ] || continue
    _u_name=${_u_file##*/}
    case $_u_name in
      default | "$CLUSTER_USER" | "$REPLICATION_USER" | "$METRICS_USER" | "$RELOAD_USER")
        log "error: user $_u_name of the users Secret is reserved: the cluster sets default and its internal users"
        return 1 ;;
    esac
    if ! _u_rules=$(secret_value "$_u_file"); then
      log "error: user $_u_name of the users Secret has no rules on one line"
      return 1
    fi
    printf 'user %s %s\n' "$_u_name" "$_u_rules"
  done
}

# assemble FILE: writes the ACL file to FILE (readable by this user only).
assemble() {
  _a_default=$(passwords "$PASSWORD_KEY") || return 1
  _a_cluster=$(passwords "$CLUSTER_PASSWORD_KEY") || return 1
  _a_metrics=
  if [ -n "$METRICS_PASSWORD_KEY" ]; then
    _a_metrics=$(passwords "$METRICS_PASSWORD_KEY") || return 1
  fi
  _a_users=$(app_users) || return 1
  _a_reload=$(secret_value "$RUN_DIR/reload-auth") || return 1
  _a_reload="#$(printf '%s' "$_a_reload" | sha256sum | cut -d ' ' -f 1)"
  (
    umask 077
    {
      printf 'user default reset on %s %s\n' "$_a_default" "$DEFAULT_USER_RULES"
      printf 'user %s reset on %s %s\n' "$CLUSTER_USER" "$_a_cluster" "$CLUSTER_USER_RULES"
      printf 'user %s reset on %s %s\n' "$REPLICATION_USER" "$_a_cluster" "$REPLICATION_USER_RULES"
      if [ -n "$_a_metrics" ]; then
        printf 'user %s reset on %s %s\n' "$METRICS_USER" "$_a_metrics" "$METRICS_USER_RULES"
      fi
      printf 'user %s reset on %s %s\n' "$RELOAD_USER" "$_a_reload" "$RELOAD_USER_RULES"
      if [ -n "$_a_users" ]; then
        printf '%s\n' "$_a_users"
      fi
    } >"$1.tmp" && mv -f "$1.tmp" "$1"
  )
}

# use_password PASSWORD: the cluster password the scripts and masterauth use from now on.
use_password() {
  (
    umask 077
    printf '%s' "$1" >"$RUN_DIR/cluster-auth.tmp" && mv -f "$RUN_DIR/cluster-auth.tmp" "$RUN_DIR/cluster-auth"
  )
}

# build (at start): the ACL file and the cluster password. While a rotation is under way the
# previous password is used: every node accepts it, whether or not it has seen the new one.
build() {
  (
    umask 077
    head -c 32 /dev/urandom | od -A n -t x1 | tr -d ' \n' >"$RUN_DIR/reload-auth"
  ) || return 1
  assemble "$RUN_DIR/users.acl" || return 1
  _b_password=$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY.previous") ||
    _b_password=$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY") || return 1
  use_password "$_b_password"
}

# cli_with PASSWORD HOST ARG...: one redis-cli call as the cluster user; the password stays off argv.
cli_with() {
  _c_password=$1
  _c_host=$2
  shift 2
  REDISCLI_AUTH=$_c_password timeout "$CMD_TIMEOUT" redis-cli --user "$CLUSTER_USER" -h "$_c_host" -p "$PORT" "$@" </dev/null 2>&1 | tr -d '\r'
}

# local_cli ARG...: one redis-cli call to this node as the reload user.
local_cli() {
  REDISCLI_AUTH=$(cat "$RUN_DIR/reload-auth") timeout "$CMD_TIMEOUT" redis-cli --user "$RELOAD_USER" -h "$LOCAL_HOST" -p "$PORT" "$@" 2>&1 | tr -d '\r'
}

# peers_accept PASSWORD: every reachable member of the cluster accepts PASSWORD for the cluster user.
peers_accept() {
  _e_nodes=$(local_cli CLUSTER NODES </dev/null)
  case $_e_nodes in
    *myself*) ;;
    *) return 1 ;;
  esac
  while read -r _e_id _e_addr _e_flags _e_rest; do
    case $_e_flags in
      *myself* | *fail* | *noaddr* | *handshake* | '') continue ;;
    esac
    _e_ip=${_e_addr%%@*}
    _e_ip=${_e_ip%:*}
    if [ "$(cli_with "$1" "$_e_ip" PING)" != PONG ]; then
      log "waiting for $_e_ip to accept the new cluster password"
      return 1
    fi
  done <<END
$_e_nodes
END
  return 0
}

# reload: applies changed users and passwords (ACL LOAD), then moves masterauth and the scripts to
# the current cluster password once every peer accepts it.
reload() {
  assemble "$RUN_DIR/users.acl.new" || return 1
  if cmp -s "$RUN_DIR/users.acl.new" "$RUN_DIR/users.acl"; then
    rm -f "$RUN_DIR/users.acl.new"
  else
    cp -p "$RUN_DIR/users.acl" "$RUN_DIR/users.acl.old" && mv -f "$RUN_DIR/users.acl.new" "$RUN_DIR/users.acl" || return 1
    _r_reply=$(local_cli ACL LOAD </dev/null)
    if [ "$_r_reply" != OK ]; then
      # Redis keeps the users it has; the file goes back so that a restart starts with them too.
      mv -f "$RUN_DIR/users.acl.old" "$RUN_DIR/users.acl"
      log "error: ACL LOAD refused the changed users: $_r_reply"
      return 1
    fi
    rm -f "$RUN_DIR/users.acl.old"
    log "applied changed users and passwords (ACL LOAD)"
  fi
  _r_want=$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY") || return 1
  [ "$_r_want" != "$(cat "$RUN_DIR/cluster-auth")" ] || return 0
  if [ -f "$AUTH_DIR/$CLUSTER_PASSWORD_KEY.previous" ] && ! peers_accept "$_r_want"; then
    return 0
  fi
  _r_reply=$(printf '%s' "$_r_want" | local_cli -x CONFIG SET masterauth)
  if [ "$_r_reply" != OK ]; then
    log "error: CONFIG SET masterauth failed: $_r_reply"
    return 1
  fi
  use_password "$_r_want"
  log "replication and the scripts use the current cluster password"
}

# watch: started by start.sh beside redis-server; reloads when the mounted Secrets change.
watch() {
  while :; do
    sleep "$RELOAD_INTERVAL"
    if is_uint "${REDIS_SERVER_PID:-}" && ! kill -0 "$REDIS_SERVER_PID" 2>/dev/null; then
      exit 0
    fi
    reload
  done
}

# status: whether this node runs with what the Secrets say now; exits 0 when it does.
status() {
  _t_ok=0
  if assemble "$RUN_DIR/users.acl.check" && cmp -s "$RUN_DIR/users.acl.check" "$RUN_DIR/users.acl"; then
    echo "users: applied"
  else
    echo "users: not applied yet"
    _t_ok=1
  fi
  rm -f "$RUN_DIR/users.acl.check"
  if [ "$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY")" = "$(cat "$RUN_DIR/cluster-auth")" ]; then
    echo "cluster password: the current one ($CLUSTER_PASSWORD_KEY)"
  else
    echo "cluster password: not the current one yet ($CLUSTER_PASSWORD_KEY)"
    _t_ok=1
  fi
  if [ -f "$AUTH_DIR/$CLUSTER_PASSWORD_KEY.previous" ] || [ -f "$AUTH_DIR/$PASSWORD_KEY.previous" ]; then
    echo "rotation: previous passwords are still accepted"
  fi
  return "$_t_ok"
}

case ${1:-} in
  build) build ;;
  watch) watch ;;
  status) status ;;
  *) die "usage: acl.sh build|watch|status" ;;
esac
