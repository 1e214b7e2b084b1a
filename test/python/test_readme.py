"""The Python example in the README runs as written."""
import json
import re
import subprocess
import sys

from conftest import REPO, env_with


def readme_python_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- python-example:start -->\n```python\n(.*?)```\n<!-- python-example:end -->", readme, re.S)
    assert block, "README.md has no Python example between the python-example markers"
    return block.group(1)


def test_the_readme_python_example_runs_and_synthesizes(tmp_path):
    # run as a user would: a fresh interpreter, its own working directory, default output directory dist/
    script = tmp_path / "main.py"
    script.write_text(readme_python_example(), encoding="utf-8")
    env = env_with()
    env.pop("CDK8S_OUTDIR", None)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "hung process: 44 s, node lost: 70 s",
        "redis.cache.svc.cluster.local",
    ]
    db = (tmp_path / "dist" / "db.k8s.yaml").read_text()
    assert "ReadWriteOncePod" in db
    assert "stateful.cdk8s.io/failover-budget" in db
    assert "kind: StatefulSet" in (tmp_path / "dist" / "cache.k8s.yaml").read_text()


def test_the_python_tests_pin_the_releases_the_npm_side_pins():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install cdk8s-stateful cdk8s cdk8s-plus-28 constructs" in readme
    npm = json.loads((REPO / "package.json").read_text())["devDependencies"]
    pinned = dict(re.findall(r"^([A-Za-z0-9-]+)==(\S+)$", (REPO / "test" / "python" / "requirements.txt").read_text(), re.M))
    for name in ("cdk8s", "cdk8s-plus-28", "constructs"):
        assert pinned[name] == npm[name], name
