"""kecs.testing: ECS-level helpers resolve task ARNs to pods and drive the simulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

import kecs
from kecs import testing
from kecs.backends.base import Backend, ObjectList
from kecs.backends.kinds import ResourceKind

REGION = "us-east-1"


@pytest.fixture
def backend() -> kecs.MemoryBackend:
    return kecs.MemoryBackend()


@pytest.fixture
def ecs(backend: kecs.MemoryBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="default")
    client.register_task_definition(
        family="web",
        containerDefinitions=[
            {"name": "App_1", "image": "nginx:1.27", "memory": 128},
            {"name": "side", "image": "busybox", "memory": 64, "essential": False},
        ],
    )
    return client


def run(ecs: Any) -> dict[str, Any]:
    return dict(ecs.run_task(taskDefinition="web")["tasks"][0])


def describe(ecs: Any, arn: str) -> dict[str, Any]:
    return dict(ecs.describe_tasks(tasks=[arn])["tasks"][0])


class OtherBackend(Backend):
    """A backend that is not the embedded one (nothing is ever called on it)."""

    def get(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Any:
        raise NotImplementedError

    def list(self, kind: ResourceKind, namespace: str | None = None, **_: Any) -> ObjectList:
        raise NotImplementedError

    def create(self, obj: Any, **_: Any) -> Any:
        raise NotImplementedError

    def update(self, obj: Any) -> Any:
        raise NotImplementedError

    def patch(self, kind: ResourceKind, name: str, patch: Any, namespace: str | None = None) -> Any:
        raise NotImplementedError

    def delete(self, kind: ResourceKind, name: str, namespace: str | None = None) -> None:
        raise NotImplementedError


def test_backend_of_a_client_or_a_backend(ecs: Any, backend: kecs.MemoryBackend) -> None:
    assert testing.backend(ecs) is backend
    assert testing.backend(backend) is backend


def test_only_the_embedded_backend(ecs: Any) -> None:
    with pytest.raises(testing.NotEmbeddedError, match="MemoryBackend"):
        testing.advance(OtherBackend(), 1)
    other = kecs.client("ecs", region_name=REGION, backend=OtherBackend())
    with pytest.raises(testing.NotEmbeddedError, match="OtherBackend"):
        testing.fail_image_pulls(other, "*")
    plain = boto3.client(
        "ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    with pytest.raises(testing.NotEmbeddedError, match="ECS"):
        testing.slow_start(plain, "*", 1)
    assert issubclass(testing.NotEmbeddedError, TypeError)


def test_task_pod_by_arn(ecs: Any) -> None:
    task = run(ecs)
    pod = testing.task_pod(ecs, task["taskArn"])
    assert pod["metadata"]["uid"].replace("-", "") == task["taskArn"].rsplit("/", 1)[1]
    with pytest.raises(testing.TaskNotFoundError):
        testing.task_pod(ecs, task["taskArn"][:-32] + "0" * 32)
    with pytest.raises(ValueError, match="task ARN"):
        testing.task_pod(ecs, "0" * 32)


def test_exit_container_by_its_ecs_name(ecs: Any) -> None:
    task = run(ecs)
    with pytest.raises(testing.TaskNotFoundError, match="App_1, side"):
        testing.exit_container(ecs, task["taskArn"], "app", 1)
    testing.exit_container(ecs, task["taskArn"], "App_1", 2, message="boom")
    stopped = describe(ecs, task["taskArn"])
    app = next(c for c in stopped["containers"] if c["name"] == "App_1")
    assert (app["exitCode"], app["reason"]) == (2, "boom")
    assert stopped["stopCode"] == "EssentialContainerExited"
    with pytest.raises(testing.SimulationError):
        testing.exit_container(ecs, task["taskArn"], "App_1", 2)


def test_health_needs_a_health_check(ecs: Any) -> None:
    task = run(ecs)
    with pytest.raises(testing.SimulationError):
        testing.set_container_health(ecs, task["taskArn"], "App_1", False)


def test_image_pull_rules(ecs: Any) -> None:
    testing.fail_image_pulls(ecs, "docker.io/library/nginx:*", "denied")
    failed = describe(ecs, run(ecs)["taskArn"])
    assert failed["stoppedReason"].startswith("CannotPullContainerError")
    testing.allow_image_pulls(ecs)
    assert run(ecs)["lastStatus"] == "RUNNING"


def test_crash_on_start(ecs: Any) -> None:
    testing.crash_on_start(ecs, "busybox", exit_code=7)
    task = describe(ecs, run(ecs)["taskArn"])
    side = next(c for c in task["containers"] if c["name"] == "side")
    assert (side["lastStatus"], side["exitCode"]) == ("STOPPED", 7)
    assert task["lastStatus"] == "RUNNING"  # not essential


def test_remove_instance_by_arn_id_or_node_name(ecs: Any, backend: kecs.MemoryBackend) -> None:
    instances = {run(ecs)["containerInstanceArn"] for _ in range(6)}
    assert len(instances) >= 2
    first, second = sorted(instances)[:2]
    testing.remove_instance(ecs, first)
    testing.remove_instance(backend, second.rsplit("/", 1)[1])
    names = [n["metadata"]["name"] for n in backend.list_all(kecs.backends.kinds.NODE)]
    testing.remove_instance(ecs, names[0])
    assert len(backend.list_all(kecs.backends.kinds.NODE)) == len(names) - 1
    with pytest.raises(testing.TaskNotFoundError):
        testing.remove_instance(ecs, "f" * 32)


def test_advance_moves_the_clock(backend: kecs.MemoryBackend) -> None:
    before = backend.now()
    after = testing.advance(backend, 90)
    assert after - before >= timedelta(seconds=90)
