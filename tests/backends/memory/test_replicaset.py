"""The ReplicaSet controller: pods from the template, scaling, deletion order, status."""

from __future__ import annotations

import re

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import NS, container, fresh, names, pods, template

FINALIZER = "example.com/record"


def replica_set(name: str = "rs", replicas: int = 3, **spec: object) -> dict[str, object]:
    body = template(container(), labels={"app": name})
    body["metadata"]["annotations"] = {"note": "copied"}
    body["metadata"]["finalizers"] = [FINALIZER]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": body,
            **spec,
        },
    }


def scale(backend: MemoryBackend, replicas: int, name: str = "rs") -> None:
    backend.patch(kinds.REPLICA_SET, name, {"spec": {"replicas": replicas}}, NS)


def live(backend: MemoryBackend) -> list[dict[str, object]]:
    return [p for p in pods(backend) if not p["metadata"].get("deletionTimestamp")]


def release(backend: MemoryBackend) -> None:
    for p in pods(backend):
        if p["metadata"].get("deletionTimestamp"):
            backend.patch(kinds.POD, p["metadata"]["name"], {"metadata": {"finalizers": None}}, NS)


def test_pods_come_from_the_template(backend: MemoryBackend) -> None:
    rs = backend.create(replica_set())
    made = pods(backend)
    assert len(made) == 3
    for p in made:
        meta = p["metadata"]
        assert re.fullmatch(r"rs-[bcdfghjklmnpqrstvwxz2456789]{5}", meta["name"])
        assert meta["labels"] == {"app": "rs"}
        assert meta["annotations"] == {"note": "copied"}
        assert meta["finalizers"] == [FINALIZER]
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "rs",
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    status = backend.get(kinds.REPLICA_SET, "rs", NS)["status"]
    assert status == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


def test_scale_down_picks_unscheduled_then_not_ready_pods(backend: MemoryBackend) -> None:
    backend.create(replica_set(replicas=2))
    backend.simulator.slow_start("nginx:*", 60)
    scale(backend, 3)  # one pod not ready yet
    slow = [p for p in live(backend) if p["status"]["phase"] == "Pending"]
    assert len(slow) == 1
    scale(backend, 2)
    assert slow[0]["metadata"]["name"] not in names(live(backend))


def test_scale_down_honours_pod_deletion_cost_then_newest_first() -> None:
    backend = fresh(nodes=1)
    backend.create(replica_set(replicas=4))
    by_age = names(sorted(live(backend), key=lambda p: p["metadata"]["resourceVersion"]))
    backend.patch(
        kinds.POD,
        by_age[3],
        {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "100"}}},
        NS,
    )
    scale(backend, 2)
    left = names(live(backend))
    # the newest pod is protected by its cost: the two next newest go
    assert sorted(left) == sorted([by_age[0], by_age[3]])


def test_scale_down_prefers_doubled_up_nodes() -> None:
    backend = fresh(nodes=2, autoscale=False)
    backend.create(replica_set(replicas=3))
    per_node: dict[str, int] = {}
    for p in live(backend):
        per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
    crowded = max(per_node, key=lambda n: per_node[n])
    scale(backend, 2)
    assert sorted(p["spec"]["nodeName"] for p in live(backend)) == ["kecs-node-1", "kecs-node-2"]
    assert per_node[crowded] == 2


def test_terminating_pods_are_not_replicas_and_get_replaced(backend: MemoryBackend) -> None:
    backend.create(replica_set(replicas=2))
    victim = live(backend)[0]["metadata"]["name"]
    backend.delete(kinds.POD, victim, NS)
    assert backend.get(kinds.POD, victim, NS)["metadata"]["deletionTimestamp"]
    assert len(live(backend)) == 2
    assert backend.get(kinds.REPLICA_SET, "rs", NS)["status"]["replicas"] == 2
    release(backend)
    assert len(pods(backend)) == 2


def test_failed_pods_are_replaced(backend: MemoryBackend) -> None:
    backend.create(
        replica_set(
            replicas=1,
            template=template(container(), labels={"app": "rs"}, activeDeadlineSeconds=30),
        )
    )
    first = live(backend)[0]["metadata"]["name"]
    backend.advance(30)
    failed = backend.get(kinds.POD, first, NS)
    assert failed["status"]["phase"] == "Failed"
    running = [p for p in pods(backend) if p["status"]["phase"] == "Running"]
    assert len(running) == 1 and running[0]["metadata"]["name"] != first


def test_unready_pods_are_counted_apart(backend: MemoryBackend) -> None:
    probe = {"exec": {"command": ["true"]}}
    body = template(container(readinessProbe=probe), labels={"app": "rs"})
    backend.create(replica_set(replicas=2, template=body))
    victim = live(backend)[0]["metadata"]["name"]
    backend.simulator.set_health(NS, victim, "app", False)
    status = backend.get(kinds.REPLICA_SET, "rs", NS)["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (2, 1, 1)


def test_min_ready_seconds_delays_availability(backend: MemoryBackend) -> None:
    backend.create(replica_set(replicas=2, minReadySeconds=10))
    status = backend.get(kinds.REPLICA_SET, "rs", NS)["status"]
    assert status["readyReplicas"] == 2 and "availableReplicas" not in status
    backend.advance(10)
    assert backend.get(kinds.REPLICA_SET, "rs", NS)["status"]["availableReplicas"] == 2


def test_deleting_the_replica_set_collects_its_pods(backend: MemoryBackend) -> None:
    backend.create(replica_set(replicas=2))
    backend.delete(kinds.REPLICA_SET, "rs", NS)
    assert all(p["metadata"].get("deletionTimestamp") for p in pods(backend))
    release(backend)
    assert pods(backend) == []


def test_a_terminating_namespace_stops_pod_creation(backend: MemoryBackend) -> None:
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    backend.create({**replica_set(replicas=1), "metadata": {"name": "rs", "namespace": "team"}})
    backend.delete(kinds.NAMESPACE, "team")
    assert backend.get(kinds.NAMESPACE, "team")["status"]["phase"] == "Terminating"
    for p in backend.list_all(kinds.POD, "team"):
        backend.patch(kinds.POD, p["metadata"]["name"], {"metadata": {"finalizers": None}}, "team")
    assert backend.list_all(kinds.NAMESPACE, where=lambda n: n["metadata"]["name"] == "team") == []
