"""CreateService through the client: the objects made, AWS's rules and wording, idempotency."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kecs.backends import kinds
from kecs.mapping import labels, task_keys
from tests.operations.service_helpers import (
    ACCOUNT,
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
def web(ecs: Any) -> str:
    return register(ecs)


def test_create_returns_the_service_as_describe_shows_it(ecs: Any, web: str) -> None:
    created = create(ecs)
    assert created["serviceArn"] == service_arn("web")
    assert created["clusterArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
    assert created["status"] == "ACTIVE"
    assert created["taskDefinition"] == web
    assert (created["desiredCount"], created["runningCount"], created["pendingCount"]) == (3, 3, 0)
    assert created["launchType"] == "EC2"
    assert created["schedulingStrategy"] == "REPLICA"
    assert created["deploymentController"] == {"type": "ECS"}
    assert created["availabilityZoneRebalancing"] == "ENABLED"  # ECS's default on create
    config = created["deploymentConfiguration"]
    assert (config["maximumPercent"], config["minimumHealthyPercent"]) == (200, 100)
    (primary,) = created["deployments"]
    assert primary["status"] == "PRIMARY" and primary["rolloutState"] == "COMPLETED"
    assert primary["id"].startswith("ecs-svc/")
    assert created == describe(ecs)
    wait_stable(ecs)


def test_create_makes_a_deployment_and_a_service(ecs: Any, backend: CheckingBackend) -> None:
    register(
        ecs,
        "web",
        container(portMappings=[{"containerPort": 80}, {"containerPort": 53, "protocol": "udp"}]),
    )
    create(
        ecs,
        deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50},
    )
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    assert deployment["spec"]["replicas"] == 3
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert rolling == {"maxSurge": "50%", "maxUnavailable": "50%"}
    notes = deployment["metadata"]["annotations"]
    assert json.loads(notes[task_keys.SERVICE_SPEC])["serviceName"] == "web"
    assert notes[task_keys.SERVICE_STATUS] == "ACTIVE"
    assert deployment["metadata"]["labels"][labels.STATUS] == "ACTIVE"
    (service,) = objects(backend, kinds.SERVICE)
    assert service["spec"]["type"] == "ClusterIP"
    assert {(p["port"], p["protocol"]) for p in service["spec"]["ports"]} == {
        (80, "TCP"),
        (53, "UDP"),
    }
    assert service["metadata"]["name"] == deployment["metadata"]["name"]
    assert len(task_pods(backend)) == 3
    assert backend.checked["Deployment"] == 1 and backend.checked["Service"] == 1


def test_no_kubernetes_service_without_port_mappings(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs, "web", container())
    create(ecs)
    assert objects(backend, kinds.SERVICE) == []


def test_daemon_service_is_a_daemonset(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs)
    created = ecs.create_service(
        cluster=CLUSTER, serviceName="agent", taskDefinition="web", schedulingStrategy="DAEMON"
    )["service"]
    assert created["schedulingStrategy"] == "DAEMON"
    (daemon_set,) = objects(backend, kinds.DAEMON_SET)
    nodes = backend.list_all(kinds.NODE)
    assert created["desiredCount"] == created["runningCount"] == len(nodes)
    assert objects(backend, kinds.DEPLOYMENT) == []
    assert daemon_set["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    wait_stable(ecs, "agent")


def test_task_definition_references(ecs: Any) -> None:
    first = register(ecs)
    second = register(ecs)
    assert create(ecs, "a", 1, taskDefinition="web")["taskDefinition"] == second
    assert create(ecs, "b", 1, taskDefinition="web:1")["taskDefinition"] == first
    assert create(ecs, "c", 1, taskDefinition=first)["taskDefinition"] == first


@pytest.mark.parametrize("reference", ["nope", "web:9", "arn:aws:ecs:eu-west-1:1:task/x"])
def test_unknown_task_definition(ecs: Any, web: str, reference: str) -> None:
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        create(ecs, taskDefinition=reference)
    assert error(excinfo) == ("ClientException", "TaskDefinition not found.")


def test_inactive_task_definition(ecs: Any, web: str) -> None:
    ecs.deregister_task_definition(taskDefinition="web:1")
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        create(ecs, taskDefinition="web:1")
    assert error(excinfo)[1] == "TaskDefinition is inactive"


def test_unknown_cluster(ecs: Any, web: str) -> None:
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.create_service(cluster="nope", serviceName="x", taskDefinition="web", desiredCount=1)


def bad(ecs: Any, **params: Any) -> str:
    params.setdefault("serviceName", "web")
    params.setdefault("taskDefinition", "web")
    with pytest.raises(ecs.exceptions.ClientError) as excinfo:
        ecs.create_service(cluster=CLUSTER, **params)
    code, message = error(excinfo)
    assert code in ("InvalidParameterException", "UnsupportedFeatureException"), message
    return message


def test_rules_and_their_wording(ecs: Any, web: str) -> None:
    assert bad(ecs, serviceName="no spaces", desiredCount=1).startswith("Invalid service name.")
    assert bad(ecs, serviceName="x" * 256, desiredCount=1).startswith("Invalid service name.")
    assert "desired count" in bad(ecs)
    assert bad(ecs, desiredCount=-1) == "Desired count must be greater than or equal to 0."
    assert bad(ecs, schedulingStrategy="DAEMON", desiredCount=1).startswith(
        "The daemon scheduling strategy does not support a desired count"
    )
    assert "placement strategies" in bad(
        ecs, schedulingStrategy="DAEMON", placementStrategy=[{"type": "spread", "field": "x"}]
    )
    assert "values above 100 for maximumPercent" in bad(
        ecs, schedulingStrategy="DAEMON", deploymentConfiguration={"maximumPercent": 200}
    )
    assert bad(
        ecs,
        desiredCount=1,
        launchType="EC2",
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    ) == (
        "Specifying both a launch type and capacity provider strategy is not supported. "
        "Remove one and try again."
    )
    assert "not associated with the cluster" in bad(
        ecs, desiredCount=1, capacityProviderStrategy=[{"capacityProvider": "FARGATE"}]
    )
    assert "minimumHealthyPercent" in bad(
        ecs, desiredCount=1, deploymentConfiguration={"minimumHealthyPercent": 150}
    )
    assert "maximumPercent" in bad(
        ecs, desiredCount=1, deploymentConfiguration={"maximumPercent": 50}
    )
    assert bad(ecs, desiredCount=1, launchType="FARGATE") == (
        "Task definition does not support launch_type FARGATE."
    )
    assert bad(ecs, desiredCount=1, platformVersion="1.4.0") == (
        "The platform version must be null when specifying an EC2 launch type."
    )
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    assert bad(ecs, desiredCount=1, networkConfiguration=network) == (
        "Network Configuration is not valid for the given networkMode of this task definition."
    )
    assert "CODE_DEPLOY" in bad(
        ecs, deploymentController={"type": "CODE_DEPLOY"}, schedulingStrategy="DAEMON"
    )
    assert "BLUE_GREEN" in bad(
        ecs, desiredCount=1, deploymentConfiguration={"strategy": "BLUE_GREEN"}
    )
    assert bad(ecs, desiredCount=1, tags=[{"key": "aws:x", "value": "1"}]).startswith("Tag keys")
    assert "clientToken" in bad(ecs, desiredCount=1, clientToken="x" * 37)
    assert "healthCheckGracePeriodSeconds" in bad(
        ecs, desiredCount=1, healthCheckGracePeriodSeconds=-1
    )
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []


def test_awsvpc_and_fargate(ecs: Any) -> None:
    register(
        ecs,
        "task",
        container(),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    assert bad(ecs, taskDefinition="task", desiredCount=1, launchType="FARGATE") == (
        "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    )
    network: dict[str, Any] = {"awsvpcConfiguration": {"subnets": []}}
    assert (
        bad(
            ecs,
            taskDefinition="task",
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network,
        )
        == "subnets can not be empty."
    )
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}
    created = ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition="task",
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration=network,
    )["service"]
    assert created["launchType"] == "FARGATE"
    assert created["platformVersion"] == "LATEST"
    assert created["networkConfiguration"] == network
    assert bad(
        ecs,
        taskDefinition="task",
        schedulingStrategy="DAEMON",
        launchType="FARGATE",
        networkConfiguration=network,
    ).startswith("The DAEMON scheduling strategy")


def test_cluster_default_capacity_provider_strategy(ecs: Any, web: str) -> None:
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    register(
        ecs,
        "web",
        container(),
        requiresCompatibilities=["FARGATE", "EC2"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
    )
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    created = create(ecs, taskDefinition="web:2", networkConfiguration=network)
    assert "launchType" not in created
    assert created["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]
    assert bad(ecs, serviceName="d", taskDefinition="web:1", schedulingStrategy="DAEMON") == (
        "Specifying a capacity provider strategy is not supported when you create a service "
        "using the DAEMON scheduling strategy."
    )


def test_repeated_create_is_idempotent(ecs: Any, web: str, backend: CheckingBackend) -> None:
    first = create(ecs, clientToken="token-1")
    again = create(ecs, clientToken="token-2")
    assert again["serviceArn"] == first["serviceArn"]
    assert len(objects(backend, kinds.DEPLOYMENT)) == 1
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        create(ecs, count=5)
    assert error(excinfo)[1] == "Creation of service was not idempotent."


def test_a_draining_service_cannot_be_created_again(ecs: Any, web: str, backend: Any) -> None:
    create(ecs)
    backend.simulator.slow_stop("nginx*", 30)
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    assert describe(ecs)["status"] == "DRAINING"
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        create(ecs)
    assert error(excinfo)[1] == "Unable to Start a service that is still Draining."
    backend.advance(31)
    assert describe(ecs)["status"] == "INACTIVE"
    assert create(ecs)["status"] == "ACTIVE"


def test_an_inactive_service_can_be_created_again(ecs: Any, web: str, backend: Any) -> None:
    create(ecs)
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    assert describe(ecs)["status"] == "INACTIVE"
    old_records = task_pods(backend, live=False)
    recreated = create(ecs, count=2)
    assert recreated["status"] == "ACTIVE"
    assert (recreated["desiredCount"], recreated["runningCount"]) == (2, 2)
    assert len(recreated["deployments"]) == 1
    assert objects(backend, kinds.CONFIG_MAP, "service-tombstone") == []
    # The first incarnation's STOPPED task records are not the new service's tasks.
    assert len(old_records) == 3
    assert describe(ecs)["events"][-1]["message"].startswith("(service web) has started 2 tasks")


def test_no_half_written_service(ecs: Any, web: str, backend: CheckingBackend) -> None:
    backend.fail_create.add(kinds.SERVICE)
    with pytest.raises(ecs.exceptions.ServerException):
        create(ecs)
    assert objects(backend, kinds.DEPLOYMENT) == []
    assert task_pods(backend) == []
    backend.fail_create.clear()
    assert create(ecs)["runningCount"] == 3


def test_tags_and_propagation(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs, "web", container(), tags=[{"key": "team", "value": "td"}])
    tags = [{"key": "env", "value": "prod"}]
    create(ecs, "svc", 1, tags=tags, propagateTags="SERVICE", enableECSManagedTags=True)
    create(ecs, "tdtags", 1, propagateTags="TASK_DEFINITION")
    create(ecs, "none", 1, tags=tags)
    assert describe(ecs, "svc", include=["TAGS"])["tags"] == tags
    assert "tags" not in describe(ecs, "svc")
    assert ecs.list_tags_for_resource(resourceArn=service_arn("svc"))["tags"] == tags
    by_service: dict[str, Any] = {}
    for pod in task_pods(backend):
        name = pod["metadata"]["labels"][labels.SERVICE]
        by_service[name] = json.loads(pod["metadata"]["annotations"].get(task_keys.TAGS, "[]"))
        assert not any(k.startswith("env") or k == "team" for k in pod["metadata"]["labels"])
    assert by_service["svc"] == [
        *tags,
        {"key": "aws:ecs:serviceName", "value": "svc"},
        {"key": "aws:ecs:clusterName", "value": CLUSTER},
    ]
    assert by_service["tdtags"] == [{"key": "team", "value": "td"}]
    assert by_service["none"] == []
    task = ecs.describe_tasks(
        cluster=CLUSTER,
        tasks=ecs.list_tasks(cluster=CLUSTER, serviceName="svc")["taskArns"],
        include=["TAGS"],
    )["tasks"][0]
    assert {"key": "env", "value": "prod"} in task["tags"]
