"""The task operations on every backend target (embedded, Kubernetes over HTTP, real cluster).

The other ``test_tasks*`` modules check behaviour in depth on the embedded backend; these
check that the same calls work through :class:`kecs.KubernetesBackend` (merge patches that
delete keys, ``resourceVersion`` preconditions, finalizers, paging with ``where`` filters).
Tests that drive the simulation are skipped on a real cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

import kecs
from kecs import testing
from kecs.backends.base import Backend
from kecs.backends.memory import MemoryBackend
from tests import targets
from tests.operations.task_helpers import REGION, WEB, describe, run

pytestmark = targets.ALL

NO_WAIT = {"Delay": 0, "MaxAttempts": 1}


@pytest.fixture
def ecs(backend: Backend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="default")
    client.register_task_definition(**WEB)
    return client


def simulated(backend: Backend) -> None:
    if not isinstance(backend, MemoryBackend) and not hasattr(backend, "memory"):
        pytest.skip("needs the embedded cluster's simulator")


def test_run_wait_stop_wait(ecs: Any) -> None:
    tasks = run(ecs, count=2, tags=[{"key": "env", "value": "test"}], clientToken="t-1")
    arns = [t["taskArn"] for t in tasks]
    assert [
        t["taskArn"]
        for t in run(ecs, count=2, tags=[{"key": "env", "value": "test"}], clientToken="t-1")
    ] == arns
    ecs.get_waiter("tasks_running").wait(tasks=arns, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    stopped = ecs.stop_task(task=arns[0], reason="done")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    ecs.get_waiter("tasks_stopped").wait(
        tasks=arns[:1], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert describe(ecs, arns[0])["stoppedReason"] == "done"
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] == arns[:1]
    assert ecs.list_tasks()["taskArns"] == arns[1:]


def test_describe_list_and_tags(ecs: Any) -> None:
    arns = sorted(t["taskArn"] for t in run(ecs, count=5))
    pages = [
        p["taskArns"]
        for p in ecs.get_paginator("list_tasks").paginate(PaginationConfig={"PageSize": 2})
    ]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(a for p in pages for a in p) == arns
    response = ecs.describe_tasks(tasks=[*arns, "0" * 32], include=["TAGS"])
    assert sorted(t["taskArn"] for t in response["tasks"]) == arns
    assert response["failures"][0]["reason"] == "MISSING"
    ecs.tag_resource(resourceArn=arns[0], tags=[{"key": "a", "value": "1"}])
    ecs.untag_resource(resourceArn=arns[0], tagKeys=["a"])
    ecs.tag_resource(resourceArn=arns[0], tags=[{"key": "b", "value": "2"}])
    assert ecs.list_tags_for_resource(resourceArn=arns[0])["tags"] == [{"key": "b", "value": "2"}]


def test_essential_exit_and_retention(ecs: Any, backend: Backend) -> None:
    simulated(backend)
    (task,) = run(ecs)
    testing.exit_container(ecs, task["taskArn"], "app", 4)
    stopped = describe(ecs, task["taskArn"])
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert {c["name"]: c["exitCode"] for c in stopped["containers"]} == {"app": 4, "side": 143}
    testing.advance(ecs, 3601)
    assert ecs.describe_tasks(tasks=[task["taskArn"]])["failures"][0]["reason"] == "MISSING"


def test_placement_failure(ecs: Any, backend: Backend) -> None:
    simulated(backend)
    ecs.register_task_definition(
        family="huge", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 65536}]
    )
    response = ecs.run_task(taskDefinition="huge")
    assert response["tasks"] == []
    assert response["failures"][0]["reason"] == "RESOURCE:MEMORY"
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] == []
