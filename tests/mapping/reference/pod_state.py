"""Frozen copy of kecs.mapping.pod_state before the performance rewrite: the oracle the
differential test (tests/mapping/test_task_status_reference.py) compares the new code to.

Do not edit: its behaviour is the spec.

Where a task pod is in the ECS task lifecycle (pure; the rules ECS users can rely on).

ECS task states, in lifecycle order (a pod moving forward never maps to an earlier one)::

    PROVISIONING < PENDING < ACTIVATING < RUNNING < DEACTIVATING < STOPPING
                 < DEPROVISIONING < STOPPED

``lastStatus`` (first rule that applies):

1. STOPPED: phase Succeeded/Failed; every ECS container terminated; an essential container
   exited or a container failed to start and nothing runs; deleted before being scheduled.
2. deleted (``deletionTimestamp``): DEACTIVATING while containers run and the pod is still
   Ready; STOPPING while they run otherwise; DEPROVISIONING once none runs.
3. PROVISIONING: not scheduled yet.
4. STOPPING: an essential container exited, or a container failed to start, while others run.
5. PENDING: scheduled, no container running yet.
6. ACTIVATING: some containers run, others have not started yet; or an essential container
   runs without being ready yet, within its readiness window (``initialDelaySeconds +
   periodSeconds * failureThreshold`` after it started, or before its startup probe passed).
7. RUNNING.

A container *exited* when its state is terminated, or it waits after a crash (``lastState``
terminated); it *failed to start* when it waits with an image-pull or container-creation
error, or terminated with ``StartError``/``ContainerCannotRun``.

``desiredStatus`` is STOPPED once the pod is deleted, the stop record says so, an essential
container exited, a container failed to start, or ``lastStatus`` is STOPPED; else RUNNING.

The stop code and reason, when desired is STOPPED (first that applies): the stop record
annotations written by kecs; a start failure (TaskFailedToStart, ``CannotPullContainerError:
...`` / ``ResourceInitializationError: ...`` / ``CannotStartContainerError: ...``; a pod that
failed before any container started: "Task failed to start"); an essential
container exit before any deletion (EssentialContainerExited, "Essential container in task
exited"); an eviction or lost node (InfrastructureHealth); a deletion of a pod owned by a
ReplicaSet/DaemonSet (ServiceSchedulerInitiated, "Scaling activity initiated by (deployment
ecs-svc/...)"); any other deletion (UserInitiated, "Task stopped by user"); otherwise the
containers ran to completion (EssentialContainerExited).

In-place container restarts (only service pods restart, and kecs replaces such tasks) can
move a task back from STOPPING to RUNNING; nothing else moves backwards.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kecs.mapping import ids, k8s_time, task_keys
from tests.mapping.reference import task_containers

#: ``isinstance`` against this is fastest for the plain dicts JSON gives (dict first).
_MAPPINGS = (dict, Mapping)

ORDER = (
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
)
RANK = {status: i for i, status in enumerate(ORDER)}

PULL_FAILURES = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
CONFIG_FAILURES = frozenset({"CreateContainerConfigError"})
START_FAILURES = frozenset({"CreateContainerError", "RunContainerError"})
TERMINATED_START_FAILURES = frozenset({"StartError", "ContainerCannotRun"})
NODE_LOSS = frozenset({"DeletionByTaintManager", "DeletionByPodGC", "NodeLost"})
DEFAULT_PERIOD = 10
DEFAULT_FAILURE_THRESHOLD = 3

ESSENTIAL_EXITED = "Essential container in task exited"
STOPPED_BY_USER = "Task stopped by user"
TASK_FAILED_TO_START = "Task failed to start"


@dataclass(frozen=True)
class ContainerView:
    """One ECS container of a pod: its spec, its status (if any) and what ECS knows of it."""

    k8s_name: str
    ecs_name: str
    essential: bool
    spec: Mapping[str, Any]
    status: Mapping[str, Any] | None

    # ``state`` and ``terminated`` are read many times per task; a view is made per read of a
    # pod and never outlives it, so they are worked out once.
    @functools.cached_property
    def state(self) -> tuple[str | None, Mapping[str, Any]]:
        state = (self.status or {}).get("state") or {}
        for key in ("terminated", "running", "waiting"):
            value = state.get(key)
            if value is not None and isinstance(value, _MAPPINGS):
                return key, value
        return None, {}

    @property
    def running(self) -> bool:
        return self.state[0] == "running"

    @functools.cached_property
    def terminated(self) -> Mapping[str, Any] | None:
        """The termination that ended the container's last run, if it is not running."""
        kind, detail = self.state
        status = self.status or {}
        last = (status.get("lastState") or {}).get("terminated")
        if kind == "terminated":
            # An ECS task never restarts a container in place: once the kubelet has restarted
            # one, the run that ended the task is the earlier one, not the kill that followed.
            if isinstance(last, _MAPPINGS) and (status.get("restartCount") or 0) > 0:
                return last
            return detail
        if kind == "waiting" and isinstance(last, _MAPPINGS):
            return last
        return None

    @property
    def never_started(self) -> bool:
        return not self.running and self.terminated is None

    @property
    def start_failure(self) -> str | None:
        """ECS's wording of why the container could not start, or ``None``."""
        kind, detail = self.state
        reason = str(detail.get("reason") or "")
        message = str(detail.get("message") or reason)
        if kind == "waiting" and reason in PULL_FAILURES:
            return f"CannotPullContainerError: {message}"
        if kind == "waiting" and reason in CONFIG_FAILURES:
            return f"ResourceInitializationError: {message}"
        if kind == "waiting" and reason in START_FAILURES:
            return f"CannotStartContainerError: {message}"
        if kind == "terminated" and reason in TERMINATED_START_FAILURES:
            return f"CannotStartContainerError: {message}"
        return None

    def started_at(self) -> datetime | None:
        kind, detail = self.state
        if kind == "running":
            return k8s_time.parse(detail.get("startedAt"))
        ended = self.terminated
        return k8s_time.parse(ended.get("startedAt")) if ended else None

    def finished_at(self) -> datetime | None:
        ended = self.terminated
        return k8s_time.parse(ended.get("finishedAt")) if ended else None

    @property
    def ready(self) -> bool:
        return bool((self.status or {}).get("ready"))

    def still_starting(self, now: datetime) -> bool:
        """Running, not ready, and still within the time its probes allow to become ready."""
        if not self.running or self.ready:
            return False
        if self.spec.get("startupProbe") and not (self.status or {}).get("started"):
            return True
        probe = self.spec.get("readinessProbe")
        if not isinstance(probe, _MAPPINGS):
            return False
        started = self.started_at()
        if started is None:
            return True
        window = int(probe.get("initialDelaySeconds") or 0) + int(
            probe.get("periodSeconds") or DEFAULT_PERIOD
        ) * int(probe.get("failureThreshold") or DEFAULT_FAILURE_THRESHOLD)
        return now < started + timedelta(seconds=window)


def containers(
    pod: Mapping[str, Any], task_definition: Mapping[str, Any] | None = None
) -> list[ContainerView]:
    """The ECS containers of ``pod`` in ECS order."""
    mapping = task_containers.name_map(pod, task_definition)
    essential = task_containers.essential_names(pod, mapping, task_definition)
    specs = {str(c.get("name", "")): c for c in task_containers.k8s_containers(pod)}
    status = pod.get("status") or {}
    statuses = {
        str(s.get("name", "")): s
        for s in [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]
    }
    return [
        ContainerView(k8s, ecs, k8s in essential, specs.get(k8s, {}), statuses.get(k8s))
        for k8s, ecs in mapping.items()
    ]


def _conditions(pod: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found = ((pod.get("status") or {}).get("conditions")) or []
    return {str(c.get("type")): c for c in found if isinstance(c, _MAPPINGS)}


def condition_true(pod: Mapping[str, Any], kind: str) -> bool:
    return _conditions(pod).get(kind, {}).get("status") == "True"


def scheduled(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName")) or condition_true(pod, "PodScheduled")


def deletion_requested_at(pod: Mapping[str, Any]) -> datetime | None:
    """When the deletion was asked for (``deletionTimestamp`` minus the grace period)."""
    meta = pod.get("metadata") or {}
    moment = k8s_time.parse(meta.get("deletionTimestamp"))
    if moment is None:
        return None
    return moment - timedelta(seconds=int(meta.get("deletionGracePeriodSeconds") or 0))


def stop_requested_at(pod: Mapping[str, Any]) -> datetime | None:
    """When kecs (the stop record) or Kubernetes (the deletion) asked the task to stop."""
    recorded = k8s_time.parse(task_keys.annotations_of(pod).get(task_keys.STOPPING_AT))
    return recorded or deletion_requested_at(pod)


@dataclass(frozen=True)
class TaskState:
    last_status: str
    desired_status: str
    stop_code: str | None
    stopped_reason: str | None
    exited_essential: tuple[ContainerView, ...]
    start_failures: tuple[ContainerView, ...]


def _exited_before_deletion(view: ContainerView, requested: datetime | None) -> bool:
    if requested is None:
        return True
    finished = view.finished_at()
    return finished is not None and finished < requested


def last_status(pod: Mapping[str, Any], views: list[ContainerView], now: datetime) -> str:
    phase = (pod.get("status") or {}).get("phase")
    deleted = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    running = any(v.running for v in views)
    broken = any(v.start_failure for v in views) or any(
        v.essential and v.terminated is not None and not v.running for v in views
    )
    if phase in ("Succeeded", "Failed"):
        return "STOPPED"
    if views and all(v.state[0] == "terminated" for v in views):
        return "STOPPED"
    if broken and not running:
        return "STOPPED"
    if deleted and not scheduled(pod):
        return "STOPPED"
    if deleted:
        if not running:
            return "DEPROVISIONING"
        if not broken and condition_true(pod, "Ready"):
            return "DEACTIVATING"
        return "STOPPING"
    if not scheduled(pod):
        return "PROVISIONING"
    if broken:
        return "STOPPING"
    if not running:
        return "PENDING"
    if any(v.never_started for v in views):
        return "ACTIVATING"
    if any(v.essential and v.still_starting(now) for v in views):
        return "ACTIVATING"
    return "RUNNING"


def _owner(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    refs: list[Mapping[str, Any]] = (pod.get("metadata") or {}).get("ownerReferences") or []
    for ref in refs:
        if ref.get("controller") and ref.get("kind") in ("ReplicaSet", "DaemonSet"):
            return ref
    return None


def owner_deployment_id(pod: Mapping[str, Any]) -> str | None:
    """The ECS deployment id (``ecs-svc/...``) that started a service task, if it is one."""
    owner = _owner(pod)
    if owner is None:
        return None
    if owner.get("kind") == "ReplicaSet":
        return ids.deployment_id(str(owner.get("uid", "")))
    revision_hash = task_keys.labels_of(pod).get(task_keys.CONTROLLER_REVISION_HASH, "")
    return ids.deployment_id(ids.daemon_revision_key(str(owner.get("uid", "")), revision_hash))


def _disruption(pod: Mapping[str, Any]) -> tuple[str, str] | None:
    condition = _conditions(pod).get("DisruptionTarget")
    status = pod.get("status") or {}
    reason = message = ""
    if condition is not None and condition.get("status") == "True":
        reason, message = str(condition.get("reason") or ""), str(condition.get("message") or "")
    elif status.get("reason") in ("Evicted", "NodeLost", "NodeShutdown", "Terminated"):
        reason, message = str(status["reason"]), str(status.get("message") or "")
    if not reason:
        return None
    node = (pod.get("spec") or {}).get("nodeName") or "unknown"
    if reason in NODE_LOSS:
        return "InfrastructureHealth", f"Host EC2 (instance {node}) terminated."
    detail = f": {message}" if message else ""
    return "InfrastructureHealth", f"Task stopped by the infrastructure ({reason}){detail}"


def _evidence(
    pod: Mapping[str, Any],
    views: list[ContainerView],
    exited: list[ContainerView],
    failures: list[ContainerView],
) -> tuple[str, str]:
    requested = deletion_requested_at(pod)
    deleted = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    if failures:
        return "TaskFailedToStart", str(failures[0].start_failure)
    phase = (pod.get("status") or {}).get("phase")
    if not deleted and phase == "Failed" and all(v.never_started for v in views):
        return "TaskFailedToStart", TASK_FAILED_TO_START
    if any(_exited_before_deletion(v, requested) for v in exited):
        return "EssentialContainerExited", ESSENTIAL_EXITED
    disruption = _disruption(pod)
    if disruption is not None:
        return disruption
    if deleted:
        deployment = owner_deployment_id(pod)
        if deployment is not None:
            return (
                "ServiceSchedulerInitiated",
                f"Scaling activity initiated by (deployment {deployment})",
            )
        return "UserInitiated", STOPPED_BY_USER
    return "EssentialContainerExited", ESSENTIAL_EXITED


def task_state(pod: Mapping[str, Any], views: list[ContainerView], now: datetime) -> TaskState:
    last = last_status(pod, views, now)
    exited = [v for v in views if v.essential and v.terminated is not None and not v.running]
    failures = [v for v in views if v.start_failure]
    notes = task_keys.annotations_of(pod)
    recorded_code, recorded_reason = (
        notes.get(task_keys.STOP_CODE),
        notes.get(task_keys.STOPPED_REASON),
    )
    stopping = bool(
        (pod.get("metadata") or {}).get("deletionTimestamp")
        or recorded_code
        or exited
        or failures
        or last == "STOPPED"
    )
    if not stopping:
        return TaskState(last, "RUNNING", None, None, (), ())
    code, reason = _evidence(pod, views, exited, failures)
    return TaskState(
        last,
        "STOPPED",
        recorded_code or code,
        recorded_reason or reason,
        tuple(exited),
        tuple(failures),
    )
