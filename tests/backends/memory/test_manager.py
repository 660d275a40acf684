"""The controller loop: a settle with nothing to do returns at once, and only then."""

from __future__ import annotations

from kecs.backends import kinds
from kecs.backends.memory.controllers import Manager
from kecs.backends.memory.controllers.nodes import NodeSpec, node_object
from tests.backends.memory.helpers import fresh, pod


def _counting_idle_hook(manager: Manager) -> list[int]:
    runs: list[int] = []
    manager.on_idle(lambda: runs.append(1))
    return runs


def test_a_quiescent_settle_runs_no_idle_hook() -> None:
    backend = fresh()
    manager = backend._cluster.manager
    runs = _counting_idle_hook(manager)
    backend.settle()
    backend.find(kinds.NODE, names=["kecs-node-1"])
    assert runs == []


def test_a_change_made_outside_a_settle_runs_the_idle_hooks_at_the_next_one() -> None:
    backend = fresh()
    manager = backend._cluster.manager
    runs = _counting_idle_hook(manager)
    # a server-side write without a settle (as the simulator and the garbage collector make)
    backend._server.create(pod("p"))
    backend.settle()
    assert runs  # the hooks ran (and the scheduler bound the pod)
    assert backend._server.find(kinds.POD, "default", "p")["spec"]["nodeName"]
    count = len(runs)
    backend.settle()
    assert len(runs) == count


def test_an_unschedulable_pod_is_retried_when_a_node_arrives_between_settles() -> None:
    backend = fresh(nodes=1, autoscale=False)
    big = pod("big")
    big["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "6"}}
    backend.create(big)
    assert not backend.get(kinds.POD, "big", "default")["spec"].get("nodeName")
    # registered behind the backend's back: only the watch handlers hear of it
    server = backend._server
    server.create(node_object(NodeSpec(name="large", cpu="8"), 9, "us-east-1", server.timestamp()))
    assert backend.get(kinds.POD, "big", "default")["spec"]["nodeName"] == "large"
