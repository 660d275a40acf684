"""``kecs wait``: botocore's waiters against a served kecs, with progress and exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import kecs
from kecs.cli import main
from kecs.cli.wait import poll, verdict
from kecs.server import EcsHttpServer, serve

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "registry.example/web:1"
SERVICE = "kecs wait: [{}s] web: {}/{} running, {} pending, 1 deployment, PRIMARY {}"


@pytest.fixture
def backend() -> kecs.MemoryBackend:
    return kecs.MemoryBackend()


@pytest.fixture
def server(backend: kecs.MemoryBackend) -> Iterator[EcsHttpServer]:
    with serve(backend, port=0, region="us-east-1") as running:
        yield running


@pytest.fixture
def ecs(server: EcsHttpServer) -> Any:
    client = boto3.client(
        "ecs",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="kecs",
        aws_secret_access_key="kecs",
    )
    client.create_cluster(clusterName="c")
    client.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": IMAGE, "memory": 64}]
    )
    return client


def start_service(ecs: Any, backend: kecs.MemoryBackend, slow: float = 0.0) -> None:
    if slow:
        backend.simulator.slow_start(IMAGE, slow)
    ecs.create_service(cluster="c", serviceName="web", taskDefinition="web", desiredCount=2)


def wait(
    capsys: pytest.CaptureFixture[str], server: EcsHttpServer, *args: str
) -> tuple[int, list[str]]:
    code = main(["wait", *args, "--cluster", "c", "--endpoint-url", server.url])
    out, err = capsys.readouterr()
    assert out == ""
    return code, err.splitlines()


def shape(line: str) -> str:
    """The line with its elapsed times blanked, to compare output without timing."""
    return re.sub(r"(\[|after )\d+\.\ds", r"\1{}s", line)


def test_services_stable_shows_each_poll_until_success(
    capsys: pytest.CaptureFixture[str], server: EcsHttpServer, ecs: Any, backend: Any
) -> None:
    start_service(ecs, backend, slow=0.6)
    code, lines = wait(
        capsys, server, "services-stable", "--services", "web", "--progress", "--delay", "0.2"
    )
    assert code == 0
    *polls, final = lines
    assert len(polls) >= 2
    assert shape(polls[0]) == SERVICE.format("{}", 0, 2, 2, "IN_PROGRESS")
    assert shape(polls[-1]) == SERVICE.format("{}", 2, 2, 0, "COMPLETED")
    assert final.startswith("kecs wait: services-stable: success after ")
    assert final.endswith(f"s ({len(polls)} polls)")


def test_a_missing_service_is_a_failure_with_its_reason(
    capsys: pytest.CaptureFixture[str], server: EcsHttpServer, ecs: Any, backend: Any
) -> None:
    start_service(ecs, backend)
    code, lines = wait(capsys, server, "services-stable", "--services", "web", "nope")
    assert code == 1
    # Not a terminal and no --progress: only the reason.
    assert [shape(line) for line in lines] == [
        "kecs wait: services-stable: failed after {}s (1 poll): nope MISSING; "
        'For expression "failures[].reason" we matched expected path: "MISSING" at least once'
    ]
    code, lines = wait(capsys, server, "services-stable", "--services", "nope", "--quiet")
    assert (code, lines) == (1, [])


def test_a_slow_start_times_out(
    capsys: pytest.CaptureFixture[str], server: EcsHttpServer, ecs: Any, backend: Any
) -> None:
    start_service(ecs, backend, slow=60)
    args = ("--timeout", "0.5", "--delay", "0.2", "--progress")
    code, lines = wait(capsys, server, "services-stable", "--services", "web", *args)
    assert code == 2
    *polls, final = lines
    assert {shape(p) for p in polls} == {SERVICE.format("{}", 0, 2, 2, "IN_PROGRESS")}
    assert len(polls) >= 2  # 0, 0.2, 0.4 and at the deadline on an idle machine
    assert shape(final) == f"kecs wait: services-stable: timed out after {{}}s ({len(polls)} polls)"
    assert float(final.split("after ")[1].split("s")[0]) >= 0.5


def test_progress_follows_the_terminal(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: EcsHttpServer,
    ecs: Any,
    backend: Any,
) -> None:
    start_service(ecs, backend)
    assert wait(capsys, server, "services-stable", "--services", "web") == (0, [])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, lines = wait(capsys, server, "services-stable", "--services", "web")
    assert code == 0
    assert [shape(line) for line in lines[:-1]] == [SERVICE.format("{}", 2, 2, 0, "COMPLETED")]
    assert lines[-1].startswith("kecs wait: services-stable: success")
    assert wait(capsys, server, "services-stable", "--services", "web", "--quiet") == (0, [])


def test_tasks_and_inactive_services(
    capsys: pytest.CaptureFixture[str], server: EcsHttpServer, ecs: Any, backend: Any
) -> None:
    backend.simulator.slow_start(IMAGE, 0.4)
    tasks = [
        t["taskArn"] for t in ecs.run_task(cluster="c", taskDefinition="web", count=2)["tasks"]
    ]
    code, lines = wait(
        capsys, server, "tasks-running", "--tasks", *tasks, "--progress", "--delay", "0.2"
    )
    assert code == 0
    assert lines[0].endswith("] tasks: 2 PENDING")
    assert lines[-2].endswith("] tasks: 2 RUNNING")
    ecs.stop_task(cluster="c", task=tasks[0])
    code, lines = wait(capsys, server, "tasks-running", "--tasks", *tasks, "missing-id")
    assert code == 1
    task_id = tasks[0].rsplit("/", 1)[1]
    assert shape(lines[0]).startswith(
        "kecs wait: tasks-running: failed after {}s (1 poll): "
        f"{task_id} STOPPED "
        "(Task stopped by user); "
    )
    ecs.stop_task(cluster="c", task=tasks[1])
    code, lines = wait(capsys, server, "tasks-stopped", "--tasks", *tasks, "--progress")
    assert code == 0 and lines[0].endswith("] tasks: 2 STOPPED")

    start_service(ecs, backend)
    ecs.delete_service(cluster="c", service="web", force=True)
    code, lines = wait(capsys, server, "services-inactive", "--services", "web", "--progress")
    assert code == 0
    assert lines[0].endswith(
        "] web (INACTIVE): 0/0 running, 0 pending, 1 deployment, PRIMARY COMPLETED"
    )


def test_errors_are_failures(
    capsys: pytest.CaptureFixture[str], server: EcsHttpServer, ecs: Any
) -> None:
    code = main(
        ["wait", "tasks-stopped", "--cluster", "zz", "--tasks", "t", "--endpoint-url", server.url]
    )
    assert code == 1
    assert shape(capsys.readouterr().err) == (
        "kecs wait: tasks-stopped: failed after {}s (1 poll): "
        "ClusterNotFoundException: Cluster not found.\n"
    )
    assert wait(capsys, server, "tasks-running", "--services", "web") == (
        1,
        ["kecs: wait tasks-running needs --tasks"],
    )
    code = main(["wait", "tasks-running", "--tasks", "t", "--endpoint-url", "http://127.0.0.1:9"])
    assert code == 1
    assert capsys.readouterr().err.startswith("kecs: cannot ask ECS at http://127.0.0.1:9: ")


def test_botocore_decides(ecs: Any) -> None:
    acceptors = ecs.get_waiter("services_stable").config.acceptors
    stable = {
        "services": [
            {"status": "ACTIVE", "deployments": [{}], "runningCount": 1, "desiredCount": 1}
        ]
    }
    assert verdict(acceptors, {"failures": [], **stable})[0] == "success"
    assert verdict(acceptors, {"failures": [{"reason": "MISSING"}], **stable})[0] == "failure"
    error = {"Error": {"Code": "Throttling", "Message": "slow down"}}
    assert verdict(acceptors, error) == ("failure", None)


def test_the_last_poll_is_at_the_deadline() -> None:
    backend = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=backend)
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": IMAGE, "memory": 64}]
    )
    start_service(ecs, backend, slow=600)
    now = [0.0]
    sleeps: list[float] = []
    seen: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    result = poll(
        ecs,
        "ServicesStable",
        {"cluster": "c", "services": ["web"]},
        timeout=0.5,
        delay=0.2,
        report=lambda elapsed, response: seen.append(elapsed),
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert (result.state, result.polls) == ("timeout", 4)
    assert sleeps == pytest.approx([0.2, 0.2, 0.1])
    assert seen == pytest.approx([0.0, 0.2, 0.4, 0.5])
    # No --timeout: botocore's own patience (delay x maxAttempts = 15 s x 40).
    now[0], sleeps[:] = 0.0, []
    default = poll(
        ecs,
        "ServicesStable",
        {"cluster": "c", "services": ["web"]},
        timeout=None,
        delay=100,
        report=lambda *_: None,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert default.state == "timeout" and sum(sleeps) == pytest.approx(600)


def test_directly_on_a_cluster(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import kecs.backends.kubernetes as kubernetes_backend

    cluster = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=cluster, region_name="eu-west-1", account_id="123456789012")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": IMAGE, "memory": 64}]
    )
    start_service(ecs, cluster)
    seen: dict[str, Any] = {}

    def fake(**options: Any) -> kecs.MemoryBackend:
        seen.update(options)
        return cluster

    monkeypatch.setattr(kubernetes_backend, "KubernetesBackend", fake)
    args = ["wait", "services-stable", "--cluster", "c", "--services", "web", "--progress"]
    where = ["--kubeconfig", "kc", "--context", "ctx", "--region", "eu-west-1"]
    assert main([*args, *where, "--account-id", "123456789012"]) == 0
    assert seen == {"kubeconfig": "kc", "context": "ctx"}
    assert "success" in capsys.readouterr().err
    assert main([*args, *where]) == 1  # another account sees no such cluster
    assert "ClusterNotFoundException" in capsys.readouterr().err
    monkeypatch.undo()
    assert main([*args, "--kubeconfig", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.startswith("kecs: cannot use the Kubernetes cluster")


def test_as_a_process(server: EcsHttpServer, ecs: Any, backend: Any) -> None:
    start_service(ecs, backend, slow=0.5)
    command = [sys.executable, "-m", "kecs", "wait", "services-stable", "--cluster", "c"]
    result = subprocess.run(
        [
            *command,
            "--services",
            "web",
            "--endpoint-url",
            server.url,
            "--delay",
            "0.2",
            "--progress",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert shape(lines[-2]) == SERVICE.format("{}", 2, 2, 0, "COMPLETED")
    assert lines[-1].startswith("kecs wait: services-stable: success after ")


def test_help_names_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "wait" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["wait", "--help"])
    text = capsys.readouterr().out
    assert "services-stable" in text and "exit status: 0 success, 1 failure" in text
