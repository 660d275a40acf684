"""Task lifecycle through the client: waiters, StopTask, DescribeTasks, exits, retention."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import WaiterError

import kecs
from kecs import testing
from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.mapping import labels, task_keys
from kecs.operations.task_sweep import SWEEP_INTERVAL
from tests.operations.task_helpers import (
    REGION,
    backend,
    describe,
    ecs,
    error,
    namespace,
    run,
    task_id,
    task_pods,
)

__all__ = ["backend", "ecs"]  # fixtures

NO_WAIT = {"Delay": 0, "MaxAttempts": 1}


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiters must succeed on their first poll: any sleep fails the test."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"a waiter slept {seconds} s")

    monkeypatch.setattr(time, "sleep", refuse)


def test_run_wait_stop_wait(ecs: Any, no_sleep: None) -> None:
    tasks = run(ecs, count=3)
    arns = [t["taskArn"] for t in tasks]
    ecs.get_waiter("tasks_running").wait(tasks=arns, WaiterConfig={"MaxAttempts": 1})
    stopped = ecs.stop_task(task=arns[0])["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    ecs.get_waiter("tasks_stopped").wait(tasks=arns[:1], WaiterConfig={"MaxAttempts": 1})
    with pytest.raises(WaiterError):
        ecs.get_waiter("tasks_stopped").wait(tasks=arns, WaiterConfig=NO_WAIT)
    ecs.get_waiter("tasks_running").wait(tasks=arns[1:], WaiterConfig={"MaxAttempts": 1})


def test_stop_task_records_who_and_why(ecs: Any, backend: Any) -> None:
    (task,) = run(ecs)
    stopped = ecs.stop_task(task=task["taskArn"])["task"]
    assert (stopped["lastStatus"], stopped["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "Task stopped by user"
    assert [c["exitCode"] for c in stopped["containers"]] == [143, 143]
    assert stopped["stoppingAt"] <= stopped["stoppedAt"]
    (pod,) = task_pods(backend)
    assert pod["metadata"]["deletionTimestamp"]
    assert pod["metadata"]["annotations"][task_keys.STOP_CODE] == "UserInitiated"
    assert describe(ecs, task["taskArn"])["stoppedReason"] == "Task stopped by user"


def test_stop_task_by_id_with_a_reason(ecs: Any) -> None:
    (task,) = run(ecs)
    stopped = ecs.stop_task(task=task_id(task["taskArn"]), reason="deploy 7 replaced it")["task"]
    assert stopped["stoppedReason"] == "deploy 7 replaced it"
    # Stopping it again changes nothing.
    again = ecs.stop_task(task=task["taskArn"], reason="other")["task"]
    assert again["stoppedReason"] == "deploy 7 replaced it"
    assert again["stoppedAt"] == stopped["stoppedAt"]


@pytest.mark.parametrize(
    "reference",
    [
        "0" * 32,
        "not-a-task",
        "arn:aws:ecs:us-east-1:000000000000:task/other/" + "0" * 32,
        "arn:aws:ecs:us-east-1:000000000000:cluster/default",
    ],
)
def test_stop_unknown_task(ecs: Any, reference: str) -> None:
    run(ecs)
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.stop_task(task=reference)
    assert error(excinfo) == ("InvalidParameterException", "The referenced task was not found.")


def test_stop_task_reason_limit(ecs: Any) -> None:
    (task,) = run(ecs)
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.stop_task(task=task["taskArn"], reason="r" * 256)
    assert (
        ecs.stop_task(task=task["taskArn"], reason="r" * 255)["task"]["stoppedReason"] == "r" * 255
    )


def test_describe_by_arn_or_id_and_missing(ecs: Any, backend: Any) -> None:
    tasks = run(ecs, count=3)
    arns = [t["taskArn"] for t in tasks]
    backend.lists.clear()
    by_arn = ecs.describe_tasks(tasks=arns)
    assert backend.lists["Pod"] == 1  # one backend read, whatever the number of tasks
    by_id = ecs.describe_tasks(tasks=[task_id(a) for a in arns])
    assert sorted(t["taskArn"] for t in by_arn["tasks"]) == sorted(arns)
    assert [t["taskArn"] for t in by_id["tasks"]] == [t["taskArn"] for t in by_arn["tasks"]]
    ghost = "0" * 32
    mixed = ecs.describe_tasks(tasks=[arns[0], ghost, task_id(arns[0]), "junk"])
    assert [t["taskArn"] for t in mixed["tasks"]] == [arns[0]]
    assert mixed["failures"] == [
        {"arn": f"arn:aws:ecs:{REGION}:000000000000:task/default/{ghost}", "reason": "MISSING"},
        {"arn": f"arn:aws:ecs:{REGION}:000000000000:task/default/junk", "reason": "MISSING"},
    ]


def test_describe_limits(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.describe_tasks(tasks=[])
    assert error(excinfo)[1] == "Tasks cannot be empty."
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.describe_tasks(tasks=[f"{i:032x}" for i in range(101)])
    assert error(excinfo)[1] == "taskIds can have at most 100 items."
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.describe_tasks(cluster="nope", tasks=["0" * 32])


def test_tasks_of_another_cluster_are_missing(ecs: Any) -> None:
    ecs.create_cluster(clusterName="other")
    (task,) = run(ecs, cluster="other")
    response = ecs.describe_tasks(tasks=[task["taskArn"]])
    assert response["failures"] == [{"arn": task["taskArn"], "reason": "MISSING"}]
    assert describe(ecs, task["taskArn"], cluster="other")["taskArn"] == task["taskArn"]


def test_essential_container_exit_stops_the_task(ecs: Any) -> None:
    (task,) = run(ecs)
    testing.exit_container(ecs, task["taskArn"], "app", 3)
    stopped = describe(ecs, task["taskArn"])
    assert (stopped["lastStatus"], stopped["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    exits = {c["name"]: c["exitCode"] for c in stopped["containers"]}
    assert exits == {"app": 3, "side": 143}
    ecs.get_waiter("tasks_stopped").wait(tasks=[task["taskArn"]], WaiterConfig=NO_WAIT)


def test_non_essential_exit_keeps_the_task_running(ecs: Any) -> None:
    (task,) = run(ecs)
    testing.exit_container(ecs, task["taskArn"], "side", 0)
    running = describe(ecs, task["taskArn"])
    assert (running["lastStatus"], running["desiredStatus"]) == ("RUNNING", "RUNNING")
    side = next(c for c in running["containers"] if c["name"] == "side")
    assert (side["lastStatus"], side["exitCode"]) == ("STOPPED", 0)


def test_image_pull_failure_stops_the_task(ecs: Any, no_sleep: None) -> None:
    testing.fail_image_pulls(ecs, "nginx:*")
    (task,) = run(ecs)
    with pytest.raises(WaiterError):
        ecs.get_waiter("tasks_running").wait(tasks=[task["taskArn"]], WaiterConfig=NO_WAIT)
    stopped = describe(ecs, task["taskArn"])
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError")
    ecs.get_waiter("tasks_stopped").wait(tasks=[task["taskArn"]], WaiterConfig={"MaxAttempts": 1})


def test_slow_start(ecs: Any, backend: Any) -> None:
    testing.slow_start(ecs, "nginx*", 30)
    (task,) = run(ecs)
    assert task["lastStatus"] == "PENDING"
    testing.advance(backend, 29)
    assert describe(ecs, task["taskArn"])["lastStatus"] == "PENDING"
    testing.advance(backend, 1)
    assert describe(ecs, task["taskArn"])["lastStatus"] == "RUNNING"


def test_stopped_tasks_are_kept_for_an_hour(ecs: Any, backend: Any) -> None:
    kept, gone = run(ecs, count=2)
    ecs.stop_task(task=kept["taskArn"])
    ecs.stop_task(task=gone["taskArn"])
    testing.advance(backend, 3599)
    assert describe(ecs, kept["taskArn"])["lastStatus"] == "STOPPED"
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] != []
    testing.advance(backend, 2)
    assert ecs.describe_tasks(tasks=[kept["taskArn"]])["failures"][0]["reason"] == "MISSING"
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] == []
    assert task_pods(backend) == []


def test_retention_is_configurable(backend: Any) -> None:
    ecs = kecs.client("ecs", region_name=REGION, backend=backend, stopped_task_retention=60)
    ecs.create_cluster(clusterName="default")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}]
    )
    (task,) = run(ecs)
    ecs.stop_task(task=task["taskArn"])
    testing.advance(backend, 59)
    assert describe(ecs, task["taskArn"])["lastStatus"] == "STOPPED"
    testing.advance(backend, 2)
    assert ecs.describe_tasks(tasks=[task["taskArn"]])["failures"][0]["reason"] == "MISSING"


def test_run_task_sweeps_the_cluster_now_and_then(ecs: Any, backend: Any) -> None:
    (old,) = run(ecs)
    ecs.stop_task(task=old["taskArn"])
    name = task_pods(backend)[0]["metadata"]["name"]
    testing.advance(backend, 3600 + SWEEP_INTERVAL)
    run(ecs)
    with pytest.raises(NotFound):
        backend.get(kinds.POD, name, namespace())
    ns = backend.get(kinds.NAMESPACE, namespace())
    assert f"{labels.DOMAIN}/tasks-swept-at" in ns["metadata"]["annotations"]


def test_two_clients_one_world(backend: Any, ecs: Any) -> None:
    other = kecs.client("ecs", region_name=REGION, backend=backend)
    (task,) = run(ecs)
    assert other.list_tasks()["taskArns"] == [task["taskArn"]]
    other.stop_task(task=task["taskArn"], reason="from the other client")
    assert describe(ecs, task["taskArn"])["stoppedReason"] == "from the other client"
    elsewhere = kecs.client("ecs", region_name="eu-west-1", backend=backend)
    elsewhere.create_cluster(clusterName="default")
    assert elsewhere.list_tasks(desiredStatus="STOPPED")["taskArns"] == []
    assert elsewhere.describe_tasks(tasks=[task["taskArn"]])["failures"][0]["reason"] == "MISSING"


def test_instance_going_away_stops_its_tasks(ecs: Any) -> None:
    (task,) = run(ecs)
    testing.remove_instance(ecs, task["containerInstanceArn"])
    stopped = describe(ecs, task["taskArn"])
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "InfrastructureHealth"
    assert "terminated" in stopped["stoppedReason"]


def test_unhealthy_container(ecs: Any) -> None:
    ecs.register_task_definition(
        family="checked",
        containerDefinitions=[
            {
                "name": "app",
                "image": "nginx",
                "memory": 128,
                "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "retries": 2},
            }
        ],
    )
    (task,) = run(ecs, taskDefinition="checked")
    assert describe(ecs, task["taskArn"])["healthStatus"] == "HEALTHY"
    testing.set_container_health(ecs, task["taskArn"], "app", False, probe="readiness")
    # ECS says UNKNOWN until the checks had their chance (interval x retries).
    testing.advance(ecs, 60)
    unhealthy = describe(ecs, task["taskArn"])
    assert unhealthy["healthStatus"] == "UNHEALTHY"
    assert unhealthy["containers"][0]["healthStatus"] == "UNHEALTHY"


def test_stop_task_whose_pod_kubernetes_removes_at_once(ecs: Any, backend: Any) -> None:
    (task,) = run(ecs)
    (pod,) = task_pods(backend)
    backend.patch(
        kinds.POD, pod["metadata"]["name"], {"metadata": {"finalizers": None}}, namespace()
    )
    stopped = ecs.stop_task(task=task["taskArn"])["task"]
    assert (stopped["desiredStatus"], stopped["stopCode"]) == ("STOPPED", "UserInitiated")
    assert task_pods(backend) == []
    assert ecs.describe_tasks(tasks=[task["taskArn"]])["failures"][0]["reason"] == "MISSING"
