"""The DaemonSet controller: one pod per eligible node, rolling updates, status."""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend, NodeSpec
from tests.backends.memory.helpers import NS, daemon_set, fresh, live_pods

Object = dict[str, Any]


def by_node(backend: MemoryBackend) -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {}
    for p in live_pods(backend):
        placed.setdefault(p["spec"]["nodeName"], []).append(p["spec"]["containers"][0]["image"])
    return placed


def status(backend: MemoryBackend, name: str = "agent") -> Object:
    found: Object = backend.get(kinds.DAEMON_SET, name, NS)["status"]
    return found


def test_one_pod_per_node(backend: MemoryBackend) -> None:
    backend.create(daemon_set())
    assert by_node(backend) == {
        "kecs-node-1": ["fluent-bit:3"],
        "kecs-node-2": ["fluent-bit:3"],
        "kecs-node-3": ["fluent-bit:3"],
    }
    pod = live_pods(backend)[0]
    assert pod["metadata"]["labels"]["controller-revision-hash"]
    assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms["nodeSelectorTerms"][0]["matchFields"][0]["key"] == "metadata.name"
    tolerated = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tolerated
    assert status(backend) == {
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 3,
        "observedGeneration": 1,
        "updatedNumberScheduled": 3,
        "numberAvailable": 3,
    }
    (revision,) = backend.list_all(kinds.CONTROLLER_REVISION, NS)
    assert revision["revision"] == 1
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"


def test_node_selector_and_taints_choose_the_nodes() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    backend = fresh(
        nodes=[
            NodeSpec(labels={"role": "log"}),
            NodeSpec(labels={"role": "log"}, taints=[taint]),
            NodeSpec(),
        ],
        autoscale=False,
    )
    backend.create(daemon_set())
    backend.patch(
        kinds.DAEMON_SET,
        "agent",
        {"spec": {"template": {"spec": {"nodeSelector": {"role": "log"}}}}},
        NS,
    )
    assert sorted(by_node(backend)) == ["kecs-node-1"]
    assert status(backend)["desiredNumberScheduled"] == 1


def test_nodes_coming_and_going(backend: MemoryBackend) -> None:
    backend.create(daemon_set())
    backend.simulator.add_node(name="late")
    assert "late" in by_node(backend)
    backend.simulator.remove_node("kecs-node-1")
    assert sorted(by_node(backend)) == ["kecs-node-2", "kecs-node-3", "late"]
    assert status(backend)["desiredNumberScheduled"] == 3


def test_rolling_update_replaces_one_node_at_a_time(backend: MemoryBackend) -> None:
    backend.create(daemon_set())
    backend.simulator.slow_start("fluent-bit:4", 10)
    backend.patch(
        kinds.DAEMON_SET,
        "agent",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "app", "image": "fluent-bit:4"}]}}
            }
        },
        NS,
    )
    history = []
    for _ in range(4):
        images = sorted(image for images in by_node(backend).values() for image in images)
        history.append(images.count("fluent-bit:4"))
        ready = [
            p
            for p in live_pods(backend)
            if any(
                c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"]
            )
        ]
        assert len(ready) >= 2
        backend.advance(10)
    assert history == [1, 2, 3, 3]
    assert status(backend)["updatedNumberScheduled"] == 3
    revisions = sorted(r["revision"] for r in backend.list_all(kinds.CONTROLLER_REVISION, NS))
    assert revisions == [1, 2]


def test_max_surge_starts_the_new_pod_first(backend: MemoryBackend) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    backend.create(daemon_set(updateStrategy=strategy))
    backend.simulator.slow_start("fluent-bit:4", 10)
    backend.patch(
        kinds.DAEMON_SET,
        "agent",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "app", "image": "fluent-bit:4"}]}}
            }
        },
        NS,
    )
    placed = by_node(backend)
    assert sum(len(images) for images in placed.values()) == 4  # one node runs both
    backend.advance(10)
    backend.advance(10)
    backend.advance(10)
    assert all(images == ["fluent-bit:4"] for images in by_node(backend).values())


def test_on_delete_waits_for_pods_to_be_deleted(backend: MemoryBackend) -> None:
    backend.create(daemon_set(updateStrategy={"type": "OnDelete"}))
    backend.patch(
        kinds.DAEMON_SET,
        "agent",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "app", "image": "fluent-bit:4"}]}}
            }
        },
        NS,
    )
    assert all(images == ["fluent-bit:3"] for images in by_node(backend).values())
    victim = next(p for p in live_pods(backend) if p["spec"]["nodeName"] == "kecs-node-2")
    backend.delete(kinds.POD, victim["metadata"]["name"], NS)
    assert by_node(backend)["kecs-node-2"] == ["fluent-bit:4"]


def test_failed_daemon_pods_are_replaced(backend: MemoryBackend) -> None:
    backend.create(daemon_set())
    backend.patch(
        kinds.DAEMON_SET,
        "agent",
        {"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}},
        NS,
    )
    backend.advance(5)
    assert len(live_pods(backend)) == 3
    assert all(p["status"]["phase"] == "Running" for p in live_pods(backend))


def test_deleting_the_daemon_set_collects_pods_and_revisions(backend: MemoryBackend) -> None:
    backend.create(daemon_set())
    backend.delete(kinds.DAEMON_SET, "agent", NS)
    assert live_pods(backend) == []
    assert backend.list_all(kinds.CONTROLLER_REVISION, NS) == []
