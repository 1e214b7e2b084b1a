# shellcheck shell=sh
# log, die and is_uint; the script sets SCRIPT in its settings header.

log() {
  printf '%s %s: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$SCRIPT" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# Unsigned decimal without leading zeros, so that arithmetic never reads it as octal.
is_uint() {
  case $1 in
    '' | *[!0-9]* | 0?*) return 1 ;;
  esac
  return 0
}
