"""Every object the embedded cluster writes validates against the Kubernetes schema (strict)."""

from __future__ import annotations

import pytest

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import NS, container, daemon_set, deployment, pod, set_image

pytest.importorskip("kubernetes_validate")
from tests.k8s_schema import validate_strict

PROBE = {"exec": {"command": ["true"]}}


def every_object(backend: MemoryBackend) -> list[dict[str, object]]:
    found = []
    for kind in kinds.ALL:
        found.extend(backend.list_all(kind, None))
    return found


def test_a_busy_cluster_is_schema_valid(backend: MemoryBackend) -> None:
    sim = backend.simulator
    sim.fail_image_pulls("nginx:missing")
    sim.crash_on_start("crasher:*", 2)
    sim.slow_start("slow:*", 60)
    sim.slow_stop("slow:*", 10)
    backend.create(deployment("web", 3))
    set_image(backend, "web", "nginx:2")
    backend.create(deployment("broken", 2, image="crasher:1"))
    backend.create(daemon_set())
    backend.create(pod("pulling", container("app", "nginx:missing")))
    backend.create(pod("invalid", container("app", "Bad Image")))
    backend.create(pod("slow", container("app", "slow:1"), finalizers=["example.com/keep"]))
    backend.create(pod("huge", container("app", resources={"requests": {"cpu": "100"}})))
    backend.create(
        pod(
            "sidecars",
            container("app", readinessProbe=PROBE, livenessProbe=PROBE),
            initContainers=[
                container("init", "busybox"),
                container("proxy", "envoy:1", restartPolicy="Always"),
            ],
            restartPolicy="Never",
            activeDeadlineSeconds=300,
        )
    )
    backend.create(pod("job", restartPolicy="Never", finalizers=["example.com/keep"]))
    sim.exit_container(NS, "job", "app", 3, reason="Error", message="boom")
    sim.set_health(NS, "sidecars", "app", False)
    backend.delete(kinds.POD, "slow", NS)
    backend.create(pod("evicted", nodeName="kecs-node-3", finalizers=["example.com/keep"]))
    service_spec = {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}]}
    backend.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {**service_spec, "type": "NodePort"},
        }
    )
    backend.advance(5)
    sim.remove_node("kecs-node-3")
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "going"}})
    backend.create(
        {
            **pod("kept", finalizers=["example.com/keep"]),
            "metadata": {"name": "kept", "namespace": "going", "finalizers": ["example.com/keep"]},
        }
    )
    backend.delete(kinds.NAMESPACE, "going")
    objects = every_object(backend)
    seen = {o["kind"] for o in objects}
    assert {
        "Pod",
        "ReplicaSet",
        "Deployment",
        "DaemonSet",
        "ControllerRevision",
        "Node",
        "Namespace",
        "Service",
    } <= seen
    for obj in objects:
        validate_strict(obj)
