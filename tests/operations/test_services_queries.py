"""DescribeServices, ListServices, ListServicesByNamespace and service tags."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import WaiterError

import kecs
from tests.operations.service_helpers import (
    ACCOUNT,
    CLUSTER,
    REGION,
    CheckingBackend,
    backend,
    container,
    create,
    describe,
    ecs,
    error,
    register,
    service_arn,
)

__all__ = ["backend", "ecs"]  # fixtures


@pytest.fixture
def web(ecs: Any) -> str:
    return register(ecs)


def test_describe_by_name_and_arn_with_missing_failures(ecs: Any, web: str) -> None:
    create(ecs, "a", 1)
    create(ecs, "b", 1)
    other_cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/other/a"
    other_region = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/{CLUSTER}/a"
    short_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/a"  # ECS's old ARN format
    response = ecs.describe_services(
        cluster=CLUSTER,
        services=[
            "a",
            service_arn("b"),
            "nope",
            other_cluster,
            other_region,
            "bad name",
            short_arn,
        ],
    )
    assert [s["serviceName"] for s in response["services"]] == ["a", "b", "a"]
    assert response["failures"] == [
        {"arn": service_arn("nope"), "reason": "MISSING"},
        {"arn": other_cluster, "reason": "MISSING"},
        {"arn": other_region, "reason": "MISSING"},
        {"arn": service_arn("bad name"), "reason": "MISSING"},
    ]
    with pytest.raises(WaiterError):
        ecs.get_waiter("services_stable").wait(
            cluster=CLUSTER, services=["nope"], WaiterConfig={"Delay": 1, "MaxAttempts": 1}
        )


def test_describe_limits(ecs: Any, web: str) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_services(cluster=CLUSTER, services=[f"s{i}" for i in range(11)])
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_services(cluster=CLUSTER, services=[])
    with pytest.raises(ecs.exceptions.ClusterNotFoundException) as excinfo:
        ecs.describe_services(cluster="nope", services=["a"])
    assert error(excinfo) == ("ClusterNotFoundException", "Cluster not found.")


def test_describe_costs_a_constant_number_of_reads(
    ecs: Any, web: str, backend: CheckingBackend
) -> None:
    names = [f"s{i}" for i in range(10)]
    for name in names:
        create(ecs, name, 2)
    backend.calls.clear()
    describe(ecs, "s0")
    one = backend.reads()
    backend.calls.clear()
    response = ecs.describe_services(cluster=CLUSTER, services=names, include=["TAGS"])
    assert len(response["services"]) == 10
    assert backend.reads() == one
    assert one <= 8


def test_two_clients_see_the_same_services(backend: CheckingBackend) -> None:
    first = kecs.client("ecs", region_name=REGION, backend=backend)
    second = kecs.client("ecs", region_name=REGION, backend=backend)
    other_region = kecs.client("ecs", region_name="eu-west-1", backend=backend)
    first.create_cluster(clusterName=CLUSTER)
    other_region.create_cluster(clusterName=CLUSTER)
    register(first)
    created = create(first)
    assert describe(second) == created
    assert other_region.list_services(cluster=CLUSTER)["serviceArns"] == []


def test_list_services_paging_and_filters(ecs: Any, web: str) -> None:
    for i in range(12):
        create(ecs, f"svc-{i:02}", 0)
    ecs.create_service(
        cluster=CLUSTER, serviceName="daemon", taskDefinition="web", schedulingStrategy="DAEMON"
    )
    first = ecs.list_services(cluster=CLUSTER)
    assert len(first["serviceArns"]) == 10  # ECS's default page
    rest = ecs.list_services(cluster=CLUSTER, nextToken=first["nextToken"])
    assert "nextToken" not in rest
    everything = first["serviceArns"] + rest["serviceArns"]
    assert len(everything) == len(set(everything)) == 13
    pages = ecs.get_paginator("list_services").paginate(
        cluster=CLUSTER, PaginationConfig={"PageSize": 5}
    )
    assert [len(p["serviceArns"]) for p in pages] == [5, 5, 3]
    daemons = ecs.list_services(cluster=CLUSTER, schedulingStrategy="DAEMON")["serviceArns"]
    assert daemons == [service_arn("daemon")]
    replicas = ecs.list_services(cluster=CLUSTER, schedulingStrategy="REPLICA", maxResults=100)
    assert len(replicas["serviceArns"]) == 12
    assert (
        len(ecs.list_services(cluster=CLUSTER, launchType="EC2", maxResults=100)["serviceArns"])
        == 13
    )
    assert ecs.list_services(cluster=CLUSTER, launchType="FARGATE")["serviceArns"] == []
    managed = ecs.list_services(cluster=CLUSTER, resourceManagementType="ECS")
    assert managed["serviceArns"] == []
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_services(cluster=CLUSTER, maxResults=101)
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_services(cluster=CLUSTER, nextToken="garbage!")
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_services(cluster="nope")


def test_list_services_by_namespace(ecs: Any, web: str) -> None:
    ecs.create_cluster(clusterName="other", serviceConnectDefaults={"namespace": "shop"})
    connect = {"enabled": True, "namespace": "shop"}
    create(ecs, "a", 1, serviceConnectConfiguration=connect)
    create(ecs, "b", 1, serviceConnectConfiguration={"enabled": True, "namespace": "blog"})
    ecs.create_service(
        cluster="other",
        serviceName="c",
        taskDefinition="web",
        desiredCount=1,
        serviceConnectConfiguration={"enabled": True},  # the cluster's default namespace
    )
    found = ecs.list_services_by_namespace(namespace="shop")["serviceArns"]
    assert found == [service_arn("c", "other"), service_arn("a")]  # in ARN order
    pages = ecs.get_paginator("list_services_by_namespace").paginate(
        namespace="shop", PaginationConfig={"PageSize": 1}
    )
    assert [p["serviceArns"] for p in pages] == [[service_arn("c", "other")], [service_arn("a")]]
    assert ecs.list_services_by_namespace(namespace="nothing")["serviceArns"] == []
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.create_service(
            cluster=CLUSTER,
            serviceName="d",
            taskDefinition="web",
            desiredCount=1,
            serviceConnectConfiguration={"enabled": True},
        )


def test_service_tags(ecs: Any, web: str) -> None:
    create(ecs, tags=[{"key": "a", "value": "1"}])
    arn = service_arn("web")
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "a", "value": "3"},
        {"key": "b", "value": "2"},
    ]
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert describe(ecs, include=["TAGS"])["tags"] == [{"key": "b", "value": "2"}]
    # An UpdateService re-renders the workload from the spec: the tags stay.
    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=1)
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    inactive = describe(ecs, include=["TAGS"])
    assert (inactive["status"], inactive["tags"]) == ("INACTIVE", [{"key": "b", "value": "2"}])
    assert "tags" not in describe(ecs)
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        ecs.list_tags_for_resource(resourceArn=service_arn("nope"))
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_tags_for_resource(resourceArn=service_arn("web", "nope"))
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": ""} for i in range(50)])


def test_events_word_what_happened(ecs: Any, web: str) -> None:
    register(ecs, "web", container(image="nginx:1.27"))
    created = create(ecs)
    started = [e for e in created["events"] if "has started 3 tasks" in e["message"]]
    assert len(started) == 1
    assert started[0]["message"].count("(task ") == 3
    assert created["events"][0]["message"] == "(service web) has reached a steady state."
    assert [e["createdAt"] for e in created["events"]] == sorted(
        (e["createdAt"] for e in created["events"]), reverse=True
    )
