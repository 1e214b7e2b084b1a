#!/usr/bin/env bash
# Builds the packages for the other jsii languages into dist-packages/ (see docs/languages.md):
#   python/  the wheel and the sdist (jsii-pacmak: venv, pip, python -m build, twine check)
#   java/ go/ dotnet/  the generated sources; each is also compiled and packaged when its toolchain is installed
#                      and the cdk8s releases it depends on resolve from its registry, and skipped with the reason
#                      otherwise.
# PACKAGE_SKIP_BUILD=1 reuses lib/ and .jsii from an earlier `npm run build`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
# jsii tools and the jsii runtime take the Node.js major versions whose end-of-life notice to leave out
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:+$JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION,}$(node -p "process.versions.node.split('.')[0]")"
# jsii-pacmak runs `npm pack`, whose prepack script would build the library a second time
export npm_config_ignore_scripts=true

summary=()
timed() {
  local label="$1"; shift
  local start; start="$(date +%s.%N)"
  "$@"
  local secs; secs="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
  summary+=("$label: ${secs} s")
}
dep_version() {
  node -e "console.log(require('./package.json').devDependencies[process.argv[1]])" "$1"
}

if [ "${PACKAGE_SKIP_BUILD:-}" != "1" ]; then
  timed "build" npm run build --silent
fi
rm -rf dist-packages

timed "python wheel" npx jsii-pacmak --target python --no-npmignore
timed "java, go, dotnet sources" npx jsii-pacmak --target java --target go --target dotnet --code-only --no-npmignore

cdk8s_version="$(dep_version cdk8s)"
plus_version="$(dep_version cdk8s-plus-28)"

# prints the artifacts (group:artifact:version) the Maven registry does not have
missing_maven() {
  local a
  for a in "$@"; do
    timeout 120 mvn -q -B dependency:get -Dtransitive=false -Dartifact="$a" >/dev/null 2>&1 || printf '%s ' "$a"
  done
}
# prints the modules (path@version) the Go module proxy does not serve
missing_go() {
  local m
  for m in "$@"; do
    (cd "${TMPDIR:-/tmp}" && timeout 120 go list -m "$m" >/dev/null 2>&1) || printf '%s ' "$m"
  done
}

if ! command -v mvn >/dev/null; then
  summary+=("java: sources only: no mvn on this machine")
else
  missing="$(missing_maven "org.cdk8s:cdk8s:$cdk8s_version" "org.cdk8s:cdk8s-plus-28:$plus_version")"
  if [ -n "$missing" ]; then
    summary+=("java: sources only: not in the Maven registry: ${missing% }")
  else
    timed "java jar" npx jsii-pacmak --target java --no-npmignore
  fi
fi

if ! command -v go >/dev/null; then
  summary+=("go: sources only: no go on this machine")
else
  missing="$(missing_go "github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2@v$cdk8s_version" "github.com/cdk8s-team/cdk8s-plus-go/cdk8splus28/v2@v$plus_version")"
  if [ -n "$missing" ]; then
    summary+=("go: sources only: not served by the Go module proxy: ${missing% }")
  else
    timed "go module" npx jsii-pacmak --target go --no-npmignore
  fi
fi

if ! command -v dotnet >/dev/null; then
  summary+=("dotnet: sources only: no dotnet SDK on this machine")
else
  timed "dotnet nupkg" npx jsii-pacmak --target dotnet --no-npmignore
fi

printf 'package: %s\n' "${summary[@]}"
