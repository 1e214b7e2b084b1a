# shellcheck shell=sh
# cli: one redis-cli call bounded by the command timeout.

# cli HOST ARG...: one redis-cli call bounded by the command timeout; prints the reply or the error.
cli() {
  _cli_host=$1
  shift
  timeout "$CMD_TIMEOUT" redis-cli -h "$_cli_host" -p "$PORT" "$@" </dev/null 2>&1 | tr -d '\r'
}
