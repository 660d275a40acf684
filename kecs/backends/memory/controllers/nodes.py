"""Simulated Nodes and the scheduler's view of them (allocatable minus what pods request).

:class:`NodeCache` follows Node and Pod changes and keeps, per node, the sum of the requests
of the non-terminal pods bound to it (updated incrementally: a pod is added or subtracted
once, never recounted), the pods bound to it, how many pods of each owner it runs (for
spreading), and its pod IP range.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from kecs import k8s_quantity
from kecs.backends import kinds
from kecs.backends.memory.apiserver import TERMINAL_PHASES, controller_uid, is_terminal
from kecs.backends.memory.controllers import Manager

Object = dict[str, Any]
PodKey = tuple[str, str]

_POD_NETWORK = int(ipaddress.ip_address("10.128.0.0"))
_POD_BLOCK = 4096  # a /20 per node
_NODE_NETWORK = int(ipaddress.ip_address("10.0.0.0"))
#: Versions of NodeInfo contents (unique across instances; carries no cluster data).
_VERSIONS = itertools.count(1)


@attrs.frozen
class NodeSpec:
    """What a simulated node looks like; everything has an EKS-like default."""

    name: str | None = None
    zone: str | None = None
    labels: Mapping[str, str] = attrs.field(factory=dict)
    taints: Sequence[Mapping[str, str]] = ()
    cpu: str = "4"
    memory: str = "16Gi"
    pods: int = 110
    ephemeral_storage: str = "100Gi"
    instance_type: str = "m5.xlarge"
    arch: str = "amd64"
    os: str = "linux"


def node_object(spec: NodeSpec, index: int, region: str, timestamp: str) -> Object:
    """The Node a kubelet would register for ``spec`` (``index`` counts from 1)."""
    name = spec.name or f"kecs-node-{index}"
    zone = spec.zone or f"{region}{'abc'[(index - 1) % 3]}"
    labels = {
        "kubernetes.io/os": spec.os,
        "kubernetes.io/arch": spec.arch,
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zone,
        "node.kubernetes.io/instance-type": spec.instance_type,
        "beta.kubernetes.io/os": spec.os,
        "beta.kubernetes.io/arch": spec.arch,
        **spec.labels,
    }
    resources = {
        "cpu": spec.cpu,
        "memory": spec.memory,
        "pods": str(spec.pods),
        "ephemeral-storage": spec.ephemeral_storage,
    }
    digest = hashlib.sha256(f"{region}/{name}".encode()).hexdigest()
    address = str(ipaddress.ip_address(_NODE_NETWORK + 256 * (1 + index // 200) + 10 + index % 200))
    cidr = f"{ipaddress.ip_address(_POD_NETWORK + _POD_BLOCK * (index - 1))}/20"
    node_spec: Object = {
        "podCIDR": cidr,
        "podCIDRs": [cidr],
        "providerID": f"aws:///{zone}/i-{digest[:17]}",
    }
    if spec.taints:
        node_spec["taints"] = [dict(t) for t in spec.taints]
    conditions = [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": node_spec,
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": [
                {
                    "type": t,
                    "status": s,
                    "reason": r,
                    "message": m,
                    "lastHeartbeatTime": timestamp,
                    "lastTransitionTime": timestamp,
                }
                for t, s, r, m in conditions
            ],
            "addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": spec.arch,
                "operatingSystem": spec.os,
                "bootID": _uuid_like(digest[17:]),
                "machineID": digest[:32],
                "systemUUID": _uuid_like(digest[32:]),
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.132-147.221.amzn2023.x86_64",
                "kubeProxyVersion": "v1.31.7-eks-473151a",
                "kubeletVersion": "v1.31.7-eks-473151a",
                "osImage": "Amazon Linux 2023.7.20250414",
            },
        },
    }


def _uuid_like(hex_text: str) -> str:
    h = (hex_text * 2)[:32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def pod_requests(spec: Object) -> dict[str, int]:
    """The pod's effective requests (milli values), sidecar-aware, plus one ``pods`` slot."""
    total = k8s_quantity.pod_requests(spec)
    total["pods"] = 1000
    return {k: v for k, v in total.items() if v}


def _add_map(into: dict[str, int], values: Mapping[str, int]) -> None:
    for name, value in values.items():
        into[name] = into.get(name, 0) + value


def _address(network: ipaddress.IPv4Network | ipaddress.IPv6Network, base: int, offset: int) -> str:
    """``str(network[offset])`` (``base``: the network's first address as an int), without
    building an address object for IPv4."""
    if network.version == 4:
        n = base + offset
        return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    return str(network[offset])


class NodeInfo:
    __slots__ = (
        "address",
        "allocatable",
        "cidr",
        "cidr_base",
        "cidr_size",
        "free_ips",
        "ips",
        "labels",
        "name",
        "next_ip",
        "owners",
        "ready",
        "requested",
        "taints",
        "unschedulable",
        "version",
    )

    def __init__(self, node: Object, index: int) -> None:
        self.name: str = node["metadata"]["name"]
        self.requested: dict[str, int] = {}
        self.owners: dict[str, int] = {}
        self.ips: dict[PodKey, str] = {}
        self.free_ips: list[int] = []
        cidr = (node.get("spec") or {}).get("podCIDR")
        if cidr:
            self.cidr = ipaddress.ip_network(cidr, strict=False)
        else:
            self.cidr = ipaddress.ip_network(
                f"{ipaddress.ip_address(_POD_NETWORK + _POD_BLOCK * index)}/20"
            )
        #: the pod range's first address (as an int) and size, worked out once
        self.cidr_base = int(self.cidr.network_address)
        self.cidr_size = self.cidr.num_addresses
        self.next_ip = 2
        self.refresh(node)

    def refresh(self, node: Object) -> None:
        #: new (never seen on any NodeInfo before) whenever labels, taints, schedulability or
        #: allocatable may have changed, so a verdict cached for a version stays right
        self.version = next(_VERSIONS)
        status = node.get("status") or {}
        spec = node.get("spec") or {}
        self.labels: dict[str, str] = dict(node["metadata"].get("labels") or {})
        self.taints: list[Object] = list(spec.get("taints") or ())
        self.unschedulable = bool(spec.get("unschedulable"))
        self.allocatable = k8s_quantity.resource_map(
            status.get("allocatable") or status.get("capacity")
        )
        self.ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or ()
        )
        addresses = status.get("addresses") or ()
        self.address = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")

    def allocate_ip(self, key: PodKey) -> str | None:
        if key in self.ips:
            return self.ips[key]
        if self.free_ips:
            offset = self.free_ips.pop()
        elif self.next_ip < self.cidr_size - 1:
            offset = self.next_ip
            self.next_ip += 1
        else:
            return None
        address = _address(self.cidr, self.cidr_base, offset)
        self.ips[key] = address
        return address

    def release_ip(self, key: PodKey) -> None:
        address = self.ips.pop(key, None)
        if address is not None:
            self.free_ips.append(int(ipaddress.ip_address(address)) - self.cidr_base)


class NodeCache:
    """``changed`` hooks hear of every node whose scheduling inputs (allocatable, labels,
    taints, what its pods request, its pods per owner) changed, once the change is made."""

    def __init__(self, manager: Manager) -> None:
        self.infos: dict[str, NodeInfo] = {}
        self.changed: list[Callable[[NodeInfo], None]] = []
        #: every pod naming a node in ``spec.nodeName`` (the node may be gone)
        self.pods_by_node: dict[str, set[PodKey]] = {}
        #: what each counted pod adds to its node: (node, requests, controller uid)
        self._counted: dict[PodKey, tuple[str, dict[str, int], str | None]] = {}
        self._added = 0
        #: the last pod spec parts :meth:`requests` read, and what they request
        self._last: tuple[Any, Any, Any, dict[str, int]] | None = None
        manager.watch(kinds.NODE, self._on_node)
        manager.watch(kinds.POD, self._on_pod)

    def _on_node(self, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            self.infos.pop(old["metadata"]["name"], None)
            return
        name = new["metadata"]["name"]
        info = self.infos.get(name)
        if info is not None:
            info.refresh(new)
            self._changed(info)
            return
        info = self.infos[name] = NodeInfo(new, self._added)
        self._added += 1
        # Pods may name a node before it registers: they count once it does.
        for key in self.pods_by_node.get(name, ()):
            counted = self._counted.get(key)
            if counted is not None and counted[0] == name:
                _add_map(info.requested, counted[1])
                if counted[2]:
                    info.owners[counted[2]] = info.owners.get(counted[2], 0) + 1
        self._changed(info)

    def requests(self, spec: Object) -> dict[str, int]:
        """:func:`pod_requests` of ``spec``, remembered for the last containers read.

        The scheduler and this cache both need a pod's requests, one right after the other;
        stored objects are never changed in place, so the same container lists (a bound pod
        keeps its unbound version's) mean the same requests. The result must not be changed.
        """
        containers, inits, overhead = (
            spec.get("containers"),
            spec.get("initContainers"),
            spec.get("overhead"),
        )
        last = self._last
        if last is not None and last[0] is containers and last[1] is inits and last[2] is overhead:
            return last[3]
        found = pod_requests(spec)
        self._last = (containers, inits, overhead, found)
        return found

    def _changed(self, info: NodeInfo) -> None:
        for hook in self.changed:
            hook(info)

    def _on_pod(self, old: Object | None, new: Object | None) -> None:
        if (
            old is not None
            and new is not None
            and old["spec"] is new["spec"]
            and is_terminal(old) == is_terminal(new)
        ):
            # A status report (the kubelet's): same node, same requests, and the pod has
            # not ended (nor ended before), so what the previous version of the pod made
            # this cache hold still holds.
            return
        if old is None and new is not None and not new["spec"].get("nodeName"):
            return  # a new pod not bound yet: nothing to index or count
        obj = new if new is not None else old
        assert obj is not None
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        old_node = (old or {}).get("spec", {}).get("nodeName") if old is not None else None
        new_node = new["spec"].get("nodeName") if new is not None else None
        if old_node != new_node:
            if old_node:
                self._unindex(old_node, key)
            if new_node:
                self.pods_by_node.setdefault(new_node, set()).add(key)
        counts = (
            new is not None
            and bool(new_node)
            and (new.get("status") or {}).get("phase") not in TERMINAL_PHASES
        )
        counted = self._counted.get(key)
        if counted is not None and (not counts or counted[0] != new_node):
            self._uncount(key, counted)
            counted = None
        if counts and counted is None and new is not None and new_node:
            requests = self.requests(new["spec"])
            owner = controller_uid(new)
            self._counted[key] = (new_node, requests, owner)
            info = self.infos.get(new_node)
            if info is not None:
                _add_map(info.requested, requests)
                if owner:
                    info.owners[owner] = info.owners.get(owner, 0) + 1
                self._changed(info)
        if new is None and old_node:
            info = self.infos.get(old_node)
            if info is not None:
                info.release_ip(key)

    def _unindex(self, node: str, key: PodKey) -> None:
        keys = self.pods_by_node.get(node)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.pods_by_node[node]

    def _uncount(self, key: PodKey, counted: tuple[str, dict[str, int], str | None]) -> None:
        del self._counted[key]
        node, requests, owner = counted
        info = self.infos.get(node)
        if info is None:
            return
        for name, value in requests.items():
            info.requested[name] = info.requested.get(name, 0) - value
        if owner:
            left = info.owners.get(owner, 0) - 1
            if left > 0:
                info.owners[owner] = left
            else:
                info.owners.pop(owner, None)
        info.release_ip(key)
        self._changed(info)
