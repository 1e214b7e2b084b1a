#!/usr/bin/env bash
# The Python test suite: installs the wheel that `npm run package` built into a virtual environment, with the
# cdk8s, cdk8s-plus-28 and constructs releases from PyPI that match the npm versions, and runs pytest.
# Extra arguments go to pytest. PYTHON picks the interpreter (3.10 or newer; default python3).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
python="${PYTHON:-python3}"
# jsii tools and the jsii runtime take the Node.js major versions whose end-of-life notice to leave out
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:+$JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION,}$(node -p "process.versions.node.split('.')[0]")"
venv="$repo/.cache/python-venv"
requirements="test/python/requirements.txt"

wheel="$(ls dist-packages/python/cdk8s_stateful-*-py3-none-any.whl 2>/dev/null | tail -n 1 || true)"
if [ -z "$wheel" ]; then
  echo "no wheel in dist-packages/python: run 'npm run package' first" >&2
  exit 1
fi

# the environment is reused while the requirements and the interpreter stay the same
stamp="$("$python" --version 2>&1) $(sha256sum "$requirements" | cut -c1-16)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$stamp" > "$venv/.stamp"
fi
# always the wheel just built, never a cached one; its dependencies are the pinned ones above
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"

# the tests compare with the TypeScript build (lib/) for error messages and with dist/ for the YAML
if [ ! -f lib/src/index.js ]; then
  echo "no lib/: run 'npm run build' first" >&2
  exit 1
fi
exec "$venv/bin/python" -m pytest -p no:cacheprovider test/python "$@"
