#!/usr/bin/env bash
# Installs Checkov (PyPI, pinned) into a virtualenv in a cache directory outside the repository and prints the
# path of its checkov command. Idempotent: a present, working install is reused.
#   CHECKOV_CACHE_DIR  where the virtualenv lives (default ~/.cache/cdk8s-stateful-scan)
set -euo pipefail
CHECKOV_VERSION="3.3.30"
cache="${CHECKOV_CACHE_DIR:-$HOME/.cache/cdk8s-stateful-scan}"
venv="$cache/checkov-$CHECKOV_VERSION"
if [[ ! -x "$venv/bin/checkov" ]] || ! "$venv/bin/checkov" --version >/dev/null 2>&1; then
  command -v python3 >/dev/null || { echo "ensure-checkov.sh: python3 is required" >&2; exit 1; }
  rm -rf "$venv"
  mkdir -p "$cache"
  start=$(date +%s)
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
  echo "ensure-checkov.sh: installed checkov $CHECKOV_VERSION in $(( $(date +%s) - start )) s" >&2
fi
echo "$venv/bin/checkov"
