# shellcheck shell=sh
# Body of tls.sh: reloads a renewed certificate (TLS only).

#if acl
# The reload loop acts as the reload user, whose random password acl.sh made at start.
unset REDISCLI_AUTH
CLI_USER=
if [ -r "$RUN_DIR/reload-auth" ]; then
  REDISCLI_AUTH=$(cat "$RUN_DIR/reload-auth")
  export REDISCLI_AUTH
  CLI_USER=$RELOAD_USER
fi
#else
# The reload loop acts as the default user; redis-cli takes the password from the environment.
unset REDISCLI_AUTH
CLI_USER=
if printenv REDIS_PASSWORD >/dev/null; then
  REDISCLI_AUTH=$(printenv REDIS_PASSWORD)
  export REDISCLI_AUTH
fi
#endif

# fingerprint: a checksum of the mounted certificate, key and CA.
fingerprint() {
  cat "$TLS_DIR/tls.crt" "$TLS_DIR/tls.key" "$TLS_DIR/ca.crt" 2>/dev/null | cksum
}

# watch: started by start.sh beside the server; loads a changed certificate (CONFIG SET of the same
# paths makes the server read the files again).
watch() {
  _w_loaded=$(fingerprint)
  while :; do
    sleep "$TLS_RELOAD_INTERVAL"
    if is_uint "${REDIS_SERVER_PID:-}" && ! kill -0 "$REDIS_SERVER_PID" 2>/dev/null; then
      exit 0
    fi
    _w_now=$(fingerprint)
    [ "$_w_now" != "$_w_loaded" ] || continue
    set -- redis-cli -h "$LOCAL_HOST" -p "$PORT"
    if [ -n "${CLI_USER:-}" ]; then
      set -- "$@" --user "$CLI_USER"
    fi
    _w_reply=$(timeout "$CMD_TIMEOUT" "$@" CONFIG SET tls-cert-file "$TLS_DIR/tls.crt" tls-key-file "$TLS_DIR/tls.key" \
      tls-ca-cert-file "$TLS_DIR/ca.crt" </dev/null 2>&1 | tr -d '\r')
    if [ "$_w_reply" = OK ]; then
      _w_loaded=$_w_now
      log "loaded the renewed certificate"
    else
      log "error: loading the changed certificate failed (retrying): $_w_reply"
    fi
  done
}

case ${1:-} in
  watch) watch ;;
  *) die "usage: tls.sh watch" ;;
esac
