"""The service scheduler's reactions, the circuit breaker, and the deployment history calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from kecs.backends import kinds
from kecs.mapping import labels
from tests.operations.service_helpers import (
    CLUSTER,
    CheckingBackend,
    backend,
    container,
    create,
    describe,
    ecs,
    error,
    namespace,
    objects,
    register,
    service_arn,
    task_pods,
    wait_stable,
)

__all__ = ["backend", "ecs"]  # fixtures
BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
NO_ROLLBACK = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}


def update(ecs: Any, **params: Any) -> dict[str, Any]:
    return dict(ecs.update_service(cluster=CLUSTER, service="web", **params)["service"])


def tasks(ecs: Any, status: str = "RUNNING") -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus=status)["taskArns"]
    return list(ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]) if arns else []


def exit_first_task(backend: CheckingBackend, code: int = 1) -> str:
    pod = task_pods(backend)[0]
    backend.simulator.exit_container(namespace(), pod["metadata"]["name"], "web", code)
    return str(pod["metadata"]["uid"]).replace("-", "")


def _pod_name(backend: CheckingBackend, task_id: str) -> str:
    for pod in task_pods(backend, live=False):
        if pod["metadata"]["uid"].replace("-", "") == task_id:
            return str(pod["metadata"]["name"])
    raise AssertionError(task_id)


# -- replacing failed tasks -----------------------------------------------------------------------


def test_an_exited_task_is_replaced(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    create(ecs)
    task_id = exit_first_task(backend)
    service = describe(ecs)
    assert (service["runningCount"], service["desiredCount"]) == (3, 3)
    (stopped,) = ecs.describe_tasks(cluster=CLUSTER, tasks=[task_id])["tasks"]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    # The kubelet restarted the container before kecs stopped the task; the task still
    # reports the exit that ended it (the pod's lastState), not the SIGTERM of its stop.
    assert stopped["containers"][0]["exitCode"] == 1
    pod = backend.get(kinds.POD, _pod_name(backend, task_id), namespace())
    last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 1
    assert len(tasks(ecs)) == 3 and task_id not in {t["taskArn"][-32:] for t in tasks(ecs)}
    wait_stable(ecs)


def test_a_crash_looping_task_is_replaced_once_per_call(ecs: Any, backend: CheckingBackend) -> None:
    backend.simulator.crash_on_start("crashy*", 2)
    register(ecs, "web", container(image="crashy:1"))
    created = create(ecs, count=2)
    (primary,) = created["deployments"]
    assert primary["rolloutState"] == "IN_PROGRESS"  # ECS never fails it without the breaker
    records = len(task_pods(backend, live=False))
    describe(ecs)
    assert len(task_pods(backend, live=False)) == records + 2
    assert {t["stopCode"] for t in tasks(ecs, "STOPPED")} == {"EssentialContainerExited"}


# -- the circuit breaker ---------------------------------------------------------------


def test_breaker_rolls_back_crashing_tasks(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    first = create(ecs, count=6, deploymentConfiguration=BREAKER)["deployments"][0]["id"]
    backend.simulator.crash_on_start("crashy*", 3)
    register(ecs, "web", container(image="crashy:2"))
    updated = update(ecs, taskDefinition="web:2")
    assert updated["taskDefinition"].endswith("web:1")
    (primary,) = updated["deployments"]
    assert primary["id"] == first
    assert primary["runningCount"] == 6
    wait_stable(ecs)
    failed = [t for t in tasks(ecs, "STOPPED") if t["taskDefinitionArn"].endswith(":2")]
    assert len(failed) >= 3  # the threshold for 6 tasks
    assert {t["stopCode"] for t in failed} == {"EssentialContainerExited"}
    (deployment,) = [
        d
        for d in ecs.describe_service_deployments(
            serviceDeploymentArns=[
                b["serviceDeploymentArn"]
                for b in ecs.list_service_deployments(cluster=CLUSTER, service="web")[
                    "serviceDeployments"
                ]
            ]
        )["serviceDeployments"]
        if d["status"] == "ROLLBACK_SUCCESSFUL"
    ]
    assert deployment["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert deployment["deploymentCircuitBreaker"]["threshold"] == 3
    assert deployment["statusReason"] == "ECS deployment circuit breaker: tasks failed to start."


def test_breaker_without_rollback_leaves_the_deployment_failed(
    ecs: Any, backend: CheckingBackend
) -> None:
    register(ecs)
    create(ecs, deploymentConfiguration=NO_ROLLBACK)
    backend.simulator.fail_image_pulls("broken*")
    register(ecs, "web", container(image="broken:2"))
    updated = update(ecs, taskDefinition="web:2")
    primary, active = updated["deployments"]
    assert primary["rolloutState"] == "FAILED"
    assert primary["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert primary["failedTasks"] >= 3
    assert (active["status"], active["runningCount"]) == ("ACTIVE", 3)
    messages = [e["message"] for e in updated["events"]]
    assert (
        f"(service web) (deployment {primary['id']}) deployment failed: tasks failed to start."
        in messages
    )
    records = len(task_pods(backend, live=False))
    describe(ecs)
    assert len(task_pods(backend, live=False)) == records  # a failed deployment starts no more
    with pytest.raises(WaiterError):
        wait_stable(ecs)
    history = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert [d["status"] for d in history] == ["STOPPED", "SUCCESSFUL"]


def test_breaker_on_the_first_deployment(ecs: Any, backend: CheckingBackend) -> None:
    backend.simulator.fail_image_pulls("broken*")
    register(ecs, "web", container(image="broken:1"))
    created = create(ecs, deploymentConfiguration=BREAKER)
    (primary,) = created["deployments"]
    assert primary["rolloutState"] == "FAILED"
    assert created["runningCount"] == 0


def test_progress_deadline_fails_the_rollout(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    create(ecs, deploymentConfiguration=BREAKER)
    backend.simulator.fail_fast_rollouts = False
    # Far more memory than any node has: the new tasks are never placed, none fails.
    register(ecs, "web", container(memory=10_000_000))
    updated = update(ecs, taskDefinition="web:2")
    assert updated["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert any("unable to place a task" in e["message"] for e in describe(ecs)["events"])
    backend.advance(601)
    service = describe(ecs)
    assert service["taskDefinition"].endswith("web:1")
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    wait_stable(ecs)


# -- history ------------------------------------------------------------------------------------


def test_history_of_deployments_and_revisions(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    created = create(ecs)
    register(ecs, "web", container(image="nginx:1.27"))
    update(ecs, taskDefinition="web:2")
    update(ecs, forceNewDeployment=True)
    briefs = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert len(briefs) == 3
    assert [b["status"] for b in briefs] == ["SUCCESSFUL"] * 3
    assert all(b["serviceArn"] == service_arn("web") for b in briefs)
    described = ecs.describe_service_deployments(
        serviceDeploymentArns=[b["serviceDeploymentArn"] for b in briefs] + ["arn:aws:ecs:x"]
    )
    assert [d["serviceDeploymentArn"] for d in described["serviceDeployments"]] == [
        b["serviceDeploymentArn"] for b in briefs
    ]
    assert described["failures"] == [{"arn": "arn:aws:ecs:x", "reason": "MISSING"}]
    newest = described["serviceDeployments"][0]
    assert newest["targetServiceRevision"]["requestedTaskCount"] == 3
    assert newest["deploymentCircuitBreaker"] == {"status": "DISABLED"}
    revision_arns = [d["targetServiceRevision"]["arn"] for d in described["serviceDeployments"]]
    revisions = ecs.describe_service_revisions(serviceRevisionArns=revision_arns)
    assert revisions["failures"] == []
    images = [r["containerImages"][0]["image"] for r in revisions["serviceRevisions"]]
    assert images == ["nginx:1.27", "nginx:1.27", "nginx:1.25"]
    current = describe(ecs)["currentServiceRevisions"]
    assert [r["arn"] for r in current] == revision_arns[:1]
    assert describe(ecs)["currentServiceDeployment"] == briefs[0]["serviceDeploymentArn"]
    # paging and filters
    pages = [p["serviceDeployments"] for p in _pages(ecs, maxResults=2)]
    assert [len(p) for p in pages] == [2, 1]
    assert (
        ecs.list_service_deployments(cluster=CLUSTER, service="web", status=["STOPPED"])[
            "serviceDeployments"
        ]
        == []
    )
    created_at = created["createdAt"]
    later = ecs.list_service_deployments(
        cluster=CLUSTER, service="web", createdAt={"after": created_at + timedelta(days=1)}
    )
    assert later["serviceDeployments"] == []
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        ecs.list_service_deployments(cluster=CLUSTER, service="nope")
    # The history outlives the service (its tombstone keeps it).
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    kept = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert [b["serviceDeploymentArn"] for b in kept] == [b["serviceDeploymentArn"] for b in briefs]
    again = ecs.describe_service_revisions(serviceRevisionArns=revision_arns[:1])
    assert again["serviceRevisions"][0]["serviceRevisionArn"] == revision_arns[0]


def _pages(ecs: Any, **params: Any) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        extra: dict[str, str] = {"nextToken": token} if token else {}
        page = ecs.list_service_deployments(cluster=CLUSTER, service="web", **params, **extra)
        pages.append(page)
        token = page.get("nextToken")
        if not token:
            return pages


def test_describe_limits(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_service_deployments(serviceDeploymentArns=[f"arn:{i}" for i in range(21)])
    missing = service_arn("web").replace(":service/", ":service-revision/") + "/123"
    response = ecs.describe_service_revisions(serviceRevisionArns=[missing])
    assert response["failures"] == [{"arn": missing, "reason": "MISSING"}]


# -- StopServiceDeployment / ContinueServiceDeployment ----------------------------------


def test_stop_rolls_back_a_deployment_in_progress(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    first = create(ecs)["deployments"][0]["id"]
    backend.simulator.slow_start("nginx:1.27", 60)
    register(ecs, "web", container(image="nginx:1.27"))
    update(ecs, taskDefinition="web:2")
    arn = describe(ecs)["currentServiceDeployment"]
    response = ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert response["serviceDeploymentArn"] == arn
    service = describe(ecs)
    assert service["taskDefinition"].endswith("web:1")
    assert [d["id"] for d in service["deployments"]] == [first]
    assert f"(service web) rolling back to deployment {first}." in [
        e["message"] for e in service["events"]
    ]
    (stopped,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    assert stopped["status"] == "ROLLBACK_SUCCESSFUL"
    wait_stable(ecs)
    with pytest.raises(ecs.exceptions.ConflictException):
        ecs.stop_service_deployment(serviceDeploymentArn=arn)


def test_stop_and_continue_refusals(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    create(ecs)
    arn = describe(ecs)["currentServiceDeployment"]
    with pytest.raises(ecs.exceptions.ConflictException):
        ecs.stop_service_deployment(serviceDeploymentArn=arn)  # it completed
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException) as excinfo:
        ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ABORT")
    assert "ABORT" in error(excinfo)[1]
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException) as excinfo:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="h", action="CONTINUE")
    assert "lifecycle hook" in error(excinfo)[1]
    unknown = arn.rsplit("/", 1)[0] + "/nothing"
    with pytest.raises(ecs.exceptions.ServiceDeploymentNotFoundException):
        ecs.stop_service_deployment(serviceDeploymentArn=unknown)
    with pytest.raises(ecs.exceptions.ServiceDeploymentNotFoundException):
        ecs.continue_service_deployment(serviceDeploymentArn=unknown, hookId="h", action="CONTINUE")


def test_stopped_records_stay_with_their_reason(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    create(ecs, count=1)
    exit_first_task(backend, code=3)
    describe(ecs)
    pods = objects(backend, kinds.POD, "task")
    stopped = [p for p in pods if p["metadata"].get("deletionTimestamp")]
    assert len(stopped) == 1
    assert labels.TASK_RECORD_FINALIZER in stopped[0]["metadata"]["finalizers"]


def test_stopped_records_expire_after_the_retention_period(
    ecs: Any, backend: CheckingBackend
) -> None:
    register(ecs)
    create(ecs, count=1)
    task_id = exit_first_task(backend)
    describe(ecs)
    assert len(task_pods(backend, live=False)) == 2
    backend.advance(3601)
    describe(ecs)
    assert len(task_pods(backend, live=False)) == 1
    response = ecs.describe_tasks(cluster=CLUSTER, tasks=[task_id])
    assert response["failures"][0]["reason"] == "MISSING"


def test_daemon_history(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition="web", schedulingStrategy="DAEMON"
    )
    register(ecs, "web", container(image="nginx:1.27"))
    updated = update(ecs, taskDefinition="web:2")
    (primary,) = updated["deployments"]
    assert {t["startedBy"] for t in tasks(ecs)} == {primary["id"]}
    briefs = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert [b["status"] for b in briefs] == ["SUCCESSFUL", "SUCCESSFUL"]
    revisions = ecs.describe_service_revisions(
        serviceRevisionArns=[b["targetServiceRevisionArn"] for b in briefs]
    )["serviceRevisions"]
    assert [r["containerImages"][0]["image"] for r in revisions] == ["nginx:1.27", "nginx:1.25"]
    arn = briefs[0]["serviceDeploymentArn"]
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException):
        ecs.stop_service_deployment(serviceDeploymentArn=arn)


def test_a_failed_revision_deployed_again_is_a_new_attempt(
    ecs: Any, backend: CheckingBackend
) -> None:
    register(ecs)
    create(ecs, deploymentConfiguration=BREAKER)
    backend.simulator.fail_image_pulls("broken*")
    register(ecs, "web", container(image="broken:2"))
    update(ecs, taskDefinition="web:2")  # fails and rolls back
    backend.simulator.allow_image_pulls()
    updated = update(ecs, taskDefinition="web:2")  # Kubernetes reuses the failed ReplicaSet
    (primary,) = updated["deployments"]
    assert primary["taskDefinition"].endswith("web:2")
    assert primary["rolloutState"] == "COMPLETED"
    assert updated["runningCount"] == 3
    wait_stable(ecs)
