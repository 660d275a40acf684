"""TagResource / UntagResource / ListTagsForResource, and cluster isolation through tags."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import kecs
from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.backends.memory import MemoryBackend
from kecs.mapping import cluster as mapping
from kecs.mapping import labels
from kecs.operations import tagging
from kecs.operations.context import RequestContext
from tests import targets
from tests.k8s_schema import validate_strict

ACCOUNT = "000000000000"
REGION = "us-east-1"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web"


# Runs on every backend target: embedded, over HTTP, and a real cluster (tests/targets.py).
pytestmark = targets.ALL


@pytest.fixture
def ecs(backend: MemoryBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="web")
    return client


def error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def tags_of(ecs: Any, arn: str = CLUSTER_ARN) -> list[dict[str, str]]:
    return list(ecs.list_tags_for_resource(resourceArn=arn)["tags"])


def namespace() -> str:
    return mapping.namespace_name(ACCOUNT, REGION, "web")


def isolation_objects(backend: MemoryBackend) -> dict[str, dict[str, Any]]:
    found = {}
    for kind in (kinds.RESOURCE_QUOTA, kinds.NETWORK_POLICY):
        with contextlib.suppress(NotFound):
            found[kind.kind] = backend.get(kind, mapping.ISOLATION_OBJECT_NAME, namespace())
    return found


# -- the three operations on clusters ----------------------------------------------------------


def test_tag_list_untag_a_cluster(ecs: Any, backend: MemoryBackend) -> None:
    assert tags_of(ecs) == []
    ecs.tag_resource(
        resourceArn=CLUSTER_ARN,
        tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "dev"}],
    )
    ecs.tag_resource(
        resourceArn=CLUSTER_ARN,
        tags=[{"key": "team", "value": "b"}, {"key": "cost", "value": ""}],
    )
    assert tags_of(ecs) == [
        {"key": "team", "value": "b"},
        {"key": "env", "value": "dev"},
        {"key": "cost", "value": ""},
    ]
    ecs.untag_resource(resourceArn=CLUSTER_ARN, tagKeys=["env", "absent"])
    assert tags_of(ecs) == [{"key": "team", "value": "b"}, {"key": "cost", "value": ""}]
    described = ecs.describe_clusters(clusters=["web"], include=["TAGS"])["clusters"][0]
    assert described["tags"] == tags_of(ecs)
    # Tags live in an annotation; no tag ever becomes a label.
    ns = backend.get(kinds.NAMESPACE, namespace())
    assert json.loads(ns["metadata"]["annotations"][labels.ANN_TAGS]) == tags_of(ecs)
    assert not any("team" in key for key in ns["metadata"]["labels"])


def test_tags_in_reserved_domains_stay_out_of_labels(ecs: Any, backend: MemoryBackend) -> None:
    reserved = [
        {"key": "kubernetes.io/metadata.name", "value": "hijack"},
        {"key": "kecs.dev/cluster", "value": "other"},
        {"key": "app.kubernetes.io/managed-by", "value": "me"},
    ]
    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=reserved)
    assert tags_of(ecs) == reserved
    meta_labels = backend.get(kinds.NAMESPACE, namespace())["metadata"]["labels"]
    assert meta_labels[labels.CLUSTER] == "web"
    assert meta_labels[labels.MANAGED_BY] == "kecs"
    assert meta_labels["kubernetes.io/metadata.name"] == namespace()


def test_other_clients_see_the_tags(ecs: Any, backend: MemoryBackend) -> None:
    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "k", "value": "v"}])
    other = kecs.client("ecs", region_name=REGION, backend=backend)
    assert tags_of(other) == [{"key": "k", "value": "v"}]


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([{"key": "aws:created-by", "value": "x"}], "reserved for AWS use"),
        ([{"key": "AWS:x", "value": "x"}], "reserved for AWS use"),
        ([{"key": "k" * 129, "value": "x"}], "between 1 and 128"),
        ([{"key": "k", "value": "v" * 257}], "at most 256"),
        ([{"key": "bad#key", "value": "x"}], "may only use"),
        ([{"key": f"k{i}", "value": "v"} for i in range(51)], "at most 50 tags"),
    ],
)
def test_tag_limits(ecs: Any, tags: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=tags)
    assert message in error(excinfo)[1]
    assert tags_of(ecs) == []


def test_the_50_tag_limit_counts_existing_tags(ecs: Any) -> None:
    ecs.tag_resource(
        resourceArn=CLUSTER_ARN, tags=[{"key": f"k{i}", "value": "v"} for i in range(49)]
    )
    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "k0", "value": "new"}])  # overwrite
    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "k49", "value": "v"}])  # 50th
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "k50", "value": "v"}])
    assert "at most 50 tags" in error(excinfo)[1]
    assert len(tags_of(ecs)) == 50


def test_create_cluster_tags_count_toward_the_limit(ecs: Any) -> None:
    ecs.create_cluster(clusterName="many", tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.tag_resource(
            resourceArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/many",
            tags=[{"key": "one-more", "value": "v"}],
        )


@pytest.mark.parametrize("arn", ["web", "arn:aws:ecs:us-east-1", "arn:aws:s3:::bucket", ""])
def test_malformed_arns_are_invalid(ecs: Any, arn: str) -> None:
    for call in (
        lambda: ecs.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}]),
        lambda: ecs.untag_resource(resourceArn=arn, tagKeys=["k"]),
        lambda: ecs.list_tags_for_resource(resourceArn=arn),
    ):
        with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
            call()
        assert error(excinfo) == ("InvalidParameterException", "The ARN provided is invalid.")


def test_resource_types_without_tags_are_invalid(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.list_tags_for_resource(resourceArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:gadget/x")
    assert "gadget" in error(excinfo)[1]


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/nope",
        f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/web",
        f"arn:aws:ecs:{REGION}:111111111111:cluster/web",
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web/extra",
    ],
)
def test_unknown_clusters_are_not_found(ecs: Any, arn: str) -> None:
    for call in (
        lambda: ecs.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}]),
        lambda: ecs.untag_resource(resourceArn=arn, tagKeys=["k"]),
        lambda: ecs.list_tags_for_resource(resourceArn=arn),
    ):
        with pytest.raises(ecs.exceptions.ClusterNotFoundException) as excinfo:
            call()
        assert error(excinfo) == ("ClusterNotFoundException", "Cluster not found.")


def test_inactive_clusters_are_not_found(ecs: Any) -> None:
    ecs.delete_cluster(cluster="web")
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_tags_for_resource(resourceArn=CLUSTER_ARN)


def test_racing_tag_calls_keep_every_tag(backend: MemoryBackend) -> None:
    """Each TagResource is one read-modify-write: concurrent calls never drop a tag."""
    clients = [kecs.client("ecs", region_name=REGION, backend=backend) for _ in range(4)]
    clients[0].create_cluster(clusterName="web")
    td = clients[0].register_task_definition(
        family="app", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 64}]
    )["taskDefinition"]["taskDefinitionArn"]

    def tag_many(index: int) -> None:
        for n in range(10):
            for arn in (CLUSTER_ARN, td):
                clients[index].tag_resource(
                    resourceArn=arn, tags=[{"key": f"k{index}-{n}", "value": "v"}]
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(tag_many, range(4)))
    expected = {f"k{i}-{n}" for i in range(4) for n in range(10)}
    for arn in (CLUSTER_ARN, td):
        assert {t["key"] for t in tags_of(clients[0], arn)} == expected


# -- dispatch by resource type -----------------------------------------------------------------


@pytest.fixture
def widget_store() -> Iterator[dict[str, tagging.Tags]]:
    store: dict[str, tagging.Tags] = {}

    def read(ctx: RequestContext, arn: Arn) -> tagging.Tags:
        return list(store.get(arn.resource, []))

    def write(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
        store[arn.resource] = edit(list(store.get(arn.resource, [])))

    tagging.taggable("widget", read, write)
    yield store
    tagging._taggables.pop("widget")


def test_dispatch_uses_the_family_accessors(ecs: Any, widget_store: dict[str, Any]) -> None:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:widget/w1"
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}])
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert widget_store == {"w1": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert tags_of(ecs, arn) == [{"key": "b", "value": "2"}]
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "aws:x", "value": "1"}])
    assert widget_store == {"w1": [{"key": "b", "value": "2"}]}


# -- isolation ---------------------------------------------------------------------------------


def test_isolation_is_off_by_default(ecs: Any, backend: MemoryBackend) -> None:
    assert isolation_objects(backend) == {}


def test_isolation_tag_creates_and_removes_the_objects(ecs: Any, backend: MemoryBackend) -> None:
    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "kecs:isolation", "value": "enabled"}])
    objects = isolation_objects(backend)
    assert set(objects) == {"ResourceQuota", "NetworkPolicy"}
    assert objects["ResourceQuota"]["spec"] == {"hard": {"pods": mapping.DEFAULT_QUOTA_PODS}}
    for obj in objects.values():
        meta_labels = obj["metadata"]["labels"]
        assert meta_labels[labels.ACCOUNT] == ACCOUNT
        assert meta_labels[labels.REGION] == REGION
        assert meta_labels[labels.CLUSTER] == "web"
    policy = objects["NetworkPolicy"]["spec"]
    assert policy["ingress"][0]["from"][0] == {"podSelector": {}}

    ecs.tag_resource(
        resourceArn=CLUSTER_ARN,
        tags=[
            {"key": "kecs:quota-pods", "value": "20"},
            {"key": "kecs:quota-cpu", "value": "4"},
            {"key": "kecs:quota-memory", "value": "8Gi"},
        ],
    )
    assert isolation_objects(backend)["ResourceQuota"]["spec"]["hard"] == {
        "pods": "20",
        "requests.cpu": "4",
        "requests.memory": "8Gi",
    }
    ecs.untag_resource(resourceArn=CLUSTER_ARN, tagKeys=["kecs:quota-cpu"])
    assert "requests.cpu" not in isolation_objects(backend)["ResourceQuota"]["spec"]["hard"]

    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "kecs:isolation", "value": "disabled"}])
    assert isolation_objects(backend) == {}
    ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": "kecs:isolation", "value": "enabled"}])
    assert len(isolation_objects(backend)) == 2
    ecs.untag_resource(resourceArn=CLUSTER_ARN, tagKeys=["kecs:isolation"])
    assert isolation_objects(backend) == {}


def test_isolation_from_create_cluster(backend: MemoryBackend) -> None:
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(
        clusterName="web",
        tags=[
            {"key": "kecs:isolation", "value": "enabled"},
            {"key": "kecs:quota-memory", "value": "512Mi"},
        ],
    )
    objects = isolation_objects(backend)
    assert objects["ResourceQuota"]["spec"]["hard"]["requests.memory"] == "512Mi"
    for obj in objects.values():
        validate_strict(obj)  # as stored, with server-set metadata
    # Deleting the cluster takes the isolation objects with the namespace.
    ecs.delete_cluster(cluster="web")
    assert isolation_objects(backend) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [("kecs:isolation", "true"), ("kecs:quota-pods", "many"), ("kecs:quota-cpu", "1 core")],
)
def test_bad_isolation_tags_are_refused(
    ecs: Any, backend: MemoryBackend, key: str, value: str
) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.tag_resource(resourceArn=CLUSTER_ARN, tags=[{"key": key, "value": value}])
    assert key in error(excinfo)[1]
    assert tags_of(ecs) == []
    assert isolation_objects(backend) == {}
