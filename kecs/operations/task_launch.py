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
- **plans**: everything but the client token, the pod names and StartTask's Nodes is a pure
  function of what the call reads (revision, cluster Namespace) and of its parameters, so
  it is remembered in the context's memo (:class:`Plan`, checked against the
  ``(uid, resourceVersion)`` of both); each task's pod is the plan's with its own name
  and client token, given to the backend to copy (the embedded one copies only the parts
  its remembered pod specs do not replace).
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
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import attrs

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


#: ``json.dumps(..., sort_keys=True, default=str)`` made once (not an encoder per call).
_REQUEST_ENCODER = json.JSONEncoder(sort_keys=True, default=str)


def canonical_request(params: Params) -> str:
    """All the request's parameters but ``clientToken``, as canonical JSON: what identifies
    the request, for idempotency (its digest) and for :data:`PLANS`. Exact, since the
    parameters were decoded from JSON (``default=str`` only keeps odd callers working)."""
    return _REQUEST_ENCODER.encode({k: v for k, v in params.items() if k != "clientToken"})


def _name_base(family: str) -> str:
    return names.readable(family)[:40].rstrip("-") or "task"


def _pod_name(base: str, ctx: RequestContext, cluster: ClusterRef, token: str, index: int) -> str:
    key = names.digest(ctx.account_id, ctx.region, cluster.name, token, str(index), length=20)
    return f"{base}-{key}"


def _notes(params: Params) -> list[str]:
    return [f"{key}: {text}" for key, text in _NOTED.items() if params.get(key)]


#: :func:`task_pod`'s client token while a pod is a :class:`Plan`'s base; each task's copy
#: gets the request's own (same annotation, so the annotations keep their order).
_TOKEN_PLACEHOLDER = "-"
#: :data:`kecs.operations.context.Memo` key prefix of remembered :class:`Plan`\ s.
PLANS = "task-launch-plan"

PlacementKey = tuple[str, str | None]


def _placement_key(placement: Placement) -> PlacementKey:
    return (placement.launch_type, placement.capacity_provider)


@attrs.frozen
class Plan:
    """What a RunTask/StartTask request makes, whatever its ``clientToken``: a pure function
    of the task definition's stored revision, the cluster's Namespace, the parameters but
    ``clientToken`` (and StartTask's Node names, which only pin each copy), the account and
    the region.

    So a plan is remembered in the context's memo (:data:`PLANS`), keyed by the cluster,
    the revision's name and :func:`canonical_request`, for as long as the revision's and
    the Namespace's ``(uid, resourceVersion)`` are those read by the call: re-registering,
    deregistering or re-tagging the revision, or any change to the cluster, makes a new
    plan. Shared by the calls that find it: never modify one (each task's pod is a copy).
    """

    digest: str
    tags: Tags
    #: RunTask's placements (from the cluster's providers and the parameters); ``None`` for
    #: StartTask, whose placements name Nodes read on every call.
    placements: tuple[Placement, ...] | None
    #: The pod of each (launch type, capacity provider) with a placeholder name and client
    #: token, unpinned; the identity it runs as.
    pods: Mapping[PlacementKey, Object]
    identity: TaskIdentity | None
    name_base: str


def _build_pod(
    ctx: RequestContext,
    cluster: ClusterRef,
    revision: Revision,
    params: Params,
    tags: Tags,
    placement: Placement,
) -> tuple[Object, TaskIdentity]:
    td = revision.task_definition
    try:
        pod = task_pod(
            revision.obj["template"],
            name="task",
            namespace=cluster.namespace,
            cluster_name=cluster.name,
            account=ctx.account_id,
            region=ctx.region,
            task_definition=td,
            overrides=params.get("overrides"),
            started_by=params.get("startedBy"),
            group=params.get("group"),
            launch_type=placement.launch_type,
            capacity_provider=placement.capacity_provider,
            tags=tags,
            enable_execute_command=bool(params.get("enableExecuteCommand")),
            client_token=_TOKEN_PLACEHOLDER,
            network_configuration=params.get("networkConfiguration"),
            platform_version=params.get("platformVersion"),
        )
        return task_wiring.wire_pod(
            pod,
            td,
            account=ctx.account_id,
            region=ctx.region,
            cluster_name=cluster.name,
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


def make_plan(
    ctx: RequestContext,
    cluster: ClusterRef,
    revision: Revision,
    params: Params,
    request: str,
    placements: Sequence[Placement],
    *,
    start: bool,
) -> Plan:
    """Check the request against the definition and build one pod per distinct placement
    (``InvalidParameterException`` and ``ClientException`` as ECS answers them)."""
    td = revision.task_definition
    check_compatibility(td, params, placements)
    tags = task_tags(cluster, revision, params)
    digest = names.digest(request, length=32)
    notes = _notes(params)
    pods: dict[PlacementKey, Object] = {}
    identity: TaskIdentity | None = None
    for placement in placements:
        key = _placement_key(placement)
        if key in pods:
            continue
        pod, identity = _build_pod(ctx, cluster, revision, params, tags, placement)
        annotations = pod["metadata"]["annotations"]
        annotations[REQUEST_DIGEST] = digest
        if notes:
            known = task_keys.json_value(annotations, task_keys.NOTES, [])
            merged = [*(known if isinstance(known, list) else []), *notes]
            annotations[task_keys.NOTES] = task_keys.dump(merged)
        pods[key] = pod
    return Plan(
        digest=digest,
        tags=tags,
        placements=None if start else tuple(placements),
        pods=pods,
        identity=identity,
        name_base=_name_base(str(td["family"])),
    )


def _plan_key(
    ctx: RequestContext, cluster: ClusterRef, revision: Revision, request: str, start: bool
) -> Hashable:
    return (
        PLANS,
        ctx.account_id,
        ctx.region,
        cluster.namespace,
        revision.obj["metadata"]["name"],
        start,
        request,
    )


def _plan_version(cluster: ClusterRef, revision: Revision) -> Hashable:
    ns, rev = cluster.obj["metadata"], revision.obj["metadata"]
    return (ns.get("uid"), ns.get("resourceVersion"), rev.get("uid"), rev.get("resourceVersion"))


class _Launch:
    """The pods of one request: fresh copies of its plan's, with the request's client token,
    their names and (StartTask) their Node."""

    def __init__(
        self, ctx: RequestContext, cluster: ClusterRef, revision: Revision, plan: Plan, token: str
    ) -> None:
        self.ctx, self.cluster, self.revision, self.plan = ctx, cluster, revision, plan
        self.token, self.digest = token, plan.digest

    def name(self, index: int) -> str:
        return _pod_name(self.plan.name_base, self.ctx, self.cluster, self.token, index)

    def pod(self, index: int, placement: Placement) -> Object:
        """The plan's pod with this task's name and client token, for ``Backend.create``
        (not handed over: it shares the plan's spec and labels, which the backend copies
        what it keeps of, and never changes)."""
        planned = self.plan.pods[_placement_key(placement)]
        if placement.node:
            # StartTask's Node is pinned in the spec: a copy of its own.
            pod = copy_json(planned)
            pin_to_node(pod, placement.node)
        else:
            pod = dict(planned)
        metadata = pod["metadata"] = dict(pod["metadata"])
        metadata["name"] = self.name(index)
        metadata["annotations"] = {**metadata["annotations"], task_keys.CLIENT_TOKEN: self.token}
        return pod


def _same_request(pod: Object, launch: _Launch) -> bool:
    notes = task_keys.annotations_of(pod)
    return (
        notes.get(task_keys.CLIENT_TOKEN) == launch.token
        and notes.get(REQUEST_DIGEST) == launch.digest
    )


def _conflict(ctx: RequestContext, launch: _Launch) -> ConflictException:
    existing = []
    for index in range(MAX_COUNT):
        name = launch.name(index)
        try:
            pod = ctx.backend.get(kinds.POD, name, launch.cluster.namespace)
        except NotFound:
            continue
        existing.append(task_arn(ctx, launch.cluster.name, pod))
    return ConflictException(CONFLICT_MESSAGE, resourceIds=existing)


def _create(ctx: RequestContext, launch: _Launch, index: int, placement: Placement) -> Object:
    """Create the task's pod, or return the one a previous identical request created."""
    name, namespace = launch.name(index), launch.cluster.namespace
    backend = ctx.backend
    for _ in range(3):
        with contextlib.suppress(AlreadyExists):
            # The answer is not used (the pod is read once settled, below).
            backend.create(launch.pod(index, placement), shared=True)
        # Only read from here on (compared, rendered): the backend need not copy it.
        found = backend.find(kinds.POD, namespace, names=[name], shared=True)
        if not found:
            continue  # deleted between the two calls: create it again
        existing = found[0]
        if not _same_request(existing, launch):
            raise _conflict(ctx, launch)
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
    # StartTask's Nodes are read on every call (only their names differ from a plan's).
    started = start_placements(ctx, cluster, params) if start else None
    request = canonical_request(params)
    key = _plan_key(ctx, cluster, revision, request, start)
    version = _plan_version(cluster, revision)
    plan: Plan | None = ctx.memo.get(key, version)
    if plan is None:
        planned = started if started is not None else run_placements(cluster, params, count)
        plan = make_plan(ctx, cluster, revision, params, request, planned, start=start)
        ctx.memo.put(key, version, plan)
    placements = started if started is not None else plan.placements or ()
    token = params.get("clientToken") or uuid.uuid4().hex
    sweep_cluster(ctx, cluster)
    if plan.identity is not None:
        ensure_identity(ctx, cluster, plan.identity)
    launch = _Launch(ctx, cluster, revision, plan, token)
    created = [_create(ctx, launch, index, placement) for index, placement in enumerate(placements)]
    tasks: list[Object] = []
    failures: list[Params] = []
    for pod, placement in zip(created, placements, strict=True):
        failure = unplaced(pod, placement.instance_arn or cluster.arn)
        if failure is None:
            tasks.append(pod)
        else:
            _discard(ctx, cluster.namespace, pod)
            failures.append(failure)
    renderer = TaskRenderer(ctx, cluster, known=[revision.task_definition])
    return {"tasks": renderer.render_all(tasks, include_tags=bool(plan.tags)), "failures": failures}
