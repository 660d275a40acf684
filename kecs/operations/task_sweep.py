"""The task sweep: what ECS does to tasks over time, done when kecs next looks at them.

Kubernetes has no controller for ECS's task rules, so kecs applies them lazily, to the task
pods a call has read anyway (ListTasks pages, DescribeTasks, StopTask), and to the whole
cluster at most once every :data:`SWEEP_INTERVAL` seconds during RunTask/StartTask:

- **a standalone task whose essential container exited, or whose container could not start**
  (image pull failure, ...): ECS stops the task, Kubernetes would keep the pod (its other
  containers running, or the kubelet retrying the pull). kecs writes the stop record
  (``EssentialContainerExited`` / ``TaskFailedToStart`` and ECS's reason) and deletes the pod;
  its finalizer keeps it as the STOPPED record. On a real cluster this happens on the next
  call that looks at the task; the task already *reads* as desiredStatus STOPPED before that.
  Service tasks are left to their Deployment/ReplicaSet.
- **retention**: a STOPPED task's record (a pod held by the ``kecs.dev/task-record``
  finalizer) stays describable for the request context's ``stopped_task_retention`` seconds
  after the task stopped (1 hour by default, as on ECS); then kecs removes the finalizer and
  Kubernetes removes the pod. A pod being deleted whose containers never report terminated
  (a lost node) is released that long after its deletion was due.
- **task protection** past its expiry loses its annotations (``kecs.dev/protected-until``
  and the pod-deletion-cost that made ReplicaSets remove other pods first).

Only pods that may need one of these are looked at closely (:func:`needs_attention`, a
few dictionary reads), so sweeping a list of running tasks costs next to nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import BackendError, Conflict, NotFound
from kecs.mapping import k8s_time, labels, pod_state, task_keys
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.task_lookup import TASK_SELECTOR, is_standalone
from kecs.operations.task_protection import DELETION_COST, PROTECTED_UNTIL

#: Seconds (of the backend's clock) between two whole-cluster sweeps done by RunTask.
SWEEP_INTERVAL = 60.0
#: On the cluster Namespace: when the last whole-cluster sweep ran (RFC 3339).
SWEPT_AT = f"{labels.DOMAIN}/tasks-swept-at"

_TROUBLED_WAITS = pod_state.PULL_FAILURES | pod_state.CONFIG_FAILURES | pod_state.START_FAILURES


def needs_attention(pod: Mapping[str, Any]) -> bool:
    """Whether the pod may be stopped, expired or protected (cheap; false for most pods)."""
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return True
    annotations = meta.get("annotations") or {}
    if PROTECTED_UNTIL in annotations or task_keys.STOP_CODE in annotations:
        return True
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    for container in (*(status.get("initContainerStatuses") or ()),
                      *(status.get("containerStatuses") or ())):  # fmt: skip
        state = container.get("state") or {}
        if "terminated" in state:
            return True
        waiting = state.get("waiting")
        if waiting and (
            waiting.get("reason") in _TROUBLED_WAITS
            or "terminated" in (container.get("lastState") or {})
        ):
            return True
    return False


def state_of(pod: Mapping[str, Any], now: datetime) -> pod_state.TaskState:
    return pod_state.task_state(pod, pod_state.containers(pod), now)


def desired_status(pod: Mapping[str, Any], now: datetime) -> str:
    """The task's desiredStatus (RUNNING for every pod :func:`needs_attention` skips)."""
    if not needs_attention(pod):
        return "RUNNING"
    return state_of(pod, now).desired_status


def stopped_since(pod: Mapping[str, Any], state: pod_state.TaskState) -> datetime | None:
    """When the task stopped (for retention), or ``None`` while it has not."""
    meta = pod.get("metadata") or {}
    if state.last_status == "STOPPED":
        views = pod_state.containers(pod)
        times = [t for t in (v.finished_at() for v in views) if t is not None]
        requested = pod_state.stop_requested_at(pod)
        if requested is not None:
            times.append(requested)
        return max(times) if times else k8s_time.parse(meta.get("creationTimestamp"))
    return k8s_time.parse(meta.get("deletionTimestamp"))


def stop_pod(
    ctx: RequestContext, namespace: str, name: str, code: str, reason: str, at: datetime
) -> Object | None:
    """Write the stop record, delete the pod; the pod as it is afterwards (``None`` if gone)."""
    record = {
        task_keys.STOP_CODE: code,
        task_keys.STOPPED_REASON: reason,
        task_keys.STOPPING_AT: k8s_time.format(at),
    }
    backend = ctx.backend
    try:
        backend.patch(kinds.POD, name, {"metadata": {"annotations": record}}, namespace)
        backend.delete(kinds.POD, name, namespace)
        return backend.get(kinds.POD, name, namespace)
    except NotFound:
        return None


def release(ctx: RequestContext, namespace: str, pod: Mapping[str, Any]) -> None:
    """Let Kubernetes remove the pod: drop kecs's finalizer (and delete it if need be)."""
    meta = pod["metadata"]
    kept = [f for f in meta.get("finalizers") or () if f != labels.TASK_RECORD_FINALIZER]
    patch = {"metadata": {"finalizers": kept or None, "resourceVersion": meta["resourceVersion"]}}
    # A conflict means someone changed the pod meanwhile: the next sweep sees it again.
    with contextlib.suppress(NotFound, Conflict):
        ctx.backend.patch(kinds.POD, meta["name"], patch, namespace)
        if not meta.get("deletionTimestamp"):
            ctx.backend.delete(kinds.POD, meta["name"], namespace)


def release_all(ctx: RequestContext, namespace: str) -> None:
    """Drop kecs's finalizer from every task record in ``namespace`` (the cluster is going)."""

    def held(pod: dict[str, Any]) -> bool:
        return labels.TASK_RECORD_FINALIZER in (pod["metadata"].get("finalizers") or ())

    def drop(pod: Object) -> Object | None:
        finalizers = pod["metadata"].get("finalizers") or []
        if labels.TASK_RECORD_FINALIZER not in finalizers:
            return None
        pod["metadata"]["finalizers"] = [f for f in finalizers if f != labels.TASK_RECORD_FINALIZER]
        return pod

    for pod in ctx.backend.list_all(kinds.POD, namespace, selector=TASK_SELECTOR, where=held):
        with contextlib.suppress(NotFound):
            ctx.backend.modify(kinds.POD, pod["metadata"]["name"], drop, namespace)


def _expire_protection(ctx: RequestContext, namespace: str, pod: Object, now: datetime) -> Object:
    annotations = task_keys.annotations_of(pod)
    until = k8s_time.parse(annotations.get(PROTECTED_UNTIL))
    if PROTECTED_UNTIL not in annotations or (until is not None and until > now):
        return pod
    patch = {"metadata": {"annotations": {PROTECTED_UNTIL: None, DELETION_COST: None}}}
    try:
        return ctx.backend.patch(kinds.POD, pod["metadata"]["name"], patch, namespace)
    except NotFound:
        return pod


class Sweep:
    """Collects the pods that need attention while a caller reads pods, then sweeps them."""

    def __init__(self, ctx: RequestContext, namespace: str) -> None:
        self.ctx = ctx
        self.namespace = namespace
        self.candidates: dict[str, Object] = {}

    def see(self, pod: Object) -> None:
        if needs_attention(pod):
            self.candidates[pod["metadata"]["name"]] = pod

    def see_all(self, pods: Iterable[Object]) -> None:
        for pod in pods:
            self.see(pod)

    def run(self) -> dict[str, Object | None]:
        """Sweep the candidates: ``{pod name: the pod now, or None once it is gone}``."""
        now = self.ctx.now()
        result: dict[str, Object | None] = {}
        for name, pod in self.candidates.items():
            try:
                result[name] = self._sweep_one(pod, now)
            except BackendError:
                # A failed sweep changes nothing the caller can see; the next one retries.
                result[name] = pod
        self.candidates = {}
        return result

    def _sweep_one(self, pod: Object, now: datetime) -> Object | None:
        ctx, namespace = self.ctx, self.namespace
        pod = _expire_protection(ctx, namespace, pod, now)
        state = state_of(pod, now)
        if state.desired_status != "STOPPED":
            return pod
        deleting = bool(pod["metadata"].get("deletionTimestamp"))
        standalone = is_standalone(pod)
        if not deleting and standalone:
            ended = [t for t in (v.finished_at() for v in state.exited_essential) if t]
            stopped = stop_pod(
                ctx,
                namespace,
                pod["metadata"]["name"],
                state.stop_code or "EssentialContainerExited",
                state.stopped_reason or pod_state.ESSENTIAL_EXITED,
                min(ended) if ended else now,
            )
            if stopped is None:
                return None
            pod, deleting = stopped, True
            state = state_of(pod, now)
        if not (deleting or standalone):
            return pod
        since = stopped_since(pod, state)
        if since is not None and (now - since).total_seconds() >= ctx.stopped_task_retention:
            release(ctx, namespace, pod)
            return None
        return pod


def sweep_cluster(ctx: RequestContext, cluster: ClusterRef, *, force: bool = False) -> None:
    """Sweep every task pod of the cluster, unless that was done less than a minute ago.

    The time of the last sweep is kept on the cluster's Namespace so every client shares it.
    The pods are read through a ``where`` filter that declines them all, so the embedded
    backend copies only the few that need attention.
    """
    now = ctx.now()
    annotations = task_keys.annotations_of(cluster.obj)
    last = k8s_time.parse(annotations.get(SWEPT_AT))
    if not force and last is not None and 0 <= (now - last).total_seconds() < SWEEP_INTERVAL:
        return
    with contextlib.suppress(NotFound, Conflict):
        ctx.backend.patch(
            kinds.NAMESPACE,
            cluster.namespace,
            {"metadata": {"annotations": {SWEPT_AT: k8s_time.format(now)}}},
        )
    sweep = Sweep(ctx, cluster.namespace)

    def look(pod: dict[str, Any]) -> bool:
        sweep.see(pod)
        return False

    ctx.backend.list_all(kinds.POD, cluster.namespace, selector=TASK_SELECTOR, where=look)
    sweep.run()
