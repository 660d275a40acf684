"""10,000 pods in one namespace, through a Deployment and through direct creates.

Only counts are asserted here; ``benchmarks/bench_embedded_cluster.py`` prints the time and
memory figures (1k vs 10k) that show both grow linearly.
"""

from __future__ import annotations

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend, NodeSpec
from tests.backends.memory.helpers import NS, START, container, deployment, pod

COUNT = 10_000


def roomy() -> MemoryBackend:
    nodes = [NodeSpec(cpu="1000", memory="1000Gi", pods=COUNT) for _ in range(3)]
    return MemoryBackend(nodes=nodes, seed=3, clock=lambda: START)


def running(backend: MemoryBackend) -> int:
    """Running pods, read from the store without copying 10,000 objects."""
    stored = backend._server.table.bucket(kinds.POD, NS).objects.values()
    return sum(1 for p in stored if p["status"]["phase"] == "Running")


def test_ten_thousand_pods_through_a_deployment() -> None:
    backend = roomy()
    backend.create(deployment("web", 0))
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": COUNT}}, NS)
    status = backend.get(kinds.DEPLOYMENT, "web", NS)["status"]
    assert status["availableReplicas"] == status["updatedReplicas"] == COUNT
    assert running(backend) == COUNT
    per_node = {n: 0 for n in ("kecs-node-1", "kecs-node-2", "kecs-node-3")}
    for p in backend._server.table.bucket(kinds.POD, NS).objects.values():
        per_node[p["spec"]["nodeName"]] += 1
    assert max(per_node.values()) - min(per_node.values()) <= 1
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 0}}, NS)
    assert backend.list(kinds.POD, NS).items == []


def test_ten_thousand_direct_pod_creates() -> None:
    backend = roomy()
    body = container(resources={"requests": {"cpu": "10m"}})
    for index in range(COUNT):
        backend.create(pod(f"task-{index:05d}", body))
    assert running(backend) == COUNT
    page = backend.list(kinds.POD, NS, limit=100)
    assert len(page.items) == 100 and page.continue_token
