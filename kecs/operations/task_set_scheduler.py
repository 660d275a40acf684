"""The scheduler's lazy reactions for EXTERNAL / CODE_DEPLOY services and their task sets.

Called by :func:`kecs.operations.service_scheduler.react` for such services:

- a DRAINING task set whose tasks have all stopped is gone: its Deployment is deleted (ECS
  stops describing it);
- a task whose essential container exited, or that failed to start, is stopped the ECS way and
  its task set's ReplicaSet starts a replacement (the rule of
  :func:`kecs.operations.service_scheduler.failure_of`, passed in);
- a DRAINING service none of whose tasks still runs becomes INACTIVE: its tombstone is written,
  then its Kubernetes Service, task set Deployments and record are deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from kecs.mapping import rollouts, task_sets
from kecs.mapping.rollouts import TaskPod
from kecs.operations import service_store as store
from kecs.operations import service_tombstones as tombstones
from kecs.operations import service_view, task_set_view
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_store import Stored

Failure = Callable[[TaskPod], tuple[str, str] | None]


def _live(tasks: list[TaskPod]) -> bool:
    return any(t.state.last_status != "STOPPED" for t in tasks)


def react(ctx: RequestContext, ref: ClusterRef, stored: Stored, *, failure: Failure | None) -> bool:
    """Let an EXTERNAL / CODE_DEPLOY service react; ``True`` when it changed something."""
    now = ctx.now()
    if stored.status == store.DRAINING:
        if _live(rollouts.task_pods(stored.pods, now)):
            return False
        retire(ctx, ref, stored)
        return True
    changed = False
    for deployment in stored.task_sets:
        tasks = rollouts.task_pods(task_sets.pods_of(deployment, stored.pods), now)
        if task_sets.status_of(deployment) == task_sets.DRAINING:
            if not _live(tasks):
                store.delete_quietly(ctx, deployment)
                changed = True
            continue
        if failure is None:
            continue
        for task in tasks:
            found = failure(task)
            if found is not None:
                store.stop_task(ctx, task.pod, *found)
                changed = True
    return changed


def retire(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> None:
    """Write the INACTIVE tombstone, then delete what the service was made of."""
    tombstones.write(
        ctx,
        ref,
        stored.name,
        service=task_set_view.inactive_record(ctx, ref, stored),
        tags=service_view.tags_of(stored),
        deployments=[],
        revisions=[],
    )
    store.delete_quietly(ctx, stored.k8s_service)
    for deployment in stored.task_sets:
        store.delete_quietly(ctx, deployment)
    store.delete_quietly(ctx, stored.workload)
