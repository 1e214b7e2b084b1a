# shellcheck shell=sh
# Password auth: redis-cli takes REDIS_PASSWORD through REDISCLI_AUTH.

# redis-cli takes the password from the environment, so it never shows on a command line.
unset REDISCLI_AUTH
if [ -n "${REDIS_PASSWORD:-}" ]; then
  REDISCLI_AUTH=$REDIS_PASSWORD
  export REDISCLI_AUTH
fi
