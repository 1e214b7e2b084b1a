"""Shared by the Python tests: the repository, the TypeScript build to compare with, and a scratch directory per test."""
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def outdir(tmp_path, monkeypatch):
    """cdk8s writes here (App reads CDK8S_OUTDIR) instead of the repository's dist/."""
    out = tmp_path / "out"
    monkeypatch.setenv("CDK8S_OUTDIR", str(out))
    return out


def typescript(script: str) -> str:
    """Runs a JavaScript snippet against the TypeScript build (lib/src) and returns what it printed."""
    prelude = "const lib = require('./lib/src'); const cdk8s = require('cdk8s');\n"
    result = subprocess.run(["node", "-e", prelude + script], cwd=REPO, capture_output=True, text=True, check=True)
    return result.stdout


def typescript_error(script: str) -> str:
    """The message of the error a JavaScript snippet throws with the TypeScript build."""
    wrapped = "try {\n" + script + "\n} catch (e) { process.stdout.write(JSON.stringify(e.message)); process.exit(0); }\n" \
        "process.stdout.write('null');"
    message = json.loads(typescript(wrapped))
    assert message is not None, "the TypeScript build accepted the input"
    return message


def env_with(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(extra)
    return env
