"""Nodes and the scheduler: placement rules, spreading, unschedulable pods, the autoscaler."""

from __future__ import annotations

import pytest

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend, NodeSpec
from tests.backends.memory.helpers import NS, condition, container, deployment, fresh, pod


def node_of(backend: MemoryBackend, name: str) -> str | None:
    node: str | None = backend.get(kinds.POD, name, NS)["spec"].get("nodeName")
    return node


def requesting(cpu: str = "100m", memory: str = "64Mi") -> dict[str, object]:
    return container(resources={"requests": {"cpu": cpu, "memory": memory}})


def test_three_default_nodes_like_eks_m5_xlarge(backend: MemoryBackend) -> None:
    nodes = backend.list(kinds.NODE).items
    assert [n["metadata"]["name"] for n in nodes] == ["kecs-node-1", "kecs-node-2", "kecs-node-3"]
    zones = [n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes]
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    first = nodes[0]
    labels = first["metadata"]["labels"]
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["kubernetes.io/hostname"] == "kecs-node-1"
    assert labels["node.kubernetes.io/instance-type"] == "m5.xlarge"
    status = first["status"]
    assert status["allocatable"] == {
        "cpu": "4",
        "memory": "16Gi",
        "pods": "110",
        "ephemeral-storage": "100Gi",
    }
    ready = condition(first, "Ready")
    assert ready is not None and ready["status"] == "True"
    assert {a["type"] for a in status["addresses"]} == {"InternalIP", "Hostname"}


def test_nodes_are_configurable() -> None:
    backend = fresh(
        nodes=[NodeSpec(name="gpu", zone="eu-west-1b", labels={"accel": "gpu"}, cpu="8")],
        region="eu-west-1",
    )
    (node,) = backend.list(kinds.NODE).items
    assert node["metadata"]["name"] == "gpu"
    assert node["metadata"]["labels"]["accel"] == "gpu"
    assert node["metadata"]["labels"]["topology.kubernetes.io/region"] == "eu-west-1"
    assert node["status"]["capacity"]["cpu"] == "8"
    assert fresh(nodes=5).list(kinds.NODE).items[4]["metadata"]["name"] == "kecs-node-5"


def test_replicas_spread_across_nodes_and_zones(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 6))
    placed = [p["spec"]["nodeName"] for p in backend.list(kinds.POD, NS).items]
    assert sorted(placed) == sorted(["kecs-node-1", "kecs-node-2", "kecs-node-3"] * 2)


def test_node_selector(backend: MemoryBackend) -> None:
    backend.create(pod("p", nodeSelector={"topology.kubernetes.io/zone": "us-east-1b"}))
    assert node_of(backend, "p") == "kecs-node-2"


@pytest.mark.parametrize(
    ("expression", "allowed"),
    [
        ({"operator": "In", "values": ["us-east-1c"]}, {"kecs-node-3"}),
        ({"operator": "NotIn", "values": ["us-east-1a", "us-east-1b"]}, {"kecs-node-3"}),
        ({"operator": "Exists"}, {"kecs-node-1", "kecs-node-2", "kecs-node-3"}),
    ],
)
def test_required_node_affinity(
    backend: MemoryBackend, expression: dict[str, object], allowed: set[str]
) -> None:
    term = {"matchExpressions": [{"key": "topology.kubernetes.io/zone", **expression}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    backend.create(pod("p", affinity=affinity))
    assert node_of(backend, "p") in allowed


def test_taints_keep_pods_away_unless_tolerated() -> None:
    taint = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}
    backend = fresh(nodes=[NodeSpec(taints=[taint]), NodeSpec()], autoscale=False)
    for index in range(4):
        backend.create(pod(f"p{index}"))
    assert {node_of(backend, f"p{i}") for i in range(4)} == {"kecs-node-2"}
    toleration = {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}
    backend.create(pod("tolerant", tolerations=[toleration]))
    assert node_of(backend, "tolerant") == "kecs-node-1"  # the emptier node


def test_resource_fit_counts_what_bound_pods_request() -> None:
    backend = fresh(nodes=1, autoscale=False)
    backend.create(pod("big", requesting(cpu="3", memory="1Gi")))
    backend.create(pod("small", requesting(cpu="1", memory="1Gi")))
    backend.create(pod("too-much", requesting(cpu="500m", memory="1Gi")))
    assert node_of(backend, "big") == node_of(backend, "small") == "kecs-node-1"
    stuck = backend.get(kinds.POD, "too-much", NS)
    assert stuck["status"]["phase"] == "Pending"
    scheduled = condition(stuck, "PodScheduled")
    assert scheduled == {
        "type": "PodScheduled",
        "status": "False",
        "lastTransitionTime": "2026-01-01T12:00:00Z",
        "reason": "Unschedulable",
        "message": "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
        "available: 1 No preemption victims found for incoming pod.",
    }
    # Freed resources (a pod gone) let the pending pod in.
    backend.delete(kinds.POD, "small", NS)
    assert node_of(backend, "too-much") == "kecs-node-1"


def test_terminal_pods_free_their_resources() -> None:
    backend = fresh(nodes=1, autoscale=False)
    backend.create(pod("job", requesting(cpu="4"), restartPolicy="Never"))
    backend.create(pod("next", requesting(cpu="1")))
    assert node_of(backend, "next") is None
    backend.simulator.exit_container(NS, "job", "app", 0)
    assert backend.get(kinds.POD, "job", NS)["status"]["phase"] == "Succeeded"
    assert node_of(backend, "next") == "kecs-node-1"


def test_unschedulable_message_lists_every_reason() -> None:
    taint = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}
    backend = fresh(
        nodes=[NodeSpec(taints=[taint]), NodeSpec(labels={"disk": "hdd"}), NodeSpec(pods=0)],
        autoscale=False,
    )
    backend.create(pod("p", nodeSelector={"disk": "hdd"}, containers=[requesting(cpu="64")]))
    message = condition(backend.get(kinds.POD, "p", NS), "PodScheduled")["message"]  # type: ignore[index]
    assert message == (
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node "
        "affinity/selector, 1 node(s) had untolerated taint {gpu: yes}. preemption: 0/3 nodes "
        "are available: 1 No preemption victims found for incoming pod, 2 Preemption is not "
        "helpful for scheduling."
    )


def test_a_new_node_takes_pending_pods(backend: MemoryBackend) -> None:
    backend.create(pod("p", nodeSelector={"pool": "extra"}))
    assert node_of(backend, "p") is None
    node = backend.simulator.add_node(name="extra-1", labels={"pool": "extra"})
    assert node["metadata"]["name"] == "extra-1"
    assert node_of(backend, "p") == "extra-1"


def test_cordoned_nodes_take_no_new_pods() -> None:
    backend = fresh(nodes=2, autoscale=False)
    backend.simulator.cordon("kecs-node-1")
    for index in range(3):
        backend.create(pod(f"p{index}"))
    assert {node_of(backend, f"p{i}") for i in range(3)} == {"kecs-node-2"}
    backend.simulator.cordon("kecs-node-1", False)
    backend.create(pod("after"))
    assert node_of(backend, "after") == "kecs-node-1"


def test_the_autoscaler_adds_nodes_when_capacity_runs_out(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 4, pod_template=None))
    big = deployment("big", 4)
    big["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "3"}}
    backend.create(big)
    nodes = backend.list(kinds.NODE).items
    assert len(nodes) == 4
    assert nodes[3]["metadata"]["name"] == "kecs-node-4"
    assert nodes[3]["metadata"]["labels"]["topology.kubernetes.io/zone"] == "us-east-1a"
    assert all(p["status"]["phase"] == "Running" for p in backend.list(kinds.POD, NS).items)


def test_the_autoscaler_cannot_help_pods_no_node_type_fits(backend: MemoryBackend) -> None:
    backend.create(pod("huge", requesting(cpu="64")))
    backend.create(pod("picky", nodeSelector={"no": "such-label"}))
    assert len(backend.list(kinds.NODE).items) == 3
    assert node_of(backend, "huge") is None and node_of(backend, "picky") is None


def test_pods_bound_by_the_client_skip_the_scheduler(backend: MemoryBackend) -> None:
    backend.create(pod("p", nodeName="kecs-node-3"))
    assert backend.get(kinds.POD, "p", NS)["status"]["phase"] == "Running"
    backend.create(pod("q", schedulerName="my-scheduler"))
    assert node_of(backend, "q") is None


def test_pod_ips_are_unique_and_from_the_nodes_range(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 9))
    pods = backend.list(kinds.POD, NS).items
    ips = {p["status"]["podIP"] for p in pods}
    assert len(ips) == 9
    node_cidrs = {
        n["metadata"]["name"]: n["spec"]["podCIDR"] for n in backend.list(kinds.NODE).items
    }
    for p in pods:
        prefix = node_cidrs[p["spec"]["nodeName"]].rsplit(".", 2)[0]
        assert p["status"]["podIP"].startswith(prefix)
        assert p["status"]["hostIP"].startswith("10.0.")


def test_a_pod_the_autoscaler_cannot_help_still_gets_every_reason() -> None:
    # The full pass that explains a failure runs only once the autoscaler has declined.
    taint = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}
    backend = fresh(nodes=[NodeSpec(taints=[taint]), NodeSpec(labels={"disk": "hdd"})])
    backend.create(pod("p", nodeSelector={"disk": "hdd"}, containers=[requesting(cpu="64")]))
    message = condition(backend.get(kinds.POD, "p", NS), "PodScheduled")["message"]  # type: ignore[index]
    assert message == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{gpu: yes}. preemption: 0/2 nodes are available: 1 No preemption victims found for "
        "incoming pod, 1 Preemption is not helpful for scheduling."
    )
    assert len(backend.list(kinds.NODE).items) == 2
