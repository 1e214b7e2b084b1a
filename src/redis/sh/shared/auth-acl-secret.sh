# shellcheck shell=sh
# ACL users, in the drain Job: the cluster user's password from the mounted auth Secret.

# redis-cli authenticates as the cluster user with its password from the mounted auth Secret; it
# never shows on a command line.
unset REDISCLI_AUTH
if [ -r "$AUTH_DIR/$CLUSTER_PASSWORD_KEY" ]; then
  REDISCLI_AUTH=$(cat "$AUTH_DIR/$CLUSTER_PASSWORD_KEY")
  export REDISCLI_AUTH
fi
