"""PutAttributes / DeleteAttributes / ListAttributes on container instances (Node labels)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.mapping import attributes, ids

REGION = "us-east-1"


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def ecs(backend: MemoryBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="default")
    return client


@pytest.fixture
def arns(ecs: Any) -> list[str]:
    return list(ecs.list_container_instances()["containerInstanceArns"])


def node(backend: MemoryBackend, arn: str) -> dict[str, Any]:
    wanted = arn.rsplit("/", 1)[-1]
    (found,) = backend.list_all(kinds.NODE, where=lambda n: ids.container_instance_id(n) == wanted)
    return found


def test_put_labels_the_node_and_keeps_the_exact_value(
    ecs: Any, backend: MemoryBackend, arns: list[str]
) -> None:
    short_id = arns[0].rsplit("/", 1)[-1]
    answer = ecs.put_attributes(
        attributes=[
            {"name": "stack", "value": "prod", "targetId": arns[0]},
            {
                "name": "owner",
                "value": "team a@x",
                "targetId": short_id,
                "targetType": "container-instance",
            },
            {"name": "gpu", "targetId": arns[0]},
        ]
    )["attributes"]
    assert answer == [
        {"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": arns[0]},
        {
            "name": "owner",
            "value": "team a@x",
            "targetType": "container-instance",
            "targetId": arns[0],
        },
        {"name": "gpu", "targetType": "container-instance", "targetId": arns[0]},
    ]
    meta = node(backend, arns[0])["metadata"]
    assert meta["labels"]["kecs.dev/attr.stack"] == "prod"
    assert meta["labels"]["kecs.dev/attr.gpu"] == ""
    owner = meta["labels"]["kecs.dev/attr.owner"]
    assert owner != "team a@x" and owner.startswith("team-a-x-")  # a legal label value
    assert json.loads(meta["annotations"][attributes.ANN_ATTRIBUTES]) == {
        "gpu": None,
        "owner": "team a@x",
        "stack": "prod",
    }
    described = ecs.describe_container_instances(containerInstances=arns[:1])["containerInstances"][
        0
    ]
    assert {"name": "owner", "value": "team a@x"} in described["attributes"]
    assert {"name": "gpu"} in described["attributes"]
    # The query language sees the exact value.
    assert (
        ecs.list_container_instances(filter="attribute:owner == 'team a@x'")[
            "containerInstanceArns"
        ]
        == arns[:1]
    )


def test_list_and_delete(ecs: Any, backend: MemoryBackend, arns: list[str]) -> None:
    ecs.put_attributes(
        attributes=[{"name": "stack", "value": "prod", "targetId": a} for a in arns[:2]]
    )
    ecs.put_attributes(attributes=[{"name": "stack", "value": "dev", "targetId": arns[2]}])
    listed = ecs.list_attributes(targetType="container-instance", attributeName="stack")[
        "attributes"
    ]
    assert sorted((a["targetId"], a["value"]) for a in listed) == [
        (arns[0], "prod"),
        (arns[1], "prod"),
        (arns[2], "dev"),
    ]
    prod = ecs.list_attributes(
        targetType="container-instance", attributeName="stack", attributeValue="prod"
    )
    assert len(prod["attributes"]) == 2
    builtin = ecs.list_attributes(targetType="container-instance", attributeName="ecs.os-type")
    assert {a["value"] for a in builtin["attributes"]} == {"linux"}
    everything = ecs.list_attributes(targetType="container-instance")["attributes"]
    assert len(everything) == 3 * 4 + 3
    first = ecs.list_attributes(targetType="container-instance", maxResults=5)
    rest = ecs.list_attributes(targetType="container-instance", nextToken=first["nextToken"])
    assert first["attributes"] + rest["attributes"] == everything
    deleted = ecs.delete_attributes(attributes=[{"name": "stack", "targetId": arns[0]}])
    assert deleted["attributes"] == [
        {"name": "stack", "targetType": "container-instance", "targetId": arns[0]}
    ]
    meta = node(backend, arns[0])["metadata"]
    assert "kecs.dev/attr.stack" not in meta["labels"]
    assert attributes.ANN_ATTRIBUTES not in meta.get("annotations", {})
    assert (
        len(
            ecs.list_attributes(targetType="container-instance", attributeName="stack")[
                "attributes"
            ]
        )
        == 2
    )


def test_long_names_get_hashed_label_keys(
    ecs: Any, backend: MemoryBackend, arns: list[str]
) -> None:
    name = "a/very\\long." + "n" * 100
    ecs.put_attributes(attributes=[{"name": name, "value": "v", "targetId": arns[0]}])
    key = attributes.label_key(name)
    assert node(backend, arns[0])["metadata"]["labels"][key] == "v"
    listed = ecs.list_attributes(targetType="container-instance", attributeName=name)["attributes"]
    assert [a["targetId"] for a in listed] == arns[:1]


def test_rules(ecs: Any, arns: list[str]) -> None:
    def put(*items: dict[str, Any]) -> Any:
        return ecs.put_attributes(attributes=list(items))

    bad = [
        {"name": "has space", "targetId": arns[0]},
        {"name": "ok", "value": " leading", "targetId": arns[0]},
        {"name": "ok", "value": "bad#char", "targetId": arns[0]},
        {"name": "ecs.os-type", "value": "windows", "targetId": arns[0]},
        {"name": "ok", "targetId": arns[0].rsplit("/", 1)[-1]},  # short id needs targetType
        {"name": "ok"},
    ]
    for item in bad:
        with pytest.raises(ecs.exceptions.InvalidParameterException):
            put(item)
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        put(*[{"name": f"a{i}", "targetId": arns[0]} for i in range(11)])
    with pytest.raises(ecs.exceptions.TargetNotFoundException):
        put({"name": "ok", "targetId": arns[0][:-1] + ("0" if arns[0][-1] != "0" else "1")})
    put(*[{"name": f"a{i}", "targetId": arns[0]} for i in range(10)])
    with pytest.raises(ecs.exceptions.AttributeLimitExceededException):
        put({"name": "eleventh", "targetId": arns[0]})
    put({"name": "a0", "value": "replaced", "targetId": arns[0]})  # replacing is fine
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_attributes(targetType="container-instance", attributeValue="x")
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.delete_attributes(attributes=[{"name": "ecs.instance-type", "targetId": arns[0]}])


def test_attributes_belong_to_the_cluster_the_node_serves(backend: MemoryBackend) -> None:
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="a")
    ecs.create_cluster(clusterName="b")
    instance = ecs.register_container_instance(cluster="a")["containerInstance"]
    b_arn = instance["containerInstanceArn"].replace("/a/", "/b/")
    with pytest.raises(ecs.exceptions.TargetNotFoundException):
        ecs.put_attributes(cluster="b", attributes=[{"name": "x", "targetId": b_arn}])
    ecs.put_attributes(
        cluster="a", attributes=[{"name": "x", "targetId": instance["containerInstanceArn"]}]
    )
    assert (
        ecs.list_attributes(cluster="b", targetType="container-instance", attributeName="x")[
            "attributes"
        ]
        == []
    )


def test_concurrent_puts_keep_every_exact_value(backend: MemoryBackend, arns: list[str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def put(i: int) -> None:
        client = kecs.client("ecs", region_name=REGION, backend=backend)
        client.put_attributes(
            attributes=[{"name": f"k{i}", "value": f"v {i}", "targetId": arns[0]}]
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(8)))
    recorded = json.loads(
        node(backend, arns[0])["metadata"]["annotations"][attributes.ANN_ATTRIBUTES]
    )
    assert recorded == {f"k{i}": f"v {i}" for i in range(8)}
