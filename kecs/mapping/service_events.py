"""A service's ``events``, derived from the state of its revisions and tasks (pure).

ECS keeps a log; kecs re-derives it from what the cluster still holds, worded as ECS words it:

- ``(service web) has started 2 tasks: (task <id>) (task <id>).`` -- one per batch of task pods
  created in the same second by one revision;
- ``(service web) has stopped 1 running tasks: (task <id>).`` -- tasks the scheduler stopped
  (stop code ServiceSchedulerInitiated), per second in which it asked;
- ``(service web) was unable to place a task because no container instance met all of its
  requirements.`` -- per time a pod was found unschedulable;
- ``(service web) (deployment ecs-svc/<id>) deployment failed: tasks failed to start.``;
- ``(service web) (deployment ecs-svc/<id>) deployment completed.``;
- ``(service web) has reached a steady state.`` -- when the PRIMARY deployment completed, no
  other deployment is live and every desired task runs; at the latest of the other events.

Newest first (ties in the causal order above, reversed), at most 100, each with a stable id
(a UUID of the service ARN, time and message). Stopped tasks leave the log when their records
expire (the task retention period), older than ECS's log would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kecs.mapping import ids, k8s_time, pod_state
from kecs.mapping.rollouts import Revision, TaskPod

MAX_EVENTS = 100
_STARTED, _STOPPED, _UNPLACED, _FAILED, _COMPLETED, _STEADY = range(6)


@dataclass(frozen=True, order=True)
class _Event:
    at: datetime
    order: int
    revision: int  # ties between revisions: the newer revision's event happened later
    message: str


def _task_list(tasks: Iterable[TaskPod]) -> str:
    return " ".join(f"(task {task_id})" for task_id in sorted(t.task_id for t in tasks))


def _batches(tasks: Iterable[tuple[datetime | None, TaskPod]]) -> dict[datetime, list[TaskPod]]:
    grouped: dict[datetime, list[TaskPod]] = defaultdict(list)
    for moment, task in tasks:
        if moment is not None:
            grouped[moment.replace(microsecond=0)].append(task)
    return grouped


def _unschedulable_since(task: TaskPod) -> datetime | None:
    if task.state.last_status != "PROVISIONING":
        return None
    for condition in (task.pod.get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == "Unschedulable"
        ):
            return k8s_time.parse(condition.get("lastTransitionTime")) or task.created
    return None


def events(
    *,
    service_name: str,
    service_arn: str,
    revisions: list[Revision],
    primary_state: str,
    primary_finished: datetime | None,
    finished: dict[str, datetime],
    steady: bool,
) -> list[dict[str, Any]]:
    """The ECS ``ServiceEvent`` list (see the module docstring).

    ``finished`` maps deployment ids of older, completed deployments to when they completed.
    """
    prefix = f"(service {service_name})"
    found: list[_Event] = []
    for index, revision in enumerate(revisions):
        for moment, batch in _batches((t.created, t) for t in revision.tasks).items():
            message = f"{prefix} has started {len(batch)} tasks: {_task_list(batch)}."
            found.append(_Event(moment, _STARTED, index, message))
    all_tasks = [t for r in revisions for t in r.tasks]
    stopped = [
        (pod_state.stop_requested_at(t.pod) or t.created, t)
        for t in all_tasks
        if t.state.stop_code == "ServiceSchedulerInitiated"
    ]
    for moment, batch in _batches(stopped).items():
        message = f"{prefix} has stopped {len(batch)} running tasks: {_task_list(batch)}."
        found.append(_Event(moment, _STOPPED, 0, message))
    for moment in _batches((_unschedulable_since(t), t) for t in all_tasks):
        message = (
            f"{prefix} was unable to place a task because no container instance met all of "
            "its requirements."
        )
        found.append(_Event(moment, _UNPLACED, 0, message))
    primary = revisions[-1]
    index_of = {r.deployment_id: i for i, r in enumerate(revisions)}
    for deployment_id, moment in finished.items():
        message = f"{prefix} (deployment {deployment_id}) deployment completed."
        found.append(_Event(moment, _COMPLETED, index_of.get(deployment_id, 0), message))
    latest = max((e.at for e in found), default=primary.created)
    when = primary_finished or latest
    if when is not None and primary_state == "FAILED":
        message = (
            f"{prefix} (deployment {primary.deployment_id}) deployment failed: "
            "tasks failed to start."
        )
        found.append(_Event(when, _FAILED, len(revisions), message))
    if when is not None and primary_state == "COMPLETED":
        message = f"{prefix} (deployment {primary.deployment_id}) deployment completed."
        found.append(_Event(when, _COMPLETED, len(revisions), message))
        if steady:
            settled = max([when, *(e.at for e in found)])
            steady_message = f"{prefix} has reached a steady state."
            found.append(_Event(settled, _STEADY, len(revisions), steady_message))
    unique = sorted(set(found), reverse=True)[:MAX_EVENTS]
    return [
        {
            "id": ids.event_id(service_arn, k8s_time.format_micro(e.at), e.message),
            "createdAt": e.at,
            "message": e.message,
        }
        for e in unique
    ]
