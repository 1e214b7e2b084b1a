#!/bin/sh
# Entrypoint of the PostgreSQL test image that scripts/cluster/node-images.sh builds from Debian's
# packages. It implements the part of the official postgres image's contract that the example app
# relies on, nothing more:
#   PGDATA                  the data directory (default /var/lib/postgresql/data); created when it
#                           is missing, so that it can be a subdirectory of a volume whose root holds
#                           other entries (lost+found) or belongs to another user
#   POSTGRES_PASSWORD       the password of the superuser, or
#   POSTGRES_PASSWORD_FILE  a file holding it (a mounted Secret); required when PGDATA is empty
#   POSTGRES_USER           the superuser's name (default postgres)
# On an empty PGDATA it runs initdb (scram-sha-256 for TCP connections, trust on the local socket,
# listen on every address); then it execs the server as PID 1. Arguments that start with "-" are
# options of the server; any other command runs as given.
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  echo "postgres-entrypoint: runs as the postgres user only (set runAsUser)" >&2
  exit 1
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
user="${POSTGRES_USER:-postgres}"

if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both" >&2
    exit 1
  fi
  if [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD_FILE $POSTGRES_PASSWORD_FILE is not readable" >&2
    exit 1
  fi
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=""
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    pwfile="$POSTGRES_PASSWORD_FILE"
  elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
    # initdb reads the password from a file: a private one, removed right after
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  else
    echo "postgres-entrypoint: $PGDATA holds no database and no superuser password is set" >&2
    echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
    exit 1
  fi
  if [ ! -s "$pwfile" ]; then
    echo "postgres-entrypoint: the superuser password is empty" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >&2
  [ "$pwfile" = "${POSTGRES_PASSWORD_FILE:-}" ] || rm -f "$pwfile"
  # every address, as the official image does; pg_hba.conf has scram-sha-256 for all TCP peers
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  echo "postgres-entrypoint: initialized $PGDATA" >&2
fi

exec "$@"
