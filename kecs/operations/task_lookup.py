"""Finding task pods by task id or ARN, and showing them as ECS tasks.

A task is a Pod labelled ``kecs.dev/resource=task`` in its cluster's Namespace; its id is the
pod's uid without dashes (:func:`kecs.mapping.ids.task_id`), so every client derives the same
ARN. Looking tasks up by id is one backend ``find`` by uid per call (on a real cluster one
list of the task pods filtered by uid; the embedded backend looks the uids up in its index,
so the cost follows the number of ids asked for, not the number of tasks).

:class:`TaskRenderer` turns pods into ECS ``Task`` structures with
:func:`kecs.mapping.task_status.pod_to_task`, reading each task definition and the Nodes it
needs at most once per call.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from kecs import arns, uuid_text
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.mapping import ids, labels, task_keys, task_status
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.task_definitions import parse_reference
from kecs.operations.taskdefs.store import TaskDefinitionStore

TASK_RESOURCE = "task"
TASK_SELECTOR = {labels.RESOURCE: TASK_RESOURCE}
#: ECS's answer when StopTask (and friends) name a task the cluster does not have.
TASK_NOT_FOUND = "The referenced task was not found."
_HEX_ID = re.compile(r"[0-9a-fA-F]{32}")
_LOWER_HEX_ID = re.compile(r"[0-9a-f]{32}")


def pod_name(pod: Mapping[str, Any]) -> str:
    return str(pod["metadata"]["name"])


def task_arn(ctx: RequestContext, cluster_name: str, pod: Mapping[str, Any]) -> str:
    return arns.task(ctx.region, ctx.account_id, cluster_name, ids.task_id(pod))


def task_id_of(ctx: RequestContext, cluster_name: str, value: str) -> str | None:
    """The task id ``value`` (an id or a task ARN) names in this cluster, else ``None``.

    An ARN of another region, account or cluster names no task of this cluster. The old
    short ARN format (``task/<id>``) is accepted too.
    """
    found = arns.in_cluster(value, "task", ctx.region, ctx.account_id, cluster_name)
    return found.lower() if found is not None and _HEX_ID.fullmatch(found) else None


def given_arn(ctx: RequestContext, cluster_name: str, value: str) -> str:
    """The ARN a failure entry reports for ``value`` (kept as given when it is an ARN)."""
    if arns.is_arn(value):
        return value
    return arns.task(ctx.region, ctx.account_id, cluster_name, value)


def find_pods(
    ctx: RequestContext, namespace: str, task_ids: Collection[str], *, shared: bool = False
) -> dict[str, Object]:
    """``{task id: pod}`` for the wanted task ids that exist (one backend ``find`` by uid).

    ``shared``: the caller only reads the pods (see :class:`~kecs.backends.base.Backend`).
    """
    wanted = {task_id.lower() for task_id in task_ids}
    if not wanted:
        return {}
    # Uids as Kubernetes writes them (dashed, lower case), and as given for a uid without
    # dashes (a pod fabricated by hand).
    uids = {_dashed_uid(task_id) for task_id in wanted} | wanted
    pods = ctx.backend.find(kinds.POD, namespace, uids=uids, selector=TASK_SELECTOR, shared=shared)
    return {ids.task_id(pod): pod for pod in pods}


def _dashed_uid(task_id: str) -> str:
    """``str(uuid.UUID(hex=task_id))``: for a task id as ECS shows it (32 lower-case hex
    digits, the usual case) by slicing, without building a UUID."""
    if len(task_id) == 32 and _LOWER_HEX_ID.fullmatch(task_id):
        return uuid_text.dashed(task_id)
    return str(uuid.UUID(hex=task_id))


def is_standalone(pod: Mapping[str, Any]) -> bool:
    """Started by RunTask/StartTask (no controller owns the pod, no service label)."""
    meta = pod.get("metadata") or {}
    owned = any(ref.get("controller") for ref in meta.get("ownerReferences") or ())
    return not owned and labels.SERVICE not in (meta.get("labels") or {})


def container_instance_id_of(ctx: RequestContext, cluster_name: str, value: str) -> str | None:
    """The container instance id (32 hex) ``value`` (an id or an ARN) names, else ``None``."""
    found = arns.in_cluster(value, "container-instance", ctx.region, ctx.account_id, cluster_name)
    return found.lower() if found is not None and _HEX_ID.fullmatch(found) else None


def nodes_by_instance_id(ctx: RequestContext, instance_ids: Collection[str]) -> dict[str, Object]:
    """``{container instance id: Node}`` for the ids that name a Node (one backend ``find``)."""
    wanted = {instance_id.lower() for instance_id in instance_ids}
    if not wanted:
        return {}
    uids = {str(uuid.UUID(hex=i)) for i in wanted if _HEX_ID.fullmatch(i)} | wanted
    found = ctx.backend.find(kinds.NODE, uids=uids)
    return {ids.container_instance_id(n): n for n in found}


class TaskRenderer:
    """Pods -> ECS tasks for one request (task definitions and Nodes read once each).

    ``known``: task definitions the caller already holds (RunTask's), not read again.
    Task definitions are read shared (:meth:`TaskDefinitionStore.read`) and Nodes as metadata
    (their labels and uid are all a task shows of them); neither is modified.
    """

    def __init__(
        self,
        ctx: RequestContext,
        cluster: ClusterRef,
        known: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.ctx = ctx
        self.cluster = cluster
        self.now = ctx.now()
        self._store = TaskDefinitionStore(ctx)
        self._definitions: dict[str, Mapping[str, Any] | None] = {
            str(td["taskDefinitionArn"]): td for td in known if td.get("taskDefinitionArn")
        }
        self._nodes: dict[str, Object] = {}

    def task_definition(self, pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
        arn = task_keys.annotations_of(pod).get(task_keys.TASK_DEFINITION_ARN)
        if not arn:
            return None
        if arn not in self._definitions:
            ref = parse_reference(self.ctx, arn)
            found = None
            if ref is not None and ref.revision is not None:
                found = self._store.read(ref.family, ref.revision, template=False)
            self._definitions[arn] = found.task_definition if found is not None else None
        return self._definitions[arn]

    def prefetch_nodes(self, pods: Iterable[Mapping[str, Any]]) -> None:
        """Read the metadata of the Nodes the pods run on, in one backend ``find``."""
        wanted = {
            str(name)
            for pod in pods
            if (name := (pod.get("spec") or {}).get("nodeName")) and name not in self._nodes
        }
        if not wanted:
            return
        found = self.ctx.backend.find(kinds.NODE, names=wanted, metadata_only=True, shared=True)
        for node in found:
            self._nodes[node["metadata"]["name"]] = node

    def render(self, pod: Mapping[str, Any], *, include_tags: bool = False) -> dict[str, Any]:
        node_name = (pod.get("spec") or {}).get("nodeName")
        return task_status.pod_to_task(
            pod,
            region=self.ctx.region,
            account=self.ctx.account_id,
            cluster_name=self.cluster.name,
            task_definition=self.task_definition(pod),
            node=self._nodes.get(str(node_name)) if node_name else None,
            now=self.now,
            include_tags=include_tags,
        )

    def render_all(
        self, pods: Iterable[Mapping[str, Any]], *, include_tags: bool = False
    ) -> list[dict[str, Any]]:
        pods = list(pods)
        self.prefetch_nodes(pods)
        return [self.render(pod, include_tags=include_tags) for pod in pods]
