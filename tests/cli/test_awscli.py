"""The real AWS CLI (awscli from PyPI) against ``kecs serve``: the classic ECS flow.

``kecs serve`` runs as a separate process on a free port; every step is an ``aws ...``
command with dummy credentials, asserted on its JSON output. awscli 1.46+ bundles its own
botocore, so it sits beside the project's pinned botocore (it is in the ``test`` extra).
Without awscli the tests skip locally and fail in CI (``CI`` set), so CI cannot silently
stop running them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kecs.operations.registry import handler_for

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "examples" / "taskdefs" / "web.json"
NETWORK = "awsvpcConfiguration={subnets=[subnet-0a1b2c3d],assignPublicIp=DISABLED}"
SERVICE_OPERATIONS = (
    "CreateService",
    "DescribeServices",
    "ListServices",
    "UpdateService",
    "DeleteService",
    "RunTask",
    "StopTask",
    "DescribeTasks",
    "ListTasks",
)


def require_awscli() -> None:
    if importlib.util.find_spec("awscli") is None:
        message = "awscli is not installed (it is in the test extra: pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class Kecs:
    """``kecs serve`` in a subprocess, and the AWS CLI pointed at it."""

    def __init__(self, home: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kecs", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        self.url = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.url:
            line = self.process.stdout.readline()
            if not line:
                break
            if "Amazon ECS API at " in line:
                self.url = line.split("Amazon ECS API at ", 1)[1].strip()
        if not self.url:
            self.process.kill()
            raise AssertionError(f"kecs serve did not start: {self.process.communicate()}")
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AWS_") and key != "PYTHONPATH"
        }
        self.env.update(
            AWS_ACCESS_KEY_ID="AKIDKECSEXAMPLE",
            AWS_SECRET_ACCESS_KEY="kecs-secret",
            AWS_CONFIG_FILE=str(home / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
        )

    def run(self, *args: str, expect_error: bool = False) -> Any:
        command = [sys.executable, "-m", "awscli", "--endpoint-url", self.url]
        command += ["--region", "us-east-1", "--output", "json", "ecs", *args]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=120, check=False
        )
        if expect_error:
            assert result.returncode != 0, result.stdout
            return result.stderr
        assert result.returncode == 0, f"aws ecs {' '.join(args)}\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else None

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, err
        return err


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kecs]:
    require_awscli()
    served = Kecs(tmp_path_factory.mktemp("aws-home"))
    yield served
    log = served.stop()
    assert "kecs: stopped" in log


def test_clusters_and_task_definitions(aws: Kecs) -> None:
    cluster = aws.run("create-cluster", "--cluster-name", "cli-demo")["cluster"]
    assert cluster["clusterArn"] == "arn:aws:ecs:us-east-1:000000000000:cluster/cli-demo"
    assert cluster["status"] == "ACTIVE"

    registered = aws.run("register-task-definition", "--cli-input-json", f"file://{WEB}")
    td = registered["taskDefinition"]
    assert td["taskDefinitionArn"] == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"
    assert td["status"] == "ACTIVE"
    assert td["containerDefinitions"][0]["portMappings"][0]["containerPort"] == 80
    assert registered["tags"] == [{"key": "team", "value": "frontend"}]
    # Timestamps travel as epoch seconds (AWS CLI v1 prints them as it received them).
    assert abs(td["registeredAt"] - time.time()) < 600

    listed = aws.run("list-task-definitions", "--family-prefix", "web")
    assert listed["taskDefinitionArns"] == [td["taskDefinitionArn"]]
    described = aws.run("describe-clusters", "--clusters", "cli-demo", "missing")
    assert [c["clusterName"] for c in described["clusters"]] == ["cli-demo"]
    assert described["failures"][0]["reason"] == "MISSING"

    error = aws.run("describe-task-definition", "--task-definition", "nope:1", expect_error=True)
    assert "(ClientException)" in error and "Unable to describe task definition" in error


def test_services_and_tasks(aws: Kecs) -> None:
    missing = [name for name in SERVICE_OPERATIONS if handler_for(name) is None]
    if missing:
        pytest.skip(f"kecs does not implement {', '.join(missing)} yet")
    aws.run("create-cluster", "--cluster-name", "svc-demo")
    aws.run("register-task-definition", "--cli-input-json", f"file://{WEB}")

    service = aws.run(
        "create-service",
        "--cluster", "svc-demo",
        "--service-name", "web",
        "--task-definition", "web",
        "--desired-count", "2",
        "--launch-type", "FARGATE",
        "--network-configuration", NETWORK,
    )["service"]  # fmt: skip
    assert service["serviceArn"] == "arn:aws:ecs:us-east-1:000000000000:service/svc-demo/web"
    assert service["desiredCount"] == 2

    started = time.monotonic()
    aws.run("wait", "services-stable", "--cluster", "svc-demo", "--services", "web")
    assert time.monotonic() - started < 10  # stable on the first poll, not after 15 s sleeps

    assert aws.run("list-services", "--cluster", "svc-demo")["serviceArns"] == [
        service["serviceArn"]
    ]
    (described,) = aws.run("describe-services", "--cluster", "svc-demo", "--services", "web")[
        "services"
    ]
    assert (described["status"], described["runningCount"]) == ("ACTIVE", 2)
    assert described["deployments"][0]["status"] == "PRIMARY"
    assert any("has reached a steady state" in e["message"] for e in described["events"])

    task_arns = aws.run("list-tasks", "--cluster", "svc-demo", "--service-name", "web")["taskArns"]
    assert len(task_arns) == 2
    tasks = aws.run("describe-tasks", "--cluster", "svc-demo", "--tasks", *task_arns)
    assert {t["lastStatus"] for t in tasks["tasks"]} == {"RUNNING"}

    run = aws.run(
        "run-task",
        "--cluster", "svc-demo",
        "--task-definition", "web:1",
        "--launch-type", "FARGATE",
        "--network-configuration", NETWORK,
        "--started-by", "cli-test",
    )  # fmt: skip
    assert run["failures"] == []
    task_arn = run["tasks"][0]["taskArn"]
    aws.run("wait", "tasks-running", "--cluster", "svc-demo", "--tasks", task_arn)
    stopped = aws.run(
        "stop-task", "--cluster", "svc-demo", "--task", task_arn, "--reason", "done by the CLI"
    )["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    aws.run("wait", "tasks-stopped", "--cluster", "svc-demo", "--tasks", task_arn)
    (final,) = aws.run("describe-tasks", "--cluster", "svc-demo", "--tasks", task_arn)["tasks"]
    assert (final["lastStatus"], final["stoppedReason"]) == ("STOPPED", "done by the CLI")

    aws.run("update-service", "--cluster", "svc-demo", "--service", "web", "--desired-count", "0")
    deleted = aws.run("delete-service", "--cluster", "svc-demo", "--service", "web", "--force")
    assert deleted["service"]["status"] in ("DRAINING", "INACTIVE")
    aws.run("wait", "services-inactive", "--cluster", "svc-demo", "--services", "web")
    aws.run("deregister-task-definition", "--task-definition", "web:1")
    gone = aws.run("delete-cluster", "--cluster", "svc-demo")["cluster"]
    assert gone["status"] == "INACTIVE"
