"""Nodes as ECS container instances: which clusters a Node serves, and its ECS view (pure).

Membership (the rule every family uses, :func:`serves`):

- a Node labelled ``kecs.dev/cluster`` is *dedicated*: it serves the one cluster named by that
  label together with ``kecs.dev/account`` and ``kecs.dev/region`` (RegisterContainerInstance
  creates such Nodes in the embedded cluster; label nodes of a real cluster the same way);
- any other Node is *shared*: it serves every cluster of every account (one Kubernetes node
  pool under many ECS clusters, the usual case);
- a Node labelled ``kecs.dev/deregistered.<10 hex of (account, region, cluster)>`` has been
  deregistered from that cluster and no longer serves it (it is INACTIVE there).

Tasks of a cluster are kept on the nodes serving it by :func:`cluster_placement` (required
node affinity). Status in a cluster: INACTIVE when deregistered from it, DRAINING when
cordoned (``spec.unschedulable``; a Node is one machine, so draining shows in every cluster it
serves), else ACTIVE.

The ECS view (:func:`to_container_instance`):

- id: the Node's uid without dashes (:func:`kecs.mapping.ids.container_instance_id`, as
  ``task.containerInstanceArn`` uses); ``ec2InstanceId``: annotation ``kecs.dev/ec2-instance-id``,
  else the ``i-...`` part of an AWS ``spec.providerID``, else the Node name;
- ``registeredResources``: CPU (1024 units per core) and MEMORY (MiB) from
  ``status.capacity``; PORTS: the kubelet's port (reserved, as ECS reserves the agent's);
  PORTS_UDP: none. ``remainingResources``: ``status.allocatable`` minus the requests of the
  Node's non-terminal pods (every namespace), PORTS/PORTS_UDP adding the host ports they use;
- ``runningTasksCount`` / ``pendingTasksCount``: the cluster's task pods on the Node, as the
  cluster counters count them (Running / Pending, not being deleted);
- ``attributes``: :func:`kecs.mapping.attributes.node_attributes`; ``agentConnected``: the
  ``Ready`` condition; ``versionInfo``: kubelet version (agent) and container runtime;
  ``capacityProviderName``: the ``kecs.dev/capacity-provider`` label (exact name in the
  annotation ``kecs.dev/capacity-provider-name``); ``registeredAt``: ``creationTimestamp``;
- ``healthStatus`` (``include=CONTAINER_INSTANCE_HEALTH``): the ``Ready`` condition as a
  CONTAINER_RUNTIME check; ``tags`` (``include=TAGS``): annotation ``kecs.dev/tags``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from kecs import arns, k8s_quantity
from kecs.mapping import attributes, ids, k8s_time, labels, names, task_keys
from kecs.mapping.cluster_query import Facts
from kecs.mapping.pod_placement import PodPlacement

RESOURCE = "container-instance"
ANN_EC2_INSTANCE_ID = f"{labels.DOMAIN}/ec2-instance-id"
ANN_CAPACITY_PROVIDER_NAME = f"{labels.DOMAIN}/capacity-provider-name"
_DEREGISTERED = f"{labels.DOMAIN}/deregistered."
ACTIVE, DRAINING, INACTIVE = "ACTIVE", "DRAINING", "INACTIVE"
_TERMINAL = frozenset({"Succeeded", "Failed"})
_MIB = 2**20


def deregistered_label(account: str, region: str, cluster_name: str) -> str:
    """The Node label that takes a Node out of one cluster."""
    return _DEREGISTERED + names.digest("container-instance", account, region, cluster_name)


def dedicated_labels(account: str, region: str, cluster_name: str) -> dict[str, str]:
    """The labels of a Node that serves only ``cluster_name``."""
    result = labels.ownership(account, region, RESOURCE)
    result[labels.CLUSTER] = names.label_value(cluster_name)
    return result


def _labels(node: Mapping[str, Any]) -> Mapping[str, str]:
    return task_keys.labels_of(node)


def is_dedicated(node: Mapping[str, Any]) -> bool:
    return labels.CLUSTER in _labels(node)


def dedicated_to(node: Mapping[str, Any], account: str, region: str, cluster_name: str) -> bool:
    node_labels = _labels(node)
    return (
        node_labels.get(labels.CLUSTER) == names.label_value(cluster_name)
        and node_labels.get(labels.ACCOUNT) == account
        and node_labels.get(labels.REGION) == region
    )


def is_deregistered(node: Mapping[str, Any], account: str, region: str, cluster_name: str) -> bool:
    return deregistered_label(account, region, cluster_name) in _labels(node)


def belongs(node: Mapping[str, Any], account: str, region: str, cluster_name: str) -> bool:
    """Whether the cluster knows the Node at all (serving it, or deregistered from it)."""
    return not is_dedicated(node) or dedicated_to(node, account, region, cluster_name)


def serves(node: Mapping[str, Any], account: str, region: str, cluster_name: str) -> bool:
    """Whether the Node is a registered (ACTIVE or DRAINING) container instance of the cluster."""
    return belongs(node, account, region, cluster_name) and not is_deregistered(
        node, account, region, cluster_name
    )


def status(node: Mapping[str, Any], account: str, region: str, cluster_name: str) -> str:
    if not serves(node, account, region, cluster_name):
        return INACTIVE
    return DRAINING if (node.get("spec") or {}).get("unschedulable") else ACTIVE


def cluster_placement(account: str, region: str, cluster_name: str) -> PodPlacement:
    """Required node affinity keeping a cluster's tasks on the Nodes that serve it."""
    gone = {"key": deregistered_label(account, region, cluster_name), "operator": "DoesNotExist"}
    shared = {"matchExpressions": [{"key": labels.CLUSTER, "operator": "DoesNotExist"}, gone]}
    own = {
        "matchExpressions": [
            {"key": labels.CLUSTER, "operator": "In", "values": [names.label_value(cluster_name)]},
            {"key": labels.ACCOUNT, "operator": "In", "values": [account]},
            {"key": labels.REGION, "operator": "In", "values": [region]},
            gone,
        ]
    }
    return PodPlacement(node_terms=(shared, own))


def ec2_instance_id(node: Mapping[str, Any]) -> str:
    meta = node.get("metadata") or {}
    recorded = (meta.get("annotations") or {}).get(ANN_EC2_INSTANCE_ID)
    if recorded:
        return str(recorded)
    provider = str((node.get("spec") or {}).get("providerID") or "")
    last = provider.rsplit("/", 1)[-1]
    return last if last.startswith("i-") else str(meta.get("name", ""))


def container_instance_arn(node: Mapping[str, Any], region: str, account: str, cluster: str) -> str:
    return arns.container_instance(region, account, cluster, ids.container_instance_id(node))


def _ready_condition(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return dict(condition)
    return None


def agent_connected(node: Mapping[str, Any]) -> bool:
    ready = _ready_condition(node)
    return bool(ready and ready.get("status") == "True")


def _live(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") not in _TERMINAL


def _host_ports(pods: Iterable[Mapping[str, Any]]) -> tuple[set[int], set[int]]:
    tcp: set[int] = set()
    udp: set[int] = set()
    for pod in pods:
        spec = pod.get("spec") or {}
        for container in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
            for port in container.get("ports") or ():
                host = port.get("hostPort")
                if isinstance(host, int) and host > 0:
                    (udp if port.get("protocol") == "UDP" else tcp).add(host)
    return tcp, udp


def _integer(name: str, value: int) -> dict[str, Any]:
    return {"name": name, "type": "INTEGER", "doubleValue": 0.0, "longValue": 0,
            "integerValue": max(value, 0)}  # fmt: skip


def _ports(name: str, ports: Iterable[int]) -> dict[str, Any]:
    return {"name": name, "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0,
            "integerValue": 0, "stringSetValue": [str(p) for p in sorted(set(ports))]}  # fmt: skip


def _reserved_ports(node: Mapping[str, Any]) -> list[int]:
    endpoints = (node.get("status") or {}).get("daemonEndpoints") or {}
    port = (endpoints.get("kubeletEndpoint") or {}).get("Port")
    return [port] if isinstance(port, int) and port > 0 else []


def _cpu_units(milli_cores: int) -> int:
    return milli_cores * 1024 // 1000


def _mib(milli_bytes: int) -> int:
    return milli_bytes // 1000 // _MIB


def registered_resources(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    node_status = node.get("status") or {}
    capacity = node_status.get("capacity") or node_status.get("allocatable") or {}
    return [
        _integer("CPU", _cpu_units(k8s_quantity.milli_or_zero(capacity.get("cpu")))),
        _integer("MEMORY", _mib(k8s_quantity.milli_or_zero(capacity.get("memory")))),
        _ports("PORTS", _reserved_ports(node)),
        _ports("PORTS_UDP", ()),
    ]


def remaining_resources(
    node: Mapping[str, Any], pods_on_node: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    node_status = node.get("status") or {}
    allocatable = node_status.get("allocatable") or node_status.get("capacity") or {}
    live = [p for p in pods_on_node if _live(p)]
    used: dict[str, int] = {}
    for pod in live:
        for name, value in k8s_quantity.pod_requests(pod.get("spec") or {}).items():
            used[name] = used.get(name, 0) + value
    tcp, udp = _host_ports(live)
    cpu = k8s_quantity.milli_or_zero(allocatable.get("cpu")) - used.get("cpu", 0)
    memory = k8s_quantity.milli_or_zero(allocatable.get("memory")) - used.get("memory", 0)
    return [
        _integer("CPU", _cpu_units(cpu)),
        _integer("MEMORY", _mib(memory)),
        _ports("PORTS", [*_reserved_ports(node), *tcp]),
        _ports("PORTS_UDP", udp),
    ]


def task_state(pod: Mapping[str, Any]) -> str | None:
    """RUNNING / PENDING for a live task pod (as the cluster counters count), else ``None``."""
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return None
    phase = (pod.get("status") or {}).get("phase", "Pending")
    return {"Running": "RUNNING", "Pending": "PENDING"}.get(phase)


def _version_info(node: Mapping[str, Any]) -> dict[str, str]:
    info = (node.get("status") or {}).get("nodeInfo") or {}
    kubelet = str(info.get("kubeletVersion") or "")
    machine = str(info.get("machineID") or "")
    return {
        "agentVersion": kubelet.removeprefix("v"),
        "agentHash": machine[:8] or names.digest(kubelet, length=8),
        "dockerVersion": str(info.get("containerRuntimeVersion") or ""),
    }


def _health(node: Mapping[str, Any]) -> dict[str, Any]:
    ready = _ready_condition(node) or {}
    state = "OK" if ready.get("status") == "True" else "IMPAIRED" if ready else "INITIALIZING"
    detail: dict[str, Any] = {"type": "CONTAINER_RUNTIME", "status": state}
    if ready.get("message"):
        detail["statusReason"] = str(ready["message"])
    for key, field in (
        ("lastUpdated", "lastHeartbeatTime"),
        ("lastStatusChange", "lastTransitionTime"),
    ):
        moment = k8s_time.parse(ready.get(field))
        if moment is not None:
            detail[key] = moment
    return {"overallStatus": state, "details": [detail]}


def tags_of(node: Mapping[str, Any]) -> list[dict[str, str]]:
    value = task_keys.json_value(task_keys.annotations_of(node), labels.ANN_TAGS, [])
    return [dict(t) for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


def capacity_provider_name(node: Mapping[str, Any]) -> str | None:
    exact = task_keys.annotations_of(node).get(ANN_CAPACITY_PROVIDER_NAME)
    return str(exact) if exact else _labels(node).get(labels.CAPACITY_PROVIDER)


def to_container_instance(
    node: Mapping[str, Any],
    *,
    region: str,
    account: str,
    cluster_name: str,
    cluster_namespace: str,
    pods_on_node: Iterable[Mapping[str, Any]],
    include: Collection[str] = (),
) -> dict[str, Any]:
    """The ECS ``ContainerInstance`` (wire shape, ``datetime`` timestamps) of a Node."""
    pods = list(pods_on_node)
    meta = node.get("metadata") or {}
    counts = {"RUNNING": 0, "PENDING": 0}
    for pod in pods:
        pod_meta = pod.get("metadata") or {}
        if pod_meta.get("namespace") != cluster_namespace:
            continue
        if (pod_meta.get("labels") or {}).get(labels.RESOURCE) != "task":
            continue
        state = task_state(pod)
        if state is not None:
            counts[state] += 1
    version = str(meta.get("resourceVersion", ""))
    result: dict[str, Any] = {
        "containerInstanceArn": container_instance_arn(node, region, account, cluster_name),
        "ec2InstanceId": ec2_instance_id(node),
        "version": int(version) if version.isdigit() else 1,
        "versionInfo": _version_info(node),
        "remainingResources": remaining_resources(node, pods),
        "registeredResources": registered_resources(node),
        "status": status(node, account, region, cluster_name),
        "agentConnected": agent_connected(node),
        "runningTasksCount": counts["RUNNING"],
        "pendingTasksCount": counts["PENDING"],
        "attributes": attributes.node_attributes(node),
        "attachments": [],
    }
    provider = capacity_provider_name(node)
    if provider:
        result["capacityProviderName"] = provider
    registered = k8s_time.parse(meta.get("creationTimestamp"))
    if registered is not None:
        result["registeredAt"] = registered
    if "TAGS" in include:
        result["tags"] = tags_of(node)
    if "CONTAINER_INSTANCE_HEALTH" in include:
        result["healthStatus"] = _health(node)
    return result


def facts(instance: Mapping[str, Any], task_groups: Iterable[str] = ()) -> Facts:
    """What the cluster query language sees of a container instance (ListContainerInstances)."""
    given = {a["name"]: a.get("value") for a in instance.get("attributes") or ()}
    registered = instance.get("registeredAt")
    return Facts(
        attributes=given,
        ec2_instance_id=str(instance.get("ec2InstanceId", "")),
        agent_connected=bool(instance.get("agentConnected")),
        agent_version=str((instance.get("versionInfo") or {}).get("agentVersion", "")),
        registered_at=registered if isinstance(registered, datetime) else None,
        running_tasks_count=int(instance.get("runningTasksCount") or 0),
        task_groups=frozenset(task_groups),
    )
