"""UpdateTaskProtection / GetTaskProtection, and protection honoured by a service scaling in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kecs import testing
from kecs.backends import kinds
from kecs.operations.task_protection import DELETION_COST, PROTECTED_UNTIL
from tests.operations.task_helpers import (
    backend,
    ecs,
    error,
    namespace,
    run,
    task_id,
    task_pods,
)

__all__ = ["backend", "ecs"]  # fixtures


@pytest.fixture
def service_tasks(ecs: Any) -> list[str]:
    ecs.create_service(serviceName="api", taskDefinition="web", desiredCount=3)
    return sorted(ecs.list_tasks(serviceName="api")["taskArns"])


def pod_of(backend: Any, arn: str) -> dict[str, Any]:
    (pod,) = [
        p for p in task_pods(backend) if p["metadata"]["uid"].replace("-", "") == task_id(arn)
    ]
    return pod


def test_protect_and_read_back(ecs: Any, backend: Any, service_tasks: list[str]) -> None:
    now = backend.now()
    response = ecs.update_task_protection(
        cluster="default", tasks=service_tasks[:2], protectionEnabled=True, expiresInMinutes=30
    )
    assert response["failures"] == []
    assert [t["taskArn"] for t in response["protectedTasks"]] == service_tasks[:2]
    for entry in response["protectedTasks"]:
        assert entry["protectionEnabled"] is True
        expected = now + timedelta(minutes=30)
        assert abs((entry["expirationDate"] - expected).total_seconds()) < 2
    annotations = pod_of(backend, service_tasks[0])["metadata"]["annotations"]
    assert annotations[DELETION_COST] == "2147483647"
    assert PROTECTED_UNTIL in annotations
    got = ecs.get_task_protection(cluster="default", tasks=service_tasks)["protectedTasks"]
    assert [t["protectionEnabled"] for t in got] == [True, True, False]
    everything = ecs.get_task_protection(cluster="default")["protectedTasks"]
    assert sorted(t["taskArn"] for t in everything) == service_tasks[:2]


def test_default_expiry_is_two_hours(ecs: Any, backend: Any, service_tasks: list[str]) -> None:
    (entry,) = ecs.update_task_protection(
        cluster="default", tasks=service_tasks[:1], protectionEnabled=True
    )["protectedTasks"]
    hours = (entry["expirationDate"] - backend.now()).total_seconds() / 3600
    assert 1.99 < hours <= 2.0


def test_unprotect(ecs: Any, backend: Any, service_tasks: list[str]) -> None:
    ecs.update_task_protection(cluster="default", tasks=service_tasks, protectionEnabled=True)
    response = ecs.update_task_protection(
        cluster="default", tasks=service_tasks[:1], protectionEnabled=False
    )
    assert response["protectedTasks"] == [{"taskArn": service_tasks[0], "protectionEnabled": False}]
    annotations = pod_of(backend, service_tasks[0])["metadata"]["annotations"]
    assert DELETION_COST not in annotations and PROTECTED_UNTIL not in annotations


def test_protection_expires(ecs: Any, backend: Any, service_tasks: list[str]) -> None:
    ecs.update_task_protection(
        cluster="default", tasks=service_tasks[:1], protectionEnabled=True, expiresInMinutes=1
    )
    testing.advance(backend, 61)
    (entry,) = ecs.get_task_protection(cluster="default", tasks=service_tasks[:1])["protectedTasks"]
    assert entry == {"taskArn": service_tasks[0], "protectionEnabled": False}
    ecs.list_tasks()  # the sweep clears expired protection from the pods it reads
    assert DELETION_COST not in pod_of(backend, service_tasks[0])["metadata"]["annotations"]


def test_scale_in_removes_unprotected_tasks_first(ecs: Any, service_tasks: list[str]) -> None:
    protected = service_tasks[1]
    ecs.update_task_protection(cluster="default", tasks=[protected], protectionEnabled=True)
    ecs.update_service(service="api", desiredCount=1)
    assert ecs.list_tasks(serviceName="api")["taskArns"] == [protected]


def test_failures(ecs: Any, service_tasks: list[str]) -> None:
    (standalone,) = run(ecs)
    ecs.stop_task(task=service_tasks[0])
    ghost = "0" * 32
    response = ecs.update_task_protection(
        cluster="default",
        tasks=[standalone["taskArn"], ghost, service_tasks[0], service_tasks[1]],
        protectionEnabled=True,
    )
    assert [t["taskArn"] for t in response["protectedTasks"]] == [service_tasks[1]]
    reasons = [(f["arn"], f["reason"]) for f in response["failures"]]
    assert reasons == [
        (standalone["taskArn"], "TASK_NOT_VALID"),
        (f"arn:aws:ecs:us-east-1:000000000000:task/default/{ghost}", "MISSING"),
        (service_tasks[0], "TASK_NOT_VALID"),
    ]
    got = ecs.get_task_protection(cluster="default", tasks=[ghost])
    assert got["failures"][0]["reason"] == "MISSING"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"expiresInMinutes": 0}, "expiresInMinutes must be between 1 and 2880 minutes."),
        ({"expiresInMinutes": 2881}, "expiresInMinutes must be between 1 and 2880 minutes."),
        ({"tasks": []}, "Tasks cannot be empty."),
        ({"tasks": [f"{i:032x}" for i in range(11)]}, "tasks can have at most 10 items."),
    ],
)
def test_invalid_parameters(ecs: Any, params: dict[str, Any], message: str) -> None:
    request = {"cluster": "default", "tasks": ["0" * 32], "protectionEnabled": True, **params}
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.update_task_protection(**request)
    assert error(excinfo) == ("InvalidParameterException", message)


def test_unknown_cluster(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.get_task_protection(cluster="nope", tasks=["0" * 32])


def test_protected_pod_is_a_valid_object(ecs: Any, backend: Any, service_tasks: list[str]) -> None:
    from tests.k8s_schema import validate_strict

    ecs.update_task_protection(cluster="default", tasks=service_tasks[:1], protectionEnabled=True)
    pod = backend.get(kinds.POD, pod_of(backend, service_tasks[0])["metadata"]["name"], namespace())
    validate_strict(pod)
