"""Container instances are Nodes, through the boto3-style client
(kecs.operations.container_instances)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.base import Backend
from kecs.backends.memory import MemoryBackend, NodeSpec
from kecs.mapping import container_instance, ids, labels
from tests.targets import open_target

ACCOUNT = "000000000000"
REGION = "us-east-1"
DOCUMENT = json.dumps(
    {
        "instanceId": "i-0123456789abcdef0",
        "instanceType": "c5.large",
        "availabilityZone": "us-east-1b",
        "architecture": "arm64",
        "region": REGION,
    }
)
RESOURCES = [
    {"name": "CPU", "type": "INTEGER", "integerValue": 2048},
    {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096},
]


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend(autoscale=False)


@pytest.fixture
def ecs(backend: MemoryBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="default")
    return client


def resources(instance: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        r["name"]: r["stringSetValue"] if r["type"] == "STRINGSET" else r["integerValue"]
        for r in instance[kind]
    }


def node_of(backend: MemoryBackend, arn: str) -> dict[str, Any]:
    wanted = arn.rsplit("/", 1)[-1]
    (node,) = backend.list_all(kinds.NODE, where=lambda n: ids.container_instance_id(n) == wanted)
    return node


def register_web(ecs: Any, cpu: str = "512", memory: str = "1024") -> str:
    return ecs.register_task_definition(
        family="web",
        cpu=cpu,
        memory=memory,
        containerDefinitions=[{"name": "web", "image": "nginx", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]


def test_every_node_is_a_container_instance(ecs: Any, backend: MemoryBackend) -> None:
    arns = ecs.list_container_instances()["containerInstanceArns"]
    nodes = backend.list_all(kinds.NODE)
    assert sorted(arns) == sorted(
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/default/{ids.container_instance_id(n)}"
        for n in nodes
    )
    described = ecs.describe_container_instances(containerInstances=arns)
    assert described["failures"] == []
    instance = described["containerInstances"][0]
    node = node_of(backend, instance["containerInstanceArn"])
    assert instance["ec2InstanceId"] == node["spec"]["providerID"].rsplit("/", 1)[1]
    assert instance["status"] == "ACTIVE" and instance["agentConnected"] is True
    assert resources(instance, "registeredResources") == {
        "CPU": 4096,  # 4 cores
        "MEMORY": 16384,  # 16Gi
        "PORTS": ["10250"],
        "PORTS_UDP": [],
    }
    attributes = {a["name"]: a["value"] for a in instance["attributes"]}
    assert attributes == {
        "ecs.os-type": "linux",
        "ecs.cpu-architecture": "x86_64",
        "ecs.instance-type": "m5.xlarge",
        "ecs.availability-zone": node["metadata"]["labels"]["topology.kubernetes.io/zone"],
    }
    assert instance["versionInfo"]["agentVersion"].startswith("1.31")
    assert instance["registeredAt"].year >= 2024
    assert "tags" not in instance and "healthStatus" not in instance
    full = ecs.describe_container_instances(
        containerInstances=arns[:1], include=["TAGS", "CONTAINER_INSTANCE_HEALTH"]
    )["containerInstances"][0]
    assert full["tags"] == [] and full["healthStatus"]["overallStatus"] == "OK"
    cluster = ecs.describe_clusters()["clusters"][0]
    assert cluster["registeredContainerInstancesCount"] == 3


def test_missing_instances_are_failures(ecs: Any) -> None:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/default/{'0' * 32}"
    described = ecs.describe_container_instances(containerInstances=[arn, "not-an-id"])
    assert described["containerInstances"] == []
    assert [f["reason"] for f in described["failures"]] == ["MISSING", "MISSING"]
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_container_instances(cluster="nope")


def test_tasks_use_up_their_instance(ecs: Any, backend: MemoryBackend) -> None:
    definition = register_web(ecs)
    task = ecs.run_task(taskDefinition=definition, launchType="EC2")["tasks"][0]
    arn = task["containerInstanceArn"]
    assert arn in ecs.list_container_instances()["containerInstanceArns"]
    instance = ecs.describe_container_instances(containerInstances=[arn])["containerInstances"][0]
    assert instance["runningTasksCount"] == 1 and instance["pendingTasksCount"] == 0
    assert resources(instance, "remainingResources")["CPU"] == 4096 - 512
    assert resources(instance, "remainingResources")["MEMORY"] == 16384 - 1024
    assert resources(instance, "registeredResources")["CPU"] == 4096
    ecs.stop_task(task=task["taskArn"])
    instance = ecs.describe_container_instances(containerInstances=[arn])["containerInstances"][0]
    assert instance["runningTasksCount"] == 0
    assert resources(instance, "remainingResources")["CPU"] == 4096


def test_filters_and_status(ecs: Any, backend: MemoryBackend) -> None:
    definition = register_web(ecs)
    task = ecs.run_task(taskDefinition=definition, launchType="EC2", group="batch")["tasks"][0]
    by_zone = ecs.list_container_instances(filter="attribute:ecs.availability-zone == us-east-1b")
    (arn,) = by_zone["containerInstanceArns"]
    assert (
        node_of(backend, arn)["metadata"]["labels"]["topology.kubernetes.io/zone"] == "us-east-1b"
    )
    busy = ecs.list_container_instances(filter="task:group == batch")["containerInstanceArns"]
    assert busy == [task["containerInstanceArn"]]
    idle = ecs.list_container_instances(filter="runningTasksCount == 0 and agentConnected == true")
    assert len(idle["containerInstanceArns"]) == 2
    assert (
        len(
            ecs.list_container_instances(filter="attribute:ecs.instance-type =~ m5.*")[
                "containerInstanceArns"
            ]
        )
        == 3
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_container_instances(filter="attribute:x ==")
    assert ecs.list_container_instances(status="DRAINING")["containerInstanceArns"] == []
    assert len(ecs.list_container_instances(status="ACTIVE")["containerInstanceArns"]) == 3
    assert ecs.list_container_instances(status="REGISTERING")["containerInstanceArns"] == []


def test_paging(ecs: Any) -> None:
    first = ecs.list_container_instances(maxResults=2)
    second = ecs.list_container_instances(maxResults=2, nextToken=first["nextToken"])
    assert len(first["containerInstanceArns"]) == 2 and "nextToken" not in second
    everything = first["containerInstanceArns"] + second["containerInstanceArns"]
    assert everything == sorted(everything) and len(set(everything)) == 3
    paginator = ecs.get_paginator("list_container_instances")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 1}))
    assert [a for p in pages for a in p["containerInstanceArns"]] == everything


def test_register_creates_a_dedicated_node(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="other")
    instance = ecs.register_container_instance(
        cluster="other",
        instanceIdentityDocument=DOCUMENT,
        totalResources=RESOURCES,
        attributes=[{"name": "stack", "value": "prod"}, {"name": "ecs.os-type", "value": "linux"}],
        tags=[{"key": "team", "value": "a"}],
    )["containerInstance"]
    node = node_of(backend, instance["containerInstanceArn"])
    assert node["metadata"]["name"] == "i-0123456789abcdef0"
    node_labels = node["metadata"]["labels"]
    assert node_labels[labels.CLUSTER] == "other"
    assert node_labels[labels.ACCOUNT] == ACCOUNT and node_labels[labels.REGION] == REGION
    assert node_labels["kubernetes.io/arch"] == "arm64"
    assert node_labels["topology.kubernetes.io/zone"] == "us-east-1b"
    assert node_labels["node.kubernetes.io/instance-type"] == "c5.large"
    assert node_labels["kecs.dev/attr.stack"] == "prod"
    assert (
        node["status"]["capacity"]["cpu"] == "2000m"
        and node["status"]["capacity"]["memory"] == "4096Mi"
    )
    assert instance["ec2InstanceId"] == "i-0123456789abcdef0"
    assert instance["tags"] == [{"key": "team", "value": "a"}]
    assert resources(instance, "registeredResources")["MEMORY"] == 4096
    assert {"name": "stack", "value": "prod"} in instance["attributes"]
    assert {"name": "ecs.cpu-architecture", "value": "arm64"} in instance["attributes"]
    # Only the cluster it was registered to sees it.
    assert instance["containerInstanceArn"].split("/")[1] == "other"
    assert len(ecs.list_container_instances(cluster="other")["containerInstanceArns"]) == 4
    default_arns = ecs.list_container_instances()["containerInstanceArns"]
    assert len(default_arns) == 3 and not any(
        a.endswith(instance["containerInstanceArn"][-32:]) for a in default_arns
    )
    assert (
        ecs.describe_clusters(clusters=["other"])["clusters"][0][
            "registeredContainerInstancesCount"
        ]
        == 4
    )
    with pytest.raises(ecs.exceptions.ClusterContainsContainerInstancesException):
        ecs.delete_cluster(cluster="other")
    # Registering the same instance again returns it.
    again = ecs.register_container_instance(cluster="other", instanceIdentityDocument=DOCUMENT)
    assert again["containerInstance"]["containerInstanceArn"] == instance["containerInstanceArn"]
    # Deregistering deletes the node kecs made; then the cluster can go.
    gone = ecs.deregister_container_instance(
        cluster="other", containerInstance=instance["containerInstanceArn"]
    )
    assert gone["containerInstance"]["status"] == "INACTIVE"
    assert not backend.list_all(
        kinds.NODE, where=lambda n: n["metadata"]["name"] == "i-0123456789abcdef0"
    )
    assert ecs.delete_cluster(cluster="other")["cluster"]["status"] == "INACTIVE"


def test_new_instances_take_tasks(ecs: Any, backend: MemoryBackend) -> None:
    for node in backend.list_all(kinds.NODE):
        backend.patch(kinds.NODE, node["metadata"]["name"], {"spec": {"unschedulable": True}})
    definition = register_web(ecs)
    failed = ecs.run_task(taskDefinition=definition, launchType="EC2")
    assert failed["tasks"] == [] and failed["failures"]
    instance = ecs.register_container_instance(totalResources=RESOURCES)["containerInstance"]
    task = ecs.run_task(taskDefinition=definition, launchType="EC2")["tasks"][0]
    assert task["containerInstanceArn"] == instance["containerInstanceArn"]


def test_register_is_unsupported_on_a_real_cluster() -> None:
    with open_target("k8s-http") as served:
        _unsupported_then_the_rest(served)


def _unsupported_then_the_rest(backend: Backend) -> None:
    ecs = kecs.client("ecs", region_name=REGION, backend=backend)
    ecs.create_cluster(clusterName="default")
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException) as excinfo:
        ecs.register_container_instance(instanceIdentityDocument=DOCUMENT)
    assert "kecs.dev/cluster=default" in excinfo.value.response["Error"]["Message"]
    # Everything else works there: a Node is read, labelled and cordoned over the API.
    arn = ecs.list_container_instances()["containerInstanceArns"][0]
    ecs.put_attributes(attributes=[{"name": "stack", "value": "prod", "targetId": arn}])
    ecs.update_container_instances_state(containerInstances=[arn], status="DRAINING")
    assert ecs.list_container_instances(status="DRAINING")["containerInstanceArns"] == [arn]
    ecs.deregister_container_instance(containerInstance=arn)
    assert arn not in ecs.list_container_instances()["containerInstanceArns"]


def test_deregister_a_shared_node(ecs: Any, backend: MemoryBackend) -> None:
    ecs.create_cluster(clusterName="other")
    definition = register_web(ecs)
    task = ecs.run_task(taskDefinition=definition, launchType="EC2")["tasks"][0]
    arn = task["containerInstanceArn"]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.deregister_container_instance(containerInstance=arn)
    assert "force" in excinfo.value.response["Error"]["Message"]
    result = ecs.deregister_container_instance(containerInstance=arn, force=True)[
        "containerInstance"
    ]
    assert result["status"] == "INACTIVE" and result["runningTasksCount"] == 1
    node = node_of(backend, arn)  # still there: it serves the other cluster
    label = container_instance.deregistered_label(ACCOUNT, REGION, "default")
    assert node["metadata"]["labels"][label] == "true"
    assert arn not in ecs.list_container_instances()["containerInstanceArns"]
    assert len(ecs.list_container_instances(cluster="other")["containerInstanceArns"]) == 3
    described = ecs.describe_container_instances(containerInstances=[arn])["containerInstances"][0]
    assert described["status"] == "INACTIVE"
    # The standalone task stays, orphaned, as on ECS.
    assert ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"][0]["lastStatus"] == "RUNNING"
    missing = ecs.update_container_instances_state(containerInstances=["nope"], status="DRAINING")
    assert missing["containerInstances"] == []
    assert missing["failures"][0]["reason"] == "MISSING"
    answer = ecs.update_container_instances_state(containerInstances=[arn], status="DRAINING")
    assert answer["failures"] == [{"arn": arn, "reason": "INACTIVE"}]
    assert ecs.describe_clusters()["clusters"][0]["registeredContainerInstancesCount"] == 2


def _service_pods(backend: MemoryBackend, namespace: str) -> list[dict[str, Any]]:
    return [
        p
        for p in backend.list_all(kinds.POD, namespace, selector={labels.SERVICE: "web"})
        if not p["metadata"].get("deletionTimestamp")
    ]


def test_draining_moves_service_tasks_away(ecs: Any, backend: MemoryBackend) -> None:
    definition = register_web(ecs, cpu="256", memory="512")
    ecs.create_service(
        serviceName="web", taskDefinition=definition, desiredCount=3, launchType="EC2"
    )
    standalone = ecs.run_task(taskDefinition=definition, launchType="EC2")["tasks"][0]
    arn = standalone["containerInstanceArn"]
    name = node_of(backend, arn)["metadata"]["name"]
    namespace = backend.list_all(kinds.POD, where=lambda p: p["spec"].get("nodeName") == name)[0][
        "metadata"
    ]["namespace"]
    on_node = [p for p in _service_pods(backend, namespace) if p["spec"]["nodeName"] == name]
    assert on_node, "the service spreads over every node"
    drained = ecs.update_container_instances_state(containerInstances=[arn], status="DRAINING")
    (instance,) = drained["containerInstances"]
    assert instance["status"] == "DRAINING"
    assert node_of(backend, arn)["spec"]["unschedulable"] is True
    live = _service_pods(backend, namespace)
    assert len(live) == 3 and all(p["spec"]["nodeName"] != name for p in live)
    stopped = ecs.describe_tasks(tasks=[ids.task_id(p) for p in on_node])["tasks"]
    assert all(t["stopCode"] == "ServiceSchedulerInitiated" for t in stopped)
    assert all("DRAINING" in t["stoppedReason"] for t in stopped)
    # Standalone tasks are left to finish.
    assert ecs.describe_tasks(tasks=[standalone["taskArn"]])["tasks"][0]["lastStatus"] == "RUNNING"
    assert ecs.list_container_instances(status="DRAINING")["containerInstanceArns"] == [arn]
    active = ecs.update_container_instances_state(containerInstances=[arn], status="ACTIVE")
    assert active["containerInstances"][0]["status"] == "ACTIVE"
    assert not node_of(backend, arn)["spec"].get("unschedulable")


def test_tags_on_container_instances(ecs: Any, backend: MemoryBackend) -> None:
    arn = ecs.list_container_instances()["containerInstanceArns"][0]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]
    assert json.loads(node_of(backend, arn)["metadata"]["annotations"][labels.ANN_TAGS]) == [
        {"key": "k", "value": "v"}
    ]


def test_nodes_dedicated_by_hand_and_other_accounts(backend: MemoryBackend) -> None:
    backend.add_node(
        NodeSpec(labels=container_instance.dedicated_labels("111111111111", REGION, "default"))
    )
    mine = kecs.client("ecs", region_name=REGION, backend=backend)
    theirs = kecs.client("ecs", region_name=REGION, backend=backend, account_id="111111111111")
    mine.create_cluster(clusterName="default")
    theirs.create_cluster(clusterName="default")
    assert len(mine.list_container_instances()["containerInstanceArns"]) == 3
    assert len(theirs.list_container_instances()["containerInstanceArns"]) == 4
