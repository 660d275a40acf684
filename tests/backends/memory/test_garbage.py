"""Garbage collection (ownerReferences, finalizers) and what happens when a node goes away."""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import NS, condition, deployment, live_pods, pod, pods, state

Object = dict[str, Any]
FINALIZER = "example.com/record"


def config_map(name: str, *owners: Object, finalizers: list[str] | None = None) -> Object:
    meta: Object = {"name": name, "namespace": NS}
    if owners:
        meta["ownerReferences"] = [
            {
                "apiVersion": o["apiVersion"],
                "kind": o["kind"],
                "name": o["metadata"]["name"],
                "uid": o["metadata"]["uid"],
            }
            for o in owners
        ]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def exists(backend: MemoryBackend, name: str) -> bool:
    return bool(
        backend.list_all(kinds.CONFIG_MAP, NS, where=lambda o: o["metadata"]["name"] == name)
    )


def test_dependents_go_transitively(backend: MemoryBackend) -> None:
    root = backend.create(config_map("root"))
    child = backend.create(config_map("child", root))
    backend.create(config_map("grandchild", child))
    backend.delete(kinds.CONFIG_MAP, "root", NS)
    assert not exists(backend, "child") and not exists(backend, "grandchild")


def test_dependents_with_finalizers_stay_terminating(backend: MemoryBackend) -> None:
    root = backend.create(config_map("root"))
    backend.create(config_map("kept", root, finalizers=[FINALIZER]))
    backend.delete(kinds.CONFIG_MAP, "root", NS)
    kept = backend.get(kinds.CONFIG_MAP, "kept", NS)
    assert kept["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:00Z"
    backend.patch(kinds.CONFIG_MAP, "kept", {"metadata": {"finalizers": None}}, NS)
    assert not exists(backend, "kept")


def test_a_dependent_with_another_live_owner_only_loses_the_reference(
    backend: MemoryBackend,
) -> None:
    first = backend.create(config_map("first"))
    second = backend.create(config_map("second"))
    backend.create(config_map("shared", first, second))
    backend.delete(kinds.CONFIG_MAP, "first", NS)
    refs = backend.get(kinds.CONFIG_MAP, "shared", NS)["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["second"]
    backend.delete(kinds.CONFIG_MAP, "second", NS)
    assert not exists(backend, "shared")


def test_an_object_created_for_a_gone_owner_is_collected(backend: MemoryBackend) -> None:
    ghost = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ghost", "uid": "0" * 32},
    }
    backend.create(config_map("orphan", ghost))
    assert not exists(backend, "orphan")


def test_a_removed_node_evicts_its_pods(backend: MemoryBackend) -> None:
    backend.create(pod("p", finalizers=[FINALIZER], nodeName="kecs-node-2"))
    backend.create(deployment("web", 3))
    backend.simulator.remove_node("kecs-node-2")
    assert [n["metadata"]["name"] for n in backend.list_all(kinds.NODE)] == [
        "kecs-node-1",
        "kecs-node-3",
    ]
    evicted = backend.get(kinds.POD, "p", NS)
    assert evicted["metadata"]["deletionTimestamp"]
    assert evicted["status"]["phase"] == "Failed"
    target = condition(evicted, "DisruptionTarget")
    assert target is not None
    assert (target["status"], target["reason"], target["message"]) == (
        "True",
        "DeletionByPodGC",
        "PodGC: node no longer exists",
    )
    kind, detail = state(evicted)
    assert kind == "terminated" and detail["reason"] == "ContainerStatusUnknown"
    assert detail["exitCode"] == 137 and detail["startedAt"] == "2026-01-01T12:00:00Z"
    web = [p for p in live_pods(backend) if p["metadata"]["name"] != "p"]
    assert len(web) == 3 and all(p["spec"]["nodeName"] != "kecs-node-2" for p in web)


def test_node_removal_reasons_can_be_given(backend: MemoryBackend) -> None:
    backend.create(pod("p", finalizers=[FINALIZER], nodeName="kecs-node-1"))
    backend.simulator.remove_node(
        "kecs-node-1",
        reason="DeletionByTaintManager",
        message="Taint manager: deleting due to NoExecute taint",
    )
    target = condition(backend.get(kinds.POD, "p", NS), "DisruptionTarget")
    assert target is not None and target["reason"] == "DeletionByTaintManager"


def test_pods_bound_to_a_missing_node_are_collected(backend: MemoryBackend) -> None:
    backend.create(pod("p", nodeName="no-such-node"))
    assert pods(backend) == []
