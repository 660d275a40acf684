"""The ReplicaSet controller: keeps ``spec.replicas`` active pods from the template.

Pods are counted incrementally: each pod change re-classifies that one pod (active, ready,
available, fully labelled, stuck, alive) and adjusts its ReplicaSet's counters, so a sync
costs O(1) unless it must create or delete pods. Terminating pods (``deletionTimestamp``) and
pods in a terminal phase are not replicas; the controller replaces them.

Scale-down deletes, in Kubernetes' order: unassigned before assigned pods, Pending before
Running, not ready before ready, lower ``controller.kubernetes.io/pod-deletion-cost`` first,
pods on nodes running more of the set's pods first, the most recently ready first, more
restarts first, then the newest first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from kecs.backends import kinds
from kecs.backends.errors import BackendError
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer, controller_uid
from kecs.backends.memory.controllers import Manager, conditions
from kecs.backends.memory.controllers.kubelet import ready_since
from kecs.backends.memory.jsoncopy import copy_json

Object = dict[str, Any]
PodKey = tuple[str, str]

NAME = "replicaset"
DEPLOYMENT_SYNC = "deployment"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
#: Waiting reasons that mean a pod will not get going without outside intervention.
STUCK_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


class PodClass(NamedTuple):
    active: bool
    ready: bool
    available: bool
    labeled: bool
    stuck: bool
    alive: bool  # not in a terminal phase (terminating pods included)


_FIELDS = PodClass._fields


class SetState:
    """Counters for one ReplicaSet, kept up to date pod by pod."""

    __slots__ = ("counts", "pending_available", "pods")

    def __init__(self) -> None:
        self.pods: dict[PodKey, PodClass] = {}
        self.counts = dict.fromkeys(_FIELDS, 0)
        self.pending_available: set[PodKey] = set()

    def put(self, key: PodKey, cls: PodClass | None) -> bool:
        old = self.pods.get(key)
        if old == cls:
            return False
        counts = self.counts
        if old is not None:
            for field, flag in zip(_FIELDS, old, strict=True):
                counts[field] -= flag
        if cls is None:
            self.pods.pop(key, None)
            self.pending_available.discard(key)
        else:
            for field, flag in zip(_FIELDS, cls, strict=True):
                counts[field] += flag
            self.pods[key] = cls
        return True


def is_stuck(pod: Object) -> bool:
    status = pod.get("status") or {}
    for field in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(field) or ():
            waiting = (container.get("state") or {}).get("waiting")
            if waiting and waiting.get("reason") in STUCK_REASONS:
                return True
    scheduled = conditions.find(status.get("conditions"), "PodScheduled")
    return scheduled is not None and scheduled.get("reason") == "Unschedulable"


class ReplicaSets:
    def __init__(self, manager: Manager, server: ApiServer) -> None:
        self.manager = manager
        self.server = server
        self.states: dict[str, SetState] = {}
        manager.register(NAME, self.sync)
        manager.watch(kinds.REPLICA_SET, self._on_rs)
        manager.watch(kinds.POD, self._on_pod)

    def state(self, uid: str) -> SetState:
        state = self.states.get(uid)
        if state is None:
            state = self.states[uid] = SetState()
        return state

    def _on_rs(self, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            self.states.pop(old["metadata"]["uid"], None)
            return
        if (
            old is not None
            and old["spec"] is new["spec"]
            and old["metadata"].get("deletionTimestamp") == new["metadata"].get("deletionTimestamp")
        ):
            return
        self.manager.enqueue(NAME, (new["metadata"]["namespace"], new["metadata"]["name"]))

    def _on_pod(self, old: Object | None, new: Object | None) -> None:
        if not (old and old["metadata"].get("ownerReferences")) and not (
            new and new["metadata"].get("ownerReferences")
        ):
            return  # nobody's pod (a task's): nothing to count
        old_owner = controller_uid(old) if old is not None else None
        new_owner = controller_uid(new) if new is not None else None
        obj = new if new is not None else old
        assert obj is not None
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if old_owner and old_owner != new_owner:
            self._classify(old_owner, key, None)
        if new_owner:
            self._classify(new_owner, key, new)

    def _classify(self, owner: str, key: PodKey, pod: Object | None) -> None:
        rs_key = self.server.by_uid.get(owner)
        if rs_key is None or rs_key[0] is not kinds.REPLICA_SET:
            return
        rs = self.server.by_key(rs_key)
        assert rs is not None
        state = self.state(owner)
        cls = None if pod is None else self.classify(rs, pod, state, key)
        if state.put(key, cls) or pod is None:
            self.manager.enqueue(NAME, (rs_key[1], rs_key[2]))
            # The Deployment reads these counters (stuck pods, availability) directly.
            for ref in rs["metadata"].get("ownerReferences") or ():
                if ref.get("controller") and ref.get("kind") == "Deployment":
                    self.manager.enqueue(DEPLOYMENT_SYNC, (rs_key[1], ref["name"]))

    def classify(self, rs: Object, pod: Object, state: SetState, key: PodKey) -> PodClass:
        meta, status = pod["metadata"], pod.get("status") or {}
        phase = status.get("phase")
        alive = phase not in TERMINAL_PHASES
        active = alive and not meta.get("deletionTimestamp")
        ready = active and conditions.is_true(status.get("conditions"), "Ready")
        available = ready
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        state.pending_available.discard(key)
        since = ready_since(pod) if ready and min_ready else None
        if since is not None:
            due = since + timedelta(seconds=min_ready)
            available = due <= self.manager.now()
            if not available:
                state.pending_available.add(key)
                self.manager.enqueue_at(NAME, (meta["namespace"], rs["metadata"]["name"]), due)
        wanted = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        labels = meta.get("labels") or {}
        labeled = all(labels.get(k) == v for k, v in wanted.items())
        stuck = active and not ready and is_stuck(pod)
        return PodClass(active, ready, available, labeled and active, stuck, alive)

    # -- sync ------------------------------------------------------------------------------

    def sync(self, key: PodKey) -> None:
        rs = self.server.find(kinds.REPLICA_SET, *key)
        if rs is None:
            return
        uid = rs["metadata"]["uid"]
        state = self.state(uid)
        for pod_key in list(state.pending_available):
            pod = self.server.find(kinds.POD, *pod_key)
            state.put(pod_key, None if pod is None else self.classify(rs, pod, state, pod_key))
        failure = None
        if not rs["metadata"].get("deletionTimestamp"):
            diff = state.counts["active"] - int(rs["spec"].get("replicas", 1))
            if diff < 0:
                failure = self._create(rs, -diff)
            elif diff > 0:
                self._delete(rs, state, diff)
        rs = self.server.find(kinds.REPLICA_SET, *key) or rs
        self._write_status(rs, state, failure)

    def _create(self, rs: Object, count: int) -> str | None:
        meta = rs["metadata"]
        template = rs["spec"].get("template") or {}
        template_meta = template.get("metadata") or {}
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        for _ in range(count):
            pod_meta: Object = {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "labels": dict(template_meta.get("labels") or {}),
                "ownerReferences": [dict(owner)],
            }
            for field in ("annotations", "finalizers"):
                if template_meta.get(field):
                    pod_meta[field] = copy_json(template_meta[field])
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta}
            pod["spec"] = copy_json(template.get("spec") or {})
            try:
                self.server.create(pod)
            except BackendError as exc:
                return f'pods "{meta["name"]}-" is forbidden: {exc}'
        return None

    def _delete(self, rs: Object, state: SetState, count: int) -> None:
        pods = [
            pod
            for pod_key, cls in state.pods.items()
            if cls.active and (pod := self.server.find(kinds.POD, *pod_key)) is not None
        ]
        per_node: dict[str, int] = {}
        for pod in pods:
            node = pod["spec"].get("nodeName") or ""
            per_node[node] = per_node.get(node, 0) + 1
        pods.sort(key=lambda pod: self._rank(pod, per_node))
        for pod in pods[:count]:
            self.server.delete(kinds.POD, pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _rank(self, pod: Object, per_node: dict[str, int]) -> tuple[Any, ...]:
        status = pod.get("status") or {}
        node = pod["spec"].get("nodeName") or ""
        phase = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", ""), 0)
        since = ready_since(pod)
        try:
            cost = int((pod["metadata"].get("annotations") or {}).get(DELETION_COST, 0))
        except ValueError:
            cost = 0
        restarts = max(
            (c.get("restartCount", 0) for c in status.get("containerStatuses") or ()), default=0
        )
        return (
            bool(node),
            phase,
            since is not None,
            cost,
            -per_node.get(node, 0) if node else 0,
            -since.timestamp() if since is not None else 0,
            -restarts,
            -self.server.births.get(pod["metadata"]["uid"], 0),
        )

    def _write_status(self, rs: Object, state: SetState, failure: str | None) -> None:
        counts = state.counts
        status: Object = {"replicas": counts["active"]}
        for field, count in (
            ("fullyLabeledReplicas", counts["labeled"]),
            ("readyReplicas", counts["ready"]),
            ("availableReplicas", counts["available"]),
        ):
            if count:
                status[field] = count
        status["observedGeneration"] = rs["metadata"].get("generation", 1)
        current = rs.get("status") or {}
        kept = [c for c in current.get("conditions") or () if c.get("type") != "ReplicaFailure"]
        previous = conditions.find(current.get("conditions"), "ReplicaFailure")
        if failure is not None:
            kept.append(
                conditions.pod_condition(
                    previous,
                    "ReplicaFailure",
                    "True",
                    self.server.timestamp(),
                    "FailedCreate",
                    failure,
                )
            )
        if kept:
            status["conditions"] = kept
        if status != current:
            self.server.write(kinds.REPLICA_SET, rs, status=status)
