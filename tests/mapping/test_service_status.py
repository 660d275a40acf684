"""Deployment / DaemonSet + ReplicaSets + pods -> ECS Service, deployments, events, history."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import HealthCheck, given, settings

from kecs import arns
from kecs.mapping import ids, task_keys
from kecs.mapping.service_history import brief, service_deployments, service_revisions
from kecs.mapping.service_status import view, workload_to_service
from tests.k8s_schema import validate_strict
from tests.mapping.ecs_shapes import check
from tests.strategies_k8s import (
    BASE,
    NOW,
    WHERE,
    controller_revision,
    daemon_pod,
    deployment_status,
    k8s_names,
    new_workload,
    replica_set,
    rs_pod,
    running,
    service_spec,
    services,
    simple_td,
    terminated,
    waiting,
    with_status,
)

EXAMPLES = settings(
    max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
TD = simple_td({"name": "web", "image": "nginx", "portMappings": [{"containerPort": 80}]})
TD2 = {**TD, "revision": 2, "taskDefinitionArn": TD["taskDefinitionArn"][:-1] + "2"}


def describe(
    workload: dict[str, Any], revisions: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> dict[str, Any]:
    return workload_to_service(workload, revisions, pods, **WHERE, now=NOW, include_tags=True)


def history(
    workload: dict[str, Any], revisions: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    v = view(workload, revisions, pods, **WHERE, now=NOW)
    return service_deployments(v), service_revisions(v)


# -- properties ---------------------------------------------------------------------------------


@EXAMPLES
@given(services())
def test_any_service_state_maps_to_a_valid_consistent_service(
    case: tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    workload, revisions, pods = case
    for obj in [workload, *pods]:
        validate_strict(obj)
    frozen = copy.deepcopy(case)
    service = describe(workload, revisions, pods)
    check(service, "Service")
    assert (workload, revisions, pods) == frozen
    assert service == describe(workload, revisions, pods)
    assert service["runningCount"] + service["pendingCount"] <= len(pods)
    statuses = [d["status"] for d in service["deployments"]]
    assert statuses[0] == "PRIMARY" and statuses.count("PRIMARY") == 1
    assert set(statuses[1:]) <= {"ACTIVE"}
    assert sum(d["runningCount"] for d in service["deployments"]) == service["runningCount"]
    for deployment in service["deployments"]:
        assert re.fullmatch(r"ecs-svc/\d{19}", deployment["id"])
        assert deployment["rolloutStateReason"]
    times = [e["createdAt"] for e in service["events"]]
    assert times == sorted(times, reverse=True)
    assert len({e["id"] for e in service["events"]}) == len(service["events"])
    deployments, revisions_out = history(workload, revisions, pods)
    for item in deployments:
        check(item, "ServiceDeployment")
        check(brief(item), "ServiceDeploymentBrief")
        parsed = arns.parse_service_deployment(item["serviceDeploymentArn"])
        assert parsed is not None and (parsed.cluster, parsed.service) == ("default", "web")
    for item in revisions_out:
        check(item, "ServiceRevision")
        assert arns.parse_service_revision(item["serviceRevisionArn"]) is not None
    assert deployments[0]["serviceDeploymentArn"] == service["currentServiceDeployment"]


# -- a rollout, step by step ----------------------------------------------------------------


def rollout() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    spec = service_spec(TD, desiredCount=2)
    workload = new_workload(TD, spec)
    old = replica_set(workload, 1, 2, created=0)
    spec2 = {**spec, "taskDefinition": TD2["taskDefinitionArn"]}
    new_template = new_workload(TD2, spec2)["spec"]["template"]
    new = replica_set(workload, 2, 2, created=100, template=new_template)
    return workload, old, new


def up(pod: dict[str, Any], start: float = 10) -> dict[str, Any]:
    return with_status(pod, {name: running(start) for name in k8s_names(pod)})


def progressed(
    workload: dict[str, Any],
    reason: str,
    rs: dict[str, Any],
    counts: tuple[int, int, int],
    when: float = 30,
) -> dict[str, Any]:
    """``workload`` with a Deployment status for ``rs``: (replicas, updated, available)."""
    replicas, updated, available = counts
    return deployment_status(
        workload,
        reason,
        replicas=replicas,
        updated=updated,
        available=available,
        rs_name=rs["metadata"]["name"],
        when=when,
    )


def test_steady_single_deployment_and_its_events() -> None:
    workload, old, _ = rollout()
    pods = [up(rs_pod(old, f"a{i}000000-0000-4000-8000-000000000000", created=5)) for i in range(2)]
    workload = progressed(workload, "NewReplicaSetAvailable", old, (2, 2, 2))
    service = describe(workload, [old], pods)
    assert (service["desiredCount"], service["runningCount"], service["pendingCount"]) == (2, 2, 0)
    assert service["status"] == "ACTIVE"
    assert service["taskDefinition"] == TD["taskDefinitionArn"]
    (primary,) = service["deployments"]
    deployment_id = ids.deployment_id(old["metadata"]["uid"])
    assert primary["id"] == deployment_id
    assert primary["status"] == "PRIMARY"
    assert primary["rolloutState"] == "COMPLETED"
    assert primary["rolloutStateReason"] == f"ECS deployment {deployment_id} completed."
    assert (primary["launchType"], primary["platformVersion"]) == ("FARGATE", "LATEST")
    messages = [e["message"] for e in service["events"]]
    task_ids = sorted(p["metadata"]["uid"].replace("-", "") for p in pods)
    assert messages == [
        "(service web) has reached a steady state.",
        f"(service web) (deployment {deployment_id}) deployment completed.",
        f"(service web) has started 2 tasks: (task {task_ids[0]}) (task {task_ids[1]}).",
    ]
    assert service["events"][0]["createdAt"] == service["events"][1]["createdAt"]
    assert service["events"][2]["createdAt"] == BASE.replace(second=5)


def test_rollout_in_progress_then_completed_with_scale_in_events() -> None:
    workload, old, new = rollout()
    old_pods = [
        up(rs_pod(old, f"a{i}000000-0000-4000-8000-000000000000", created=5)) for i in range(2)
    ]
    new_pods = [
        with_status(
            rs_pod(new, "b0000000-0000-4000-8000-000000000000", created=100), {"web": waiting()}
        )
    ]
    progressing = progressed(workload, "ReplicaSetUpdated", new, (3, 1, 2))
    service = describe(progressing, [old, new], old_pods + new_pods)
    primary, active = service["deployments"]
    assert (primary["status"], active["status"]) == ("PRIMARY", "ACTIVE")
    assert primary["taskDefinition"] == TD2["taskDefinitionArn"]
    assert active["taskDefinition"] == TD["taskDefinitionArn"]
    assert primary["rolloutState"] == "IN_PROGRESS"
    assert primary["rolloutStateReason"] == f"ECS deployment {primary['id']} in progress."
    assert (primary["pendingCount"], primary["runningCount"]) == (1, 0)
    assert (active["runningCount"], active["rolloutState"]) == (2, "COMPLETED")
    assert (service["runningCount"], service["pendingCount"]) == (2, 1)
    assert not any("steady state" in e["message"] for e in service["events"])

    # the new tasks run, the old ones were stopped by the scheduler (deleted, kept as records)
    new_pods = [
        up(rs_pod(new, f"b{i}000000-0000-4000-8000-000000000000", created=100), 110)
        for i in range(2)
    ]
    stopped = [
        with_status(p, {"web": terminated(143, 10, 130)}, deleted=120, phase="Failed")
        for p in old_pods
    ]
    old_drained = copy.deepcopy(old)
    old_drained["spec"]["replicas"] = 0
    old_drained["status"]["replicas"] = 0
    done = progressed(workload, "NewReplicaSetAvailable", new, (2, 2, 2), when=140)
    service = describe(done, [old_drained, new], stopped + new_pods)
    (primary,) = service["deployments"]
    assert primary["rolloutState"] == "COMPLETED"
    stopped_ids = sorted(p["metadata"]["uid"].replace("-", "") for p in stopped)
    messages = [e["message"] for e in service["events"]]
    assert messages[0] == "(service web) has reached a steady state."
    assert (
        "(service web) has stopped 2 running tasks: "
        f"(task {stopped_ids[0]}) (task {stopped_ids[1]})." in messages
    )
    assert sum("has started 2 tasks" in m for m in messages) == 2
    deployments, revisions = history(done, [old_drained, new], stopped + new_pods)
    assert [d["status"] for d in deployments] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert deployments[0]["sourceServiceRevisions"] == []
    assert deployments[1]["finishedAt"] == BASE.replace(minute=1, second=40)
    assert revisions[0]["taskDefinition"] == TD2["taskDefinitionArn"]
    assert revisions[0]["containerImages"] == [
        {"containerName": "web", "image": "nginx", "imageDigest": "sha256:" + "ab" * 32}
    ]


def test_events_of_one_instant_keep_their_causal_order() -> None:
    """The embedded cluster does a whole rollout within one (simulated) second."""
    workload, old, new = rollout()
    workload["spec"]["replicas"] = 1
    old_drained = copy.deepcopy(old)
    old_drained["spec"]["replicas"] = old_drained["status"]["replicas"] = 0
    stopped = [
        with_status(
            rs_pod(old, "a0000000-0000-4000-8000-000000000000", created=5),
            {"web": terminated(143, 5, 5)}, deleted=5, grace=0, phase="Failed",
        )
    ]  # fmt: skip
    started = [up(rs_pod(new, "b0000000-0000-4000-8000-000000000000", created=5), 5)]
    done = progressed(workload, "NewReplicaSetAvailable", new, (1, 1, 1), when=5)
    events = describe(done, [old_drained, new], stopped + started)["events"]
    assert len({e["createdAt"] for e in events}) == 1
    assert [e["message"].split(" ")[2] for e in events] == [
        "has",  # reached a steady state
        "(deployment",  # completed
        "has",  # stopped the old task
        "has",  # started the new task
        "has",  # started the old task
    ]
    assert "steady state" in events[0]["message"]
    assert "stopped" in events[2]["message"]
    assert "b0000000" in events[3]["message"] and "a0000000" in events[4]["message"]


def test_each_deployment_shows_its_own_launch_settings() -> None:
    old_spec = {k: v for k, v in service_spec(TD).items() if k != "launchType"}
    old_template = new_workload(TD, old_spec)["spec"]["template"]
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    workload = new_workload(TD2, service_spec(TD2, networkConfiguration=network))
    old = replica_set(workload, 1, 1, template=old_template)
    new = replica_set(workload, 2, 1, created=100)
    pods = [up(rs_pod(old, "a0000000-0000-4000-8000-000000000000"))]
    primary, active = describe(workload, [old, new], pods)["deployments"]
    assert (primary["launchType"], primary["networkConfiguration"]) == ("FARGATE", network)
    assert active["launchType"] == "EC2" and "networkConfiguration" not in active
    assert "platformVersion" not in active


def test_circuit_breaker_failure() -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    spec = service_spec(TD, desiredCount=2, deploymentConfiguration=breaker)
    workload = new_workload(TD, spec)
    rs = replica_set(workload, 1, 2)
    failed = [
        with_status(
            rs_pod(rs, f"c{i}000000-0000-4000-8000-000000000000"),
            {"web": waiting("ErrImagePull", "no such image")},
        )
        for i in range(2)
    ]
    workload = progressed(workload, "ProgressDeadlineExceeded", rs, (2, 2, 0))
    service = describe(workload, [rs], failed)
    (primary,) = service["deployments"]
    assert primary["rolloutState"] == "FAILED"
    assert primary["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert primary["failedTasks"] == 2
    assert (
        f"(service web) (deployment {primary['id']}) deployment failed: tasks failed to start."
        in [e["message"] for e in service["events"]]
    )
    (deployment,), _ = history(workload, [rs], failed)
    assert deployment["status"] == "STOPPED"
    assert deployment["deploymentCircuitBreaker"] == {
        "status": "TRIGGERED",
        "failureCount": 2,
        "threshold": 3,
    }


def test_rolled_back_deployment_history() -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    spec = service_spec(TD, desiredCount=1, deploymentConfiguration=breaker)
    workload = new_workload(TD, spec)
    good = replica_set(workload, 3, 1, created=200)  # the old template, revision bumped back
    bad = replica_set(workload, 2, 0, created=100)
    bad["metadata"]["annotations"][task_keys.ROLLOUT_STATE] = "FAILED"
    workload = progressed(workload, "NewReplicaSetAvailable", good, (1, 1, 1), when=250)
    pods = [up(rs_pod(good, "a0000000-0000-4000-8000-000000000000", created=201), 210)]
    service = describe(workload, [bad, good], pods)
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
    deployments, revisions = history(workload, [bad, good], pods)
    assert [d["status"] for d in deployments] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL"]
    rolled = deployments[1]
    assert rolled["statusReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert rolled["rollback"]["serviceRevisionArn"] == revisions[0]["serviceRevisionArn"]
    assert rolled["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert deployments[0]["deploymentCircuitBreaker"]["status"] == "MONITORING_COMPLETE"


def test_a_deadline_without_circuit_breaker_stays_in_progress() -> None:
    workload, old, _ = rollout()
    workload = progressed(workload, "ProgressDeadlineExceeded", old, (2, 0, 0))
    assert describe(workload, [old], [])["deployments"][0]["rolloutState"] == "IN_PROGRESS"


def test_unobserved_generation_is_in_progress() -> None:
    workload, old, _ = rollout()
    workload = progressed(workload, "NewReplicaSetAvailable", old, (2, 2, 2))
    workload["metadata"]["generation"] = 2
    assert describe(workload, [old], [])["deployments"][0]["rolloutState"] == "IN_PROGRESS"


def test_unplaceable_tasks_event() -> None:
    workload, old, _ = rollout()
    pending = with_status(
        rs_pod(old, "d0000000-0000-4000-8000-00000000000a"), node=None, unschedulable=True
    )
    service = describe(workload, [old], [pending])
    assert service["pendingCount"] == 1
    assert (
        "(service web) was unable to place a task because no container instance met all of its "
        "requirements." in [e["message"] for e in service["events"]]
    )


def test_draining_service_and_service_fields() -> None:
    workload, old, _ = rollout()
    workload["metadata"]["annotations"][task_keys.SERVICE_STATUS] = "DRAINING"
    workload["spec"]["replicas"] = 0
    service = describe(workload, [old], [])
    assert (service["status"], service["desiredCount"]) == ("DRAINING", 0)
    assert service["serviceArn"] == arns.service("us-east-1", "000000000000", "default", "web")
    assert service["deploymentController"] == {"type": "ECS"}
    assert service["schedulingStrategy"] == "REPLICA"
    assert service["propagateTags"] == "NONE"
    assert service["createdBy"] == "arn:aws:iam::000000000000:root"
    assert service["createdAt"] == BASE
    assert service["tags"] == []
    assert service["deploymentConfiguration"]["maximumPercent"] == 200
    assert service["currentServiceRevisions"][0]["arn"].startswith(
        "arn:aws:ecs:us-east-1:000000000000:service-revision/default/web/"
    )


def test_daemon_service_with_controller_revisions() -> None:
    spec = service_spec(TD, schedulingStrategy="DAEMON", launchType="EC2")
    workload = new_workload(TD, spec)
    first, second = controller_revision(workload, 1), controller_revision(workload, 2, created=100)
    pods = [
        up(daemon_pod(workload, second, f"e{i}000000-0000-4000-8000-000000000000"))
        for i in range(3)
    ]
    old_pod = up(daemon_pod(workload, first, "f0000000-0000-4000-8000-000000000000"))
    workload["status"] = {
        "observedGeneration": 1,
        "currentNumberScheduled": 3,
        "desiredNumberScheduled": 3,
        "numberMisscheduled": 0,
        "numberReady": 3,
        "updatedNumberScheduled": 3,
        "numberAvailable": 3,
    }
    service = describe(workload, [first, second], [*pods, old_pod])
    primary, active = service["deployments"]
    assert (primary["runningCount"], primary["desiredCount"], active["runningCount"]) == (3, 3, 1)
    assert primary["launchType"] == "EC2"
    assert service["schedulingStrategy"] == "DAEMON"
    task_started_by = ids.deployment_id(
        ids.daemon_revision_key(
            workload["metadata"]["uid"], second["metadata"]["labels"]["controller-revision-hash"]
        )
    )
    assert primary["id"] == task_started_by


def test_no_replica_set_yet_still_has_one_primary() -> None:
    workload, _, _ = rollout()
    service = describe(workload, [], [])
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
    assert service["deployments"][0]["desiredCount"] == 2
