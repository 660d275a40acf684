"""Kubernetes API requests per ECS operation, through ``KubernetesBackend``.

Each operation runs against a world of 10 clusters, 10 task definition families, 10 services
and 10 tasks, on the embedded cluster served over HTTP (the requests are the ones a real
cluster would get). The counter is reset before each call, so each row is exactly what that
one ECS call cost. ``tests/backends/kubernetes/test_request_counts.py`` pins these numbers.

    python benchmarks/bench_requests.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

#: Size of the world each operation runs in.
WORLD = 10
CLUSTER = "c0"
ROLE = "arn:aws:iam::000000000000:role/bench-task"
TARGET_GROUP = (
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/bench/0123456789abcdef"
)


class Row(NamedTuple):
    operation: str
    requests: int
    by_verb: dict[str, int]


def _container(name: str = "web") -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "image": "nginx:1.27",
            "memory": 128,
            "portMappings": [{"containerPort": 80}],
        }
    ]


def _world(ecs: Any) -> dict[str, list[str]]:
    clusters = [f"c{i}" for i in range(WORLD)]
    for name in clusters:
        ecs.create_cluster(clusterName=name, tags=[{"key": "team", "value": "a"}])
    families = [f"family-{i}" for i in range(WORLD)]
    for family in families:
        ecs.register_task_definition(family=family, containerDefinitions=_container())
    services = [f"svc-{i}" for i in range(WORLD)]
    for service in services:
        ecs.create_service(
            cluster=CLUSTER, serviceName=service, taskDefinition="family-0", desiredCount=1
        )
    tasks = ecs.run_task(cluster=CLUSTER, taskDefinition="family-1", count=WORLD)["tasks"]
    return {
        "clusters": clusters,
        "families": families,
        "services": services,
        "tasks": [t["taskArn"] for t in tasks],
    }


def operations(world: dict[str, list[str]]) -> list[tuple[str, Callable[[Any], Any]]]:
    """(label, call) pairs, run in this order on one world."""
    c, tasks, services = world["clusters"], world["tasks"], world["services"]
    return [
        ("CreateCluster (new)", lambda e: e.create_cluster(clusterName="fresh")),
        ("CreateCluster (exists)", lambda e: e.create_cluster(clusterName="fresh")),
        ("DescribeClusters (1)", lambda e: e.describe_clusters(clusters=c[:1])),
        ("DescribeClusters (10)", lambda e: e.describe_clusters(clusters=c)),
        (
            "DescribeClusters (10, include all)",
            lambda e: e.describe_clusters(
                clusters=c,
                include=["ATTACHMENTS", "SETTINGS", "STATISTICS", "TAGS", "CONFIGURATIONS"],
            ),
        ),
        ("ListClusters (11)", lambda e: e.list_clusters()),
        (
            "UpdateClusterSettings",
            lambda e: e.update_cluster_settings(
                cluster="c1", settings=[{"name": "containerInsights", "value": "enabled"}]
            ),
        ),
        (
            "TagResource (cluster)",
            lambda e: e.tag_resource(
                resourceArn=_cluster_arn(e, "c1"), tags=[{"key": "k", "value": "v"}]
            ),
        ),
        (
            "ListTagsForResource (cluster)",
            lambda e: e.list_tags_for_resource(resourceArn=_cluster_arn(e, "c1")),
        ),
        (
            "RegisterTaskDefinition (new family)",
            lambda e: e.register_task_definition(family="new", containerDefinitions=_container()),
        ),
        (
            "RegisterTaskDefinition (revision 2)",
            lambda e: e.register_task_definition(family="new", containerDefinitions=_container()),
        ),
        ("DescribeTaskDefinition", lambda e: e.describe_task_definition(taskDefinition="new:1")),
        ("ListTaskDefinitions (12)", lambda e: e.list_task_definitions()),
        ("ListTaskDefinitionFamilies (11)", lambda e: e.list_task_definition_families()),
        (
            "DeregisterTaskDefinition",
            lambda e: e.deregister_task_definition(taskDefinition="new:1"),
        ),
        (
            "CreateService",
            lambda e: e.create_service(
                cluster=CLUSTER, serviceName="extra", taskDefinition="family-2", desiredCount=2
            ),
        ),
        (
            "DescribeServices (1)",
            lambda e: e.describe_services(cluster=CLUSTER, services=services[:1]),
        ),
        (
            "DescribeServices (10)",
            lambda e: e.describe_services(cluster=CLUSTER, services=services),
        ),
        ("ListServices (11)", lambda e: e.list_services(cluster=CLUSTER)),
        (
            "UpdateService (desiredCount)",
            lambda e: e.update_service(cluster=CLUSTER, service="extra", desiredCount=3),
        ),
        ("RunTask (1)", lambda e: e.run_task(cluster=CLUSTER, taskDefinition="family-1")),
        (
            "RunTask (10)",
            lambda e: e.run_task(cluster=CLUSTER, taskDefinition="family-1", count=10),
        ),
        ("DescribeTasks (1)", lambda e: e.describe_tasks(cluster=CLUSTER, tasks=tasks[:1])),
        ("DescribeTasks (10)", lambda e: e.describe_tasks(cluster=CLUSTER, tasks=tasks)),
        ("ListTasks", lambda e: e.list_tasks(cluster=CLUSTER)),
        ("StopTask", lambda e: e.stop_task(cluster=CLUSTER, task=tasks[0])),
        (
            "DeleteService (force)",
            lambda e: e.delete_service(cluster=CLUSTER, service="extra", force=True),
        ),
        (
            "RunTask (task role, first)",
            lambda e: e.run_task(cluster=CLUSTER, taskDefinition="roled"),
        ),
        (
            "RunTask (task role, again)",
            lambda e: e.run_task(cluster=CLUSTER, taskDefinition="roled"),
        ),
        (
            "CreateService (load balancer, Service Connect)",
            lambda e: e.create_service(
                cluster=CLUSTER,
                serviceName="wired",
                taskDefinition="named",
                desiredCount=1,
                loadBalancers=[
                    {"targetGroupArn": TARGET_GROUP, "containerName": "web", "containerPort": 80}
                ],
                serviceConnectConfiguration=_service_connect(),
            ),
        ),
        (
            "UpdateService (new deployment, attachments)",
            lambda e: e.update_service(cluster=CLUSTER, service="wired", forceNewDeployment=True),
        ),
        (
            "DeleteService (attachments)",
            lambda e: e.delete_service(cluster=CLUSTER, service="wired", force=True),
        ),
        ("DeleteCluster", lambda e: e.delete_cluster(cluster="fresh")),
    ]


def _service_connect() -> dict[str, Any]:
    alias = {"port": 80, "dnsName": "web"}
    entry = {"portName": "http", "discoveryName": "web-sc", "clientAliases": [alias]}
    return {"enabled": True, "namespace": "internal", "services": [entry]}


#: Set-up a row needs that is not part of its cost (run before the counter is reset).
SETUP: dict[str, Callable[[Any], Any]] = {
    "RunTask (task role, first)": lambda e: e.register_task_definition(
        family="roled", taskRoleArn=ROLE, containerDefinitions=_container()
    ),
    "CreateService (load balancer, Service Connect)": lambda e: e.register_task_definition(
        family="named",
        containerDefinitions=[
            {**_container()[0], "portMappings": [{"containerPort": 80, "name": "http"}]}
        ],
    ),
}


def _cluster_arn(ecs: Any, name: str) -> str:
    return str(ecs.describe_clusters(clusters=[name])["clusters"][0]["clusterArn"])


def measure() -> list[Row]:
    """Each operation's requests, on a fresh embedded cluster served over HTTP."""
    if "kecs" not in sys.modules:  # run from a checkout without installing
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import kecs
    from kecs.apiserver import serve_kubernetes_api
    from kecs.backends.memory import MemoryBackend

    with serve_kubernetes_api(MemoryBackend()) as server:
        backend = kecs.KubernetesBackend(kubeconfig=server.kubeconfig_path)
        try:
            return measure_on(backend)
        finally:
            backend.close()


def measure_on(backend: Any) -> list[Row]:
    """Each operation's requests on ``backend`` (a KubernetesBackend with an empty world)."""
    import kecs

    ecs = kecs.client("ecs", backend=backend)
    world = _world(ecs)
    rows = []
    for label, call in operations(world):
        prepared = call
        if "(cluster)" in label:
            # The ARN is looked up before the count starts, so the row is the call alone.
            prepared = _with_arn(label, _cluster_arn(ecs, "c1"))
        if label in SETUP:
            SETUP[label](ecs)
        backend.requests.reset()
        prepared(ecs)
        rows.append(Row(label, backend.requests.total, backend.requests.by_verb_and_kind()))
    return rows


def _with_arn(label: str, arn: str) -> Callable[[Any], Any]:
    if label.startswith("TagResource"):
        return lambda e: e.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
    return lambda e: e.list_tags_for_resource(resourceArn=arn)


def report(rows: list[Row], verbose: bool = False) -> str:
    width = max(len(r.operation) for r in rows)
    lines = [f"{'ECS operation':<{width}}  requests", f"{'-' * width}  --------"]
    for row in rows:
        lines.append(f"{row.operation:<{width}}  {row.requests:>8}")
        if verbose:
            lines.extend(f"{'':<{width}}    {n:>4}  {what}" for what, n in row.by_verb.items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="break rows down by verb and kind")
    args = parser.parse_args(argv)
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        print("bench_requests: skipped (install kecs[kubernetes] for KubernetesBackend)")
        return 0
    print(report(measure(), args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
