"""The simulator's remaining calls, and determinism: same seed and clock, same world."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.backends.memory import MemoryBackend, SimulationError
from tests.backends.memory.helpers import (
    NS,
    START,
    container_status,
    daemon_set,
    deployment,
    fresh,
    pod,
    set_image,
    state,
)


def scenario(backend: MemoryBackend) -> list[dict[str, Any]]:
    sim = backend.simulator
    sim.slow_start("nginx:2", 20)
    sim.crash_on_start("crasher:*", 1, after=5)
    backend.create(deployment("web", 4))
    backend.create(daemon_set())
    backend.create(pod("job", restartPolicy="Never"))
    set_image(backend, "web", "nginx:2")
    backend.create(deployment("crashy", 2, image="crasher:1"))
    backend.advance(20)
    sim.exit_container(NS, "job", "app", 4)
    sim.remove_node("kecs-node-1")
    backend.advance(60)
    return [o for kind in kinds.ALL for o in backend.list_all(kind, None)]


def test_the_same_seed_and_clock_give_the_same_world() -> None:
    first, second = scenario(fresh(seed=11)), scenario(fresh(seed=11))
    assert first == second
    third = scenario(fresh(seed=12))
    assert [o["metadata"]["name"] for o in third] != [o["metadata"]["name"] for o in first]


def test_crashing_after_a_while(backend: MemoryBackend) -> None:
    backend.simulator.crash_on_start("nginx:*", 9, after=30)
    backend.create(pod("p", restartPolicy="Never"))
    backend.advance(29)
    assert backend.get(kinds.POD, "p", NS)["status"]["phase"] == "Running"
    backend.advance(1)
    obj = backend.get(kinds.POD, "p", NS)
    assert obj["status"]["phase"] == "Failed"
    assert state(obj)[1]["exitCode"] == 9


def test_stop_crashing_lets_the_next_start_run(backend: MemoryBackend) -> None:
    backend.simulator.crash_on_start("nginx:*", 1)
    backend.create(pod("p"))
    assert state(backend.get(kinds.POD, "p", NS))[1]["reason"] == "CrashLoopBackOff"
    backend.simulator.stop_crashing()
    backend.advance(10)
    status = container_status(backend.get(kinds.POD, "p", NS))
    assert "running" in status["state"] and status["restartCount"] == 2


def test_the_latest_matching_rule_wins(backend: MemoryBackend) -> None:
    backend.simulator.exit_code_on_sigterm("*", 0)
    backend.simulator.exit_code_on_sigterm("nginx:*", 2)
    backend.create(pod("p", finalizers=["example.com/keep"]))
    backend.delete(kinds.POD, "p", NS)
    assert state(backend.get(kinds.POD, "p", NS))[1]["exitCode"] == 2


def test_reset_forgets_every_rule(backend: MemoryBackend) -> None:
    sim = backend.simulator
    sim.fail_image_pulls("*")
    sim.slow_start("*", 100)
    sim.reset()
    backend.create(pod("p"))
    assert state(backend.get(kinds.POD, "p", NS))[0] == "running"


def test_slow_start_zero_removes_the_rule(backend: MemoryBackend) -> None:
    backend.simulator.slow_start("nginx:*", 100)
    backend.simulator.slow_start("nginx:*", 0)
    backend.create(pod("p"))
    assert state(backend.get(kinds.POD, "p", NS))[0] == "running"


def test_pod_runtime_snapshot(backend: MemoryBackend) -> None:
    backend.create(pod("p"))
    assert backend.simulator.pod_runtime(NS, "p") == {
        "app": {"state": "running", "reason": None, "restarts": 0}
    }


def test_unknown_pods_and_nodes(backend: MemoryBackend) -> None:
    with pytest.raises(NotFound):
        backend.simulator.exit_container(NS, "nope", "app", 1)
    with pytest.raises(NotFound):
        backend.simulator.remove_node("nope")
    backend.create(pod("pending", nodeSelector={"no": "node"}))
    with pytest.raises(SimulationError, match="is not running on a node"):
        backend.simulator.exit_container(NS, "pending", "app", 1)
    with pytest.raises(ValueError, match="probe must be"):
        backend.simulator.set_health(NS, "pending", "app", False, probe="startup")


def test_timed_work_runs_when_the_base_clock_moves_too() -> None:
    moments = [START]
    backend = MemoryBackend(clock=lambda: moments[-1], seed=1)
    backend.simulator.slow_start("nginx:*", 5)
    backend.create(pod("p"))
    assert state(backend.get(kinds.POD, "p", NS))[0] == "waiting"
    moments.append(START + timedelta(seconds=5))  # time passes without advance()
    assert state(backend.get(kinds.POD, "p", NS))[0] == "running"
