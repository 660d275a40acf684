"""Testing ECS code with kecs's pytest plugin (installed with kecs; nothing to configure).

    pytest examples/test_with_plugin.py

Fixtures: ``ecs_client`` (a kecs ECS client), ``kecs_backend`` (its Kubernetes world, fresh
for every test), ``kecs_mock`` (``boto3.client("ecs")`` answered by kecs for the test), and the
marker ``@pytest.mark.kecs``, which does what ``kecs_mock`` does.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from kecs.backends import kinds


# -- the code under test: ordinary boto3 code, as it would run against AWS -------------------
def deploy(family: str, image: str, cluster: str = "default") -> str:
    """Register a task definition for ``image`` and return its ARN."""
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName=cluster)
    registered = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": family, "image": image, "memory": 256}],
    )
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def latest_revisions(ecs: Any) -> dict[str, int]:
    """The highest ACTIVE revision of every task definition family."""
    latest: dict[str, int] = {}
    for page in ecs.get_paginator("list_task_definitions").paginate():
        for arn in page["taskDefinitionArns"]:
            family, revision = arn.rsplit("/", 1)[1].split(":")
            latest[family] = max(latest.get(family, 0), int(revision))
    return latest


# -- tests -----------------------------------------------------------------------------------
def test_a_client_fixture_with_its_own_world(ecs_client: Any) -> None:
    ecs_client.create_cluster(clusterName="demo")
    (cluster,) = ecs_client.describe_clusters(clusters=["demo"])["clusters"]
    assert cluster["status"] == "ACTIVE"


def test_every_test_starts_from_an_empty_world(ecs_client: Any) -> None:
    assert ecs_client.list_clusters()["clusterArns"] == []


def test_paginating_through_revisions(ecs_client: Any) -> None:
    for image in ("nginx:1.25", "nginx:1.26", "nginx:1.27"):
        ecs_client.register_task_definition(
            family="web", containerDefinitions=[{"name": "web", "image": image, "memory": 128}]
        )
    assert latest_revisions(ecs_client) == {"web": 3}


def test_errors_are_the_real_exception_classes(ecs_client: Any) -> None:
    with pytest.raises(ecs_client.exceptions.ClusterNotFoundException):
        ecs_client.delete_cluster(cluster="nowhere")


@pytest.mark.kecs
def test_unmodified_boto3_code_under_the_marker(ecs_client: Any) -> None:
    arn = deploy("api", "python:3.12-slim")
    assert arn == "arn:aws:ecs:us-east-1:000000000000:task-definition/api:1"
    # The code under test and the fixture client share one world.
    assert ecs_client.describe_task_definition(taskDefinition="api")["taskDefinition"]["family"]


def test_the_mock_fixture_and_the_kubernetes_objects(kecs_mock: Any) -> None:
    deploy("worker", "busybox:1.36")
    # Every ECS resource is a Kubernetes object in the test's world: a task definition
    # revision is a PodTemplate in the kecs-system namespace.
    (template,) = kecs_mock.backend.list_all(
        kinds.POD_TEMPLATE, "kecs-system", selector={"kecs.dev/resource": "task-definition"}
    )
    assert template["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"
