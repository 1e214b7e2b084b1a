# shellcheck shell=sh
# ACL users, in a pod: the cluster user's password from the file acl.sh keeps.

# redis-cli authenticates as the cluster user with the password acl.sh keeps in a private file; it
# never shows on a command line.
unset REDISCLI_AUTH
if [ -r "$RUN_DIR/cluster-auth" ]; then
  REDISCLI_AUTH=$(cat "$RUN_DIR/cluster-auth")
  export REDISCLI_AUTH
fi
