"""A long ECS scenario, and what it leaves behind, for the fault-injection and RBAC tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Backend

#: Kinds whose object names Kubernetes generates (compared by count, not by name).
GENERATED = frozenset({kinds.POD, kinds.REPLICA_SET, kinds.EVENT, kinds.CONTROLLER_REVISION})
MANAGED = "app.kubernetes.io/managed-by=kecs"


def _containers(image: str) -> list[dict[str, Any]]:
    return [
        {"name": "app", "image": image, "memory": 128, "portMappings": [{"containerPort": 8080}]}
    ]


def run(ecs: Any) -> dict[str, Any]:
    """Clusters, task definitions, tags, services, tasks, then tearing much of it down.

    Returns the ECS-visible end state with run-specific values (ids, times) left out.
    """
    clusters = [f"shop-{i}" for i in range(5)]
    for name in clusters:
        ecs.create_cluster(clusterName=name, tags=[{"key": "env", "value": "test"}])
    ecs.create_cluster(clusterName=clusters[0])  # idempotent
    for i in range(4):
        for image in ("nginx:1.26", "nginx:1.27"):
            ecs.register_task_definition(family=f"fam-{i}", containerDefinitions=_containers(image))
    arn = ecs.describe_task_definition(taskDefinition="fam-0:1")["taskDefinition"]
    ecs.tag_resource(resourceArn=arn["taskDefinitionArn"], tags=[{"key": "t", "value": "1"}])

    ecs.create_service(
        cluster="shop-0", serviceName="web", taskDefinition="fam-0:1", desiredCount=2
    )
    ecs.create_service(cluster="shop-0", serviceName="api", taskDefinition="fam-1", desiredCount=1)
    tasks = ecs.run_task(cluster="shop-1", taskDefinition="fam-2", count=3)["tasks"]
    ecs.stop_task(cluster="shop-1", task=tasks[0]["taskArn"], reason="scenario")
    ecs.update_service(cluster="shop-0", service="web", desiredCount=3)
    ecs.update_service(cluster="shop-0", service="web", taskDefinition="fam-0:2")

    cluster_arn = ecs.describe_clusters(clusters=["shop-2"])["clusters"][0]["clusterArn"]
    ecs.tag_resource(
        resourceArn=cluster_arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    )
    ecs.untag_resource(resourceArn=cluster_arn, tagKeys=["a"])
    ecs.update_cluster_settings(
        cluster="shop-2", settings=[{"name": "containerInsights", "value": "enabled"}]
    )

    ecs.deregister_task_definition(taskDefinition="fam-3:1")
    ecs.delete_task_definitions(taskDefinitions=["fam-3:1"])
    ecs.delete_service(cluster="shop-0", service="api", force=True)
    for task in tasks[1:]:
        ecs.stop_task(cluster="shop-1", task=task["taskArn"])
    for name in ("shop-3", "shop-4"):
        ecs.delete_cluster(cluster=name)
    return state(ecs, clusters)


def state(ecs: Any, clusters: list[str]) -> dict[str, Any]:
    described = ecs.describe_clusters(clusters=clusters, include=["TAGS", "SETTINGS"])
    services = ecs.describe_services(cluster="shop-0", services=["web", "api"])["services"]
    definitions = {
        status: ecs.list_task_definitions(status=status)["taskDefinitionArns"]
        for status in ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS")
    }
    return {
        "clusterArns": sorted(ecs.list_clusters()["clusterArns"]),
        "clusters": [
            {
                k: c.get(k)
                for k in (
                    "clusterName",
                    "status",
                    "tags",
                    "settings",
                    "activeServicesCount",
                    "runningTasksCount",
                    "pendingTasksCount",
                )
            }
            for c in described["clusters"]
        ],
        "services": [
            {
                k: s.get(k)
                for k in ("serviceName", "status", "desiredCount", "runningCount", "taskDefinition")
            }
            for s in services
        ],
        "taskDefinitions": definitions,
        "tags": ecs.list_tags_for_resource(
            resourceArn=ecs.describe_task_definition(taskDefinition="fam-0:1")["taskDefinition"][
                "taskDefinitionArn"
            ]
        )["tags"],
        "runningTasks": {
            c: len(ecs.list_tasks(cluster=c)["taskArns"]) for c in ("shop-0", "shop-1", "shop-2")
        },
        "stoppedTasks": len(ecs.list_tasks(cluster="shop-1", desiredStatus="STOPPED")["taskArns"]),
    }


def inventory(backend: Backend) -> Counter[tuple[str, str, str]]:
    """Every kecs-made object as (kind, namespace, name); generated names count as ``*``."""
    found: Counter[tuple[str, str, str]] = Counter()
    for kind in kinds.ALL:
        for obj in backend.list_all(kind, selector=MANAGED):
            meta = obj["metadata"]
            name = "*" if kind in GENERATED else meta["name"]
            found[(kind.kind, meta.get("namespace", ""), name)] += 1
    return found
