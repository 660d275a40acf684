"""Capacity provider strategies put tasks on the nodes of each provider (embedded cluster).

A custom provider stands for the Nodes labelled (and tainted) ``kecs.dev/capacity-provider``;
the tests add such nodes with the simulator and check where the scheduler put each task.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.mapping import capacity, labels
from tests.operations.wiring_helpers import (
    REGION,
    ValidatingBackend,
    error,
    live_task_pods,
    node_labels,
    objects,
    register,
)

ASG = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:uuid:autoScalingGroupName/{}"
PROVIDERS = ("on-demand", "spot")
STRATEGY = [
    {"capacityProvider": "on-demand", "base": 2, "weight": 1},
    {"capacityProvider": "spot", "weight": 3},
]


@pytest.fixture
def backend() -> ValidatingBackend:
    """Three default nodes, two per provider (tainted for it), no autoscaler."""
    world = ValidatingBackend(autoscale=False)
    for provider in PROVIDERS:
        taint = {"key": capacity.PROVIDER_LABEL, "value": provider, "effect": "NoSchedule"}
        for i in range(2):
            world.simulator.add_node(
                name=f"{provider}-{i}", labels=capacity.provider_label(provider), taints=[taint]
            )
    return world


@pytest.fixture
def ecs(backend: ValidatingBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    for provider in PROVIDERS:
        client.create_capacity_provider(
            name=provider, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(provider)}
        )
    client.create_cluster(clusterName="default", capacityProviders=[*PROVIDERS, "FARGATE"])
    register(client, "web")
    return client


def provider_of_node(backend: ValidatingBackend, pod: dict[str, Any]) -> str | None:
    return node_labels(backend, pod).get(capacity.PROVIDER_LABEL)


def test_base_and_weight_put_tasks_on_each_providers_nodes(ecs: Any, backend: Any) -> None:
    tasks = ecs.run_task(taskDefinition="web", count=10, capacityProviderStrategy=STRATEGY)["tasks"]
    assert len(tasks) == 10
    expected = capacity.distribution(STRATEGY, 10)
    assert Counter(t["capacityProviderName"] for t in tasks) == expected
    assert {t["launchType"] for t in tasks} == {"EC2"}
    pods = live_task_pods(backend)
    for pod in pods:
        assert provider_of_node(backend, pod) == pod["metadata"]["labels"][labels.CAPACITY_PROVIDER]
    assert Counter(provider_of_node(backend, p) for p in pods) == expected


def test_the_clusters_default_strategy_applies_when_run_task_gives_none(
    ecs: Any, backend: Any
) -> None:
    ecs.put_cluster_capacity_providers(
        cluster="default",
        capacityProviders=list(PROVIDERS),
        defaultCapacityProviderStrategy=[{"capacityProvider": "spot", "weight": 1}],
    )
    tasks = ecs.run_task(taskDefinition="web", count=3)["tasks"]
    assert {t["capacityProviderName"] for t in tasks} == {"spot"}
    assert {provider_of_node(backend, p) for p in live_task_pods(backend)} == {"spot"}
    explicit = ecs.run_task(taskDefinition="web", launchType="EC2", count=3)["tasks"]
    assert all("capacityProviderName" not in t for t in explicit)


def test_tasks_without_a_provider_stay_off_dedicated_nodes(ecs: Any, backend: Any) -> None:
    ecs.run_task(taskDefinition="web", launchType="EC2", count=6)
    assert {provider_of_node(backend, p) for p in live_task_pods(backend)} == {None}


def test_a_full_provider_is_a_placement_failure(ecs: Any, backend: Any) -> None:
    for name in ("spot-0", "spot-1"):
        backend.patch(kinds.NODE, name, {"spec": {"unschedulable": True}})
    only_spot = [{"capacityProvider": "spot", "weight": 1}]
    response = ecs.run_task(taskDefinition="web", capacityProviderStrategy=only_spot)
    assert response["tasks"] == []
    assert response["failures"][0]["reason"] == "ATTRIBUTE"


def test_a_service_uses_the_nodes_of_every_provider_of_its_strategy(ecs: Any, backend: Any) -> None:
    ecs.create_service(
        serviceName="web", taskDefinition="web", desiredCount=6, capacityProviderStrategy=STRATEGY
    )
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    spec = deployment["spec"]["template"]["spec"]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    wanted = {"key": capacity.PROVIDER_LABEL, "operator": "In", "values": sorted(PROVIDERS)}
    assert all(wanted in t["matchExpressions"] for t in terms["nodeSelectorTerms"])
    assert {t["value"] for t in spec["tolerations"]} == set(PROVIDERS)
    pods = live_task_pods(backend)
    assert len(pods) == 6
    assert {provider_of_node(backend, p) for p in pods} <= set(PROVIDERS)


def test_fargate_prefers_nodes_set_aside_for_it(backend: Any) -> None:
    backend.simulator.add_node(name="fargate-0", labels=capacity.provider_label("FARGATE"))
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="default", capacityProviders=["FARGATE"])
    register(ecs, "fg", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
             cpu="256", memory="512")  # fmt: skip
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    strategy = [{"capacityProvider": "FARGATE", "weight": 1}]
    tasks = ecs.run_task(
        taskDefinition="fg", count=2, capacityProviderStrategy=strategy,
        networkConfiguration=network,
    )["tasks"]  # fmt: skip
    assert {t["launchType"] for t in tasks} == {"FARGATE"}
    assert {p["spec"]["nodeName"] for p in live_task_pods(backend)} == {"fargate-0"}


def test_a_provider_not_associated_with_the_cluster_is_refused(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(
            taskDefinition="web", capacityProviderStrategy=[{"capacityProvider": "x", "weight": 1}]
        )
    assert "not associated with the cluster" in error(excinfo)[1]


def test_a_strategy_without_weight_is_refused(ecs: Any) -> None:
    strategy = [{"capacityProvider": "spot", "base": 1, "weight": 0}]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(taskDefinition="web", count=2, capacityProviderStrategy=strategy)
    assert error(excinfo)[1] == capacity.NO_WEIGHT
