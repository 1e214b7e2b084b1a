#!/usr/bin/env bash
# Writes the API reference from the doc comments with jsii-docgen: API.md (TypeScript) and API.python.md.
# --check: regenerate into a temporary directory and fail when the committed files differ.
# Reads .jsii: run after the jsii build (`npm run docgen` and `npm run docgen:check` do that first).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
# jsii tools and the jsii runtime take the Node.js major versions whose end-of-life notice to leave out
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:+$JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION,}$(node -p "process.versions.node.split('.')[0]")"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx jsii-docgen --output "$out/API.md"
npx jsii-docgen --language python --output "$out/API.python.md"
if [ "${1:-}" = "--check" ]; then
  stale=0
  for f in API.md API.python.md; do
    if ! cmp -s "$out/$f" "$f"; then
      echo "$f is not what the doc comments generate: run 'npm run docgen' and commit it" >&2
      diff -u "$f" "$out/$f" 2>&1 | head -n 40 >&2 || true
      stale=1
    fi
  done
  [ "$stale" = 0 ] && echo "API.md and API.python.md are current"
  exit "$stale"
fi
cp "$out/API.md" "$out/API.python.md" .
echo "wrote API.md and API.python.md"
