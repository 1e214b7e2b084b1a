# shellcheck shell=sh
# Strict mode of every script: unset variables are errors, no globbing, the C locale.

set -u
set -f
LC_ALL=C
export LC_ALL
