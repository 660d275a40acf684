"""Capacity providers through the boto3-style client (kecs.operations.capacity_providers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.mapping import labels
from kecs.operations.capacity_providers import record_name

ACCOUNT = "000000000000"
REGION = "us-east-1"
ASG = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:uuid:autoScalingGroupName/{}"


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def ecs(backend: MemoryBackend) -> Any:
    return kecs.client("ecs", region_name=REGION, backend=backend)


MANAGED = {
    "infrastructureRoleArn": "arn:aws:iam::000000000000:role/infra",
    "instanceLaunchTemplate": {
        "ec2InstanceProfileArn": "arn:aws:iam::000000000000:instance-profile/p",
        "networkConfiguration": {"subnets": ["subnet-1"]},
    },
}


def cp_arn(name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:capacity-provider/{name}"


def create(ecs: Any, name: str, **extra: Any) -> dict[str, Any]:
    provider = {"autoScalingGroupArn": ASG.format(name), **extra.pop("provider", {})}
    return ecs.create_capacity_provider(name=name, autoScalingGroupProvider=provider, **extra)[
        "capacityProvider"
    ]


def error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def stored(backend: MemoryBackend, name: str) -> dict[str, Any]:
    obj = backend.get(kinds.CONFIG_MAP, record_name(ACCOUNT, REGION, name), labels.SYSTEM_NAMESPACE)
    return obj


def test_fargate_providers_are_built_in(ecs: Any) -> None:
    described = ecs.describe_capacity_providers()
    assert [p["name"] for p in described["capacityProviders"]] == ["FARGATE", "FARGATE_SPOT"]
    assert described["capacityProviders"][0] == {
        "capacityProviderArn": cp_arn("FARGATE"),
        "name": "FARGATE",
        "status": "ACTIVE",
        "type": "FARGATE",
    }
    by_arn = ecs.describe_capacity_providers(
        capacityProviders=[cp_arn("FARGATE_SPOT")], include=["TAGS"]
    )
    assert by_arn["capacityProviders"][0]["tags"] == []
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.delete_capacity_provider(capacityProvider="FARGATE")
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.update_capacity_provider(name="FARGATE_SPOT", autoScalingGroupProvider={})


def test_create_stores_a_record_in_kecs_system(ecs: Any, backend: MemoryBackend) -> None:
    provider = create(ecs, "big", tags=[{"key": "team", "value": "a"}])
    assert provider == {
        "capacityProviderArn": cp_arn("big"),
        "name": "big",
        "status": "ACTIVE",
        "type": "EC2_AUTOSCALING",
        "updateStatus": "CREATE_COMPLETE",
        "autoScalingGroupProvider": {
            "autoScalingGroupArn": ASG.format("big"),
            "managedScaling": {
                "status": "DISABLED",
                "targetCapacity": 100,
                "minimumScalingStepSize": 1,
                "maximumScalingStepSize": 10000,
                "instanceWarmupPeriod": 300,
            },
            "managedTerminationProtection": "DISABLED",
            "managedDraining": "ENABLED",
        },
        "tags": [{"key": "team", "value": "a"}],
    }
    obj = stored(backend, "big")
    assert obj["metadata"]["labels"] == {
        labels.MANAGED_BY: "kecs",
        labels.RESOURCE: "capacity-provider",
        labels.ACCOUNT: ACCOUNT,
        labels.REGION: REGION,
        labels.CAPACITY_PROVIDER: "big",
    }
    assert json.loads(obj["data"]["capacityProvider"]) == provider
    described = ecs.describe_capacity_providers()["capacityProviders"]
    assert [p["name"] for p in described] == ["FARGATE", "FARGATE_SPOT", "big"]
    assert "tags" not in described[2]


def test_create_rules(ecs: Any) -> None:
    create(ecs, "big")
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        create(ecs, "big")
    assert error(excinfo)[1].startswith("The specified capacity provider already exists.")
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.create_capacity_provider(
            name="other", autoScalingGroupProvider={"autoScalingGroupArn": ASG.format("big")}
        )
    assert "already being used by another capacity provider" in error(excinfo)[1]
    for bad in ("fargate-x", "ECS1", "aws", "has space", "x" * 256):
        with pytest.raises(ecs.exceptions.InvalidParameterException):
            create(ecs, bad)
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        create(
            ecs,
            "scaling",
            provider={
                "managedScaling": {"minimumScalingStepSize": 20, "maximumScalingStepSize": 10}
            },
        )
    with pytest.raises(ecs.exceptions.ClientException):
        create(ecs, "protected", provider={"managedTerminationProtection": "ENABLED"})
    enabled = create(
        ecs,
        "scaled",
        provider={
            "managedScaling": {"targetCapacity": 80},
            "managedTerminationProtection": "ENABLED",
        },
    )
    assert enabled["autoScalingGroupProvider"]["managedScaling"]["status"] == "ENABLED"
    assert enabled["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 80


def test_update(ecs: Any, backend: MemoryBackend) -> None:
    create(ecs, "big")
    updated = ecs.update_capacity_provider(
        name=cp_arn("big"),
        autoScalingGroupProvider={
            "managedScaling": {"status": "ENABLED", "targetCapacity": 50},
            "managedDraining": "DISABLED",
        },
    )["capacityProvider"]
    assert updated["updateStatus"] == "UPDATE_COMPLETE"
    assert updated["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 50
    assert updated["autoScalingGroupProvider"]["managedDraining"] == "DISABLED"
    record = json.loads(stored(backend, "big")["data"]["capacityProvider"])
    assert record["autoScalingGroupProvider"] == updated["autoScalingGroupProvider"]
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.update_capacity_provider(name="missing", autoScalingGroupProvider={})


def test_clusters_can_use_custom_providers(ecs: Any) -> None:
    ecs.create_cluster(clusterName="web")
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.put_cluster_capacity_providers(
            cluster="web", capacityProviders=["big"], defaultCapacityProviderStrategy=[]
        )
    create(ecs, "big")
    cluster = ecs.put_cluster_capacity_providers(
        cluster="web",
        capacityProviders=["big"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "big", "weight": 1}],
    )["cluster"]
    assert cluster["capacityProviders"] == ["big"]
    only = ecs.describe_capacity_providers(cluster="web")["capacityProviders"]
    assert [p["name"] for p in only] == ["big"]


def test_delete_is_refused_while_associated_then_leaves_an_inactive_record(
    ecs: Any, backend: MemoryBackend
) -> None:
    create(ecs, "big")
    ecs.create_cluster(clusterName="web", capacityProviders=["big"])
    refused = ecs.delete_capacity_provider(capacityProvider="big")["capacityProvider"]
    assert refused["status"] == "ACTIVE"
    assert refused["updateStatus"] == "DELETE_FAILED"
    assert refused["updateStatusReason"] == (
        "The capacity provider cannot be deleted because it is associated with cluster: web. "
        "Remove the capacity provider from the cluster and try again."
    )
    ecs.put_cluster_capacity_providers(
        cluster="web", capacityProviders=[], defaultCapacityProviderStrategy=[]
    )
    deleted = ecs.delete_capacity_provider(capacityProvider=cp_arn("big"))["capacityProvider"]
    assert deleted["status"] == "INACTIVE" and deleted["updateStatus"] == "DELETE_COMPLETE"
    assert "updateStatusReason" not in deleted
    assert [p["name"] for p in ecs.describe_capacity_providers()["capacityProviders"]] == [
        "FARGATE",
        "FARGATE_SPOT",
    ]
    by_name = ecs.describe_capacity_providers(capacityProviders=["big"])["capacityProviders"]
    assert by_name[0]["status"] == "INACTIVE"
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.delete_capacity_provider(capacityProvider="big")
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.put_cluster_capacity_providers(
            cluster="web", capacityProviders=["big"], defaultCapacityProviderStrategy=[]
        )
    assert create(ecs, "big")["status"] == "ACTIVE"  # the name can be used again
    assert json.loads(stored(backend, "big")["data"]["capacityProvider"])["status"] == "ACTIVE"


def test_missing_providers_are_failures(ecs: Any) -> None:
    described = ecs.describe_capacity_providers(capacityProviders=["nope", cp_arn("FARGATE")])
    assert [p["name"] for p in described["capacityProviders"]] == ["FARGATE"]
    assert described["failures"] == [{"arn": cp_arn("nope"), "reason": "MISSING"}]


def test_paging(ecs: Any) -> None:
    for i in range(12):
        create(ecs, f"p{i:02d}")
    first = ecs.describe_capacity_providers(maxResults=5)
    assert len(first["capacityProviders"]) == 5 and "nextToken" in first
    names: list[str] = []
    token = None
    while True:
        page = ecs.describe_capacity_providers(**({"nextToken": token} if token else {}))
        names += [p["name"] for p in page["capacityProviders"]]
        token = page.get("nextToken")
        if not token:
            break
    assert names == ["FARGATE", "FARGATE_SPOT", *[f"p{i:02d}" for i in range(12)]]
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_capacity_providers(maxResults=11)


def test_managed_instances_providers_are_cluster_scoped(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.create_capacity_provider(name="mi", managedInstancesProvider=MANAGED)
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.create_capacity_provider(name="mi", cluster="nope", managedInstancesProvider=MANAGED)
    ecs.create_cluster(clusterName="web")
    provider = ecs.create_capacity_provider(
        name="mi", cluster="web", managedInstancesProvider=MANAGED
    )["capacityProvider"]
    assert provider["type"] == "MANAGED_INSTANCES" and provider["cluster"] == "web"
    assert [
        p["name"] for p in ecs.describe_capacity_providers(cluster="web")["capacityProviders"]
    ] == ["mi"]
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.create_capacity_provider(name="both")


def test_tags(ecs: Any) -> None:
    create(ecs, "big")
    ecs.tag_resource(resourceArn=cp_arn("big"), tags=[{"key": "a", "value": "1"}])
    assert ecs.list_tags_for_resource(resourceArn=cp_arn("big"))["tags"] == [
        {"key": "a", "value": "1"}
    ]
    ecs.untag_resource(resourceArn=cp_arn("big"), tagKeys=["a"])
    assert (
        ecs.describe_capacity_providers(capacityProviders=["big"], include=["TAGS"])[
            "capacityProviders"
        ][0]["tags"]
        == []
    )
    assert ecs.list_tags_for_resource(resourceArn=cp_arn("FARGATE"))["tags"] == []


def test_accounts_and_regions_do_not_mix(backend: MemoryBackend) -> None:
    here = kecs.client("ecs", region_name=REGION, backend=backend)
    there = kecs.client("ecs", region_name="eu-west-1", backend=backend)
    other = kecs.client("ecs", region_name=REGION, backend=backend, account_id="111111111111")
    create(here, "big")
    create(there, "big")  # same name, another region: its own provider
    for client in (other,):
        assert [p["name"] for p in client.describe_capacity_providers()["capacityProviders"]] == [
            "FARGATE",
            "FARGATE_SPOT",
        ]
    again = kecs.client("ecs", region_name=REGION, backend=backend)
    assert [p["name"] for p in again.describe_capacity_providers()["capacityProviders"]][
        -1
    ] == "big"
