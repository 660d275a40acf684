"""ECS tasks as Pods: RunTask, StartTask, StopTask, DescribeTasks, ListTasks, task tags.

One Pod per task, in the cluster's Namespace (docs: the design of issue 3):

- RunTask / StartTask build and create the pods (:mod:`kecs.operations.task_launch`,
  :mod:`kecs.operations.task_placement`);
- StopTask writes the stop record (``kecs.dev/stop-code`` ``UserInitiated``,
  ``kecs.dev/stopped-reason`` the given reason or "Task stopped by user",
  ``kecs.dev/stopping-at``) and deletes the pod; its ``kecs.dev/task-record`` finalizer keeps
  it as the STOPPED record. Stopping a task that is already stopping or stopped changes
  nothing and returns it;
- DescribeTasks reads the wanted pods in one backend read (:mod:`kecs.operations.task_lookup`)
  and renders them with :func:`kecs.mapping.task_status.pod_to_task`; ids the cluster does
  not have are ``MISSING`` failures;
- ListTasks pages through the backend (:mod:`kecs.operations.task_listing`);
- every call that reads task pods sweeps them (:mod:`kecs.operations.task_sweep`): stopped
  records older than the retention period go, standalone tasks whose essential container
  exited are stopped;
- tags live in the pod's ``kecs.dev/tags`` annotation (JSON), never in labels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import NotFound
from kecs.errors import InvalidParameterException
from kecs.mapping import k8s_time, pod_state, task_keys
from kecs.operations import tagging
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.task_launch import launch
from kecs.operations.task_listing import list_tasks as _list_tasks
from kecs.operations.task_lookup import (
    TASK_NOT_FOUND,
    TaskRenderer,
    find_pods,
    given_arn,
    task_id_of,
)
from kecs.operations.task_sweep import Sweep, state_of, stop_pod

Params = dict[str, Any]

MAX_REASON = 255
MAX_DESCRIBE = 100
USER_INITIATED = "UserInitiated"


@operation("RunTask")
def run_task(ctx: RequestContext, params: Params) -> Params:
    return launch(ctx, params, start=False)


@operation("StartTask")
def start_task(ctx: RequestContext, params: Params) -> Params:
    return launch(ctx, params, start=True)


def _one_task(ctx: RequestContext, cluster: ClusterRef, value: str) -> Object:
    task_id = task_id_of(ctx, cluster.name, value)
    pod = find_pods(ctx, cluster.namespace, {task_id}).get(task_id) if task_id else None
    if pod is None:
        raise InvalidParameterException(TASK_NOT_FOUND)
    return pod


def _has_tags(pod: Object) -> bool:
    return bool(task_keys.json_value(task_keys.annotations_of(pod), task_keys.TAGS, []))


def _as_stopped(pod: Object, reason: str, now: datetime) -> Object:
    """The pod as it was, deleted with its stop record: when Kubernetes removed it at once
    (no finalizer kept it), this is what the task was when it stopped."""
    meta = dict(pod["metadata"])
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        task_keys.STOP_CODE: USER_INITIATED,
        task_keys.STOPPED_REASON: reason,
        task_keys.STOPPING_AT: k8s_time.format(now),
    }
    meta.setdefault("deletionTimestamp", k8s_time.format(now))
    return {**pod, "metadata": meta}


@operation("StopTask")
def stop_task(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    reason = params.get("reason") or pod_state.STOPPED_BY_USER
    if len(reason) > MAX_REASON:
        raise InvalidParameterException(f"reason must be at most {MAX_REASON} characters long.")
    pod = _one_task(ctx, cluster, params["task"])
    name = pod["metadata"]["name"]
    now = ctx.now()
    if pod["metadata"].get("deletionTimestamp") or state_of(pod, now).desired_status == "STOPPED":
        # Already stopping or stopped: its own stop record stands; the sweep finishes the stop.
        sweep = Sweep(ctx, cluster.namespace)
        sweep.see(pod)
        pod = sweep.run().get(name, pod) or pod
    else:
        stopped = stop_pod(ctx, cluster.namespace, name, USER_INITIATED, reason, now)
        pod = stopped if stopped is not None else _as_stopped(pod, reason, now)
    task = TaskRenderer(ctx, cluster).render_all([pod], include_tags=_has_tags(pod))[0]
    return {"task": task}


@operation("DescribeTasks")
def describe_tasks(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    given: list[str] = list(dict.fromkeys(params.get("tasks") or ()))
    if not given:
        raise InvalidParameterException("Tasks cannot be empty.")
    if len(given) > MAX_DESCRIBE:
        raise InvalidParameterException(f"taskIds can have at most {MAX_DESCRIBE} items.")
    include_tags = "TAGS" in (params.get("include") or ())
    wanted = {value: task_id_of(ctx, cluster.name, value) for value in given}
    # Only read (swept by name, rendered): the backend need not copy them.
    pods = find_pods(ctx, cluster.namespace, {i for i in wanted.values() if i}, shared=True)
    sweep = Sweep(ctx, cluster.namespace)
    sweep.see_all(pods.values())
    swept = sweep.run()
    found: dict[str, Object] = {}
    failures: list[Params] = []
    for value, task_id in wanted.items():
        pod = pods.get(task_id) if task_id else None
        if pod is not None:
            pod = swept.get(pod["metadata"]["name"], pod)
        if pod is None:
            failures.append({"arn": given_arn(ctx, cluster.name, value), "reason": "MISSING"})
        elif task_id not in found:
            found[str(task_id)] = pod
    tasks = TaskRenderer(ctx, cluster).render_all(found.values(), include_tags=include_tags)
    return {"tasks": tasks, "failures": failures}


@operation("ListTasks")
def list_tasks(ctx: RequestContext, params: Params) -> Params:
    return _list_tasks(ctx, params)


# -- tags (TagResource / UntagResource / ListTagsForResource) -------------------------------


def _tagged_task(ctx: RequestContext, arn: Arn) -> tuple[ClusterRef, Object]:
    parts = arn.parts
    if arn.region != ctx.region or arn.account != ctx.account_id or len(parts) != 2:
        raise InvalidParameterException(TASK_NOT_FOUND)
    cluster = resolve_cluster(ctx, parts[0])
    return cluster, _one_task(ctx, cluster, str(arn))


def _tags_of(pod: Object) -> tagging.Tags:
    tags = task_keys.json_value(task_keys.annotations_of(pod), task_keys.TAGS, [])
    return [dict(t) for t in tags if isinstance(t, dict)] if isinstance(tags, list) else []


def read_task_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    return _tags_of(_tagged_task(ctx, arn)[1])


def write_task_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    cluster, pod = _tagged_task(ctx, arn)
    uid = pod["metadata"]["uid"]

    def mutate(current: Object) -> Object | None:
        if current["metadata"]["uid"] != uid:
            raise NotFound(f'pods "{current["metadata"]["name"]}" not found')
        before = _tags_of(current)
        after = edit(before)
        if after == before:
            return None
        annotations = current["metadata"].setdefault("annotations", {})
        if after:
            annotations[task_keys.TAGS] = task_keys.dump(after)
        else:
            annotations.pop(task_keys.TAGS, None)
        return current

    try:
        ctx.backend.modify(kinds.POD, pod["metadata"]["name"], mutate, cluster.namespace)
    except NotFound:
        raise InvalidParameterException(TASK_NOT_FOUND) from None


tagging.taggable("task", read_task_tags, write_task_tags)
