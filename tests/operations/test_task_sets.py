"""Task sets of EXTERNAL (and CODE_DEPLOY) services through the client, and what they become.

The service is a ConfigMap record running nothing itself; each task set is a Deployment owned by
it, scaled to ceil(desiredCount x scale%). Every object kecs writes validates strictly (the
CheckingBackend of the service tests).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import WaiterError

import kecs
from kecs.backends import kinds
from kecs.mapping import labels, task_keys
from kecs.mapping import task_sets as mapping
from tests.operations.service_helpers import (
    ACCOUNT,
    CLUSTER,
    REGION,
    CheckingBackend,
    backend,
    container,
    describe,
    ecs,
    error,
    namespace,
    objects,
    register,
    service_arn,
    task_pods,
)

__all__ = ["backend", "ecs"]  # fixtures

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}


@pytest.fixture
def web(ecs: Any) -> str:
    return register(ecs)


def external(ecs: Any, name: str = "web", count: int = 4, **extra: Any) -> dict[str, Any]:
    response = ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        desiredCount=count,
        **{"deploymentController": {"type": "EXTERNAL"}, **extra},
    )
    return dict(response["service"])


def task_set(ecs: Any, percent: float, service: str = "web", **extra: Any) -> dict[str, Any]:
    extra.setdefault("taskDefinition", "web")
    response = ecs.create_task_set(
        cluster=CLUSTER, service=service, scale={"value": percent, "unit": "PERCENT"}, **extra
    )
    return dict(response["taskSet"])


def task_set_deployments(backend: CheckingBackend) -> list[dict[str, Any]]:
    return objects(backend, kinds.DEPLOYMENT, mapping.RESOURCE)


def sets_by_id(ecs: Any, service: str = "web") -> dict[str, dict[str, Any]]:
    found = ecs.describe_task_sets(cluster=CLUSTER, service=service)["taskSets"]
    return {t["id"]: t for t in found}


# -- the service --------------------------------------------------------------------------------


def test_an_external_service_is_a_record_that_runs_nothing(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    created = external(ecs)
    assert created["deploymentController"] == {"type": "EXTERNAL"}
    assert (created["desiredCount"], created["runningCount"], created["pendingCount"]) == (4, 0, 0)
    assert created["taskSets"] == [] and created["deployments"] == []
    assert "taskDefinition" not in created  # task sets name theirs
    assert objects(backend, kinds.DEPLOYMENT) == []
    assert objects(backend, kinds.DAEMON_SET) == []
    assert task_pods(backend) == []
    (record,) = objects(backend, kinds.CONFIG_MAP)
    assert record["metadata"]["labels"][labels.SERVICE] == "web"
    assert record["metadata"]["annotations"][task_keys.SERVICE_NAME] == "web"
    assert backend.checked["ConfigMap"] >= 1  # validated strictly on the way in
    assert created == describe(ecs)
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == [service_arn("web")]
    stats = ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]
    assert stats["activeServicesCount"] == 1
    with pytest.raises(ecs.exceptions.ClusterContainsServicesException):
        ecs.delete_cluster(cluster=CLUSTER)


def test_create_task_set_makes_a_scaled_deployment_owned_by_the_service(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    external(ecs, count=3)
    made = task_set(ecs, 50, externalId="blue", tags=[{"key": "team", "value": "a"}])
    set_id = made["id"]
    assert set_id.startswith("ecs-svc/") and set_id[8:].isdigit() and len(set_id) == 27
    assert made["taskSetArn"] == (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/{CLUSTER}/web/{set_id}")
    assert made["serviceArn"] == service_arn("web")
    assert made["status"] == "ACTIVE" and made["externalId"] == "blue"
    assert made["taskDefinition"] == web
    assert made["scale"] == {"value": 50.0, "unit": "PERCENT"}
    assert (made["computedDesiredCount"], made["runningCount"], made["pendingCount"]) == (2, 2, 0)
    assert made["stabilityStatus"] == "STEADY_STATE"
    assert made["launchType"] == "EC2"
    assert made["createdAt"] <= made["updatedAt"] <= made["stabilityStatusAt"]
    assert "tags" not in made
    (deployment,) = task_set_deployments(backend)
    assert deployment["spec"]["replicas"] == 2
    (record,) = objects(backend, kinds.CONFIG_MAP)
    (owner,) = deployment["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("ConfigMap", record["metadata"]["uid"])
    assert deployment["metadata"]["labels"][labels.SERVICE] == "web"
    set_label = deployment["metadata"]["labels"][labels.TASK_SET]
    assert deployment["spec"]["selector"]["matchLabels"][labels.TASK_SET] == set_label
    assert backend.checked["Deployment"] >= 1
    pods = task_pods(backend)
    assert len(pods) == 2
    assert {p["metadata"]["labels"][labels.TASK_SET] for p in pods} == {set_label}
    tasks = ecs.describe_tasks(
        cluster=CLUSTER, tasks=ecs.list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
    )["tasks"]
    assert len(tasks) == 2
    assert {t["startedBy"] for t in tasks} == {set_id}
    assert {t["group"] for t in tasks} == {"service:web"}
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}


def test_describe_services_shows_task_sets_and_sums_their_counts(ecs: Any, web: str) -> None:
    external(ecs, count=4)
    blue = task_set(ecs, 100)
    green = task_set(ecs, 50)
    service = describe(ecs)
    assert service["desiredCount"] == 4
    assert (service["runningCount"], service["pendingCount"]) == (6, 0)
    assert [t["id"] for t in service["taskSets"]] == [green["id"], blue["id"]]  # newest first
    assert service["deployments"] == []
    # The waiter for ECS deployments does not apply: ECS has none for an external controller.
    with pytest.raises(WaiterError):
        ecs.get_waiter("services_stable").wait(
            cluster=CLUSTER, services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 1}
        )


def test_scale_defaults_to_zero_and_rounds_up(ecs: Any, web: str, backend: CheckingBackend) -> None:
    external(ecs, count=3)
    made = ecs.create_task_set(cluster=CLUSTER, service="web", taskDefinition="web")["taskSet"]
    assert made["scale"] == {"value": 0.0, "unit": "PERCENT"}
    assert made["computedDesiredCount"] == 0
    assert made["stabilityStatus"] == "STEADY_STATE"
    for percent, expected in ((33.4, 2), (33.3, 1), (1, 1), (100, 3), (0, 0)):
        updated = ecs.update_task_set(
            cluster=CLUSTER,
            service="web",
            taskSet=made["taskSetArn"],
            scale={"value": percent, "unit": "PERCENT"},
        )["taskSet"]
        assert updated["computedDesiredCount"] == expected, percent
        assert updated["runningCount"] == expected
        (deployment,) = task_set_deployments(backend)
        assert deployment["spec"]["replicas"] == expected
        assert len(task_pods(backend)) == expected
    assert updated["updatedAt"] >= made["updatedAt"]


def test_update_service_rescales_every_task_set(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    external(ecs, count=2)
    blue, green = task_set(ecs, 100), task_set(ecs, 50)
    updated = ecs.update_service(cluster=CLUSTER, service="web", desiredCount=10)["service"]
    counts = {t["id"]: t["computedDesiredCount"] for t in updated["taskSets"]}
    assert counts == {blue["id"]: 10, green["id"]: 5}
    assert updated["runningCount"] == 15
    assert sorted(d["spec"]["replicas"] for d in task_set_deployments(backend)) == [5, 10]
    placement = [{"type": "distinctInstance"}]
    ecs.update_service(cluster=CLUSTER, service="web", placementConstraints=placement)
    for deployment in task_set_deployments(backend):
        affinity = deployment["spec"]["template"]["spec"]["affinity"]
        assert "podAntiAffinity" in affinity


def test_update_service_refuses_what_belongs_to_task_sets(ecs: Any, web: str) -> None:
    external(ecs)
    for params in (
        {"taskDefinition": "web"},
        {"platformVersion": "1.4.0"},
        {"networkConfiguration": NETWORK},
        {"forceNewDeployment": True},
    ):
        with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
            ecs.update_service(cluster=CLUSTER, service="web", **params)
        message = error(excinfo)[1]
        assert "EXTERNAL deployment controller" in message and "CreateTaskSet" in message
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException):
        ecs.update_service(cluster=CLUSTER, service="web", deploymentController={"type": "ECS"})


def test_primary_task_set_becomes_the_service_baseline_and_gets_its_dns_name(
    ecs: Any, backend: CheckingBackend
) -> None:
    register(ecs)
    register(ecs, "web", container(image="nginx:1.27", portMappings=[{"containerPort": 8080}]))
    external(ecs, count=2)
    blue = task_set(ecs, 100, taskDefinition="web:1")
    green = task_set(ecs, 100, taskDefinition="web:2")
    assert objects(backend, kinds.SERVICE) == []  # no PRIMARY yet
    made = ecs.update_service_primary_task_set(
        cluster=CLUSTER, service="web", primaryTaskSet=blue["id"]
    )["taskSet"]
    assert made["status"] == "PRIMARY"
    (k8s_service,) = objects(backend, kinds.SERVICE)
    blue_label = k8s_service["spec"]["selector"][labels.TASK_SET]
    assert k8s_service["spec"]["ports"][0]["port"] == 80
    assert describe(ecs)["taskDefinition"].endswith("task-definition/web:1")
    ecs.update_service_primary_task_set(
        cluster=CLUSTER, service="web", primaryTaskSet=green["taskSetArn"]
    )
    statuses = {i: t["status"] for i, t in sets_by_id(ecs).items()}
    assert statuses == {blue["id"]: "ACTIVE", green["id"]: "PRIMARY"}
    service = describe(ecs)
    assert service["taskDefinition"].endswith("task-definition/web:2")
    assert service["taskSets"][0]["id"] == green["id"]  # the PRIMARY comes first
    (k8s_service,) = objects(backend, kinds.SERVICE)
    assert k8s_service["spec"]["selector"][labels.TASK_SET] != blue_label
    assert k8s_service["spec"]["ports"][0]["port"] == 8080
    selected = [
        p
        for p in task_pods(backend)
        if all(
            p["metadata"]["labels"].get(k) == v for k, v in k8s_service["spec"]["selector"].items()
        )
    ]
    assert {p["metadata"]["annotations"][task_keys.STARTED_BY] for p in selected} == {green["id"]}


def test_delete_task_set_drains_it_away(ecs: Any, web: str, backend: CheckingBackend) -> None:
    external(ecs, count=2)
    blue, green = task_set(ecs, 100), task_set(ecs, 100)
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.delete_task_set(cluster=CLUSTER, service="web", taskSet=blue["id"])
    assert "scaled above 0" in error(excinfo)[1]
    deleted = ecs.delete_task_set(cluster=CLUSTER, service="web", taskSet=blue["id"], force=True)
    assert deleted["taskSet"]["status"] == "DRAINING"
    assert deleted["taskSet"]["computedDesiredCount"] == 0
    assert set(sets_by_id(ecs)) == {green["id"]}
    assert len(task_set_deployments(backend)) == 1
    stopped = ecs.describe_tasks(
        cluster=CLUSTER,
        tasks=ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"],
    )["tasks"]
    assert len(stopped) == 2 and {t["startedBy"] for t in stopped} == {blue["id"]}
    # Scaled to 0 first, a task set is deleted without force.
    ecs.update_task_set(
        cluster=CLUSTER, service="web", taskSet=green["id"], scale={"value": 0, "unit": "PERCENT"}
    )
    ecs.delete_task_set(cluster=CLUSTER, service="web", taskSet=green["id"])
    assert sets_by_id(ecs) == {} and task_set_deployments(backend) == []


def test_describe_task_sets_by_id_or_arn_with_failures_and_tags(ecs: Any, web: str) -> None:
    external(ecs, count=1)
    made = task_set(ecs, 100, tags=[{"key": "team", "value": "a"}])
    missing_arn = made["taskSetArn"].rsplit("/", 1)[0] + "/1234567890123456789"
    response = ecs.describe_task_sets(
        cluster=CLUSTER,
        service=service_arn("web"),
        taskSets=[made["id"], made["taskSetArn"], "ecs-svc/1", missing_arn],
        include=["TAGS"],
    )
    (found,) = response["taskSets"]
    assert found["tags"] == [{"key": "team", "value": "a"}]
    assert [f["reason"] for f in response["failures"]] == ["MISSING", "MISSING"]
    assert response["failures"][1]["arn"] == missing_arn
    assert response["failures"][0]["arn"].endswith(f"task-set/{CLUSTER}/web/ecs-svc/1")
    arn = made["taskSetArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "prod"}]
    with pytest.raises(ecs.exceptions.TaskSetNotFoundException):
        ecs.list_tags_for_resource(resourceArn=missing_arn)


def test_create_task_set_launch_settings(ecs: Any, backend: CheckingBackend) -> None:
    register(
        ecs,
        "vpc",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    external(ecs, count=1)
    fargate = task_set(
        ecs, 100, taskDefinition="vpc", launchType="FARGATE", networkConfiguration=NETWORK
    )
    assert fargate["launchType"] == "FARGATE"
    assert fargate["platformVersion"] == "LATEST" and fargate["platformFamily"] == "Linux"
    assert fargate["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        task_set(ecs, 100, taskDefinition="vpc")  # awsvpc needs a network configuration
    assert "Network Configuration" in error(excinfo)[1]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        task_set(
            ecs,
            100,
            taskDefinition="vpc",
            launchType="EC2",
            networkConfiguration=NETWORK,
            capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        )
    assert "launch type and capacity provider strategy" in error(excinfo)[1]
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    spot = task_set(ecs, 100, taskDefinition="vpc", networkConfiguration=NETWORK)
    assert spot["capacityProviderStrategy"][0]["capacityProvider"] == "FARGATE_SPOT"
    assert "launchType" not in spot


def test_create_task_set_refusals(ecs: Any, web: str) -> None:
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        task_set(ecs, 10, service="nope")
    ecs.create_service(cluster=CLUSTER, serviceName="ecs", taskDefinition="web", desiredCount=1)
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        task_set(ecs, 10, service="ecs")
    assert error(excinfo)[1] == "The deployment controller for this service must be EXTERNAL"
    assert ecs.describe_task_sets(cluster=CLUSTER, service="ecs")["taskSets"] == []
    external(ecs)
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        task_set(ecs, 10, taskDefinition="nothing")
    assert error(excinfo)[1] == "TaskDefinition not found."
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        task_set(ecs, 101)
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.create_task_set(cluster="nope", service="web", taskDefinition="web")
    for call, key in (
        (ecs.update_task_set, {"scale": {"value": 1, "unit": "PERCENT"}}),
        (ecs.delete_task_set, {}),
    ):
        with pytest.raises(ecs.exceptions.TaskSetNotFoundException):
            call(cluster=CLUSTER, service="web", taskSet="ecs-svc/1", **key)
    with pytest.raises(ecs.exceptions.TaskSetNotFoundException):
        ecs.update_service_primary_task_set(
            cluster=CLUSTER, service="web", primaryTaskSet="ecs-svc/1"
        )


def test_client_token_makes_create_task_set_idempotent(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    external(ecs, count=2)
    first = task_set(ecs, 50, clientToken="abc")
    again = task_set(ecs, 50, clientToken="abc")
    assert again["id"] == first["id"]
    assert len(task_set_deployments(backend)) == 1


def test_delete_external_service(ecs: Any, web: str, backend: CheckingBackend) -> None:
    external(ecs, count=2)
    task_set(ecs, 100)
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.delete_service(cluster=CLUSTER, service="web")
    deleted = ecs.delete_service(cluster=CLUSTER, service="web", force=True)["service"]
    assert deleted["status"] == "DRAINING"
    assert [t["status"] for t in deleted["taskSets"]] == ["DRAINING"]
    inactive = describe(ecs)
    assert inactive["status"] == "INACTIVE" and inactive["taskSets"] == []
    assert task_set_deployments(backend) == []
    assert [
        c["metadata"]["labels"][labels.RESOURCE]
        for c in objects(backend, kinds.CONFIG_MAP, "service-tombstone")
    ] == ["service-tombstone"]
    assert objects(backend, kinds.CONFIG_MAP) == []  # the record is gone
    with pytest.raises(ecs.exceptions.ServiceNotActiveException):
        task_set(ecs, 10)
    assert external(ecs, count=1)["status"] == "ACTIVE"  # the name can be used again
    assert describe(ecs)["taskSets"] == []


def test_a_failed_task_is_replaced_in_its_task_set(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    external(ecs, count=1)
    made = task_set(ecs, 100)
    (pod,) = task_pods(backend)
    backend.simulator.exit_container(namespace(), pod["metadata"]["name"], "web", 2)
    (again,) = describe(ecs)["taskSets"]
    assert again["runningCount"] == 1
    (replacement,) = task_pods(backend)
    assert replacement["metadata"]["uid"] != pod["metadata"]["uid"]
    stopped = ecs.describe_tasks(cluster=CLUSTER, tasks=[pod["metadata"]["uid"].replace("-", "")])
    (task,) = stopped["tasks"]
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["startedBy"] == made["id"]


def test_code_deploy_starts_a_primary_task_set(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    created = ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition="web",
        desiredCount=3,
        deploymentController={"type": "CODE_DEPLOY"},
    )["service"]
    assert created["deploymentController"] == {"type": "CODE_DEPLOY"}
    (primary,) = created["taskSets"]
    assert primary["status"] == "PRIMARY" and primary["scale"]["value"] == 100.0
    assert (primary["computedDesiredCount"], primary["runningCount"]) == (3, 3)
    assert created["runningCount"] == 3 and created["launchType"] == "EC2"
    (k8s_service,) = objects(backend, kinds.SERVICE)
    assert labels.TASK_SET in k8s_service["spec"]["selector"]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        task_set(ecs, 10)
    assert "must be EXTERNAL" in error(excinfo)[1]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web")
    assert "CODE_DEPLOY deployment controller" in error(excinfo)[1]
    assert (
        ecs.update_service(cluster=CLUSTER, service="web", desiredCount=1)["service"]["taskSets"][
            0
        ]["runningCount"]
        == 1
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.create_service(
            cluster=CLUSTER,
            serviceName="nodef",
            desiredCount=1,
            deploymentController={"type": "CODE_DEPLOY"},
        )


def test_an_unknown_deployment_controller_is_refused(ecs: Any, web: str) -> None:
    # botocore does not check enums; ECS does.
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        external(ecs, deploymentController={"type": "BLUE"})
    assert "deployment controller type 'BLUE'" in error(excinfo)[1]


def test_create_external_service_is_idempotent(ecs: Any, web: str) -> None:
    first = external(ecs, count=2)
    assert external(ecs, count=2) == first
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        external(ecs, count=3)
    assert error(excinfo)[1] == "Creation of service was not idempotent."


def test_two_clients_share_the_task_sets(backend: CheckingBackend) -> None:
    first = kecs.client("ecs", region_name=REGION, backend=backend)
    second = kecs.client("ecs", region_name=REGION, backend=backend)
    first.create_cluster(clusterName=CLUSTER)
    register(first)
    external(first, count=2)
    made = task_set(first, 50)
    assert set(sets_by_id(second)) == {made["id"]}
