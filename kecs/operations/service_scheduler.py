"""The ECS service scheduler's reactions, done lazily whenever service state is read or written.

There is no background thread: every service operation calls :func:`settle`, which loads the
services it needs, lets each react to what the cluster shows, and reloads when a reaction
changed something. Every reaction is idempotent, so concurrent callers converge.

- A task whose essential container exited (terminated, or restarted in place by the kubelet,
  since service pods run with ``restartPolicy: Always``) or that failed to start (image pull,
  container creation) is stopped the ECS way: stop code ``EssentialContainerExited`` /
  ``TaskFailedToStart`` recorded, pod deleted (its finalizer keeps the STOPPED record), and
  its ReplicaSet starts a replacement. Without the circuit breaker this happens once per call
  (ECS throttles restarts of a failing service too); with it, until the breaker decides.
- Deployment circuit breaker (``deploymentCircuitBreaker.enable``): the PRIMARY deployment fails
  when its failed tasks reach ECS's threshold (half the desired count, within 3..200, see
  :func:`kecs.mapping.service_history.breaker_threshold`) while none of its tasks runs, or when
  Kubernetes reports ``ProgressDeadlineExceeded``. The ReplicaSet is annotated FAILED; with
  ``rollback`` the Deployment's template goes back to the last deployment that completed
  (``kubectl rollout undo``: Kubernetes reuses that ReplicaSet), and the service's task
  definition, settings and other objects (Services, Ingresses) with it, as an UpdateService
  to that deployment makes them (:func:`roll_back`). Without rollback the failed deployment
  stays, and its tasks are no longer replaced.
- A COMPLETED PRIMARY's ReplicaSet is annotated with the time it completed, so the deployment
  keeps its history once a newer one replaces it.
- Retention: the STOPPED records of the service's tasks older than the retention period are
  released (:class:`kecs.operations.task_sweep.Sweep`, applied to the pods just read).
- DRAINING -> INACTIVE: once no task of a DRAINING service is left running, its workload and
  Kubernetes Service are deleted and the INACTIVE tombstone written.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kecs.errors import ECSError
from kecs.mapping import k8s_time, pod_state, service_history, task_keys
from kecs.mapping.rollouts import Revision, TaskPod
from kecs.mapping.service_status import ServiceView
from kecs.mapping.service_workload import REVISION_KEYS, circuit_breaker_enabled
from kecs.operations import service_rollout as rollout
from kecs.operations import service_store as store
from kecs.operations import service_tombstones as tombstones
from kecs.operations import service_view, task_set_scheduler
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_store import Stored
from kecs.operations.task_sweep import Sweep

logger = logging.getLogger(__name__)
#: Upper bound on react/reload rounds in one call (each round is a constant number of reads).
MAX_ROUNDS = 12
EXITED = "EssentialContainerExited"
FAILED_TO_START = "TaskFailedToStart"


def settle(
    ctx: RequestContext, ref: ClusterRef, service_names: Iterable[str] | None = None
) -> dict[str, Stored]:
    """The services, loaded after the scheduler reacted to what they show."""
    wanted = None if service_names is None else list(service_names)
    found = store.load(ctx, ref, wanted)
    if _sweep(ctx, ref, found):
        found = store.load(ctx, ref, wanted)
    for round_number in range(MAX_ROUNDS):
        changed = False
        for stored in found.values():
            changed |= react(ctx, ref, stored, first_round=round_number == 0)
        if not changed:
            return found
        found = store.load(ctx, ref, wanted)
    return found


def _sweep(ctx: RequestContext, ref: ClusterRef, found: dict[str, Stored]) -> bool:
    """Expire the STOPPED task records past retention among the pods just read (no extra
    reads: the task sweep only looks closer at pods being deleted or failing)."""
    sweep = Sweep(ctx, ref.namespace)
    for stored in found.values():
        sweep.see_all(stored.pods)
    return any(pod is None for pod in sweep.run().values())


def react(
    ctx: RequestContext, ref: ClusterRef, stored: Stored, *, first_round: bool = True
) -> bool:
    """Let one service react; ``True`` when it changed something worth reloading for."""
    if stored.workload is None:
        return False
    if stored.external:
        replace = failure_of if first_round else None
        return task_set_scheduler.react(ctx, ref, stored, failure=replace)
    if stored.status == store.DRAINING:
        return finish_draining(ctx, ref, stored)
    view = service_view.service_view(ctx, ref, stored)
    breaker = circuit_breaker_enabled(view.spec) and not stored.daemon
    _record_completion(ctx, view)
    if not stored.daemon and _finish_rollback(ctx, ref, stored, view):
        return True
    if breaker and _circuit_breaker(ctx, ref, stored, view):
        return True
    # With the breaker, a rollout's failures are replaced until it decides (bounded rounds).
    if first_round or (breaker and view.primary_state == "IN_PROGRESS"):
        return _replace_failed_tasks(ctx, view, breaker)
    return False


def _record_completion(ctx: RequestContext, view: ServiceView) -> None:
    primary = view.primary
    if (
        view.primary_state == "COMPLETED"
        and primary.obj.get("kind") == "ReplicaSet"
        and view.primary_finished is not None
        and not primary.annotations.get(task_keys.ROLLOUT_FINISHED_AT)
    ):
        stamp = k8s_time.format(view.primary_finished)
        store.patch_annotations(ctx, primary.obj, {task_keys.ROLLOUT_FINISHED_AT: stamp})


def _restarted_essential(task: TaskPod) -> bool:
    for container in pod_state.containers(task.pod):
        if container.essential and int((container.status or {}).get("restartCount") or 0) > 0:
            return True
    return False


def failure_of(task: TaskPod) -> tuple[str, str] | None:
    """Why the scheduler must replace ``task`` (stop code and reason), or ``None``."""
    if (task.pod.get("metadata") or {}).get("deletionTimestamp"):
        return None
    state = task.state
    if state.start_failures:
        return FAILED_TO_START, str(state.start_failures[0].start_failure)
    if state.exited_essential or _restarted_essential(task):
        return EXITED, pod_state.ESSENTIAL_EXITED
    return None


def _replace_failed_tasks(ctx: RequestContext, view: ServiceView, breaker: bool) -> bool:
    changed = False
    for revision in view.revisions:
        if revision.annotations.get(task_keys.ROLLOUT_STATE) == "FAILED":
            continue  # a failed deployment launches no more tasks
        if breaker and revision is view.primary and view.primary_state == "FAILED":
            continue  # the breaker decides first
        for task in revision.tasks:
            failure = failure_of(task)
            if failure is not None:
                store.stop_task(ctx, task.pod, *failure)
                changed = True
    return changed


def _circuit_breaker(
    ctx: RequestContext, ref: ClusterRef, stored: Stored, view: ServiceView
) -> bool:
    primary = view.primary
    if primary.obj.get("kind") != "ReplicaSet":
        return False
    if primary.annotations.get(task_keys.ROLLOUT_STATE) == "FAILED":
        return False
    threshold = service_history.breaker_threshold(view.desired)
    tripped = view.primary_state == "FAILED" or (
        view.primary_state == "IN_PROGRESS" and primary.failed >= threshold
    )
    if not tripped:
        return False
    # The failing tasks keep the reason they failed, whatever stops them next (the rollback
    # scaling them in); deleting them now would only start replacements.
    for task in primary.tasks:
        failure = failure_of(task)
        if failure is not None:
            store.record_stop(ctx, task.pod, *failure)
    config = view.spec.get("deploymentConfiguration") or {}
    rollback = bool((config.get("deploymentCircuitBreaker") or {}).get("rollback"))
    target = last_completed(view) if rollback else None
    if target is None:
        fail_revision(ctx, primary, None)
    else:
        roll_back(ctx, ref, stored, primary, target)
    return True


def last_completed(view: ServiceView, before: Revision | None = None) -> Revision | None:
    """The newest deployment older than ``before`` (the PRIMARY) that did not fail."""
    limit = view.revisions.index(before or view.primary)
    for revision in reversed(view.revisions[:limit]):
        if revision.annotations.get(task_keys.ROLLOUT_STATE) != "FAILED" and revision.template:
            return revision
    return None


def fail_revision(
    ctx: RequestContext, revision: Revision, target: Revision | None, *, stop_request: bool = False
) -> None:
    """Mark ``revision`` FAILED (and rolled back to ``target``) on its ReplicaSet."""
    values: dict[str, str | None] = {
        task_keys.ROLLOUT_STATE: "FAILED",
        task_keys.ROLLOUT_FINISHED_AT: k8s_time.format_micro(ctx.now()),
    }
    if target is not None:
        values[store.ROLLED_BACK_TO] = target.deployment_id
    if stop_request:
        values[store.STOP_REQUESTED] = "ROLLBACK"
    store.patch_annotations(ctx, revision.obj, values)


#: What kecs records on a ReplicaSet about how its rollout ended.
OUTCOME_KEYS = (
    task_keys.ROLLOUT_STATE,
    task_keys.ROLLOUT_FINISHED_AT,
    store.ROLLED_BACK_TO,
    store.STOP_REQUESTED,
)


def reset_outcome(ctx: RequestContext, revision: Revision) -> None:
    """Forget how ``revision`` ended: Kubernetes is rolling it out again (a template that
    matches an old ReplicaSet reuses it), so it is a new ECS deployment that has not ended."""
    if any(revision.annotations.get(k) for k in OUTCOME_KEYS):
        store.patch_annotations(ctx, revision.obj, dict.fromkeys(OUTCOME_KEYS))


def _template(revision: Revision) -> dict[str, Any]:
    """``revision``'s pod template as a Deployment's (without the ReplicaSet's hash label)."""
    template = copy.deepcopy(dict(revision.template))
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    template_labels.pop(task_keys.POD_TEMPLATE_HASH, None)
    return template


def rolled_back_spec(spec: Mapping[str, Any], target: Revision) -> dict[str, Any]:
    """The service ``spec`` with ``target``'s task definition and per-deployment settings."""
    result = copy.deepcopy(dict(spec))
    if target.task_definition:
        result["taskDefinition"] = target.task_definition
    settings = target.settings
    for key in REVISION_KEYS:
        if settings.get(key):
            result[key] = settings[key]
        else:
            result.pop(key, None)
    return result


def roll_back(
    ctx: RequestContext,
    ref: ClusterRef,
    stored: Stored,
    failed: Revision,
    target: Revision,
    *,
    stop_request: bool = False,
) -> None:
    """Fail ``failed`` and roll the service back to ``target``.

    The service's objects become exactly what an UpdateService to ``target``'s task
    definition and settings makes (:mod:`.service_rollout`, the same functions), except the
    Deployment's template, which is ``target``'s own so that Kubernetes reuses its
    ReplicaSet (``kubectl rollout undo``). Written in this order: identity, Services and
    Ingresses, the FAILED mark, the workload. Should a write fail before the mark, the next
    call trips the breaker again; after it, :func:`_finish_rollback` completes the job.

    A user's StopServiceDeployment (``stop_request``) gets ECS's error when the objects cannot
    be made (a discovery name another service took meanwhile), with nothing written; the
    circuit breaker rolls the workload back anyway, leaving those objects as they are.
    """
    assert stored.workload is not None
    spec = rolled_back_spec(stored.spec, target)
    arn = str(spec.get("taskDefinition") or "")
    td = rollout.task_definition(ctx, arn) if arn else None
    planned = None
    if td is not None:
        try:
            planned = rollout.plan(ctx, ref, stored, spec, td, rollout=True, status=stored.status)
        except ECSError:
            if stop_request:
                raise
            logger.warning("service %s: rolled back without its attachments", stored.name)
    if planned is None:
        # The task definition was deleted (or its objects cannot be made): the template
        # still rolls back; the Services and Ingresses keep what they are.
        planned = rollout.plan(
            ctx, ref, stored, spec, rollout.stub(arn), rollout=False, status=stored.status
        )
    rollout.write_identity(ctx, ref, planned)
    rollout.write_around(ctx, ref, stored, planned)
    fail_revision(ctx, failed, target, stop_request=stop_request)
    reset_outcome(ctx, target)
    rollout.write_workload(ctx, ref, stored, planned, _template(target), keep_scale=True)


def _finish_rollback(
    ctx: RequestContext, ref: ClusterRef, stored: Stored, view: ServiceView
) -> bool:
    """Complete a rollback whose FAILED mark was written but not the workload (module docs).

    Only while the Deployment still asks for the failed template: once anything else (the
    rollback, a later UpdateService) changed it, there is nothing to finish.
    """
    primary = view.primary
    notes = primary.annotations
    if primary.obj.get("kind") != "ReplicaSet" or notes.get(task_keys.ROLLOUT_STATE) != "FAILED":
        return False
    wanted = notes.get(store.ROLLED_BACK_TO)
    target = next(
        (r for r in view.revisions if r is not primary and r.deployment_id == wanted), None
    )
    assert stored.workload is not None
    if target is None or stored.workload["spec"].get("template") != _template(primary):
        return False
    roll_back(ctx, ref, stored, primary, target, stop_request=bool(notes.get(store.STOP_REQUESTED)))
    return True


def finish_draining(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> bool:
    """Make a DRAINING service INACTIVE once none of its tasks runs any more."""
    view = service_view.service_view(ctx, ref, stored)
    if any(t.state.last_status != "STOPPED" for r in view.revisions for t in r.tasks):
        return False
    retire(ctx, ref, stored)
    return True


def retire(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> None:
    """Write the INACTIVE tombstone, then delete the Kubernetes Service and the workload.

    In that order: should a delete fail, the workload still wins over the tombstone (the
    service reads as DRAINING) and the next call finishes the job.
    """
    tombstones.write(
        ctx,
        ref,
        stored.name,
        service=service_view.inactive_record(ctx, ref, stored),
        tags=service_view.tags_of(stored),
        deployments=service_view.service_deployments(ctx, ref, stored),
        revisions=service_view.service_revisions(ctx, ref, stored),
    )
    store.delete_quietly(ctx, stored.k8s_service)
    store.delete_quietly(ctx, stored.workload)
