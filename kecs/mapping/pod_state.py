"""Where a task pod is in the ECS task lifecycle (pure; the rules ECS users can rely on).

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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kecs.mapping import ids, k8s_time, task_containers, task_keys

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


def _state_of(status: Mapping[str, Any] | None) -> tuple[str | None, Mapping[str, Any]]:
    state = (status or {}).get("state") or {}
    for key in ("terminated", "running", "waiting"):
        value = state.get(key)
        if value is not None and isinstance(value, _MAPPINGS):
            return key, value
    return None, {}


def _terminated(
    status: Mapping[str, Any] | None, kind: str | None, detail: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    if kind == "running" or kind is None:
        return None
    status = status or {}
    last = (status.get("lastState") or {}).get("terminated")
    if kind == "terminated":
        # An ECS task never restarts a container in place: once the kubelet has restarted
        # one, the run that ended the task is the earlier one, not the kill that followed.
        if isinstance(last, _MAPPINGS) and (status.get("restartCount") or 0) > 0:
            return last
        return detail
    if isinstance(last, _MAPPINGS):  # waiting after a crash
        return last
    return None


def _start_failure(kind: str | None, detail: Mapping[str, Any]) -> str | None:
    if kind != "waiting" and kind != "terminated":
        return None
    reason = str(detail.get("reason") or "")
    if kind == "waiting":
        if reason in PULL_FAILURES:
            prefix = "CannotPullContainerError"
        elif reason in CONFIG_FAILURES:
            prefix = "ResourceInitializationError"
        elif reason in START_FAILURES:
            prefix = "CannotStartContainerError"
        else:
            return None
    elif reason in TERMINATED_START_FAILURES:
        prefix = "CannotStartContainerError"
    else:
        return None
    return f"{prefix}: {detail.get('message') or reason}"


class ContainerView:
    """One ECS container of a pod: its spec, its status (if any) and what ECS knows of it.

    A view is made per read of a pod and never outlives it; what readers ask of it (its
    state, the run that ended it, its start failure, its start and end times) is worked out
    once, when it is made. Views compare equal when made of equal parts.
    """

    __slots__ = (
        "_finished_at",
        "_started_at",
        "ecs_name",
        "essential",
        "k8s_name",
        "running",
        "spec",
        "start_failure",
        "state",
        "status",
        "terminated",
    )

    def __init__(
        self,
        k8s_name: str,
        ecs_name: str,
        essential: bool,
        spec: Mapping[str, Any],
        status: Mapping[str, Any] | None,
    ) -> None:
        self.k8s_name = k8s_name
        self.ecs_name = ecs_name
        self.essential = essential
        self.spec = spec
        self.status = status
        kind, detail = self.state = _state_of(status)
        self.running: bool = kind == "running"
        #: The termination that ended the container's last run, if it is not running.
        self.terminated = ended = _terminated(status, kind, detail)
        #: ECS's wording of why the container could not start, or ``None``.
        self.start_failure = _start_failure(kind, detail)
        if self.running:
            self._started_at = k8s_time.parse(detail.get("startedAt"))
        else:
            self._started_at = k8s_time.parse(ended.get("startedAt")) if ended else None
        self._finished_at = k8s_time.parse(ended.get("finishedAt")) if ended else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContainerView):
            return NotImplemented
        return (self.k8s_name, self.ecs_name, self.essential, self.spec, self.status) == (
            other.k8s_name,
            other.ecs_name,
            other.essential,
            other.spec,
            other.status,
        )

    __hash__ = None  # type: ignore[assignment]  # made of dicts, as the dataclass it was

    def __repr__(self) -> str:
        return (
            f"ContainerView(k8s_name={self.k8s_name!r}, ecs_name={self.ecs_name!r}, "
            f"essential={self.essential!r}, spec={self.spec!r}, status={self.status!r})"
        )

    @property
    def never_started(self) -> bool:
        return not self.running and self.terminated is None

    def started_at(self) -> datetime | None:
        return self._started_at

    def finished_at(self) -> datetime | None:
        return self._finished_at

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
        started = self._started_at
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
    return views(pod, task_containers.layout(pod, task_definition))


def views(pod: Mapping[str, Any], layout: task_containers.Layout) -> list[ContainerView]:
    """The ECS containers of ``pod`` in ECS order, from its :func:`task_containers.layout`."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    init_specs = spec.get("initContainers")
    init_statuses = status.get("initContainerStatuses")
    regular_specs = spec.get("containers") or []
    regular_statuses = status.get("containerStatuses") or []
    if len(layout.names) == 1 and not init_specs and not init_statuses:
        # The common case (one container): find it without building name indexes.
        ((k8s, ecs),) = layout.names.items()
        found_spec: Mapping[str, Any] = {}
        found_status = None
        for c in regular_specs:
            if str(c.get("name", "")) == k8s:
                found_spec = c  # the last one of a name wins, as in the index below
        for s in regular_statuses:
            if str(s.get("name", "")) == k8s:
                found_status = s
        return [ContainerView(k8s, ecs, k8s in layout.essential, found_spec, found_status)]
    specs = {str(c.get("name", "")): c for c in [*(init_specs or []), *regular_specs]}
    statuses = {str(s.get("name", "")): s for s in [*(init_statuses or []), *regular_statuses]}
    essential = layout.essential
    return [
        ContainerView(k8s, ecs, k8s in essential, specs.get(k8s, {}), statuses.get(k8s))
        for k8s, ecs in layout.names.items()
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


#: The states of tasks with nothing that stops them (shared: a TaskState is immutable).
_RUNNING = {status: TaskState(status, "RUNNING", None, None, (), ()) for status in ORDER}


def _exited_before_deletion(view: ContainerView, requested: datetime | None) -> bool:
    if requested is None:
        return True
    finished = view.finished_at()
    return finished is not None and finished < requested


def _exited(views: list[ContainerView]) -> list[ContainerView]:
    """The essential containers that exited (their last run ended, nothing runs them now)."""
    return [v for v in views if v.essential and v.terminated is not None and not v.running]


def last_status(pod: Mapping[str, Any], views: list[ContainerView], now: datetime) -> str:
    broken = any(v.start_failure for v in views) or bool(_exited(views))
    return _last_status(pod, views, now, broken)


def _last_status(
    pod: Mapping[str, Any], views: list[ContainerView], now: datetime, broken: bool
) -> str:
    """:func:`last_status`, told whether a container failed to start or an essential one
    exited (``broken``)."""
    phase = (pod.get("status") or {}).get("phase")
    deleted = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    # One pass over the containers for the three facts the rules below ask about.
    running = never_started = False
    all_terminated = bool(views)
    for v in views:
        kind = v.state[0]
        if kind == "running":
            running = True
        elif v.terminated is None:
            never_started = True
        if kind != "terminated":
            all_terminated = False
    if phase in ("Succeeded", "Failed"):
        return "STOPPED"
    if all_terminated:
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
    if never_started:
        return "ACTIVATING"
    for v in views:
        if v.essential and v.still_starting(now):
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
    exited = _exited(views)
    failures = [v for v in views if v.start_failure]
    last = _last_status(pod, views, now, bool(failures or exited))
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
        return _RUNNING[last]
    code, reason = _evidence(pod, views, exited, failures)
    return TaskState(
        last,
        "STOPPED",
        recorded_code or code,
        recorded_reason or reason,
        tuple(exited),
        tuple(failures),
    )
