"""The kubelet's one-step start of a plain pod leaves exactly what its general loop leaves.

Every scenario runs twice, on the same seed and clock: once as the kubelet runs it and once
with the one-step start turned off, and every stored pod (status included) and every pod
runtime must be equal, after the start and after what follows (a container exiting, a
deletion, time passing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.controllers.kubelet import Kubelet
from tests.backends.memory.helpers import NS, container, fresh, pod

Object = dict[str, Any]
Scenario = Callable[[MemoryBackend], None]


def _secret(name: str) -> Object:
    meta = {"name": name, "namespace": NS}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"k": "dg=="}}


def _plain(backend: MemoryBackend) -> None:
    app = container(env=[{"name": "MODE", "value": "x"}], ports=[{"containerPort": 80}])
    app["resources"] = {"requests": {"cpu": "63m"}, "limits": {"memory": "128Mi"}}
    for index in range(3):
        backend.create(pod(f"p{index}", app, restartPolicy="Never"))


def _two_containers_with_probes(backend: MemoryBackend) -> None:
    web = container("web", readinessProbe={"httpGet": {"port": 80}})
    side = container("side", "busybox", livenessProbe={"exec": {"command": ["true"]}})
    backend.create(pod("p", web, side, readinessGates=[{"conditionType": "x/ready"}]))


def _host_network(backend: MemoryBackend) -> None:
    backend.create(pod("p", hostNetwork=True))


def _missing_then_present_secret(backend: MemoryBackend) -> None:
    ref = {"secretKeyRef": {"name": "db", "key": "k"}}
    backend.create(pod("p", container(env=[{"name": "S", "valueFrom": ref}])))
    backend.create(_secret("db"))


def _plain_then_waiting_for_a_secret(backend: MemoryBackend) -> None:
    ref = {"secretKeyRef": {"name": "db", "key": "k"}}
    for index in range(2):
        backend.create(pod(f"plain{index}", container(env=[{"name": "A", "value": "1"}])))
        backend.create(pod(f"waits{index}", container(env=[{"name": "S", "valueFrom": ref}])))
    backend.create(_secret("db"))
    backend.create(pod("reads", container(env=[{"name": "S", "valueFrom": ref}])))


def _invalid_image(backend: MemoryBackend) -> None:
    backend.create(pod("p", container(image="Not A Valid:Image")))


def _init_containers(backend: MemoryBackend) -> None:
    backend.create(pod("p", initContainers=[container("init", "busybox")]))


def _deadline(backend: MemoryBackend) -> None:
    backend.create(pod("p", activeDeadlineSeconds=30))
    backend.advance(31)


def _rules(backend: MemoryBackend) -> None:
    backend.simulator.slow_start("nginx*", 5)
    backend.create(pod("slow"))
    backend.simulator.crash_on_start("busybox*", 3, after=2)
    backend.create(pod("crash", container(image="busybox")))
    backend.advance(10)


def _exit_then_delete(backend: MemoryBackend) -> None:
    backend.create(pod("p", container("a"), container("b"), restartPolicy="OnFailure"))
    backend.simulator.exit_container(NS, "p", "a", 1)
    backend.advance(30)
    backend.create(pod("q"))
    backend.delete(kinds.POD, "q", NS)
    backend.advance(40)


def _same_name_again(backend: MemoryBackend) -> None:
    backend.create(pod("p"))
    backend.delete(kinds.POD, "p", NS, grace_period_seconds=0)
    backend.create(pod("p", container(image="redis:7")))


SCENARIOS = [
    _plain,
    _two_containers_with_probes,
    _host_network,
    _missing_then_present_secret,
    _plain_then_waiting_for_a_secret,
    _invalid_image,
    _init_containers,
    _deadline,
    _rules,
    _exit_then_delete,
    _same_name_again,
]


def _slots(obj: Any) -> dict[str, Any]:
    views = ("containers", "inits", "apps")  # the containers, compared one by one
    return {name: getattr(obj, name) for name in type(obj).__slots__ if name not in views}


def _world(backend: MemoryBackend) -> tuple[list[Object], dict[Any, Any], set[Any], Any]:
    """Every pod, everything the kubelet knows of each, and the timers left."""
    kubelet = backend._cluster.kubelet
    runtimes = {
        key: (_slots(rt), [_slots(c) for c in rt.containers])
        for key, rt in kubelet.runtimes.items()
    }
    timers = backend._cluster.manager._timer_due
    return backend.list(kinds.POD).items, runtimes, set(kubelet.config_waiting), dict(timers)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__.strip("_"))
def test_the_one_step_start_changes_nothing(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = fresh()
    scenario(fast)
    expected = _world(fast)
    monkeypatch.setattr(Kubelet, "_starts_at_once", lambda *_: False)
    slow = fresh()
    scenario(slow)
    assert _world(slow) == expected


def test_a_plain_pod_takes_the_one_step_start(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    real = Kubelet._start_at_once

    def spy(self: Kubelet, pod: Object, *args: Any) -> bool:
        started.append(pod["metadata"]["name"])
        return real(self, pod, *args)

    monkeypatch.setattr(Kubelet, "_start_at_once", spy)
    backend = fresh()
    _plain(backend)
    _init_containers(backend)  # "p": not plain
    assert started == ["p0", "p1", "p2"]
    assert backend.get(kinds.POD, "p0", NS)["status"]["phase"] == "Running"
