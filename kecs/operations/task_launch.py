"""RunTask / StartTask: one Pod per task, built from the task definition's pod template.

The pod is :func:`kecs.mapping.task_pod.task_pod` of the stored template (overrides, labels,
annotations and the task-record finalizer are the mapping's); this module validates the
request, decides placements (:mod:`kecs.operations.task_placement`), tags, and creates the
pods idempotently:

- **clientToken**: the pod of task ``i`` is named from (account, region, cluster, token,
  ``i``), so a retried request creates nothing new: the create answers ``AlreadyExists`` and
  the existing task is returned. botocore fills ``clientToken`` in for every call, so every
  RunTask is idempotent this way. The token used again with *different* parameters is
  ECS's ``ConflictException`` naming the existing tasks (``resourceIds``): each pod keeps a
  digest of its request (annotation ``kecs.dev/run-request``). A task of that token that
  failed placement (its pod was deleted) is tried again by a retry.
- **tags**: ``tags`` are validated as for TagResource; ``propagateTags=TASK_DEFINITION``
  copies the task definition's tags first (the request's win on equal keys; ``SERVICE`` is
  refused, as ECS refuses it outside services); ``enableECSManagedTags`` adds
  ``aws:ecs:clusterName`` (the only way an ``aws:`` tag reaches a task).
- **identity, placement, networking** (:func:`kecs.mapping.task_wiring.wire_pod`): the pod
  runs as the task role's ServiceAccount (made to exist first:
  :func:`kecs.operations.task_identity.ensure_identity`) with its image pull secrets;
  ``placementConstraints`` / ``placementStrategy`` (and the task definition's constraints)
  become affinity and topology spread against the task's group, the capacity provider or
  launch type selects nodes, and only Nodes serving the cluster are eligible; the awsvpc
  configuration is annotated readably. Invalid placement input is
  ``InvalidParameterException``.
- Parameters Kubernetes does not express (``volumeConfigurations``, ``referenceId``) are
  kept in the pod's mapping notes (annotation ``kecs.dev/mapping-notes``), not applied.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists, NotFound
from kecs.errors import ClientException, ConflictException, InvalidParameterException
from kecs.mapping import capacity, labels, names, task_keys, task_wiring
from kecs.mapping.common import copy_json
from kecs.mapping.errors import MappingError
from kecs.mapping.identity import TaskIdentity
from kecs.mapping.placement import group_selector
from kecs.mapping.task_pod import default_group, task_pod
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.tagging import Tags, merge_tags, validate_tags
from kecs.operations.task_definitions import UNABLE_TO_DESCRIBE, resolve
from kecs.operations.task_identity import ensure_identity
from kecs.operations.task_lookup import TaskRenderer, task_arn
from kecs.operations.task_placement import (
    Placement,
    check_compatibility,
    pin_to_node,
    run_placements,
    start_placements,
    unplaced,
)
from kecs.operations.task_sweep import sweep_cluster
from kecs.operations.taskdefs.store import ACTIVE, Revision, TaskDefinitionStore

Params = dict[str, Any]

MAX_COUNT = 10
MAX_STARTED_BY = 128
MAX_GROUP = 255
#: Annotation: digest of the RunTask/StartTask request that made the pod (idempotency).
REQUEST_DIGEST = f"{labels.DOMAIN}/run-request"
MANAGED_CLUSTER_TAG = "aws:ecs:clusterName"
INACTIVE_MESSAGE = "TaskDefinition is inactive"
CONFLICT_MESSAGE = (
    "The RunTask request could not be processed due to conflicts. The provided clientToken is "
    "already in use with a different RunTask request. The resourceIds are the existing task "
    "ARNs which are already associated with the clientToken."
)
_NOTED = {
    "volumeConfigurations": "EBS volumes are not attached; kept as metadata",
    "referenceId": "kept as metadata",
}


def load_task_definition(ctx: RequestContext, value: str) -> Revision:
    """The ACTIVE revision ``value`` names, shared through the context's memo: RunTask and
    StartTask only read it (the pod is built from copies)."""
    revision = resolve(ctx, TaskDefinitionStore(ctx), value, shared=True)
    if revision.task_definition.get("status") != ACTIVE:
        raise ClientException(INACTIVE_MESSAGE)
    return revision


def _check_scalars(params: Params) -> None:
    if len(params.get("startedBy") or "") > MAX_STARTED_BY:
        raise InvalidParameterException(
            f"startedBy must be at most {MAX_STARTED_BY} characters long."
        )
    if len(params.get("group") or "") > MAX_GROUP:
        raise InvalidParameterException(f"group must be at most {MAX_GROUP} characters long.")


def task_tags(cluster: ClusterRef, revision: Revision, params: Params) -> Tags:
    requested: Tags = list(params.get("tags") or [])
    propagate = params.get("propagateTags")
    if propagate == "SERVICE":
        raise InvalidParameterException(
            "propagateTags SERVICE is only valid for tasks started by a service."
        )
    inherited = revision.tags if propagate == "TASK_DEFINITION" else []
    validate_tags(requested, existing=inherited)
    tags = merge_tags(inherited, requested)
    if params.get("enableECSManagedTags"):
        tags = merge_tags(tags, [{"key": MANAGED_CLUSTER_TAG, "value": cluster.name}])
    return tags


def request_digest(params: Params) -> str:
    unchanged = {k: v for k, v in params.items() if k != "clientToken"}
    return names.digest(json.dumps(unchanged, sort_keys=True, default=str), length=32)


def pod_name(ctx: RequestContext, cluster: ClusterRef, family: str, token: str, index: int) -> str:
    base = names.readable(family)[:40].rstrip("-") or "task"
    key = names.digest(ctx.account_id, ctx.region, cluster.name, token, str(index), length=20)
    return f"{base}-{key}"


def _notes(params: Params) -> list[str]:
    return [f"{key}: {text}" for key, text in _NOTED.items() if params.get(key)]


class _Builder:
    """Pods of one request; a pod is built once per distinct placement and copied (the last
    pod of a placement takes the built one itself, unless it is pinned to a node: pinning
    edits node selector terms the placement mapping may share)."""

    def __init__(
        self,
        ctx: RequestContext,
        cluster: ClusterRef,
        revision: Revision,
        params: Params,
        tags: Tags,
        token: str,
        placements: Sequence[Placement] = (),
    ) -> None:
        self.ctx, self.cluster, self.revision, self.params = ctx, cluster, revision, params
        self.tags, self.token = tags, token
        self.digest = request_digest(params)
        self.notes = _notes(params)
        self.identity: TaskIdentity | None = None
        self._built: dict[tuple[str, str | None], Object] = {}
        self._uses = Counter((p.launch_type, p.capacity_provider) for p in placements)

    def _base(self, placement: Placement) -> Object:
        key = (placement.launch_type, placement.capacity_provider)
        if key not in self._built:
            params, td = self.params, self.revision.task_definition
            try:
                pod = task_pod(
                    self.revision.obj["template"],
                    name="task",
                    namespace=self.cluster.namespace,
                    cluster_name=self.cluster.name,
                    account=self.ctx.account_id,
                    region=self.ctx.region,
                    task_definition=td,
                    overrides=params.get("overrides"),
                    started_by=params.get("startedBy"),
                    group=params.get("group"),
                    launch_type=placement.launch_type,
                    capacity_provider=placement.capacity_provider,
                    tags=self.tags,
                    enable_execute_command=bool(params.get("enableExecuteCommand")),
                    client_token=self.token,
                    network_configuration=params.get("networkConfiguration"),
                    platform_version=params.get("platformVersion"),
                )
                pod, self.identity = task_wiring.wire_pod(
                    pod,
                    td,
                    account=self.ctx.account_id,
                    region=self.ctx.region,
                    cluster_name=self.cluster.name,
                    group_selector=group_selector(params.get("group") or default_group(td)),
                    overrides=params.get("overrides"),
                    constraints=params.get("placementConstraints") or (),
                    strategies=params.get("placementStrategy") or (),
                    launch_type=placement.launch_type,
                    node_selection=capacity.node_selection(
                        placement.capacity_provider, placement.launch_type
                    ),
                    network_configuration=params.get("networkConfiguration"),
                    handed_over=True,  # task_pod's fresh pod
                )
            except MappingError as exc:
                raise InvalidParameterException(str(exc)) from None
            annotations = pod["metadata"]["annotations"]
            annotations[REQUEST_DIGEST] = self.digest
            if self.notes:
                known = task_keys.json_value(annotations, task_keys.NOTES, [])
                merged = [*(known if isinstance(known, list) else []), *self.notes]
                annotations[task_keys.NOTES] = task_keys.dump(merged)
            self._built[key] = pod
        return self._built[key]

    def pod(self, index: int, placement: Placement) -> Object:
        key = (placement.launch_type, placement.capacity_provider)
        base = self._base(placement)
        self._uses[key] -= 1
        pod = base if self._uses[key] == 0 and not placement.node else copy_json(base)
        family = str(self.revision.task_definition["family"])
        pod["metadata"]["name"] = pod_name(self.ctx, self.cluster, family, self.token, index)
        if placement.node:
            pin_to_node(pod, placement.node)
        return pod


def _same_request(pod: Object, builder: _Builder) -> bool:
    notes = task_keys.annotations_of(pod)
    return (
        notes.get(task_keys.CLIENT_TOKEN) == builder.token
        and notes.get(REQUEST_DIGEST) == builder.digest
    )


def _conflict(ctx: RequestContext, builder: _Builder, family: str) -> ConflictException:
    existing = []
    for index in range(MAX_COUNT):
        name = pod_name(ctx, builder.cluster, family, builder.token, index)
        try:
            pod = ctx.backend.get(kinds.POD, name, builder.cluster.namespace)
        except NotFound:
            continue
        existing.append(task_arn(ctx, builder.cluster.name, pod))
    return ConflictException(CONFLICT_MESSAGE, resourceIds=existing)


def _create(ctx: RequestContext, builder: _Builder, pod: Object) -> Object:
    """Create the pod, or return the one a previous identical request created."""
    name, namespace = pod["metadata"]["name"], builder.cluster.namespace
    backend = ctx.backend
    for _ in range(3):
        with contextlib.suppress(AlreadyExists):
            backend.create(pod, shared=True)  # the answer is not used
        # Only read from here on (compared, rendered): the backend need not copy it.
        found = backend.find(kinds.POD, namespace, names=[name], shared=True)
        if not found:
            continue  # deleted between the two calls: create it again
        existing = found[0]
        if not _same_request(existing, builder):
            raise _conflict(ctx, builder, str(builder.revision.task_definition["family"]))
        return existing
    raise ClientException(UNABLE_TO_DESCRIBE)


def _discard(ctx: RequestContext, namespace: str, pod: Object) -> None:
    """Remove an unplaced task's pod entirely (it never was a task: no STOPPED record)."""
    name = pod["metadata"]["name"]
    try:
        ctx.backend.patch(kinds.POD, name, {"metadata": {"finalizers": None}}, namespace)
        ctx.backend.delete(kinds.POD, name, namespace)
    except NotFound:
        pass


def launch(ctx: RequestContext, params: Params, *, start: bool) -> Params:
    """RunTask (``start=False``) or StartTask (``start=True``)."""
    cluster = resolve_cluster(ctx, params.get("cluster"))
    _check_scalars(params)
    count = 1 if start or params.get("count") is None else int(params["count"])
    if not 1 <= count <= MAX_COUNT:
        raise InvalidParameterException(f"count must be between 1 and {MAX_COUNT}.")
    revision = load_task_definition(ctx, params["taskDefinition"])
    td = revision.task_definition
    placements: Sequence[Placement] = (
        start_placements(ctx, cluster, params) if start else run_placements(cluster, params, count)
    )
    check_compatibility(td, params, placements)
    tags = task_tags(cluster, revision, params)
    token = params.get("clientToken") or uuid.uuid4().hex
    builder = _Builder(ctx, cluster, revision, params, tags, token, placements)
    pods = [builder.pod(index, placement) for index, placement in enumerate(placements)]
    sweep_cluster(ctx, cluster)
    if builder.identity is not None:
        ensure_identity(ctx, cluster, builder.identity)
    created = [_create(ctx, builder, pod) for pod in pods]
    tasks: list[Object] = []
    failures: list[Params] = []
    for pod, placement in zip(created, placements, strict=True):
        failure = unplaced(pod, placement.instance_arn or cluster.arn)
        if failure is None:
            tasks.append(pod)
        else:
            _discard(ctx, cluster.namespace, pod)
            failures.append(failure)
    renderer = TaskRenderer(ctx, cluster, known=[td])
    return {"tasks": renderer.render_all(tasks, include_tags=bool(tags)), "failures": failures}
