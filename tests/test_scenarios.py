"""End-to-end scenarios with only boto3-style calls (issue 3's "Done when").

Every waiter gets ``WaiterConfig={"Delay": 1, "MaxAttempts": 1}``: it must succeed on its first
poll, because the embedded cluster reaches each state before the call that caused it returns.
The scenarios run on every backend target (tests/targets.py: the embedded backend, a
KubernetesBackend over HTTP, a real cluster when configured); the classic flow also runs once
on a backend that validates every object kecs writes against the Kubernetes schema (strict).
"""

from __future__ import annotations

from typing import Any

import pytest

import kecs
from kecs.backends.base import Backend
from tests import targets
from tests.operations.service_helpers import CheckingBackend

FIRST_POLL = {"Delay": 1, "MaxAttempts": 1}
#: A real cluster pulls images and starts containers for real: there, waiters wait.
PATIENT = {"Delay": 2, "MaxAttempts": 150}


@pytest.fixture
def polls(backend_target: str) -> dict[str, int]:
    return PATIENT if backend_target == "k8s-real" else FIRST_POLL


CLUSTER = "shop"


@pytest.fixture
def ecs(backend: Backend) -> Any:
    return kecs.client("ecs", region_name="eu-west-1", backend=backend)


def register(ecs: Any, image: str) -> str:
    response = ecs.register_task_definition(
        family="web",
        containerDefinitions=[
            {
                "name": "web",
                "image": image,
                "memory": 256,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            }
        ],
    )
    return str(response["taskDefinition"]["taskDefinitionArn"])


@targets.ALL
def test_classic_service_flow(ecs: Any, polls: dict[str, int]) -> None:
    classic_flow(ecs, polls)


def test_the_classic_flow_writes_only_strictly_valid_objects() -> None:
    checking = CheckingBackend()
    classic_flow(kecs.client("ecs", region_name="eu-west-1", backend=checking), FIRST_POLL)
    assert checking.checked["Deployment"] >= 3 and checking.checked["Service"] >= 1
    assert checking.checked["ConfigMap"] >= 1  # the INACTIVE tombstone


def classic_flow(ecs: Any, polls: dict[str, int]) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    first = register(ecs, "nginx:1.25")
    created = ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition="web", desiredCount=3
    )["service"]
    assert created["status"] == "ACTIVE"
    assert created["taskDefinition"] == first

    ecs.get_waiter("services_stable").wait(cluster=CLUSTER, services=["web"], WaiterConfig=polls)

    task_arns = ecs.list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
    assert len(task_arns) == 3
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=task_arns)["tasks"]
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}
    assert {t["taskDefinitionArn"] for t in tasks} == {first}
    deployment_id = created["deployments"][0]["id"]
    assert {t["startedBy"] for t in tasks} == {deployment_id}
    assert {t["group"] for t in tasks} == {"service:web"}

    second = register(ecs, "nginx:1.27")
    updated = ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")
    assert updated["service"]["taskDefinition"] == second
    ecs.get_waiter("services_stable").wait(cluster=CLUSTER, services=["web"], WaiterConfig=polls)
    service = ecs.describe_services(cluster=CLUSTER, services=["web"])["services"][0]
    (primary,) = service["deployments"]
    assert primary["status"] == "PRIMARY"
    assert primary["rolloutState"] == "COMPLETED"
    assert primary["taskDefinition"] == second
    assert primary["id"] != deployment_id
    assert service["runningCount"] == 3
    new_tasks = ecs.describe_tasks(
        cluster=CLUSTER, tasks=ecs.list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
    )["tasks"]
    assert {t["taskDefinitionArn"] for t in new_tasks} == {second}
    history = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert [d["status"] for d in history] == ["SUCCESSFUL", "SUCCESSFUL"]

    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=0)
    scaled = ecs.describe_services(cluster=CLUSTER, services=["web"])["services"][0]
    assert (scaled["desiredCount"], scaled["runningCount"]) == (0, 0)
    deleted = ecs.delete_service(cluster=CLUSTER, service="web")["service"]
    assert deleted["status"] == "DRAINING"
    ecs.get_waiter("services_inactive").wait(cluster=CLUSTER, services=["web"], WaiterConfig=polls)
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []
    stopped = ecs.describe_tasks(cluster=CLUSTER, tasks=task_arns)["tasks"]
    assert {t["lastStatus"] for t in stopped} == {"STOPPED"}


@targets.ALL
def test_run_task_flow(ecs: Any, polls: dict[str, int]) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    register(ecs, "nginx:1.25")
    task = ecs.run_task(cluster=CLUSTER, taskDefinition="web", count=1)["tasks"][0]
    arn = task["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=CLUSTER, tasks=[arn], WaiterConfig=polls)
    ecs.stop_task(cluster=CLUSTER, task=arn, reason="done")
    ecs.get_waiter("tasks_stopped").wait(cluster=CLUSTER, tasks=[arn], WaiterConfig=polls)
    (stopped,) = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "done"


@pytest.mark.backends("memory", "k8s-http")  # the simulator is the embedded cluster's
def test_circuit_breaker_rolls_back(ecs: Any, backend: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    good = register(ecs, "nginx:1.25")
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition="web",
        desiredCount=4,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=["web"], WaiterConfig=FIRST_POLL
    )
    first_deployment = ecs.describe_services(cluster=CLUSTER, services=["web"])["services"][0][
        "deployments"
    ][0]["id"]
    backend.simulator.fail_image_pulls("registry.example.com/broken*")
    register(ecs, "registry.example.com/broken:2")
    ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")

    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=["web"], WaiterConfig=FIRST_POLL
    )
    service = ecs.describe_services(cluster=CLUSTER, services=["web"])["services"][0]
    assert service["taskDefinition"] == good
    (primary,) = service["deployments"]
    assert primary["id"] == first_deployment
    assert primary["runningCount"] == 4
    messages = [e["message"] for e in service["events"]]
    failed = [m for m in messages if "deployment failed: tasks failed to start." in m]
    assert len(failed) == 1
    assert f"(service web) rolling back to deployment {first_deployment}." in messages
    history = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert [d["status"] for d in history] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL"]
    # The failed tasks are STOPPED records that say why.
    stopped_arns = ecs.list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus="STOPPED")[
        "taskArns"
    ]
    stopped = ecs.describe_tasks(cluster=CLUSTER, tasks=stopped_arns)["tasks"]
    failed_tasks = [t for t in stopped if t["taskDefinitionArn"].endswith(":2")]
    assert len(failed_tasks) >= 4
    for task in failed_tasks:
        assert task["lastStatus"] == "STOPPED"
        assert task["stopCode"] == "TaskFailedToStart"
        assert task["stoppedReason"].startswith("CannotPullContainerError")
