"""UpdateService and DeleteService through the client."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from tests.operations.service_helpers import (
    CLUSTER,
    REGION,
    CheckingBackend,
    backend,
    container,
    create,
    describe,
    ecs,
    error,
    objects,
    register,
    service_arn,
    task_pods,
    wait_stable,
)

__all__ = ["backend", "ecs"]  # fixtures


@pytest.fixture
def web(ecs: Any) -> dict[str, Any]:
    register(ecs)
    return create(ecs)


def replica_sets(backend: CheckingBackend) -> list[dict[str, Any]]:
    return objects(backend, kinds.REPLICA_SET, "task")


def update(ecs: Any, **params: Any) -> dict[str, Any]:
    return dict(ecs.update_service(cluster=CLUSTER, service="web", **params)["service"])


def test_scale(ecs: Any, web: dict[str, Any], backend: CheckingBackend) -> None:
    scaled = update(ecs, desiredCount=5)
    assert (scaled["desiredCount"], scaled["runningCount"]) == (5, 5)
    assert len(task_pods(backend)) == 5
    assert len(replica_sets(backend)) == 1  # no new deployment for a new count
    scaled = update(ecs, desiredCount=1)
    assert (scaled["desiredCount"], scaled["runningCount"]) == (1, 1)
    assert scaled["deployments"][0]["id"] == web["deployments"][0]["id"]
    stopped = [p for p in task_pods(backend, live=False) if p["metadata"].get("deletionTimestamp")]
    assert len(stopped) == 4
    tasks = ecs.describe_tasks(
        cluster=CLUSTER, tasks=[p["metadata"]["uid"].replace("-", "") for p in stopped]
    )["tasks"]
    assert {t["stopCode"] for t in tasks} == {"ServiceSchedulerInitiated"}
    wait_stable(ecs)


def test_new_revision_rolls_out(ecs: Any, web: dict[str, Any], backend: CheckingBackend) -> None:
    second = register(ecs, "web", container(image="nginx:1.27"))
    updated = update(ecs, taskDefinition="web")
    assert updated["taskDefinition"] == second
    (primary,) = updated["deployments"]
    assert primary["taskDefinition"] == second
    assert primary["id"] != web["deployments"][0]["id"]
    sets = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in replica_sets(backend)}
    assert sorted(sets.values()) == [0, 3]
    images = {p["spec"]["containers"][0]["image"] for p in task_pods(backend)}
    assert images == {"nginx:1.27"}
    messages = [e["message"] for e in updated["events"]]
    assert messages[0] == "(service web) has reached a steady state."
    old_id = web["deployments"][0]["id"]
    assert f"(service web) (deployment {old_id}) deployment completed." in messages
    wait_stable(ecs)


def test_a_rollout_in_progress_shows_two_deployments(
    ecs: Any, web: dict[str, Any], backend: CheckingBackend
) -> None:
    backend.simulator.slow_start("nginx:1.27", 20)
    register(ecs, "web", container(image="nginx:1.27"))
    updated = update(ecs, taskDefinition="web")
    primary, active = updated["deployments"]
    assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
    assert (primary["pendingCount"], primary["runningCount"]) == (3, 0)
    assert (active["status"], active["runningCount"]) == ("ACTIVE", 3)
    with pytest.raises(Exception, match="Max attempts exceeded"):
        wait_stable(ecs)
    backend.advance(21)
    (done,) = describe(ecs)["deployments"]
    assert done["rolloutState"] == "COMPLETED"
    wait_stable(ecs)


def test_force_new_deployment(ecs: Any, web: dict[str, Any], backend: CheckingBackend) -> None:
    updated = update(ecs, forceNewDeployment=True)
    assert updated["deployments"][0]["id"] != web["deployments"][0]["id"]
    assert updated["taskDefinition"] == web["taskDefinition"]
    assert len(replica_sets(backend)) == 2
    # The restart marker stays on the template: a later count change rolls nothing out.
    update(ecs, desiredCount=4)
    assert len(replica_sets(backend)) == 2
    update(ecs, taskDefinition="web:1")  # the same revision: no new deployment either
    assert len(replica_sets(backend)) == 2


def test_deployment_configuration(ecs: Any, web: dict[str, Any], backend: CheckingBackend) -> None:
    update(ecs, deploymentConfiguration={"minimumHealthyPercent": 50})
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "100%",
        "maxUnavailable": "50%",
    }
    config = describe(ecs)["deploymentConfiguration"]
    assert (config["maximumPercent"], config["minimumHealthyPercent"]) == (200, 50)
    update(
        ecs,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    assert deployment["spec"]["progressDeadlineSeconds"] == 600
    assert len(replica_sets(backend)) == 1
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        update(ecs, deploymentConfiguration={"maximumPercent": 20})


def test_other_settings(ecs: Any, web: dict[str, Any]) -> None:
    updated = update(
        ecs, enableExecuteCommand=True, healthCheckGracePeriodSeconds=30, propagateTags="SERVICE"
    )
    assert updated["enableExecuteCommand"] is True
    assert updated["healthCheckGracePeriodSeconds"] == 30
    assert updated["propagateTags"] == "SERVICE"
    assert describe(ecs)["enableExecuteCommand"] is True


def test_ports_follow_the_task_definition(
    ecs: Any, web: dict[str, Any], backend: CheckingBackend
) -> None:
    register(ecs, "web", container(portMappings=[{"containerPort": 8080}]))
    update(ecs, taskDefinition="web:2")
    (service,) = objects(backend, kinds.SERVICE)
    assert [p["port"] for p in service["spec"]["ports"]] == [8080]
    register(ecs, "web", container())
    update(ecs, taskDefinition="web:3")
    assert objects(backend, kinds.SERVICE) == []
    update(ecs, taskDefinition="web:1")
    assert [p["port"] for p in objects(backend, kinds.SERVICE)[0]["spec"]["ports"]] == [80]


def test_update_errors(ecs: Any, web: dict[str, Any]) -> None:
    with pytest.raises(ecs.exceptions.ServiceNotFoundException) as excinfo:
        ecs.update_service(cluster=CLUSTER, service="nope", desiredCount=1)
    assert error(excinfo)[1] == "Service not found."
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        update(ecs, taskDefinition="other")
    assert error(excinfo)[1] == "TaskDefinition not found."
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.update_service(cluster="nope", service="web", desiredCount=1)
    assert update(ecs, desiredCount=2)["desiredCount"] == 2  # an ARN works too
    arn = service_arn("web")
    assert (
        ecs.update_service(cluster=CLUSTER, service=arn, desiredCount=1)["service"]["desiredCount"]
        == 1
    )
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    with pytest.raises(ecs.exceptions.ServiceNotActiveException) as excinfo:
        update(ecs, desiredCount=1)
    assert error(excinfo)[1] == "Service was not ACTIVE."


def test_daemon_has_no_desired_count(ecs: Any) -> None:
    register(ecs)
    ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition="web", schedulingStrategy="DAEMON"
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        update(ecs, desiredCount=2)
    assert "does not support a desired count" in error(excinfo)[1]
    register(ecs, "web", container(image="nginx:1.27"))
    updated = update(ecs, taskDefinition="web:2")
    assert updated["taskDefinition"].endswith("web:2")
    wait_stable(ecs)


# -- DeleteService --------------------------------------------------------------------------------


def test_delete_needs_force_or_zero(ecs: Any, web: dict[str, Any], backend: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.delete_service(cluster=CLUSTER, service="web")
    assert error(excinfo)[1] == "The service cannot be stopped while it is scaled above 0."
    update(ecs, desiredCount=0)
    deleted = ecs.delete_service(cluster=CLUSTER, service="web")["service"]
    assert deleted["status"] == "DRAINING"
    inactive = describe(ecs)
    assert inactive["status"] == "INACTIVE"
    assert (inactive["desiredCount"], inactive["runningCount"]) == (0, 0)
    assert objects(backend, kinds.DEPLOYMENT) == []
    assert objects(backend, kinds.SERVICE) == []
    (tombstone,) = objects(backend, kinds.CONFIG_MAP, "service-tombstone")
    assert json.loads(tombstone["data"]["service"])["status"] == "INACTIVE"
    ecs.get_waiter("services_inactive").wait(
        cluster=CLUSTER, services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 1}
    )


def test_force_delete_stops_the_tasks(ecs: Any, web: dict[str, Any], backend: Any) -> None:
    task_arns = ecs.list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
    deleted = ecs.delete_service(cluster=CLUSTER, service="web", force=True)["service"]
    assert deleted["status"] == "DRAINING"
    assert deleted["desiredCount"] == 0
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=task_arns)["tasks"]
    assert {t["lastStatus"] for t in tasks} == {"STOPPED"}
    assert {t["stopCode"] for t in tasks} == {"ServiceSchedulerInitiated"}
    assert describe(ecs)["status"] == "INACTIVE"
    cluster = ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]
    assert cluster["activeServicesCount"] == 0
    ecs.delete_cluster(cluster=CLUSTER)


def test_draining_until_the_tasks_stop(ecs: Any, web: dict[str, Any], backend: Any) -> None:
    backend.simulator.slow_stop("nginx*", 10)
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    draining = describe(ecs)
    assert draining["status"] == "DRAINING"
    # DeleteService of a DRAINING service answers with it, as AWS does.
    again = ecs.delete_service(cluster=CLUSTER, service="web", force=True)["service"]
    assert again["status"] == "DRAINING"
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == [service_arn("web")]
    cluster = ecs.describe_clusters(clusters=[CLUSTER], include=["STATISTICS"])["clusters"][0]
    assert cluster["activeServicesCount"] == 0
    statistics = {s["name"]: s["value"] for s in cluster["statistics"]}
    assert statistics["drainingEC2ServiceCount"] == "1"
    with pytest.raises(ecs.exceptions.ClusterContainsServicesException):
        ecs.delete_cluster(cluster=CLUSTER)
    backend.advance(11)
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []
    assert describe(ecs)["status"] == "INACTIVE"


def test_delete_errors(ecs: Any, web: dict[str, Any]) -> None:
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        ecs.delete_service(cluster=CLUSTER, service="nope")
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    with pytest.raises(ecs.exceptions.ServiceNotActiveException):
        ecs.delete_service(cluster=CLUSTER, service="web", force=True)


def test_delete_daemon(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    ecs.create_service(
        cluster=CLUSTER, serviceName="agent", taskDefinition="web", schedulingStrategy="DAEMON"
    )
    deleted = ecs.delete_service(cluster=CLUSTER, service="agent")["service"]
    assert deleted["status"] == "DRAINING"
    assert describe(ecs, "agent")["status"] == "INACTIVE"
    assert objects(backend, kinds.DAEMON_SET) == []
    assert task_pods(backend) == []


def test_network_and_capacity_changes_roll_out(ecs: Any, backend: CheckingBackend) -> None:
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[],
    )
    register(
        ecs,
        "web",
        container(),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    created = create(ecs, launchType="FARGATE", networkConfiguration=network)
    moved = {"awsvpcConfiguration": {"subnets": ["subnet-2"], "securityGroups": ["sg-1"]}}
    updated = update(ecs, networkConfiguration=moved)
    assert updated["networkConfiguration"] == moved
    assert updated["deployments"][0]["id"] != created["deployments"][0]["id"]
    assert updated["deployments"][0]["networkConfiguration"] == moved
    spot = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    switched = update(ecs, capacityProviderStrategy=spot)
    assert "launchType" not in switched
    assert switched["capacityProviderStrategy"] == [{**spot[0], "base": 0}]
    assert len(replica_sets(backend)) == 3
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        update(ecs, capacityProviderStrategy=[{"capacityProvider": "nope", "weight": 1}])


def test_concurrent_creates_make_one_service(backend: CheckingBackend) -> None:
    clients = [kecs.client("ecs", region_name=REGION, backend=backend) for _ in range(4)]
    clients[0].create_cluster(clusterName=CLUSTER)
    register(clients[0])
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: create(c, clientToken="same"), clients))
    assert {r["serviceArn"] for r in results} == {service_arn("web")}
    assert len(objects(backend, kinds.DEPLOYMENT)) == 1
    assert len(task_pods(backend)) == 3
