"""The example scripts run and show what the README promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.k8s_schema import validate_strict

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_quickstart_prints_the_namespace_and_pod_template_as_yaml() -> None:
    output = run_example("quickstart.py")
    assert "arn:aws:ecs:us-east-1:000000000000:cluster/demo" in output
    assert "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1" in output
    objects = [doc for doc in yaml.safe_load_all(output) if doc]
    assert sorted(o["kind"] for o in objects) == ["Namespace", "PodTemplate"]
    for obj in objects:
        validate_strict(obj)
    template = next(o for o in objects if o["kind"] == "PodTemplate")
    (container,) = template["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.27"
