"""The pytest plugin: registration, fixtures, marker, the example and the README's snippet.

Each check runs pytest in a subprocess on a small test module, as a user's project would
(with the plugin from the installed entry point, or ``-p kecs.pytest_plugin`` when kecs is
not installed in this environment).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
MARK = "kecs"

FIXTURES_MODULE = """
import boto3
import pytest

from kecs.backends.memory import MemoryBackend

seen = []


def test_backend_is_fresh_each_test(kecs_backend, ecs_client):
    assert isinstance(kecs_backend, MemoryBackend)
    assert ecs_client.list_clusters()["clusterArns"] == []
    ecs_client.create_cluster(clusterName="x")
    seen.append(kecs_backend)


def test_backend_is_fresh_each_test_again(kecs_backend, ecs_client):
    assert ecs_client.list_clusters()["clusterArns"] == []
    assert seen and seen[0] is not kecs_backend


def test_client_region(ecs_client):
    assert ecs_client.meta.region_name == "us-east-1"


def test_mock_fixture_shares_the_backend(kecs_mock, kecs_backend, ecs_client):
    assert kecs_mock.backend is kecs_backend
    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="via-boto3")
    assert len(ecs_client.list_clusters()["clusterArns"]) == 1


def test_without_mock_boto3_is_untouched():
    ecs = boto3.client(
        "ecs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    assert "kecs-responder" not in ecs.meta.events._emitter._unique_id_handlers


@pytest.fixture
def made_by_a_fixture():
    return boto3.client("ecs", region_name="eu-west-1")


@pytest.mark.kecs
def test_marker_applies_before_other_fixtures(made_by_a_fixture, kecs_backend):
    made_by_a_fixture.create_cluster(clusterName="m")
    assert kecs_backend.list_all(
        __import__("kecs.backends.kinds", fromlist=["x"]).NAMESPACE,
        selector={"kecs.dev/region": "eu-west-1"},
    )


@pytest.mark.kecs(account_id="123456789012")
def test_marker_account():
    arn = boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="a")
    assert arn["cluster"]["clusterArn"].split(":")[4] == "123456789012"


@pytest.mark.kecs
class TestMarkedClass:
    def test_in_a_class(self):
        assert boto3.client("ecs", region_name="us-east-1").list_clusters()["clusterArns"] == []
"""

MODULE_MARK = """
import boto3
import pytest

pytestmark = pytest.mark.kecs


def test_module_wide_marker():
    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="m")
"""

OVERRIDE_REGION = """
import pytest


@pytest.fixture
def kecs_region():
    return "ap-northeast-1"


def test_region_override(ecs_client):
    arn = ecs_client.create_cluster(clusterName="r")["cluster"]["clusterArn"]
    assert arn == "arn:aws:ecs:ap-northeast-1:000000000000:cluster/r"
"""


def plugin_installed() -> bool:
    return any(ep.name == "kecs" for ep in importlib.metadata.entry_points(group="pytest11"))


def run_pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    plugin = [] if plugin_installed() else ["-p", "kecs.pytest_plugin"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        env.pop(var, None)
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(cwd / "no-aws-config")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin]
    return subprocess.run(
        [*command, "--strict-markers", "-q", "-W", "error::pytest.PytestUnknownMarkWarning", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def passed(result: subprocess.CompletedProcess[str]) -> int:
    found = re.search(r"(\d+) passed", result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert found is not None, result.stdout
    return int(found.group(1))


def test_the_entry_point_is_declared_and_loads() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"kecs": "kecs.pytest_plugin"}
    import kecs.pytest_plugin

    assert kecs.pytest_plugin.MARKER == "kecs"
    if plugin_installed():
        (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == MARK]
        assert entry.load() is kecs.pytest_plugin


def test_fixtures_and_marker(tmp_path: Path) -> None:
    (tmp_path / "test_fixtures.py").write_text(FIXTURES_MODULE)
    (tmp_path / "test_module_mark.py").write_text(MODULE_MARK)
    (tmp_path / "test_override.py").write_text(OVERRIDE_REGION)
    assert passed(run_pytest(cwd=tmp_path)) == 10


def test_the_example_passes() -> None:
    example = ROOT / "examples" / "test_with_plugin.py"
    assert passed(run_pytest(str(example), cwd=ROOT / "examples")) >= 6


def test_the_readme_section_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Using kecs in your tests", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```py\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the README section has no ```py example"
    for index, block in enumerate(blocks):
        (tmp_path / f"test_readme_{index}.py").write_text(block)
    assert passed(run_pytest(cwd=tmp_path)) >= len(blocks)
