"""The Deployment controller: ReplicaSets per template, rollouts, conditions, history."""

from __future__ import annotations

import re
from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.controllers.deployment_util import template_hash
from tests.backends.memory.helpers import (
    NS,
    condition,
    deployment,
    live_pods,
    replica_sets,
    rolling,
    set_image,
)

Object = dict[str, Any]


def sets_by_image(backend: MemoryBackend) -> dict[str, Object]:
    return {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for rs in replica_sets(backend)
    }


def get(backend: MemoryBackend, name: str = "web") -> Object:
    return backend.get(kinds.DEPLOYMENT, name, NS)


def test_a_deployment_gets_a_replica_set_per_template(backend: MemoryBackend) -> None:
    created = backend.create(
        deployment("web", 3, metadata_annotations=None) if False else deployment("web", 3)
    )
    (rs,) = replica_sets(backend)
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{1,10}", pod_hash)
    assert pod_hash == template_hash(created["spec"]["template"])
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {
        "app": "web",
        "pod-template-hash": pod_hash,
    }
    assert rs["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert all(p["metadata"]["labels"]["pod-template-hash"] == pod_hash for p in live_pods(backend))
    d = get(backend)
    assert d["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    status = d["status"]
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
    }
    assert condition(d, "Available") == {
        "type": "Available",
        "status": "True",
        "lastUpdateTime": "2026-01-01T12:00:00Z",
        "lastTransitionTime": "2026-01-01T12:00:00Z",
        "reason": "MinimumReplicasAvailable",
        "message": "Deployment has minimum availability.",
    }
    progressing = condition(d, "Progressing")
    assert progressing is not None
    assert progressing["reason"] == "NewReplicaSetAvailable"
    assert progressing["message"] == f'ReplicaSet "web-{pod_hash}" has successfully progressed.'


def test_deployment_annotations_are_copied_to_the_new_replica_set(backend: MemoryBackend) -> None:
    obj = deployment("web", 1)
    obj["metadata"]["annotations"] = {"kecs.dev/service-spec": "{}"}
    backend.create(obj)
    (rs,) = replica_sets(backend)
    assert rs["metadata"]["annotations"]["kecs.dev/service-spec"] == "{}"


def test_a_rolling_update_respects_surge_and_unavailability_step_by_step(
    backend: MemoryBackend,
) -> None:
    backend.create(deployment("web", 4, strategy=rolling(1, 1)))
    backend.simulator.slow_start("nginx:2", 10)
    set_image(backend, "web", "nginx:2")
    steps = []
    for _ in range(6):
        sets = sets_by_image(backend)
        old, new = sets["nginx:1.27"], sets["nginx:2"]
        steps.append((old["spec"]["replicas"], new["spec"]["replicas"]))
        pods = live_pods(backend)
        ready = [
            p for p in pods if condition(p, "Ready") and condition(p, "Ready")["status"] == "True"
        ]  # type: ignore[index]
        assert len(pods) <= 5 and len(ready) >= 3
        backend.advance(10)
    assert steps[:4] == [(3, 2), (1, 4), (0, 4), (0, 4)]
    d = get(backend)
    assert d["status"]["updatedReplicas"] == 4 and d["status"]["availableReplicas"] == 4
    assert condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"


def test_progressing_conditions_while_rolling(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2))
    backend.simulator.slow_start("nginx:2", 30)
    set_image(backend, "web", "nginx:2")
    d = get(backend)
    new_name = sets_by_image(backend)["nginx:2"]["metadata"]["name"]
    progressing = condition(d, "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("True", "ReplicaSetUpdated")
    assert progressing["message"] == f'ReplicaSet "{new_name}" is progressing.'
    assert d["status"]["updatedReplicas"] == 1 and d["status"]["unavailableReplicas"] == 1
    backend.advance(30)
    backend.advance(30)
    assert condition(get(backend), "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_recreate_stops_every_old_pod_before_starting_new_ones(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 3, strategy={"type": "Recreate"}))
    seen: list[tuple[int, int]] = []

    def watch(kind: Any, old: Object | None, new: Object | None) -> None:
        if kind is kinds.POD:
            images = [
                p["spec"]["containers"][0]["image"]
                for p in backend._server.table.bucket(kinds.POD, NS).objects.values()
                if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            ]
            seen.append((images.count("nginx:1.27"), images.count("nginx:2")))

    backend._server.listeners.append(watch)
    set_image(backend, "web", "nginx:2")
    assert all(old == 0 or new == 0 for old, new in seen)
    assert seen[-1] == (0, 3)
    assert len(live_pods(backend)) == 3


def test_paused_deployments_do_not_roll_out(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2))
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"paused": True}}, NS)
    paused = condition(get(backend), "Progressing")
    assert paused is not None
    assert (paused["status"], paused["reason"], paused["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    set_image(backend, "web", "nginx:2")
    assert list(sets_by_image(backend)) == ["nginx:1.27"]
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 4}}, NS)  # scaling still works
    assert len(live_pods(backend)) == 4
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"paused": None}}, NS)
    assert sets_by_image(backend)["nginx:2"]["spec"]["replicas"] == 4
    assert condition(get(backend), "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_scaling_mid_rollout_is_proportional(backend: MemoryBackend) -> None:
    # The example of the Kubernetes documentation: 8 old + 5 new, scaled from 10 to 15.
    backend.create(deployment("web", 10, strategy=rolling(3, 2)))
    backend.simulator.slow_start("nginx:2", 600)
    set_image(backend, "web", "nginx:2")
    sets = sets_by_image(backend)
    assert (sets["nginx:1.27"]["spec"]["replicas"], sets["nginx:2"]["spec"]["replicas"]) == (8, 5)
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 15}}, NS)
    sets = sets_by_image(backend)
    assert (sets["nginx:1.27"]["spec"]["replicas"], sets["nginx:2"]["spec"]["replicas"]) == (11, 7)


def test_a_new_template_while_rolling_starts_a_new_rollout(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2))
    backend.simulator.slow_start("nginx:2", 600)
    set_image(backend, "web", "nginx:2")
    set_image(backend, "web", "nginx:3")
    sets = sets_by_image(backend)
    assert sets["nginx:3"]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert sets["nginx:2"]["spec"]["replicas"] == 0  # its pods were never available
    assert sets["nginx:3"]["spec"]["replicas"] == 2
    assert get(backend)["status"]["updatedReplicas"] == 2


def test_rollback_reuses_the_old_replica_set_with_a_new_revision(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2))
    first = replica_sets(backend)[0]["metadata"]["name"]
    set_image(backend, "web", "nginx:2")
    set_image(backend, "web", "nginx:1.27")
    sets = sets_by_image(backend)
    assert len(sets) == 2
    old = sets["nginx:1.27"]
    assert old["metadata"]["name"] == first
    annotations = old["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "3"
    assert annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert old["spec"]["replicas"] == 2 and sets["nginx:2"]["spec"]["replicas"] == 0
    assert get(backend)["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_revision_history_limit_prunes_old_empty_sets(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 1, revisionHistoryLimit=1))
    for version in range(2, 6):
        set_image(backend, "web", f"nginx:{version}")
    assert sorted(sets_by_image(backend)) == ["nginx:4", "nginx:5"]


def test_the_progress_deadline_runs_on_simulated_time(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2, progressDeadlineSeconds=60))
    backend.simulator.slow_start("nginx:2", 300)
    set_image(backend, "web", "nginx:2")
    backend.advance(60)
    assert condition(get(backend), "Progressing")["reason"] == "ReplicaSetUpdated"  # type: ignore[index]
    backend.advance(1)
    progressing = condition(get(backend), "Progressing")
    assert progressing is not None
    new_name = sets_by_image(backend)["nginx:2"]["metadata"]["name"]
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == f'ReplicaSet "{new_name}" has timed out progressing.'
    available = condition(get(backend), "Available")
    assert available is not None and available["status"] == "True"
    backend.advance(300)
    backend.advance(300)
    assert condition(get(backend), "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_a_rollout_whose_pods_keep_failing_fails_at_once(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 3))
    backend.simulator.crash_on_start("nginx:broken", 1)
    set_image(backend, "web", "nginx:broken")
    progressing = condition(get(backend), "Progressing")
    assert progressing is not None and progressing["reason"] == "ProgressDeadlineExceeded"
    assert sets_by_image(backend)["nginx:1.27"]["status"]["availableReplicas"] >= 2
    # The client rolls back: the old template is written back.
    set_image(backend, "web", "nginx:1.27")
    assert condition(get(backend), "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_image_pull_failures_also_fail_a_rollout(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2))
    backend.simulator.fail_image_pulls("nginx:missing")
    set_image(backend, "web", "nginx:missing")
    assert condition(get(backend), "Progressing")["reason"] == "ProgressDeadlineExceeded"  # type: ignore[index]


def test_fail_fast_can_be_turned_off(backend: MemoryBackend) -> None:
    backend.simulator.fail_fast_rollouts = False
    backend.create(deployment("web", 2))
    backend.simulator.crash_on_start("nginx:broken", 1)
    set_image(backend, "web", "nginx:broken")
    assert condition(get(backend), "Progressing")["reason"] == "ReplicaSetUpdated"  # type: ignore[index]
    backend.advance(601)
    assert condition(get(backend), "Progressing")["reason"] == "ProgressDeadlineExceeded"  # type: ignore[index]


def test_scaling_to_zero_and_back(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 3))
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 0}}, NS)
    assert live_pods(backend) == []
    status = get(backend)["status"]
    assert "replicas" not in status and status["observedGeneration"] == 2
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 2}}, NS)
    assert len(live_pods(backend)) == 2
    assert len(replica_sets(backend)) == 1


def test_deleting_a_deployment_collects_everything(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 3))
    set_image(backend, "web", "nginx:2")
    backend.delete(kinds.DEPLOYMENT, "web", NS)
    assert replica_sets(backend) == [] and live_pods(backend) == []


def test_foreground_deletion_waits_for_the_pods(backend: MemoryBackend) -> None:
    obj = deployment("web", 1)
    obj["spec"]["template"]["metadata"]["finalizers"] = ["example.com/record"]
    backend.create(obj)
    backend.delete(kinds.DEPLOYMENT, "web", NS, propagation_policy="Foreground")
    d = get(backend)
    assert d["metadata"]["finalizers"] == ["foregroundDeletion"]
    (pod,) = backend.list_all(kinds.POD, NS)
    backend.patch(kinds.POD, pod["metadata"]["name"], {"metadata": {"finalizers": None}}, NS)
    assert backend.list_all(kinds.DEPLOYMENT, NS) == [] and replica_sets(backend) == []


def test_orphan_deletion_keeps_the_replica_sets(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 2))
    backend.delete(kinds.DEPLOYMENT, "web", NS, propagation_policy="Orphan")
    (rs,) = replica_sets(backend)
    assert "ownerReferences" not in rs["metadata"]
    assert len(live_pods(backend)) == 2
