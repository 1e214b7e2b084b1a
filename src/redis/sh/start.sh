# shellcheck shell=sh
# Body of start.sh, the container entrypoint.

# conf_quote VALUE: VALUE as one double-quoted redis.conf argument.
conf_quote() {
  _q_rest=$1
  _q_out=
  while [ -n "$_q_rest" ]; do
    _q_tail=${_q_rest#?}
    _q_char=${_q_rest%"$_q_tail"}
    _q_rest=$_q_tail
    case $_q_char in
      \\ | \") _q_out="$_q_out\\$_q_char" ;;
      *) _q_out="$_q_out$_q_char" ;;
    esac
  done
  printf '"%s"' "$_q_out"
}

identity

#if acl
# ACL users: acl.sh assembles the ACL file and the cluster user's password file from the mounted Secrets,
# then watches them beside the server and applies changes without a restart.
sh "$CONFIG_DIR/acl.sh" build || die "cannot assemble the ACL file from the mounted Secrets (see above)"
REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/acl.sh" watch &
#else
if [ -n "${REDIS_PASSWORD:-}" ]; then
  case $REDIS_PASSWORD in
    *"$NL"* | *"$CR"*)
      die "REDIS_PASSWORD contains a line break (a Secret made from a file often ends with a newline)" ;;
  esac
elif [ "$AUTH_REQUIRED" = 1 ]; then
  die "REDIS_PASSWORD is empty but the cluster requires a password (check the Secret and its key)"
fi
#endif
if [ -n "${REDIS_BIND:-}" ]; then
  case $REDIS_BIND in
    *[!0-9A-Fa-f.:*\ -]*) die "REDIS_BIND '$REDIS_BIND' is not a list of addresses" ;;
  esac
fi
if [ ! -d "$DATA_DIR" ] || [ ! -w "$DATA_DIR" ]; then
  die "data directory $DATA_DIR is missing or not writable by uid $(id -u)"
fi

# Per-pod settings go to a file only this user can read: the password never appears in the
# ConfigMap or on a command line.
RUNTIME_CONF=$RUN_DIR/redis-runtime.conf
(
  umask 077
  {
    printf 'dir %s\n' "$(conf_quote "$DATA_DIR")"
    if [ -n "${REDIS_BIND:-}" ]; then
      printf 'bind %s\n' "$REDIS_BIND"
    fi
    #if tls
    printf 'tls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\n' "$(conf_quote "$TLS_DIR/tls.crt")" \
      "$(conf_quote "$TLS_DIR/tls.key")" "$(conf_quote "$TLS_DIR/ca.crt")"
    #endif
    printf 'cluster-announce-ip %s\n' "$(conf_quote "$SELF_IP")"
    printf 'cluster-announce-hostname %s\n' "$(conf_quote "$SELF_HOST")"
    printf 'replica-announce-ip %s\n' "$(conf_quote "$SELF_IP")"
    #if acl
    printf 'aclfile %s\n' "$(conf_quote "$RUN_DIR/users.acl")"
    printf 'masteruser %s\nmasterauth %s\n' "$REPLICATION_USER" "$(conf_quote "$(cat "$RUN_DIR/cluster-auth")")"
    #else
    if [ -n "${REDIS_PASSWORD:-}" ]; then
      _pw=$(conf_quote "$REDIS_PASSWORD")
      printf 'requirepass %s\nmasterauth %s\n' "$_pw" "$_pw"
    fi
    #endif
  } >"$RUNTIME_CONF.tmp" && mv -f "$RUNTIME_CONF.tmp" "$RUNTIME_CONF"
) || die "cannot write $RUNTIME_CONF"

if [ -f "$DATA_DIR/nodes.conf" ]; then
  log "$SELF_HOST ($SELF_IP): nodes.conf found, rejoining the cluster"
else
  log "$SELF_HOST ($SELF_IP): no nodes.conf, starting as a new node"
fi

#if tls
# A renewed certificate (the kubelet updates the mounted Secret) is loaded without a restart.
REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/tls.sh" watch &
#endif
# Cluster formation and rejoin run beside the server and exit when done; exec makes
# redis-server the process that receives the pod's signals.
REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/cluster-init.sh" &
exec redis-server "$CONFIG_DIR/redis.conf" --include "$RUNTIME_CONF"
