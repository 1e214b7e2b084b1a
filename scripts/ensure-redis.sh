#!/usr/bin/env bash
# Installs Debian's redis-server and redis-tools when redis-server or redis-cli
# is missing, and shellcheck, which the tests run over every rendered script;
# the real-Redis tests start their own processes, so the system service is kept
# from starting (policy-rc.d) and disabled afterwards.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && command -v shellcheck >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "ensure-redis: redis-server, redis-cli or shellcheck missing and not root (no sudo): install redis-server, redis-tools and shellcheck" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive

# A policy-rc.d that answers 101 stops invoke-rc.d from starting the service
# during install; an existing policy file is left alone.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  CREATED_POLICY=1
fi
cleanup() {
  if [ "$CREATED_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi
}
trap cleanup EXIT

$SUDO flock /tmp/cdk8s-stateful-apt.lock apt-get update -qq
$SUDO flock /tmp/cdk8s-stateful-apt.lock apt-get install -y -qq --no-install-recommends redis-server redis-tools shellcheck >/dev/null

# Where systemd runs, make sure the packaged service is neither running nor enabled.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/redis-server ]; then
  $SUDO /etc/init.d/redis-server stop >/dev/null 2>&1 || true
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1; then
  echo "ensure-redis: redis-server, redis-cli or shellcheck still missing after apt-get install" >&2
  exit 1
fi
