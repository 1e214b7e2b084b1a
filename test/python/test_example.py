"""example/main.py synthesizes, byte for byte, what the TypeScript example app (example/main.ts) synthesizes."""
import subprocess
import sys

from conftest import REPO, env_with


def synthesize(command, outdir):
    result = subprocess.run(command, cwd=REPO, env=env_with(CDK8S_OUTDIR=str(outdir)), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return {p.name: p.read_bytes() for p in sorted(outdir.iterdir())}


def test_the_python_example_synthesizes_the_typescript_examples_yaml(tmp_path):
    python = synthesize([sys.executable, "example/main.py"], tmp_path / "python")
    # the TypeScript example as `cdk8s synth` runs it (cdk8s.yaml: node lib-example/main.js)
    typescript = synthesize(["node", "lib-example/main.js"], tmp_path / "typescript")
    assert list(python) == ["cache.k8s.yaml", "robustmq.k8s.yaml", "single-writer.k8s.yaml"]
    assert list(python) == list(typescript)
    for name in python:
        assert python[name] == typescript[name], f"{name} differs between example/main.py and example/main.ts"


def test_the_python_example_defines_the_same_charts_as_the_typescript_one():
    ts = (REPO / "example" / "main.ts").read_text()
    py = (REPO / "example" / "main.py").read_text()
    for chart in ("SingleWriterChart", "CacheChart", "RobustMqChart", "'single-writer'", "'cache'", "'robustmq'"):
        assert chart in ts
        assert chart.replace("'", '"') in py
