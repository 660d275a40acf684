"""RunTask and StartTask through the client: pods, parameters, errors, idempotency, placement."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.mapping import labels, task_keys
from kecs.operations.task_launch import REQUEST_DIGEST
from tests.operations.task_helpers import (
    CLUSTER_ARN,
    FARGATE,
    NETWORK,
    REGION,
    WEB,
    StrictBackend,
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


def test_run_task_starts_one_pod_per_task_identified_by_its_uid(ecs: Any, backend: Any) -> None:
    tasks = run(ecs, count=2)
    assert len(tasks) == 2
    pods = {p["metadata"]["uid"].replace("-", ""): p for p in task_pods(backend)}
    assert set(pods) == {task_id(t["taskArn"]) for t in tasks}
    for task in tasks:
        assert task["taskArn"].startswith(f"arn:aws:ecs:{REGION}:000000000000:task/default/")
        assert task["clusterArn"] == CLUSTER_ARN
        assert task["taskDefinitionArn"].endswith(":task-definition/web:1")
        assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "RUNNING")
        assert task["launchType"] == "EC2"
        assert task["group"] == "family:web"
        assert [c["name"] for c in task["containers"]] == ["app", "side"]
        assert task["containerInstanceArn"].startswith(
            f"arn:aws:ecs:{REGION}:000000000000:container-instance/default/"
        )
        pod = pods[task_id(task["taskArn"])]
        assert pod["spec"]["restartPolicy"] == "Never"
        assert labels.TASK_RECORD_FINALIZER in pod["metadata"]["finalizers"]
        pod_labels = pod["metadata"]["labels"]
        assert pod_labels[labels.FAMILY] == "web"
        assert pod_labels[labels.REVISION] == "1"
        assert pod_labels[labels.LAUNCH_TYPE] == "EC2"
        assert pod_labels[labels.CLUSTER] == "default"


@pytest.mark.parametrize(
    "reference", ["web", "web:1", "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"]
)
def test_task_definition_by_family_revision_or_arn(ecs: Any, reference: str) -> None:
    (task,) = run(ecs, taskDefinition=reference)
    assert task["taskDefinitionArn"].endswith("task-definition/web:1")


def test_family_alone_runs_the_latest_active_revision(ecs: Any) -> None:
    ecs.register_task_definition(**WEB)
    (task,) = run(ecs, taskDefinition="web")
    assert task["taskDefinitionArn"].endswith("task-definition/web:2")


@pytest.mark.parametrize(
    "reference",
    ["nope", "web:9", "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:1", "web:x"],
)
def test_unknown_task_definition(ecs: Any, reference: str) -> None:
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.run_task(taskDefinition=reference)
    assert error(excinfo) == ("ClientException", "Unable to describe task definition.")


def test_inactive_task_definition(ecs: Any) -> None:
    ecs.deregister_task_definition(taskDefinition="web:1")
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.run_task(taskDefinition="web:1")
    assert error(excinfo) == ("ClientException", "TaskDefinition is inactive")
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.run_task(taskDefinition="web")
    assert error(excinfo) == ("ClientException", "Unable to describe task definition.")


def test_unknown_cluster(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.ClusterNotFoundException) as excinfo:
        ecs.run_task(cluster="elsewhere", taskDefinition="web")
    assert error(excinfo) == ("ClusterNotFoundException", "Cluster not found.")


def test_cluster_by_name_or_arn(ecs: Any, backend: Any) -> None:
    ecs.create_cluster(clusterName="batch")
    (by_name,) = run(ecs, cluster="batch")
    (by_arn,) = run(ecs, cluster=f"arn:aws:ecs:{REGION}:000000000000:cluster/batch")
    assert by_name["clusterArn"] == by_arn["clusterArn"].replace("default", "batch")
    assert len(task_pods(backend, "batch")) == 2
    assert task_pods(backend) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"count": 0}, "count must be between 1 and 10."),
        ({"count": 11}, "count must be between 1 and 10."),
        ({"startedBy": "x" * 129}, "startedBy must be at most 128 characters long."),
        ({"group": "g" * 256}, "group must be at most 255 characters long."),
        (
            {"launchType": "EC2", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]},
            "Specify either Launch Type or Capacity Provider Strategy, but not both.",
        ),
        (
            {"propagateTags": "SERVICE"},
            "propagateTags SERVICE is only valid for tasks started by a service.",
        ),
        (
            {"tags": [{"key": "aws:x", "value": "1"}]},
            "Tag keys with the 'aws:' prefix are reserved for AWS use.",
        ),
        (
            {"overrides": {"containerOverrides": [{"name": "ghost", "command": ["x"]}]}},
            "Override for container named ghost is not a container in the TaskDefinition.",
        ),
        (
            {"networkConfiguration": NETWORK},
            "Network Configuration is not valid for the given networkMode of this task definition.",
        ),
        (
            {"platformVersion": "1.4.0"},
            "The platform version must be null when specifying an EC2 launch type.",
        ),
        ({"launchType": "FARGATE"}, "Task definition does not support launch_type FARGATE."),
    ],
)
def test_invalid_parameters(ecs: Any, backend: Any, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(taskDefinition="web", **params)
    assert error(excinfo) == ("InvalidParameterException", message)
    assert task_pods(backend) == []


def test_overrides_reach_the_pod_and_the_task(ecs: Any, backend: Any) -> None:
    overrides = {
        "containerOverrides": [
            {
                "name": "app",
                "command": ["serve", "--fast"],
                "environment": [{"name": "MODE", "value": "test"}],
                "memory": 512,
                "cpu": 128,
            }
        ],
        "cpu": "512",
        "memory": "1024",
    }
    (task,) = run(ecs, overrides=overrides)
    (pod,) = task_pods(backend)
    app = next(c for c in pod["spec"]["containers"] if c["name"] == "app")
    assert app["args"] == ["serve", "--fast"]
    assert {"name": "MODE", "value": "test"} in app["env"]
    assert app["resources"]["limits"]["memory"] == "512Mi"
    assert json.loads(pod["metadata"]["annotations"][task_keys.OVERRIDES]) == overrides
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    app_override = task["overrides"]["containerOverrides"][0]
    assert app_override["command"] == ["serve", "--fast"]
    assert [c["name"] for c in task["overrides"]["containerOverrides"]] == ["app", "side"]
    app_container = next(c for c in task["containers"] if c["name"] == "app")
    assert (app_container["cpu"], app_container["memory"]) == ("128", "512")


def test_started_by_group_and_execute_command(ecs: Any, backend: Any) -> None:
    (task,) = run(ecs, startedBy="ci/job 42", group="batch:nightly", enableExecuteCommand=True)
    assert task["startedBy"] == "ci/job 42"
    assert task["group"] == "batch:nightly"
    assert task["enableExecuteCommand"] is True
    (pod,) = task_pods(backend)
    assert pod["metadata"]["annotations"][task_keys.STARTED_BY] == "ci/job 42"
    assert labels.STARTED_BY in pod["metadata"]["labels"]


def test_tags_propagation_and_managed_tags(ecs: Any, backend: Any) -> None:
    (plain,) = run(ecs, tags=[{"key": "env", "value": "dev"}])
    assert plain["tags"] == [{"key": "env", "value": "dev"}]
    (task,) = run(
        ecs,
        tags=[{"key": "env", "value": "dev"}, {"key": "team", "value": "red"}],
        propagateTags="TASK_DEFINITION",
        enableECSManagedTags=True,
    )
    expected = [
        {"key": "team", "value": "red"},
        {"key": "env", "value": "dev"},
        {"key": "aws:ecs:clusterName", "value": "default"},
    ]
    assert task["tags"] == expected
    assert ecs.list_tags_for_resource(resourceArn=task["taskArn"])["tags"] == expected
    described = describe(ecs, task["taskArn"], include=["TAGS"])
    assert described["tags"] == expected
    assert "tags" not in describe(ecs, task["taskArn"])
    for pod in task_pods(backend):
        # Tags live in an annotation, never in labels.
        assert not any(v in ("dev", "red", "blue") for v in pod["metadata"]["labels"].values())
    (untagged,) = run(ecs, propagateTags="NONE")
    assert "tags" not in untagged


def test_tag_and_untag_a_task(ecs: Any) -> None:
    (task,) = run(ecs)
    arn = task["taskArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["b"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []
    missing = arn[:-32] + "0" * 32
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.list_tags_for_resource(resourceArn=missing)
    assert error(excinfo) == ("InvalidParameterException", "The referenced task was not found.")
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.tag_resource(resourceArn=missing, tags=[{"key": "a", "value": "1"}])
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_tags_for_resource(resourceArn=arn.replace("/default/", "/other/"))


def test_client_token_makes_run_task_idempotent(ecs: Any, backend: Any) -> None:
    first = run(ecs, count=3, clientToken="token-1")
    again = run(ecs, count=3, clientToken="token-1")
    assert [t["taskArn"] for t in again] == [t["taskArn"] for t in first]
    assert len(task_pods(backend)) == 3
    # botocore fills in a fresh token per call: calls without one are distinct.
    run(ecs)
    run(ecs)
    assert len(task_pods(backend)) == 5


def test_client_token_reused_with_other_parameters_is_a_conflict(ecs: Any, backend: Any) -> None:
    first = run(ecs, count=2, clientToken="token-2")
    with pytest.raises(ecs.exceptions.ConflictException) as excinfo:
        ecs.run_task(taskDefinition="web", count=2, clientToken="token-2", startedBy="other")
    assert excinfo.value.response["Error"]["Code"] == "ConflictException"
    assert sorted(excinfo.value.response["resourceIds"]) == sorted(t["taskArn"] for t in first)
    assert len(task_pods(backend)) == 2


def test_pods_carry_the_request_digest(ecs: Any, backend: Any) -> None:
    run(ecs, clientToken="t")
    (pod,) = task_pods(backend)
    annotations = pod["metadata"]["annotations"]
    assert annotations[task_keys.CLIENT_TOKEN] == "t"
    assert len(annotations[REQUEST_DIGEST]) == 32


def test_fargate_needs_a_network_configuration(ecs: Any) -> None:
    ecs.register_task_definition(**FARGATE)
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(taskDefinition="fg", launchType="FARGATE")
    assert error(excinfo)[1] == (
        "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(
            taskDefinition="fg",
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": []}},
        )
    assert error(excinfo)[1] == "subnets can not be empty."


def test_fargate_task(ecs: Any, backend: Any) -> None:
    ecs.register_task_definition(**FARGATE)
    (task,) = run(
        ecs,
        taskDefinition="fg",
        launchType="FARGATE",
        networkConfiguration=NETWORK,
        platformVersion="LATEST",
    )
    assert task["launchType"] == "FARGATE"
    assert task["platformVersion"] == "1.4.0"
    assert "containerInstanceArn" not in task
    (pod,) = task_pods(backend)
    (attachment,) = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert details["privateIPv4Address"] == pod["status"]["podIP"]
    assert details["subnetId"] == "subnet-12345678"
    assert pod["metadata"]["labels"][labels.LAUNCH_TYPE] == "FARGATE"


def test_capacity_provider_strategy(ecs: Any) -> None:
    ecs.register_task_definition(**FARGATE)
    strategy = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 1},
    ]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(
            taskDefinition="fg", capacityProviderStrategy=strategy, networkConfiguration=NETWORK
        )
    assert "not associated with the cluster" in error(excinfo)[1]
    ecs.put_cluster_capacity_providers(
        cluster="default",
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    tasks = run(
        ecs,
        taskDefinition="fg",
        count=5,
        capacityProviderStrategy=strategy,
        networkConfiguration=NETWORK,
    )
    providers = [t["capacityProviderName"] for t in tasks]
    assert providers[0] == "FARGATE"
    assert sorted(providers) == ["FARGATE", "FARGATE", "FARGATE", "FARGATE_SPOT", "FARGATE_SPOT"]
    assert {t["launchType"] for t in tasks} == {"FARGATE"}
    # Neither a launch type nor a strategy: the cluster's default strategy.
    (default,) = run(ecs, taskDefinition="fg", networkConfiguration=NETWORK)
    assert default["capacityProviderName"] == "FARGATE_SPOT"
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(
            taskDefinition="fg",
            capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 0}],
            networkConfiguration=NETWORK,
        )
    assert "weight greater than zero" in error(excinfo)[1]


def test_tasks_no_node_can_take_are_failures(backend: Any) -> None:
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="default")
    ecs.register_task_definition(
        family="huge", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 65536}]
    )
    ecs.register_task_definition(
        family="busy",
        containerDefinitions=[{"name": "a", "image": "nginx", "cpu": 8192, "memory": 128}],
    )
    response = ecs.run_task(taskDefinition="huge", count=2)
    assert response["tasks"] == []
    assert [f["reason"] for f in response["failures"]] == ["RESOURCE:MEMORY"] * 2
    assert response["failures"][0]["arn"] == CLUSTER_ARN
    assert "Insufficient memory" in response["failures"][0]["detail"]
    cpu = ecs.run_task(taskDefinition="busy")
    assert [f["reason"] for f in cpu["failures"]] == ["RESOURCE:CPU"]
    # An unplaced task leaves nothing behind: not even a STOPPED record.
    assert task_pods(backend) == []
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] == []


def test_some_tasks_placed_others_not() -> None:
    backend = StrictBackend(nodes=1, autoscale=False)
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="default")
    ecs.register_task_definition(
        family="half", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 6144}]
    )
    response = ecs.run_task(taskDefinition="half", count=3)
    assert len(response["tasks"]) == 2
    assert [f["reason"] for f in response["failures"]] == ["RESOURCE:MEMORY"]
    assert len(task_pods(backend)) == 2


def test_placement_parameters_are_applied_not_noted(ecs: Any, backend: Any) -> None:
    run(
        ecs,
        placementConstraints=[{"type": "distinctInstance"}],
        placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}],
    )
    (pod,) = task_pods(backend)
    notes = json.loads(pod["metadata"]["annotations"].get(task_keys.NOTES, "[]"))
    assert not any(n.startswith(("placementConstraints:", "placementStrategy:")) for n in notes)
    anti = pod["spec"]["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"]
    (spread,) = pod["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"


def test_start_task_on_a_container_instance(ecs: Any, backend: Any) -> None:
    (probe,) = run(ecs)
    instance = probe["containerInstanceArn"]
    response = ecs.start_task(taskDefinition="web", containerInstances=[instance, instance])
    assert response["failures"] == []
    assert [t["containerInstanceArn"] for t in response["tasks"]] == [instance, instance]
    for pod in backend.created_pods[1:]:
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        assert terms[0]["matchFields"][0]["key"] == "metadata.name"
    by_id = ecs.start_task(taskDefinition="web", containerInstances=[instance.rsplit("/", 1)[1]])
    assert by_id["tasks"][0]["containerInstanceArn"] == instance


def test_start_task_unknown_instance(ecs: Any, backend: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.start_task(taskDefinition="web", containerInstances=["f" * 32])
    assert error(excinfo) == (
        "InvalidParameterException",
        f"The referenced container instance was not found: {'f' * 32}",
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.start_task(taskDefinition="web", containerInstances=[])
    assert task_pods(backend) == []


def test_start_task_on_a_full_instance_fails(ecs: Any) -> None:
    (probe,) = run(ecs)
    ecs.register_task_definition(
        family="huge", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 65536}]
    )
    response = ecs.start_task(
        taskDefinition="huge", containerInstances=[probe["containerInstanceArn"]]
    )
    assert response["tasks"] == []
    assert response["failures"][0]["reason"] == "RESOURCE:MEMORY"
    assert response["failures"][0]["arn"] == probe["containerInstanceArn"]


def test_every_created_pod_is_schema_valid(ecs: Any, backend: Any) -> None:
    ecs.register_task_definition(**FARGATE)
    run(ecs, count=2, overrides={"containerOverrides": [{"name": "app", "command": ["x"]}]})
    run(ecs, taskDefinition="fg", launchType="FARGATE", networkConfiguration=NETWORK)
    # StrictBackend.create validated each of them.
    assert len(backend.created_pods) == 3
    pod = backend.get(kinds.POD, backend.created_pods[0]["metadata"]["name"], namespace())
    assert pod["metadata"]["namespace"] == namespace()
