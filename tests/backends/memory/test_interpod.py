"""Scheduling that depends on other pods: pod (anti-)affinity and topology spread."""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import NS, condition, deployment, fresh, pod

Object = dict[str, Any]
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


def constraint(when: str, labels: dict[str, str]) -> Object:
    return {
        "maxSkew": 1,
        "topologyKey": ZONE,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": labels},
    }


def term(app: str, key: str = HOST) -> Object:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}


def required(kind: str, *terms: Object) -> Object:
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def node_of(backend: MemoryBackend, name: str) -> str | None:
    found: str | None = backend.get(kinds.POD, name, NS)["spec"].get("nodeName")
    return found


def message(backend: MemoryBackend, name: str) -> str:
    scheduled = condition(backend.get(kinds.POD, name, NS), "PodScheduled")
    assert scheduled is not None and scheduled["reason"] == "Unschedulable"
    return str(scheduled["message"])


def distinct(replicas: int) -> Object:
    obj = deployment("web", replicas)
    obj["spec"]["template"]["spec"]["affinity"] = required("podAntiAffinity", term("web"))
    return obj


def test_anti_affinity_keeps_one_pod_per_node() -> None:
    backend = fresh(autoscale=False)
    backend.create(distinct(4))
    pods = backend.list_all(kinds.POD, NS)
    placed = [p["spec"].get("nodeName") for p in pods]
    assert sorted(n for n in placed if n) == ["kecs-node-1", "kecs-node-2", "kecs-node-3"]
    (pending,) = [p["metadata"]["name"] for p in pods if not p["spec"].get("nodeName")]
    assert message(backend, pending) == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: "
        "0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )


def test_the_autoscaler_adds_a_node_for_an_anti_affinity_pod(backend: MemoryBackend) -> None:
    backend.create(distinct(4))
    assert all(p["spec"].get("nodeName") for p in backend.list_all(kinds.POD, NS))
    assert len(backend.list_all(kinds.NODE)) == 4


def test_existing_anti_affinity_is_symmetric() -> None:
    backend = fresh(nodes=2, autoscale=False)
    loner = pod("loner", labels={"app": "loner"}, affinity=required("podAntiAffinity", term("web")))
    backend.create({**loner, "spec": {**loner["spec"], "nodeName": "kecs-node-1"}})
    backend.create(pod("w1", labels={"app": "web"}))
    backend.create(pod("w2", labels={"app": "web"}))
    assert node_of(backend, "w1") == node_of(backend, "w2") == "kecs-node-2"
    backend.simulator.cordon("kecs-node-2")
    backend.create(pod("w3", labels={"app": "web"}))
    assert "1 node(s) didn't satisfy existing pods anti-affinity rules" in message(backend, "w3")


def test_pod_affinity_follows_the_group_and_lets_the_first_pod_anywhere() -> None:
    backend = fresh(autoscale=False)
    affinity = required("podAffinity", term("db"))
    backend.create(pod("db", labels={"app": "db"}, affinity=affinity))
    first = node_of(backend, "db")
    assert first is not None
    for index in range(3):
        backend.create(pod(f"app{index}", labels={"app": "x"}, affinity=affinity))
    assert {node_of(backend, f"app{i}") for i in range(3)} == {first}
    backend.create(
        pod("lost", labels={"app": "x"}, affinity=required("podAffinity", term("nothing")))
    )
    assert "3 node(s) didn't match pod affinity rules" in message(backend, "lost")
    assert "3 Preemption is not helpful for scheduling" in message(backend, "lost")


def test_topology_spread_do_not_schedule_keeps_the_skew() -> None:
    backend = fresh(nodes=6, autoscale=False)
    spread = constraint("DoNotSchedule", {"app": "web"})
    obj = deployment("web", 6)
    obj["spec"]["template"]["spec"]["topologySpreadConstraints"] = [spread]
    backend.create(obj)
    zones = {
        n["metadata"]["name"]: n["metadata"]["labels"][ZONE] for n in backend.list_all(kinds.NODE)
    }
    per_zone: dict[str, int] = {}
    for p in backend.list_all(kinds.POD, NS):
        zone = zones[p["spec"]["nodeName"]]
        per_zone[zone] = per_zone.get(zone, 0) + 1
    assert per_zone == {"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}


def test_schedule_anyway_spreads_standalone_pods_across_zones(backend: MemoryBackend) -> None:
    spread = constraint("ScheduleAnyway", {"group": "batch"})
    for index in range(6):
        backend.create(
            pod(f"job{index}", labels={"group": "batch"}, topologySpreadConstraints=[spread])
        )
    nodes = sorted(node_of(backend, f"job{i}") or "" for i in range(6))
    assert nodes == [
        "kecs-node-1",
        "kecs-node-1",
        "kecs-node-2",
        "kecs-node-2",
        "kecs-node-3",
        "kecs-node-3",
    ]


def test_preferred_pod_affinity_packs_a_group(backend: MemoryBackend) -> None:
    preferred = {"podAffinity": {PREFERRED: [{"weight": 100, "podAffinityTerm": term("batch")}]}}
    for index in range(4):
        backend.create(pod(f"job{index}", labels={"app": "batch"}, affinity=preferred))
    assert len({node_of(backend, f"job{i}") for i in range(4)}) == 1


def test_preferred_node_affinity(backend: MemoryBackend) -> None:
    preference = {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["us-east-1c"]}]}
    affinity = {"nodeAffinity": {PREFERRED: [{"weight": 10, "preference": preference}]}}
    backend.create(pod("p", affinity=affinity))
    assert node_of(backend, "p") == "kecs-node-3"
