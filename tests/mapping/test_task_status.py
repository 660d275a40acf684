"""Pod -> ECS Task: properties over generated pod states, and one example per rule."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import arns
from kecs.mapping import pod_state, task_keys
from kecs.mapping.pod_state import RANK
from kecs.mapping.task_status import pod_to_task
from tests.k8s_schema import validate_strict
from tests.mapping.ecs_shapes import check
from tests.strategies_k8s import (
    BASE,
    NOW,
    WHERE,
    container_status,
    k8s_names,
    lifecycle,
    new_pod,
    owned_by,
    running,
    simple_td,
    task_definition_examples,
    task_pods,
    terminated,
    uids,
    waiting,
    with_status,
)

EXAMPLES = settings(
    max_examples=80, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "node-a",
        "uid": "11111111-2222-4333-8444-555555555555",
        "labels": {"topology.kubernetes.io/zone": "us-east-1b"},
    },
}


def to_task(pod: dict[str, Any], td: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"node": None, "now": NOW, "include_tags": False, **kwargs}
    return pod_to_task(pod, task_definition=td, **WHERE, **options)


# -- properties ---------------------------------------------------------------------------------


@EXAMPLES
@given(task_pods(), st.booleans(), st.booleans())
def test_any_pod_state_maps_to_a_valid_consistent_task(
    case: tuple[dict[str, Any], dict[str, Any]], with_td: bool, with_node: bool
) -> None:
    pod, td = case
    validate_strict(pod)  # the generated state is a real Kubernetes shape
    before = copy.deepcopy(pod)
    task = to_task(
        pod, td if with_td else None, node=NODE if with_node else None, include_tags=True
    )
    check(task, "Task")
    assert pod == before  # pure: the input is not touched
    assert task == to_task(
        pod, td if with_td else None, node=NODE if with_node else None, include_tags=True
    )
    assert task["lastStatus"] in RANK
    if task["lastStatus"] == "STOPPED":
        assert task["desiredStatus"] == "STOPPED"
        assert "stoppedAt" in task
    else:
        assert "stoppedAt" not in task and "executionStoppedAt" not in task
    if task["desiredStatus"] == "STOPPED":
        assert task["stopCode"] and task["stoppedReason"]
        assert task["stoppingAt"] <= task.get("stoppedAt", task["stoppingAt"])
    else:
        assert "stopCode" not in task and "stoppedReason" not in task and "stoppingAt" not in task
    if "startedAt" in task:
        assert RANK[task["lastStatus"]] >= RANK["RUNNING"]
    assert task["taskArn"] == arns.task(
        WHERE["region"],
        WHERE["account"],
        WHERE["cluster_name"],
        pod["metadata"]["uid"].replace("-", ""),
    )
    assert [c["name"] for c in task["containers"]] == [
        c["name"] for c in td["containerDefinitions"]
    ] or not with_td
    for container in task["containers"]:
        assert container["taskArn"] == task["taskArn"]
        if task["lastStatus"] == "STOPPED":
            assert container["lastStatus"] == "STOPPED"


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    task_definition_examples(),
    uids,
    st.sampled_from(["stop", "exit", "pull"]),
    st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_statuses_never_move_backwards_along_a_pod_lifecycle(
    td: dict[str, Any], uid: str, path: str, keep: list[bool]
) -> None:
    pod = new_pod(td, uid=uid)
    stages = [s for s, k in zip(lifecycle(pod, path), keep, strict=False) if k]
    tasks = [to_task(s, td) for s in stages]
    ranks = [RANK[t["lastStatus"]] for t in tasks]
    assert ranks == sorted(ranks), [t["lastStatus"] for t in tasks]
    desired = [t["desiredStatus"] for t in tasks]
    assert desired == sorted(desired, key=lambda d: d == "STOPPED"), desired
    for stage in stages:
        validate_strict(stage)


# -- lastStatus, one example each ---------------------------------------------------------------

TD = simple_td(
    {
        "name": "web",
        "image": "nginx",
        "essential": True,
        "portMappings": [{"containerPort": 80}],
        "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost"], "interval": 10},
    },
    {"name": "Log_Router", "image": "fluent-bit", "essential": False},
)
POD = new_pod(TD)
WEB, LOG = k8s_names(POD)
UP = {WEB: running(10), LOG: running(10)}


def status(pod: dict[str, Any], **kwargs: Any) -> tuple[str, str]:
    task = to_task(pod, TD, **kwargs)
    return task["lastStatus"], task["desiredStatus"]


def test_container_names_are_the_ecs_names() -> None:
    assert LOG != "Log_Router"  # renamed for Kubernetes...
    task = to_task(with_status(POD, UP), None)  # ...and found without the task definition
    assert sorted(c["name"] for c in task["containers"]) == ["Log_Router", "web"]


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (with_status(POD, node=None), ("PROVISIONING", "RUNNING")),
        (with_status(POD, {WEB: waiting(), LOG: waiting()}), ("PENDING", "RUNNING")),
        (with_status(POD, {WEB: running(10), LOG: waiting()}), ("ACTIVATING", "RUNNING")),
        (with_status(POD, UP, ready={WEB: False, LOG: True}), ("RUNNING", "RUNNING")),
        (with_status(POD, UP), ("RUNNING", "RUNNING")),
        (with_status(POD, UP, deleted=30), ("DEACTIVATING", "STOPPED")),
        (
            with_status(POD, {WEB: running(10), LOG: terminated(143, 10, 40)}, deleted=30),
            ("STOPPING", "STOPPED"),
        ),
        (
            with_status(POD, {WEB: waiting(), LOG: waiting()}, deleted=30),
            ("DEPROVISIONING", "STOPPED"),
        ),
        (
            with_status(
                POD, {WEB: terminated(143, 10, 40), LOG: terminated(143, 10, 40)}, deleted=30
            ),
            ("STOPPED", "STOPPED"),
        ),
        (with_status(POD, node=None, deleted=5), ("STOPPED", "STOPPED")),
        (with_status(POD, UP, phase="Failed"), ("STOPPED", "STOPPED")),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else "",
)
def test_last_and_desired_status(pod: dict[str, Any], expected: tuple[str, str]) -> None:
    assert status(pod) == expected


def test_unready_essential_container_is_activating_within_its_probe_window_then_unhealthy() -> None:
    pod = with_status(POD, UP, ready={WEB: False, LOG: True})
    started = BASE + timedelta(seconds=10)
    early = to_task(pod, TD, now=started + timedelta(seconds=5))
    assert early["lastStatus"] == "ACTIVATING"
    assert early["healthStatus"] == "UNKNOWN"
    late = to_task(pod, TD)
    assert late["lastStatus"] == "RUNNING"
    assert late["healthStatus"] == "UNHEALTHY"
    assert late["containers"][0]["healthStatus"] == "UNHEALTHY"


def test_healthy_task_and_container_without_health_check() -> None:
    task = to_task(with_status(POD, UP), TD)
    assert task["healthStatus"] == "HEALTHY"
    assert [c["healthStatus"] for c in task["containers"]] == ["HEALTHY", "UNKNOWN"]


def test_non_essential_exit_keeps_the_task_running() -> None:
    pod = with_status(POD, {WEB: running(10), LOG: terminated(0, 10, 20)}, ready={WEB: True})
    task = to_task(pod, TD)
    assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "RUNNING")
    assert task["containers"][1]["lastStatus"] == "STOPPED"
    assert task["containers"][1]["exitCode"] == 0


# -- stop codes and reasons ---------------------------------------------------------------------


def test_essential_container_exit() -> None:
    pod = with_status(POD, {WEB: terminated(2, 10, 50), LOG: running(10)})
    task = to_task(pod, TD)
    assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPING", "STOPPED")
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["stoppingAt"] == BASE + timedelta(seconds=50)
    assert task["containers"][0]["exitCode"] == 2
    finished = with_status(
        POD, {WEB: terminated(2, 10, 50), LOG: terminated(143, 10, 60)}, deleted=55
    )
    task = to_task(finished, TD)
    assert task["lastStatus"] == "STOPPED"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["stoppedAt"] == task["executionStoppedAt"] == BASE + timedelta(seconds=60)


def test_stopped_by_user_through_the_stop_record() -> None:
    pod = with_status(POD, {WEB: terminated(143, 10, 40), LOG: terminated(143, 10, 40)}, deleted=30)
    pod["metadata"]["annotations"].update(
        {
            task_keys.STOP_CODE: "UserInitiated",
            task_keys.STOPPED_REASON: "Task stopped by user",
            task_keys.STOPPING_AT: "2024-01-01T00:00:29Z",
        }
    )
    task = to_task(pod, TD)
    assert (task["stopCode"], task["stoppedReason"]) == ("UserInitiated", "Task stopped by user")
    assert task["stoppingAt"] == BASE + timedelta(seconds=29)
    assert task["stoppedAt"] == BASE + timedelta(seconds=40)


def test_a_deletion_without_record_is_a_stop_by_user() -> None:
    task = to_task(with_status(POD, UP, deleted=30), TD)
    assert (task["stopCode"], task["stoppedReason"]) == ("UserInitiated", "Task stopped by user")
    assert task["stoppingAt"] == BASE + timedelta(seconds=30)


def test_scale_in_of_a_service_task() -> None:
    rs = {
        "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "uid": "5e000000-0000-4000-8000-000000000001"},
    }
    pod = owned_by(with_status(POD, UP, deleted=30), rs)
    task = to_task(pod, TD)
    assert task["stopCode"] == "ServiceSchedulerInitiated"
    assert task["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/")
    deployment = task["stoppedReason"].removeprefix("Scaling activity initiated by (deployment ")
    assert task["startedBy"] + ")" == deployment
    assert len(task["startedBy"].removeprefix("ecs-svc/")) == 19


@pytest.mark.parametrize(
    ("reason", "prefix"),
    [
        ("ErrImagePull", "CannotPullContainerError: "),
        ("ImagePullBackOff", "CannotPullContainerError: "),
        ("CreateContainerConfigError", "ResourceInitializationError: "),
        ("CreateContainerError", "CannotStartContainerError: "),
    ],
)
def test_task_failed_to_start(reason: str, prefix: str) -> None:
    pod = with_status(POD, {WEB: waiting(reason, 'secret "db" not found'), LOG: waiting()})
    task = to_task(pod, TD)
    assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == f'{prefix}secret "db" not found'
    assert task["containers"][0]["reason"] == task["stoppedReason"]
    assert "startedAt" not in task and "exitCode" not in task["containers"][0]


def test_pod_failed_before_any_container_started() -> None:
    pod = with_status(
        POD, {WEB: waiting(), LOG: waiting()}, phase="Failed", reason="DeadlineExceeded"
    )
    task = to_task(pod, TD)
    assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "TaskFailedToStart")
    assert task["stoppedReason"] == "Task failed to start"


def test_lost_node() -> None:
    lost = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager"}
    task = to_task(with_status(POD, UP, deleted=30, extra_conditions=[lost]), TD)
    assert task["stopCode"] == "InfrastructureHealth"
    assert task["stoppedReason"] == "Host EC2 (instance node-a) terminated."


def test_out_of_memory_container_reason() -> None:
    pod = with_status(POD, {WEB: terminated(137, 10, 20, "OOMKilled"), LOG: terminated(0, 10, 20)})
    task = to_task(pod, TD)
    assert (
        task["containers"][0]["reason"] == "OutOfMemoryError: Container killed due to memory usage"
    )
    assert task["containers"][0]["exitCode"] == 137


# -- the rest of the Task -----------------------------------------------------------------------


def test_identity_times_and_placement() -> None:
    pod = with_status(POD, UP)
    pod["metadata"]["resourceVersion"] = "42"
    task = to_task(pod, TD, node=NODE)
    assert task["taskDefinitionArn"] == TD["taskDefinitionArn"]
    assert task["clusterArn"] == arns.cluster("us-east-1", "000000000000", "default")
    assert task["version"] == 42
    assert task["group"] == "family:web"
    assert task["createdAt"] == BASE
    assert task["pullStartedAt"] == task["connectivityAt"] == BASE + timedelta(seconds=1)
    assert task["pullStoppedAt"] == task["startedAt"] == BASE + timedelta(seconds=10)
    assert task["connectivity"] == "CONNECTED"
    assert task["availabilityZone"] == "us-east-1b"
    assert task["containerInstanceArn"] == arns.container_instance(
        "us-east-1", "000000000000", "default", "11111111222243338444555555555555"
    )
    web = task["containers"][0]
    assert web["imageDigest"] == "sha256:" + "ab" * 32
    assert web["runtimeId"].startswith("web")
    assert web["containerArn"].startswith(task["taskArn"].replace(":task/", ":container/") + "/")


def test_awsvpc_attachment_and_interfaces() -> None:
    task = to_task(with_status(POD, UP, pod_ip="10.1.2.3"), TD)
    (attachment,) = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert attachment["type"] == "ElasticNetworkInterface"
    assert attachment["status"] == "ATTACHED"
    assert details["privateIPv4Address"] == "10.1.2.3"
    assert details["networkInterfaceId"].startswith("eni-")
    assert task["containers"][0]["networkInterfaces"] == [
        {"attachmentId": attachment["id"], "privateIpv4Address": "10.1.2.3"}
    ]
    assert task["containers"][0]["networkBindings"] == []
    stopped = to_task(with_status(POD, {WEB: terminated(0, 1, 2), LOG: terminated(0, 1, 2)}), TD)
    assert stopped["attachments"][0]["status"] == "DELETED"


def test_bridge_network_bindings() -> None:
    td = simple_td(
        {
            "name": "web",
            "image": "nginx",
            "portMappings": [{"containerPort": 80, "hostPort": 8080}],
        },
        network_mode="bridge",
    )
    pod = new_pod(td, launch_type="EC2")
    task = to_task(with_status(pod, {"web": running(1)}), td)
    assert task["attachments"] == []
    assert task["containers"][0]["networkBindings"] == [
        {"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 8080, "protocol": "tcp"}
    ]


def test_fargate_run_task_fields() -> None:
    pod = new_pod(
        TD,
        launch_type="FARGATE",
        capacity_provider="FARGATE_SPOT",
        started_by="ci",
        group="batch",
        tags=[{"key": "team", "value": "a"}],
        enable_execute_command=True,
        overrides={"containerOverrides": [{"name": "web", "command": ["x"]}], "cpu": "1024"},
    )
    task = to_task(with_status(pod, UP), TD, node=NODE, include_tags=True)
    assert task["launchType"] == "FARGATE"
    assert task["platformVersion"] == "1.4.0" and task["platformFamily"] == "Linux"
    assert task["capacityProviderName"] == "FARGATE_SPOT"
    assert "containerInstanceArn" not in task  # Fargate tasks run on no container instance
    assert (task["startedBy"], task["group"]) == ("ci", "batch")
    assert task["tags"] == [{"key": "team", "value": "a"}]
    assert task["enableExecuteCommand"] is True
    assert task["cpu"] == "1024"
    assert task["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["x"]},
        {"name": "Log_Router"},
    ]
    assert "tags" not in to_task(with_status(pod, UP), TD)


def test_crash_looping_essential_container_is_an_exit() -> None:
    crashed = terminated(1, 10, 20)
    spec_web = next(c for c in POD["spec"]["containers"] if c["name"] == WEB)
    pod = with_status(POD, {WEB: waiting("CrashLoopBackOff"), LOG: running(10)})
    pod["status"]["containerStatuses"][0] = container_status(
        spec_web, waiting("CrashLoopBackOff"), restarts=1, last=crashed
    )
    task = to_task(pod, TD)
    assert task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 1


def test_deletion_request_time_accounts_for_the_grace_period() -> None:
    pod = with_status(POD, UP, deleted=30, grace=30)
    assert pod_state.deletion_requested_at(pod) == BASE + timedelta(seconds=30)


def test_a_restarted_container_reports_the_exit_that_ended_the_task() -> None:
    """After a kubelet restart, the STOPPED task shows the first exit, not the later kill."""
    from kecs.mapping.pod_state import ContainerView

    status = {
        "name": "web",
        "restartCount": 1,
        "state": {"terminated": {"exitCode": 143, "reason": "Error"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
    }
    restarted = ContainerView("web", "web", True, {"name": "web"}, status)
    assert restarted.terminated is not None and restarted.terminated["exitCode"] == 1
    first_run = ContainerView("web", "web", True, {"name": "web"}, {**status, "restartCount": 0})
    assert first_run.terminated is not None and first_run.terminated["exitCode"] == 143
