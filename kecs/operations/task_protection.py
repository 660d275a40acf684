"""UpdateTaskProtection / GetTaskProtection: ECS task scale-in protection, kept on the pod.

A protected task's pod carries two annotations:

- ``kecs.dev/protected-until``: when the protection expires (RFC 3339); ECS's
  ``expirationDate``. Past it the task reads as unprotected, and the task sweep
  (:mod:`kecs.operations.task_sweep`) removes both annotations.
- ``controller.kubernetes.io/pod-deletion-cost``: ``2147483647`` (the largest cost) while
  protected. A ReplicaSet scaling in deletes the pods of lowest cost first, so a service
  scaling in removes its unprotected tasks first.

Kubernetes cannot *refuse* a scale-in the way ECS does (ECS keeps protected tasks running and
scales in only as far as unprotected tasks allow): when a service scales below the number of
its protected tasks, Kubernetes removes protected pods too. kecs documents this rather than
fighting the ReplicaSet controller.

As on ECS, only tasks of a service can be protected: a standalone task, or a task that is
stopping or stopped, is a ``TASK_NOT_VALID`` failure; a task the cluster does not have is a
``MISSING`` failure. GetTaskProtection without ``tasks`` reports the cluster's protected tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.errors import InvalidParameterException
from kecs.mapping import k8s_time, labels, pod_state, task_keys
from kecs.operations.cluster_lookup import resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.task_lookup import (
    TASK_SELECTOR,
    find_pods,
    given_arn,
    is_standalone,
    task_arn,
    task_id_of,
)

Params = dict[str, Any]

PROTECTED_UNTIL = f"{labels.DOMAIN}/protected-until"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
#: The largest int32: a protected pod is the last a ReplicaSet deletes.
PROTECTED_COST = "2147483647"
MAX_UPDATE_TASKS = 10
MAX_GET_TASKS = 100
DEFAULT_EXPIRES_IN_MINUTES = 120
MAX_EXPIRES_IN_MINUTES = 2880


def protected_until(pod: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the task's protection expires, or ``None`` when it is not protected now."""
    until = k8s_time.parse(task_keys.annotations_of(pod).get(PROTECTED_UNTIL))
    return until if until is not None and until > now else None


def _entry(arn: str, until: datetime | None) -> Params:
    entry: Params = {"taskArn": arn, "protectionEnabled": until is not None}
    if until is not None:
        entry["expirationDate"] = until
    return entry


def _failure(arn: str, reason: str, detail: str | None = None) -> Params:
    failure = {"arn": arn, "reason": reason}
    if detail:
        failure["detail"] = detail
    return failure


def _requested(params: Params, limit: int) -> list[str]:
    tasks: list[str] = list(dict.fromkeys(params.get("tasks") or ()))
    if not tasks:
        raise InvalidParameterException("Tasks cannot be empty.")
    if len(tasks) > limit:
        raise InvalidParameterException(f"tasks can have at most {limit} items.")
    return tasks


def _not_valid(pod: Mapping[str, Any], now: datetime) -> str | None:
    if is_standalone(pod):
        return "The task is not part of a service; only service tasks can be protected."
    state = pod_state.task_state(pod, pod_state.containers(pod), now)
    if state.desired_status == "STOPPED":
        return f"The task is {state.last_status} and cannot be protected."
    return None


@operation("UpdateTaskProtection")
def update_task_protection(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    tasks = _requested(params, MAX_UPDATE_TASKS)
    enabled = bool(params["protectionEnabled"])
    minutes = params.get("expiresInMinutes")
    if minutes is not None and not 1 <= minutes <= MAX_EXPIRES_IN_MINUTES:
        raise InvalidParameterException(
            f"expiresInMinutes must be between 1 and {MAX_EXPIRES_IN_MINUTES} minutes."
        )
    now = ctx.now()
    until = now + timedelta(minutes=minutes or DEFAULT_EXPIRES_IN_MINUTES) if enabled else None
    # Kubernetes times have second precision: report what is stored.
    until = k8s_time.parse(k8s_time.format(until)) if until is not None else None
    wanted = {value: task_id_of(ctx, cluster.name, value) for value in tasks}
    pods = find_pods(ctx, cluster.namespace, {i for i in wanted.values() if i})
    protected: list[Params] = []
    failures: list[Params] = []
    for value, task_id in wanted.items():
        pod = pods.get(task_id) if task_id else None
        if pod is None:
            failures.append(_failure(given_arn(ctx, cluster.name, value), "MISSING"))
            continue
        arn = task_arn(ctx, cluster.name, pod)
        problem = _not_valid(pod, now)
        if problem is not None:
            failures.append(_failure(arn, "TASK_NOT_VALID", problem))
            continue
        annotations = (
            {PROTECTED_UNTIL: k8s_time.format(until), DELETION_COST: PROTECTED_COST}
            if until is not None
            else {PROTECTED_UNTIL: None, DELETION_COST: None}
        )
        try:
            ctx.backend.patch(
                kinds.POD, pod["metadata"]["name"], {"metadata": {"annotations": annotations}},
                cluster.namespace,
            )  # fmt: skip
        except NotFound:
            failures.append(_failure(arn, "MISSING"))
            continue
        protected.append(_entry(arn, until))
    return {"protectedTasks": protected, "failures": failures}


@operation("GetTaskProtection")
def get_task_protection(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    now = ctx.now()
    if not params.get("tasks"):
        pods = ctx.backend.list_all(
            kinds.POD,
            cluster.namespace,
            selector=TASK_SELECTOR,
            where=lambda pod: protected_until(pod, now) is not None,
        )
        return {
            "protectedTasks": [
                _entry(task_arn(ctx, cluster.name, p), protected_until(p, now)) for p in pods
            ],
            "failures": [],
        }
    tasks = _requested(params, MAX_GET_TASKS)
    wanted = {value: task_id_of(ctx, cluster.name, value) for value in tasks}
    pods_by_id = find_pods(ctx, cluster.namespace, {i for i in wanted.values() if i})
    protected: list[Params] = []
    failures: list[Params] = []
    for value, task_id in wanted.items():
        pod = pods_by_id.get(task_id) if task_id else None
        if pod is None:
            failures.append(_failure(given_arn(ctx, cluster.name, value), "MISSING"))
            continue
        protected.append(_entry(task_arn(ctx, cluster.name, pod), protected_until(pod, now)))
    return {"protectedTasks": protected, "failures": failures}
