"""A service workload's revisions (ECS deployments) and their tasks, read from Kubernetes.

A REPLICA service's revisions are its Deployment's ReplicaSets (ordered by the
``deployment.kubernetes.io/revision`` annotation; a pod belongs to the ReplicaSet that controls
it). A DAEMON service's revisions are its DaemonSet's ControllerRevisions (ordered by their
``revision``; a pod belongs to the one whose ``controller-revision-hash`` it carries); when
none are given, the hashes the pods carry stand in for them. The newest revision is the PRIMARY
ECS deployment; older ones are ACTIVE while they still have tasks or desired replicas.

rolloutState of the PRIMARY deployment:

- a ``kecs.dev/rollout-state`` annotation on the revision wins (the circuit breaker sets it);
- Deployment: not observed yet (``observedGeneration < generation``) -> IN_PROGRESS; condition
  Progressing ``ProgressDeadlineExceeded`` -> FAILED (only with the circuit breaker: without it
  ECS never fails a deployment), ``NewReplicaSetAvailable`` naming this ReplicaSet ->
  COMPLETED; no Progressing condition -> COMPLETED when every replica is updated and available;
- DaemonSet: COMPLETED when every scheduled pod is updated and available.

Older deployments are COMPLETED unless annotated otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from kecs.mapping import ids, k8s_time, pod_state, task_keys

_QUOTED = re.compile(r'"([^"]+)"')
STARTING = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})
FAILURE_CODES = frozenset({"TaskFailedToStart", "EssentialContainerExited"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class TaskPod:
    """A service task pod with its ECS state, computed once."""

    pod: Mapping[str, Any]
    state: pod_state.TaskState

    @property
    def task_id(self) -> str:
        return ids.task_id(self.pod)

    @property
    def created(self) -> datetime | None:
        return k8s_time.parse((self.pod.get("metadata") or {}).get("creationTimestamp"))

    @property
    def running(self) -> bool:
        return self.state.last_status == "RUNNING"

    @property
    def pending(self) -> bool:
        return self.state.last_status in STARTING and self.state.desired_status != "STOPPED"

    @property
    def failed(self) -> bool:
        return self.state.desired_status == "STOPPED" and self.state.stop_code in FAILURE_CODES


def task_pods(pods: Sequence[Mapping[str, Any]], now: datetime) -> list[TaskPod]:
    return [TaskPod(p, pod_state.task_state(p, pod_state.containers(p), now)) for p in pods]


@dataclass(frozen=True)
class Revision:
    key: str  # the revision key ids derive from (see kecs.mapping.ids)
    number: int
    name: str
    obj: Mapping[str, Any]  # the ReplicaSet / ControllerRevision / workload it stands for
    template: Mapping[str, Any]  # its PodTemplateSpec
    created: datetime | None
    replicas: int  # desired replicas of this revision (0 for old DaemonSet revisions)
    tasks: tuple[TaskPod, ...] = field(default=())

    @property
    def deployment_id(self) -> str:
        return ids.deployment_id(self.key)

    @property
    def annotations(self) -> Mapping[str, str]:
        own = task_keys.annotations_of(self.obj)
        return own if own else task_keys.annotations_of(self.template)

    @property
    def task_definition(self) -> str | None:
        value = task_keys.annotations_of(self.template).get(task_keys.TASK_DEFINITION_ARN)
        return value or None

    @property
    def has_settings(self) -> bool:
        """Whether the revision recorded its service settings (services built by kecs do)."""
        return task_keys.SERVICE_REVISION in task_keys.annotations_of(self.template)

    def settings_or(self, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        """The revision's settings, else those of the service ``spec``."""
        return self.settings if self.has_settings else spec

    @property
    def settings(self) -> Mapping[str, Any]:
        """The per-revision service settings (launch type, network, ...)."""
        value = task_keys.json_value(
            task_keys.annotations_of(self.template), task_keys.SERVICE_REVISION, {}
        )
        return value if isinstance(value, Mapping) else {}

    @property
    def running(self) -> int:
        return sum(1 for t in self.tasks if t.running)

    @property
    def pending(self) -> int:
        return sum(1 for t in self.tasks if t.pending)

    @property
    def failed(self) -> int:
        if self.running:
            return 0
        return sum(1 for t in self.tasks if t.failed)

    @property
    def live(self) -> bool:
        """Whether it still has desired replicas or tasks that have not stopped."""
        status = self.obj.get("status") or {}
        return bool(
            self.replicas
            or status.get("replicas")
            or any(t.state.last_status != "STOPPED" for t in self.tasks)
        )


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _controller_uid(pod: Mapping[str, Any]) -> str | None:
    for ref in _meta(pod).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid", ""))
    return None


def _replica_set_revisions(
    workload: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]], tasks: list[TaskPod]
) -> list[Revision]:
    uid = str(_meta(workload).get("uid", ""))
    owned = [
        rs
        for rs in replica_sets
        if not _meta(rs).get("ownerReferences")
        or any(str(r.get("uid")) == uid for r in _meta(rs).get("ownerReferences") or [])
    ]
    by_uid = {str(_meta(rs).get("uid", "")): rs for rs in owned}
    by_hash = {task_keys.labels_of(rs).get(task_keys.POD_TEMPLATE_HASH): rs for rs in owned}
    grouped: dict[str, list[TaskPod]] = {k: [] for k in by_uid}
    for task in tasks:
        owner = _controller_uid(task.pod)
        if owner not in by_uid:
            match = by_hash.get(task_keys.labels_of(task.pod).get(task_keys.POD_TEMPLATE_HASH))
            owner = str(_meta(match).get("uid", "")) if match is not None else None
        if owner in grouped:
            grouped[owner].append(task)
    result = []
    for rs_uid, rs in by_uid.items():
        result.append(
            Revision(
                key=rs_uid,
                number=_int(task_keys.annotations_of(rs).get(task_keys.K8S_REVISION)),
                name=str(_meta(rs).get("name", "")),
                obj=rs,
                template=(rs.get("spec") or {}).get("template") or {},
                created=k8s_time.parse(_meta(rs).get("creationTimestamp")),
                replicas=_int((rs.get("spec") or {}).get("replicas"), 1),
                tasks=tuple(grouped[rs_uid]),
            )
        )
    return result


def _daemon_revisions(
    workload: Mapping[str, Any], revisions: Sequence[Mapping[str, Any]], tasks: list[TaskPod]
) -> list[Revision]:
    uid = str(_meta(workload).get("uid", ""))
    template = (workload.get("spec") or {}).get("template") or {}
    grouped: dict[str, list[TaskPod]] = {}
    for task in tasks:
        revision_hash = task_keys.labels_of(task.pod).get(task_keys.CONTROLLER_REVISION_HASH, "")
        grouped.setdefault(revision_hash, []).append(task)
    entries: dict[str, tuple[int, Mapping[str, Any], Mapping[str, Any], datetime | None]] = {}
    for rev in revisions:
        revision_hash = task_keys.labels_of(rev).get(task_keys.CONTROLLER_REVISION_HASH, "")
        data = ((rev.get("data") or {}).get("spec") or {}).get("template") or template
        created = k8s_time.parse(_meta(rev).get("creationTimestamp"))
        entries[revision_hash] = (_int(rev.get("revision")), rev, data, created)
    if not entries:
        for revision_hash, members in grouped.items():
            first = min((t.created for t in members if t.created), default=None)
            entries[revision_hash] = (0, workload, template, first)
    if not entries:
        entries[""] = (
            0,
            workload,
            template,
            k8s_time.parse(_meta(workload).get("creationTimestamp")),
        )
    desired = _int((workload.get("status") or {}).get("desiredNumberScheduled"))
    newest = max(entries, key=lambda h: (entries[h][0], entries[h][3] or _EPOCH, h))
    return [
        Revision(
            key=ids.daemon_revision_key(uid, revision_hash),
            number=number,
            name=str(_meta(obj).get("name", "")),
            obj=obj,
            template=data,
            created=created,
            replicas=desired if revision_hash == newest else 0,
            tasks=tuple(grouped.get(revision_hash, ())),
        )
        for revision_hash, (number, obj, data, created) in entries.items()
    ]


def revisions(
    workload: Mapping[str, Any],
    replica_sets: Sequence[Mapping[str, Any]],
    tasks: list[TaskPod],
) -> list[Revision]:
    """The workload's revisions, oldest first (the last one is the PRIMARY)."""
    if workload.get("kind") == "DaemonSet":
        found = _daemon_revisions(workload, replica_sets, tasks)
    else:
        found = _replica_set_revisions(workload, replica_sets, tasks)
        if not found:
            meta = _meta(workload)
            found = [
                Revision(
                    key=f"{meta.get('uid', '')}/{meta.get('generation', 0)}",
                    number=0,
                    name=str(meta.get("name", "")),
                    obj=workload,
                    template=(workload.get("spec") or {}).get("template") or {},
                    created=k8s_time.parse(meta.get("creationTimestamp")),
                    replicas=_int((workload.get("spec") or {}).get("replicas"), 1),
                    tasks=tuple(tasks),
                )
            ]
    return sorted(found, key=lambda r: (r.number, r.created or _EPOCH, r.name, r.key))


def progressing(workload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in (workload.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Progressing":
            return condition  # type: ignore[no-any-return]
    return None


def rollout_state(workload: Mapping[str, Any], primary: Revision, *, circuit_breaker: bool) -> str:
    """COMPLETED | IN_PROGRESS | FAILED for the PRIMARY deployment (see the module docstring)."""
    recorded = primary.annotations.get(task_keys.ROLLOUT_STATE)
    if recorded in ("COMPLETED", "IN_PROGRESS", "FAILED"):
        return recorded
    meta = _meta(workload)
    status = workload.get("status") or {}
    if _int(status.get("observedGeneration")) < _int(meta.get("generation")):
        return "IN_PROGRESS"
    if workload.get("kind") == "DaemonSet":
        wanted = _int(status.get("desiredNumberScheduled"))
        done = _int(status.get("updatedNumberScheduled")) >= wanted
        done = done and _int(status.get("numberAvailable")) >= wanted
        return "COMPLETED" if done else "IN_PROGRESS"
    condition = progressing(workload)
    if condition is not None:
        reason = condition.get("reason")
        if reason == "ProgressDeadlineExceeded":
            return "FAILED" if circuit_breaker else "IN_PROGRESS"
        named = _QUOTED.findall(str(condition.get("message") or ""))
        if reason == "NewReplicaSetAvailable" and condition.get("status") == "True":
            return "COMPLETED" if not named or primary.name in named else "IN_PROGRESS"
        return "IN_PROGRESS"
    wanted = _int((workload.get("spec") or {}).get("replicas"), 1)
    done = _int(status.get("updatedReplicas")) >= wanted
    done = done and _int(status.get("availableReplicas")) >= wanted
    done = done and _int(status.get("replicas")) <= wanted
    return "COMPLETED" if done else "IN_PROGRESS"


def finished_at(
    workload: Mapping[str, Any], revision: Revision, state: str, *, primary: bool
) -> datetime | None:
    """When a deployment reached ``state`` (COMPLETED / FAILED), as far as Kubernetes tells.

    The ``kecs.dev/rollout-finished-at`` annotation when present; for the PRIMARY, the
    Progressing condition's last update, else the last thing that happened to its tasks.
    """
    recorded = k8s_time.parse(revision.annotations.get(task_keys.ROLLOUT_FINISHED_AT))
    if recorded is not None or state == "IN_PROGRESS" or not primary:
        return recorded
    condition = progressing(workload)
    if condition is not None:
        moment = k8s_time.parse(condition.get("lastUpdateTime")) or k8s_time.parse(
            condition.get("lastTransitionTime")
        )
        if moment is not None:
            return moment
    times = [revision.created] + [t.created for t in revision.tasks]
    times += [v.started_at() for t in revision.tasks for v in pod_state.containers(t.pod)]
    known = [t for t in times if t is not None]
    return max(known) if known else None
