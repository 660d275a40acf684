"""Cluster operations through the boto3-style client (kecs.operations.clusters)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.backends.memory import MemoryBackend
from kecs.errors import ClusterNotFoundException
from kecs.mapping import cluster as mapping
from kecs.mapping import labels
from kecs.operations import cluster_params
from kecs.operations.cluster_lookup import resolve_cluster
from kecs.operations.context import RequestContext
from tests import targets

ACCOUNT = "000000000000"
REGION = "us-east-1"


# Runs on every backend target: embedded, over HTTP, and a real cluster (tests/targets.py).
pytestmark = targets.ALL


@pytest.fixture
def ecs(backend: MemoryBackend) -> Any:
    return kecs.client("ecs", region_name=REGION, backend=backend)


def arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ecs:{region}:{account}:cluster/{name}"


def error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def namespace_of(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return mapping.namespace_name(account, region, name)


def add_pod(backend: MemoryBackend, cluster: str, name: str, phase: str, **extra: str) -> None:
    """A task pod driven into ``phase`` the way a cluster gets there (the API server ignores
    ``status`` on create): Pending = unschedulable, Succeeded/Failed = its container exits."""
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [{"name": "c", "image": "nginx"}],
    }
    if phase == "Pending":
        spec["nodeSelector"] = {"kecs.test/no-such-node": "true"}
    backend.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace_of(cluster),
                "labels": {**labels.ownership(ACCOUNT, REGION, "task"), **extra},
            },
            "spec": spec,
        }
    )
    if phase in ("Succeeded", "Failed"):
        code = 0 if phase == "Succeeded" else 1
        backend.simulator.exit_container(namespace_of(cluster), name, "c", code)
    pod = backend.get(kinds.POD, name, namespace_of(cluster))
    assert pod["status"]["phase"] == phase


def add_workload(
    backend: MemoryBackend, cluster: str, name: str, kind: str = "Deployment", **extra: str
) -> None:
    backend.create(
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {
                "name": name,
                "namespace": namespace_of(cluster),
                "labels": {**labels.ownership(ACCOUNT, REGION, "service"), **extra},
            },
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )


def add_node(backend: MemoryBackend, cluster: str, name: str) -> None:
    backend.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    labels.RESOURCE: "container-instance",
                    labels.ACCOUNT: ACCOUNT,
                    labels.REGION: REGION,
                    labels.CLUSTER: cluster,
                },
            },
        }
    )


# -- CreateCluster -----------------------------------------------------------------------------


def test_create_cluster_returns_the_cluster(ecs: Any) -> None:
    cluster = ecs.create_cluster(clusterName="web", tags=[{"key": "team", "value": "a"}])["cluster"]
    assert cluster == {
        "clusterArn": arn("web"),
        "clusterName": "web",
        "status": "ACTIVE",
        "registeredContainerInstancesCount": 3,  # the embedded cluster's shared nodes
        "runningTasksCount": 0,
        "pendingTasksCount": 0,
        "activeServicesCount": 0,
        "statistics": [],
        "tags": [{"key": "team", "value": "a"}],
        "settings": [{"name": "containerInsights", "value": "disabled"}],
        "capacityProviders": [],
        "defaultCapacityProviderStrategy": [],
    }


def test_create_cluster_without_a_name_creates_default(ecs: Any) -> None:
    assert ecs.create_cluster()["cluster"]["clusterName"] == "default"
    assert ecs.describe_clusters()["clusters"][0]["clusterArn"] == arn("default")


def test_create_cluster_is_idempotent(ecs: Any, backend: MemoryBackend) -> None:
    first = ecs.create_cluster(clusterName="web", tags=[{"key": "k", "value": "v"}])["cluster"]
    again = ecs.create_cluster(clusterName="web")["cluster"]
    assert again == first  # the existing cluster, unchanged
    namespaces = backend.list_all(kinds.NAMESPACE, selector={labels.RESOURCE: "cluster"})
    assert len(namespaces) == 1


def test_create_cluster_again_with_other_capacity_providers_is_inconsistent(ecs: Any) -> None:
    ecs.create_cluster(clusterName="web", capacityProviders=["FARGATE"])
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.create_cluster(clusterName="web", capacityProviders=["FARGATE_SPOT"])
    assert "inconsistent with arguments used in previous request" in error(excinfo)[1]
    ecs.create_cluster(clusterName="web", capacityProviders=["FARGATE"])


@pytest.mark.parametrize("name", ["a.b", "x" * 256, "with space", "ümlaut", "a/b"])
def test_create_cluster_refuses_illegal_names(ecs: Any, name: str) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.create_cluster(clusterName=name)
    assert "Invalid cluster name" in error(excinfo)[1]


def test_create_cluster_accepts_every_legal_shape_of_name(ecs: Any, backend: MemoryBackend) -> None:
    for name in ["A", "_", "-", "My_Cluster", "my-cluster", "x" * 255, "0123"]:
        assert ecs.create_cluster(clusterName=name)["cluster"]["clusterName"] == name
    listed = ecs.list_clusters()["clusterArns"]
    assert len(listed) == 7
    assert len(backend.list_all(kinds.NAMESPACE, selector={labels.RESOURCE: "cluster"})) == 7


def test_create_cluster_with_everything(ecs: Any) -> None:
    cluster = ecs.create_cluster(
        clusterName="full",
        settings=[{"name": "containerInsights", "value": "enhanced"}],
        configuration={
            "executeCommandConfiguration": {
                "logging": "OVERRIDE",
                "logConfiguration": {"cloudWatchLogGroupName": "/exec"},
            }
        },
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 4},
        ],
        serviceConnectDefaults={"namespace": "internal"},
    )["cluster"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert cluster["configuration"]["executeCommandConfiguration"]["logging"] == "OVERRIDE"
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0},
    ]
    namespace_arn = cluster["serviceConnectDefaults"]["namespace"]
    assert namespace_arn.startswith(f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"settings": [{"name": "containerInsights", "value": "on"}]}, "Invalid value 'on'"),
        ({"settings": [{"name": "other", "value": "enabled"}]}, "Invalid cluster setting name"),
        (
            {"configuration": {"executeCommandConfiguration": {"logging": "OVERRIDE"}}},
            "a logConfiguration must be provided",
        ),
        ({"capacityProviders": ["my-asg-provider"]}, "capacity provider was not found"),
        (
            {
                "capacityProviders": ["FARGATE"],
                "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}],
            },
            "not associated with the cluster",
        ),
        (
            {
                "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
                "defaultCapacityProviderStrategy": [
                    {"capacityProvider": "FARGATE", "base": 1},
                    {"capacityProvider": "FARGATE_SPOT", "base": 2},
                ],
            },
            "Only one capacity provider",
        ),
        ({"tags": [{"key": "aws:owner", "value": "x"}]}, "reserved for AWS use"),
        ({"tags": [{"key": f"k{i}", "value": "v"} for i in range(51)]}, "at most 50 tags"),
        ({"tags": [{"key": "kecs:isolation", "value": "on"}]}, "kecs:isolation"),
        ({"serviceConnectDefaults": {"namespace": "a<b"}}, "namespace name"),
    ],
)
def test_create_cluster_validates(ecs: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.create_cluster(clusterName="bad", **kwargs)
    assert message in error(excinfo)[1]
    assert ecs.list_clusters()["clusterArns"] == []


def test_the_namespace_is_in_the_backend(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(
        clusterName="My_Cluster",
        tags=[{"key": "kubernetes.io/evil", "value": "x"}, {"key": "team", "value": "a"}],
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )
    ns = backend.get(kinds.NAMESPACE, namespace_of("My_Cluster"))
    meta = ns["metadata"]
    assert meta["name"].startswith("my-cluster-")
    assert meta["labels"] == {
        labels.MANAGED_BY: "kecs",
        labels.RESOURCE: "cluster",
        labels.ACCOUNT: ACCOUNT,
        labels.REGION: REGION,
        labels.CLUSTER: "My_Cluster",
        "kubernetes.io/metadata.name": meta["name"],
    }
    ann = meta["annotations"]
    assert ann[labels.ANN_CLUSTER_NAME] == "My_Cluster"
    assert ann[labels.ANN_CLUSTER_ARN] == arn("My_Cluster")
    assert json.loads(ann[labels.ANN_TAGS]) == [
        {"key": "kubernetes.io/evil", "value": "x"},
        {"key": "team", "value": "a"},
    ]
    assert json.loads(ann[mapping.ANN_SETTINGS]) == [
        {"name": "containerInsights", "value": "enabled"}
    ]


# -- DescribeClusters --------------------------------------------------------------------------


def test_describe_includes_only_what_is_asked(ecs: Any) -> None:
    ecs.create_cluster(
        clusterName="web",
        tags=[{"key": "k", "value": "v"}],
        configuration={"managedStorageConfiguration": {"kmsKeyId": "key"}},
    )
    plain = ecs.describe_clusters(clusters=["web"])["clusters"][0]
    assert plain["tags"] == [] and plain["settings"] == [] and plain["statistics"] == []
    assert "configuration" not in plain and "attachments" not in plain
    full = ecs.describe_clusters(
        clusters=["web"],
        include=["TAGS", "SETTINGS", "STATISTICS", "CONFIGURATIONS", "ATTACHMENTS"],
    )["clusters"][0]
    assert full["tags"] == [{"key": "k", "value": "v"}]
    assert full["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    assert full["configuration"] == {"managedStorageConfiguration": {"kmsKeyId": "key"}}
    assert full["attachments"] == []
    assert [s["name"] for s in full["statistics"]] == [
        "runningEC2TasksCount",
        "runningFargateTasksCount",
        "pendingEC2TasksCount",
        "pendingFargateTasksCount",
        "activeEC2ServiceCount",
        "activeFargateServiceCount",
        "drainingEC2ServiceCount",
        "drainingFargateServiceCount",
    ]
    assert {s["value"] for s in full["statistics"]} == {"0"}


def test_describe_by_name_and_arn_with_missing_failures(ecs: Any) -> None:
    ecs.create_cluster(clusterName="a")
    response = ecs.describe_clusters(
        clusters=["a", arn("a"), "nope", arn("gone"), arn("a", region="eu-west-1"), "bad.name"]
    )
    assert [c["clusterName"] for c in response["clusters"]] == ["a", "a"]
    assert response["failures"] == [
        {"arn": arn("nope"), "reason": "MISSING"},
        {"arn": arn("gone"), "reason": "MISSING"},
        {"arn": arn("a", region="eu-west-1"), "reason": "MISSING"},
        {"arn": arn("bad.name"), "reason": "MISSING"},
    ]


def test_describe_defaults_to_the_default_cluster(ecs: Any) -> None:
    assert ecs.describe_clusters()["failures"] == [{"arn": arn("default"), "reason": "MISSING"}]
    ecs.create_cluster()
    assert ecs.describe_clusters()["clusters"][0]["clusterName"] == "default"


def test_describe_refuses_bad_include_and_too_many_clusters(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_clusters(include=["EVERYTHING"])
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_clusters(clusters=[f"c{i}" for i in range(101)])


# -- ListClusters ------------------------------------------------------------------------------


def test_list_clusters_pages(ecs: Any) -> None:
    names = [f"c{i:03d}" for i in range(25)]
    for name in names:
        ecs.create_cluster(clusterName=name)
    first = ecs.list_clusters(maxResults=10)
    assert first["clusterArns"] == [arn(n) for n in names[:10]]
    second = ecs.list_clusters(maxResults=10, nextToken=first["nextToken"])
    assert second["clusterArns"] == [arn(n) for n in names[10:20]]
    third = ecs.list_clusters(maxResults=10, nextToken=second["nextToken"])
    assert third["clusterArns"] == [arn(n) for n in names[20:]]
    assert "nextToken" not in third
    assert "nextToken" not in ecs.list_clusters()


def test_list_clusters_with_the_paginator(ecs: Any) -> None:
    for i in range(7):
        ecs.create_cluster(clusterName=f"c{i}")
    pages = list(ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["clusterArns"]) for p in pages] == [3, 3, 1]
    everything = ecs.get_paginator("list_clusters").paginate().build_full_result()
    assert everything["clusterArns"] == [arn(f"c{i}") for i in range(7)]


def test_list_clusters_default_page_is_100(ecs: Any) -> None:
    for i in range(101):
        ecs.create_cluster(clusterName=f"c{i:03d}")
    page = ecs.list_clusters()
    assert len(page["clusterArns"]) == 100
    assert ecs.list_clusters(nextToken=page["nextToken"])["clusterArns"] == [arn("c100")]


@pytest.mark.parametrize("params", [{"maxResults": 0}, {"maxResults": 101}, {"nextToken": "x!"}])
def test_list_clusters_refuses_bad_paging(ecs: Any, params: dict[str, Any]) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_clusters(**params)


def test_clients_on_one_backend_share_clusters_regions_and_accounts_do_not(
    backend: MemoryBackend,
) -> None:
    east = kecs.client("ecs", region_name=REGION, backend=backend)
    east_again = kecs.client("ecs", region_name=REGION, backend=backend)
    west = kecs.client("ecs", region_name="eu-west-1", backend=backend)
    other = kecs.client("ecs", region_name=REGION, backend=backend, account_id="111111111111")
    east.create_cluster(clusterName="shared")
    assert east_again.list_clusters()["clusterArns"] == [arn("shared")]
    assert east_again.describe_clusters(clusters=["shared"])["clusters"][0]["status"] == "ACTIVE"
    assert west.list_clusters()["clusterArns"] == []
    assert other.list_clusters()["clusterArns"] == []
    assert west.describe_clusters(clusters=["shared"])["clusters"] == []
    # The same name elsewhere is a different cluster with its own namespace.
    west.create_cluster(clusterName="shared")
    other.create_cluster(clusterName="shared")
    assert west.list_clusters()["clusterArns"] == [arn("shared", region="eu-west-1")]
    assert other.list_clusters()["clusterArns"] == [arn("shared", account="111111111111")]
    east.delete_cluster(cluster="shared")
    assert west.describe_clusters(clusters=["shared"])["clusters"][0]["status"] == "ACTIVE"
    assert other.describe_clusters(clusters=["shared"])["clusters"][0]["status"] == "ACTIVE"


def test_two_clusters_differing_in_case_are_distinct(ecs: Any) -> None:
    ecs.create_cluster(clusterName="App", tags=[{"key": "v", "value": "1"}])
    ecs.create_cluster(clusterName="app", tags=[{"key": "v", "value": "2"}])
    ecs.create_cluster(clusterName="a_pp")
    ecs.create_cluster(clusterName="a-pp")
    described = ecs.describe_clusters(clusters=["App", "app"], include=["TAGS"])["clusters"]
    assert [c["tags"][0]["value"] for c in described] == ["1", "2"]
    assert len(ecs.list_clusters()["clusterArns"]) == 4


# -- UpdateCluster / UpdateClusterSettings / PutClusterCapacityProviders ---------------------------


def test_update_cluster(ecs: Any) -> None:
    ecs.create_cluster(
        clusterName="web", configuration={"managedStorageConfiguration": {"kmsKeyId": "k1"}}
    )
    updated = ecs.update_cluster(
        cluster="web",
        settings=[{"name": "containerInsights", "value": "enabled"}],
        configuration={"executeCommandConfiguration": {"logging": "NONE"}},
        serviceConnectDefaults={"namespace": "svc"},
    )["cluster"]
    assert updated["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert updated["configuration"] == {
        "managedStorageConfiguration": {"kmsKeyId": "k1"},
        "executeCommandConfiguration": {"logging": "NONE"},
    }
    assert "serviceConnectDefaults" in updated
    described = ecs.describe_clusters(clusters=[arn("web")], include=["SETTINGS"])["clusters"][0]
    assert described["settings"] == updated["settings"]
    assert described["serviceConnectDefaults"] == updated["serviceConnectDefaults"]
    # An empty namespace removes the Service Connect defaults, as on AWS.
    removed = ecs.update_cluster(cluster="web", serviceConnectDefaults={"namespace": ""})
    assert "serviceConnectDefaults" not in removed["cluster"]


def test_update_cluster_settings(ecs: Any) -> None:
    ecs.create_cluster(clusterName="web")
    cluster = ecs.update_cluster_settings(
        cluster="web", settings=[{"name": "containerInsights", "value": "enhanced"}]
    )["cluster"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.update_cluster_settings(
            cluster="web", settings=[{"name": "containerInsights", "value": "maybe"}]
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda ecs: ecs.update_cluster(cluster="nope", settings=[]),
        lambda ecs: ecs.update_cluster_settings(cluster="nope", settings=[]),
        lambda ecs: ecs.put_cluster_capacity_providers(
            cluster="nope", capacityProviders=[], defaultCapacityProviderStrategy=[]
        ),
        lambda ecs: ecs.delete_cluster(cluster="nope"),
        lambda ecs: ecs.delete_cluster(cluster=arn("nope")),
    ],
)
def test_unknown_clusters_are_not_found(ecs: Any, call: Any) -> None:
    with pytest.raises(ecs.exceptions.ClusterNotFoundException) as excinfo:
        call(ecs)
    assert error(excinfo) == ("ClusterNotFoundException", "Cluster not found.")


def test_put_cluster_capacity_providers(ecs: Any) -> None:
    ecs.create_cluster(clusterName="web")
    cluster = ecs.put_cluster_capacity_providers(
        cluster="web",
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 2}],
    )["cluster"]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 2, "base": 0}
    ]
    described = ecs.describe_clusters(clusters=["web"], include=["ATTACHMENTS"])["clusters"][0]
    assert described["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert described["attachmentsStatus"] == "UPDATE_COMPLETE"
    cleared = ecs.put_cluster_capacity_providers(
        cluster="web", capacityProviders=[], defaultCapacityProviderStrategy=[]
    )["cluster"]
    assert cleared["capacityProviders"] == []


def test_put_cluster_capacity_providers_refuses_unknown_providers(ecs: Any) -> None:
    ecs.create_cluster(clusterName="web")
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.put_cluster_capacity_providers(
            cluster="web", capacityProviders=["mine"], defaultCapacityProviderStrategy=[]
        )
    assert error(excinfo)[1] == (
        "The specified capacity provider was not found. "
        "Specify a valid capacity provider and try again."
    )


@pytest.fixture
def provider_named_mine() -> Iterator[None]:
    def lookup(ctx: RequestContext, name: str) -> bool:
        return name == "mine"

    cluster_params.register_capacity_provider_lookup(lookup)
    yield
    cluster_params._provider_lookups.remove(lookup)


@pytest.mark.usefixtures("provider_named_mine")
def test_capacity_provider_hook_admits_other_providers(ecs: Any) -> None:
    ecs.create_cluster(clusterName="web")
    cluster = ecs.put_cluster_capacity_providers(
        cluster="web",
        capacityProviders=["mine"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "mine", "weight": 1}],
    )["cluster"]
    assert cluster["capacityProviders"] == ["mine"]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.put_cluster_capacity_providers(
            cluster="web",
            capacityProviders=["mine", "FARGATE"],
            defaultCapacityProviderStrategy=[
                {"capacityProvider": "mine", "weight": 1},
                {"capacityProvider": "FARGATE", "weight": 1},
            ],
        )
    assert "cannot contain a mix" in error(excinfo)[1]


# -- DeleteCluster -----------------------------------------------------------------------------


def test_delete_cluster_leaves_an_inactive_record(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="web", tags=[{"key": "k", "value": "v"}])
    deleted = ecs.delete_cluster(cluster="web")["cluster"]
    assert deleted["status"] == "INACTIVE"
    assert deleted["clusterArn"] == arn("web")
    assert deleted["tags"] == [{"key": "k", "value": "v"}]
    with pytest.raises(NotFound):
        backend.get(kinds.NAMESPACE, namespace_of("web"))
    described = ecs.describe_clusters(clusters=["web"], include=["TAGS"])
    assert described["failures"] == []
    assert described["clusters"][0]["status"] == "INACTIVE"
    assert described["clusters"][0]["tags"] == [{"key": "k", "value": "v"}]
    assert ecs.list_clusters()["clusterArns"] == []
    tomb = backend.get(
        kinds.CONFIG_MAP, mapping.tombstone_name(ACCOUNT, REGION, "web"), labels.SYSTEM_NAMESPACE
    )
    assert tomb["metadata"]["labels"][labels.ACCOUNT] == ACCOUNT
    assert tomb["metadata"]["labels"][labels.REGION] == REGION
    assert tomb["metadata"]["labels"][labels.STATUS] == "INACTIVE"
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.delete_cluster(cluster="web")
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.update_cluster_settings(cluster="web", settings=[])


def test_recreating_a_deleted_cluster_makes_it_active(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="web", tags=[{"key": "old", "value": "1"}])
    ecs.delete_cluster(cluster="web")
    created = ecs.create_cluster(clusterName="web")["cluster"]
    assert created["status"] == "ACTIVE"
    assert created["tags"] == []  # a new cluster, not the old one revived
    assert ecs.list_clusters()["clusterArns"] == [arn("web")]
    assert ecs.describe_clusters(clusters=["web"])["clusters"][0]["status"] == "ACTIVE"
    with pytest.raises(NotFound):
        backend.get(
            kinds.CONFIG_MAP,
            mapping.tombstone_name(ACCOUNT, REGION, "web"),
            labels.SYSTEM_NAMESPACE,
        )
    ecs.delete_cluster(cluster="web")
    assert ecs.describe_clusters(clusters=["web"])["clusters"][0]["status"] == "INACTIVE"


def test_delete_refuses_while_services_are_active(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="web")
    add_workload(backend, "web", "svc")
    with pytest.raises(ecs.exceptions.ClusterContainsServicesException) as excinfo:
        ecs.delete_cluster(cluster="web")
    assert error(excinfo)[1] == "The Cluster cannot be deleted while Services are active."
    backend.delete(kinds.DEPLOYMENT, "svc", namespace_of("web"))
    add_workload(backend, "web", "daemon", kind="DaemonSet")
    with pytest.raises(ecs.exceptions.ClusterContainsServicesException):
        ecs.delete_cluster(cluster="web")
    backend.patch(
        kinds.DAEMON_SET,
        "daemon",
        {"metadata": {"labels": {labels.STATUS: "INACTIVE"}}},
        namespace_of("web"),
    )
    assert ecs.delete_cluster(cluster="web")["cluster"]["status"] == "INACTIVE"


@pytest.mark.backends("memory", "k8s-http")  # drives pod states with the embedded simulator
def test_delete_refuses_while_tasks_are_active(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="web")
    add_pod(backend, "web", "done", "Succeeded")
    add_pod(backend, "web", "failed", "Failed")
    add_pod(backend, "web", "task", "Pending")
    with pytest.raises(ecs.exceptions.ClusterContainsTasksException) as excinfo:
        ecs.delete_cluster(cluster="web")
    assert error(excinfo)[1] == "The Cluster cannot be deleted while Tasks are active."
    backend.delete(kinds.POD, "task", namespace_of("web"))
    ecs.delete_cluster(cluster="web")


def test_delete_refuses_while_container_instances_are_registered(
    ecs: Any, backend: MemoryBackend
) -> None:
    ecs.create_cluster(clusterName="web")
    add_node(backend, "web", "node-1")
    with pytest.raises(ecs.exceptions.ClusterContainsContainerInstancesException) as excinfo:
        ecs.delete_cluster(cluster="web")
    assert error(excinfo)[1] == (
        "The Cluster cannot be deleted while Container Instances are active."
    )
    cluster = ecs.describe_clusters(clusters=["web"])["clusters"][0]
    # The embedded cluster's 3 shared nodes serve every cluster, plus the dedicated one.
    assert cluster["registeredContainerInstancesCount"] == 4


# -- counters ----------------------------------------------------------------------------------


@pytest.mark.backends("memory", "k8s-http")  # drives pod states with the embedded simulator
def test_counters_come_from_the_backend(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="web")
    ecs.create_cluster(clusterName="other")
    add_pod(backend, "web", "r1", "Running")
    add_pod(backend, "web", "r2", "Running", **{labels.LAUNCH_TYPE: "FARGATE"})
    add_pod(backend, "web", "p1", "Pending", **{labels.LAUNCH_TYPE: "FARGATE"})
    add_pod(backend, "web", "s1", "Succeeded")
    add_pod(backend, "other", "r1", "Running")
    backend.create(  # not a task: no kecs.dev/resource=task label
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "sidecar", "namespace": namespace_of("web")},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
    )
    add_workload(backend, "web", "svc1", **{labels.LAUNCH_TYPE: "FARGATE"})
    add_workload(backend, "web", "svc2", kind="DaemonSet")
    add_workload(backend, "web", "svc3", **{labels.STATUS: "DRAINING"})
    add_workload(backend, "web", "svc4", **{labels.STATUS: "INACTIVE"})
    cluster = ecs.describe_clusters(clusters=["web"], include=["STATISTICS"])["clusters"][0]
    assert cluster["runningTasksCount"] == 2
    assert cluster["pendingTasksCount"] == 1
    assert cluster["activeServicesCount"] == 2
    assert cluster["registeredContainerInstancesCount"] == 3  # the shared default nodes
    assert {s["name"]: s["value"] for s in cluster["statistics"]} == {
        "runningEC2TasksCount": "1",
        "runningFargateTasksCount": "1",
        "pendingEC2TasksCount": "0",
        "pendingFargateTasksCount": "1",
        "activeEC2ServiceCount": "1",
        "activeFargateServiceCount": "1",
        "drainingEC2ServiceCount": "1",
        "drainingFargateServiceCount": "0",
    }
    other = ecs.describe_clusters(clusters=["other"])["clusters"][0]
    assert other["runningTasksCount"] == 1 and other["activeServicesCount"] == 0
    # Counters follow the backend: a pod that stops no longer counts.
    backend.simulator.exit_container(namespace_of("web"), "r1", "c", 1)
    assert ecs.describe_clusters(clusters=["web"])["clusters"][0]["runningTasksCount"] == 1
    assert ecs.create_cluster(clusterName="web")["cluster"]["runningTasksCount"] == 1


# -- resolve_cluster ---------------------------------------------------------------------------


class CountingBackend(MemoryBackend):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return super().get(*args, **kwargs)

    def list(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return super().list(*args, **kwargs)

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return super().find(*args, **kwargs)


def test_resolve_cluster_costs_one_read() -> None:
    backend = CountingBackend()
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="web")
    ecs.create_cluster()
    ctx = RequestContext(backend=backend, region=REGION, account_id=ACCOUNT)
    for identifier, name in [("web", "web"), (arn("web"), "web"), (None, "default")]:
        backend.reads = 0
        ref = resolve_cluster(ctx, identifier)
        assert backend.reads == 1
        assert (ref.name, ref.arn, ref.namespace) == (name, arn(name), namespace_of(name))
        assert ref.spec.name == name


@pytest.mark.parametrize(
    "identifier",
    ["nope", arn("web", region="eu-west-1"), arn("web", account="111111111111"), "a.b", "arn:x"],
)
def test_resolve_cluster_refuses_unknown_clusters(
    ecs: Any, backend: MemoryBackend, identifier: str
) -> None:
    ecs.create_cluster(clusterName="web")
    ctx = RequestContext(backend=backend, region=REGION, account_id=ACCOUNT)
    with pytest.raises(ClusterNotFoundException, match=r"^Cluster not found\.$"):
        resolve_cluster(ctx, identifier)


def test_resolve_cluster_refuses_inactive_clusters(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="web")
    ecs.delete_cluster(cluster="web")
    ctx = RequestContext(backend=backend, region=REGION, account_id=ACCOUNT)
    with pytest.raises(ClusterNotFoundException):
        resolve_cluster(ctx, "web")


# -- concurrency -------------------------------------------------------------------------------


def test_concurrent_creates_of_one_name_make_one_cluster(backend: MemoryBackend) -> None:
    clients = [kecs.client("ecs", region_name=REGION, backend=backend) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: c.create_cluster(clusterName="web")["cluster"], clients))
    assert {r["clusterArn"] for r in results} == {arn("web")}
    assert {r["status"] for r in results} == {"ACTIVE"}
    assert len(backend.list_all(kinds.NAMESPACE, selector={labels.RESOURCE: "cluster"})) == 1


def test_concurrent_updates_do_not_lose_each_other(backend: MemoryBackend) -> None:
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="web")

    def tag(i: int) -> None:
        ecs.tag_resource(resourceArn=arn("web"), tags=[{"key": f"k{i}", "value": "v"}])

    def settings(i: int) -> None:
        value = ["enabled", "disabled", "enhanced"][i % 3]
        ecs.update_cluster_settings(
            cluster="web", settings=[{"name": "containerInsights", "value": value}]
        )

    def providers(i: int) -> None:
        ecs.put_cluster_capacity_providers(
            cluster="web", capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[]
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        # Tags from one thread (TagResource is read-then-write), the rest racing against it.
        futures = [pool.submit(lambda: [tag(i) for i in range(20)])]
        futures += [pool.submit(settings, i) for i in range(20)]
        futures += [pool.submit(providers, i) for i in range(10)]
        for future in futures:
            future.result()
    cluster = ecs.describe_clusters(clusters=["web"], include=["TAGS"])["clusters"][0]
    assert {t["key"] for t in cluster["tags"]} == {f"k{i}" for i in range(20)}
    assert cluster["capacityProviders"] == ["FARGATE"]


def test_create_refuses_a_namespace_that_records_another_cluster(
    ecs: Any, backend: MemoryBackend
) -> None:
    # A (practically impossible) hash collision, or a namespace still terminating: never share.
    backend.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace_of("web")}}
    )
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.create_cluster(clusterName="web")
    assert namespace_of("web") in error(excinfo)[1]
    assert ecs.describe_clusters(clusters=["web"])["failures"][0]["reason"] == "MISSING"
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.delete_cluster(cluster="web")


def test_describing_many_clusters_counts_each_on_its_own(ecs: Any, backend: MemoryBackend) -> None:
    """The batched read (one list per kind across namespaces) keeps every cluster's figures."""
    for name in ("a", "b", "c"):
        ecs.create_cluster(clusterName=name)
    add_pod(backend, "a", "r1", "Running")
    add_pod(backend, "b", "r1", "Running")
    add_pod(backend, "b", "r2", "Running")
    ecs.delete_cluster(cluster="c")
    answer = ecs.describe_clusters(clusters=["a", "b", "c", "missing", "a"])
    found = [(c["clusterName"], c["status"], c["runningTasksCount"]) for c in answer["clusters"]]
    assert found == [
        ("a", "ACTIVE", 1),
        ("b", "ACTIVE", 2),
        ("c", "INACTIVE", 0),
        ("a", "ACTIVE", 1),
    ]
    assert [f["arn"] for f in answer["failures"]] == [arn("missing")]


@pytest.mark.backends("memory", "k8s-http")
def test_a_cluster_with_stopped_task_records_can_be_deleted_and_recreated(
    ecs: Any, backend: MemoryBackend
) -> None:
    ecs.create_cluster(clusterName="web")
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 64}]
    )
    task = ecs.run_task(cluster="web", taskDefinition="app")["tasks"][0]["taskArn"]
    ecs.stop_task(cluster="web", task=task)
    assert ecs.describe_tasks(cluster="web", tasks=[task])["tasks"][0]["lastStatus"] == "STOPPED"
    ecs.delete_cluster(cluster="web")
    with pytest.raises(NotFound):
        backend.get(kinds.NAMESPACE, namespace_of("web"))
    assert ecs.create_cluster(clusterName="web")["cluster"]["status"] == "ACTIVE"
