"""Placement constraints and strategies: where the embedded scheduler actually puts tasks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.mapping import container_instance
from tests.operations.wiring_helpers import (
    ACCOUNT,
    REGION,
    ValidatingBackend,
    ecs,
    error,
    live_task_pods,
    node_labels,
    objects,
    register,
)

__all__ = ["ecs"]  # fixtures

ZONE = "topology.kubernetes.io/zone"


@pytest.fixture
def backend() -> ValidatingBackend:
    """Three nodes, no autoscaler: a task no node takes is a placement failure."""
    return ValidatingBackend(autoscale=False)


DISTINCT = [{"type": "distinctInstance"}]


def nodes_of(pods: list[dict[str, Any]]) -> list[str]:
    return [p["spec"]["nodeName"] for p in pods]


def test_distinct_instance_puts_each_task_on_its_own_node(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    response = ecs.run_task(taskDefinition="web", count=4, placementConstraints=DISTINCT)
    assert len(response["tasks"]) == 3  # three nodes
    assert [f["reason"] for f in response["failures"]] == ["ATTRIBUTE"]
    assert "anti-affinity" in response["failures"][0]["detail"]
    used = nodes_of(live_task_pods(backend))
    assert len(used) == len(set(used)) == 3


def test_with_an_autoscaler_distinct_instances_get_a_new_node() -> None:
    scaling = ValidatingBackend()
    client = kecs.client("ecs", region_name=REGION, backend=scaling)
    client.create_cluster(clusterName="default")
    register(client, "web")
    response = client.run_task(taskDefinition="web", count=4, placementConstraints=DISTINCT)
    assert response["failures"] == []
    used = nodes_of(live_task_pods(scaling))
    assert len(used) == len(set(used)) == 4


def test_distinct_instance_counts_only_the_tasks_group(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    ecs.run_task(taskDefinition="web", count=3, group="a", placementConstraints=DISTINCT)
    other = ecs.run_task(taskDefinition="web", count=3, group="b", placementConstraints=DISTINCT)
    assert other["failures"] == [] and len(other["tasks"]) == 3


def test_member_of_an_availability_zone(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    expression = f"attribute:ecs.availability-zone == {REGION}b"
    constraint = [{"type": "memberOf", "expression": expression}]
    response = ecs.run_task(taskDefinition="web", count=3, placementConstraints=constraint)
    assert response["failures"] == []
    assert {node_labels(backend, p)[ZONE] for p in live_task_pods(backend)} == {f"{REGION}b"}


def test_member_of_a_custom_attribute(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    instances = ecs.list_container_instances()["containerInstanceArns"]
    ecs.put_attributes(
        attributes=[{"name": "gpu", "value": "yes", "targetId": instances[1],
                     "targetType": "container-instance"}]
    )  # fmt: skip
    constraint = [{"type": "memberOf", "expression": "attribute:gpu == yes"}]
    tasks = ecs.run_task(taskDefinition="web", count=2, placementConstraints=constraint)["tasks"]
    assert {t["containerInstanceArn"] for t in tasks} == {instances[1]}
    missing = [{"type": "memberOf", "expression": "attribute:gpu == no"}]
    refused = ecs.run_task(taskDefinition="web", placementConstraints=missing)
    assert refused["tasks"] == [] and refused["failures"][0]["reason"] == "ATTRIBUTE"


def test_the_task_definitions_own_constraints_apply(ecs: Any, backend: Any) -> None:
    expression = f"attribute:ecs.availability-zone in [{REGION}a, {REGION}c]"
    register(ecs, "web", placementConstraints=[{"type": "memberOf", "expression": expression}])
    ecs.run_task(taskDefinition="web", count=4)
    zones = {node_labels(backend, p)[ZONE] for p in live_task_pods(backend)}
    assert zones == {f"{REGION}a", f"{REGION}c"}


def test_spread_over_zones(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    strategy = [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    ecs.run_task(taskDefinition="web", count=6, placementStrategy=strategy)
    zones = Counter(node_labels(backend, p)[ZONE] for p in live_task_pods(backend))
    assert sorted(zones.values()) == [2, 2, 2]
    (pod, *_) = live_task_pods(backend)
    assert pod["spec"]["topologySpreadConstraints"][0]["topologyKey"] == ZONE


def test_a_service_with_distinct_instances(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    ecs.create_service(
        serviceName="web", taskDefinition="web", desiredCount=3, placementConstraints=DISTINCT
    )
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    anti = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    (term,) = anti["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    used = nodes_of(live_task_pods(backend))
    assert len(used) == len(set(used)) == 3
    # A placement change is a new deployment (the template carries the affinity).
    ecs.update_service(service="web", placementConstraints=[])
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    assert "podAntiAffinity" not in deployment["spec"]["template"]["spec"].get("affinity", {})


def test_tasks_stay_on_the_nodes_that_serve_their_cluster(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    for node in backend.list_all(kinds.NODE):  # every shared node is full
        backend.patch(kinds.NODE, node["metadata"]["name"], {"spec": {"unschedulable": True}})
    backend.simulator.add_node(
        name="theirs", labels=container_instance.dedicated_labels(ACCOUNT, REGION, "other")
    )
    refused = ecs.run_task(taskDefinition="web")
    assert refused["tasks"] == [] and refused["failures"][0]["reason"] == "ATTRIBUTE"
    backend.simulator.add_node(
        name="ours", labels=container_instance.dedicated_labels(ACCOUNT, REGION, "default")
    )
    ecs.run_task(taskDefinition="web", count=2)
    assert set(nodes_of(live_task_pods(backend))) == {"ours"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"placementConstraints": [{"type": "memberOf", "expression": "ec2InstanceId == i-1"}]},
            "ec2InstanceId",
        ),
        ({"placementStrategy": [{"type": "binpack", "field": "disk"}]}, "binpack"),
        (
            {"launchType": "FARGATE", "placementConstraints": DISTINCT},
            "Task placement constraints are not supported for the FARGATE launch type.",
        ),
    ],
    ids=["subject", "binpack-field", "fargate"],
)
def test_placement_kubernetes_cannot_express_is_refused(
    ecs: Any, backend: Any, params: dict[str, Any], message: str
) -> None:
    register(ecs, "web", requiresCompatibilities=["EC2", "FARGATE"], networkMode="awsvpc",
             cpu="256", memory="512")  # fmt: skip
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(taskDefinition="web", networkConfiguration=network, **params)
    assert message in error(excinfo)[1]
    assert live_task_pods(backend) == []


def test_binpack_is_a_preference_with_a_note(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    ecs.run_task(taskDefinition="web", placementStrategy=[{"type": "binpack", "field": "memory"}])
    (pod,) = live_task_pods(backend)
    preferred = pod["spec"]["affinity"]["podAffinity"]
    assert preferred["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 100
    assert "MostAllocated" in pod["metadata"]["annotations"]["kecs.dev/mapping-notes"]
