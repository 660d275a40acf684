"""ECS services -> Deployments (REPLICA) / DaemonSets (DAEMON) + Services (docs/services.md).

CreateService, UpdateService, DeleteService, DescribeServices and the service tag accessors.
Storage: :mod:`.service_store` and :mod:`.service_tombstones`; parameter rules:
:mod:`.service_params`; the scheduler's lazy reactions (replacing failed tasks, the circuit
breaker, DRAINING -> INACTIVE): :mod:`.service_scheduler`; listing: :mod:`.service_listing`;
deployments and revisions: :mod:`.service_deployments`. The Kubernetes objects come from the
pure :mod:`kecs.mapping.service_workload`; the pod template is wired by
:func:`kecs.mapping.task_wiring.service_template` (task role ServiceAccount, placement,
capacity providers, cluster membership), the task role's objects are made by
:mod:`.task_identity`, and discovery / load balancer objects are written by
:mod:`.service_attachments`. Services with the EXTERNAL or CODE_DEPLOY deployment controller
(a record and task sets) are handed over to :mod:`.external_services`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists
from kecs.errors import (
    ClientException,
    InvalidParameterException,
    ServiceNotActiveException,
    ServiceNotFoundException,
)
from kecs.mapping import k8s_time, service_workload, task_keys, task_wiring
from kecs.operations import external_services, service_params, tagging
from kecs.operations import service_attachments as attachments
from kecs.operations import service_rollout as rollout
from kecs.operations import service_scheduler as scheduler
from kecs.operations import service_store as store
from kecs.operations import service_tombstones as tombstones
from kecs.operations import service_view as view
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.service_params import NOT_ACTIVE, NOT_FOUND
from kecs.operations.service_store import Stored
from kecs.operations.task_identity import ensure_identity

Params = dict[str, Any]
MAX_DESCRIBE = 10


def _lookup(ctx: RequestContext, ref: ClusterRef, identifier: str) -> Stored:
    """The service ``identifier`` names (ACTIVE, DRAINING or INACTIVE), scheduler settled."""
    name = service_params.service_identifier(ctx, ref, identifier)
    stored = scheduler.settle(ctx, ref, [name]).get(name) if name else None
    if stored is None:
        raise ServiceNotFoundException(NOT_FOUND)
    return stored


def _active(ctx: RequestContext, ref: ClusterRef, identifier: str) -> Stored:
    stored = _lookup(ctx, ref, identifier)
    if stored.status != store.ACTIVE:
        raise ServiceNotActiveException(NOT_ACTIVE)
    return stored


def _described(ctx: RequestContext, ref: ClusterRef, name: str) -> Params:
    stored = scheduler.settle(ctx, ref, [name])[name]
    return {"service": view.describe(ctx, ref, stored, include_tags=False)}


# -- CreateService ------------------------------------------------------------------------------


@operation("CreateService")
def create_service(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    if external_services.is_external(params):
        return external_services.create(ctx, ref, params)
    spec, td = service_params.create_spec(ctx, ref, params)
    name = spec["serviceName"]
    existing = scheduler.settle(ctx, ref, [name]).get(name)
    if existing is not None and existing.workload is not None:
        return _repeated_create(ctx, ref, existing, spec)
    workload, k8s_service, ident = rollout.objects(ctx, ref, spec, td)
    extras = attachments.build(ctx, ref, spec, td.task_definition)
    attachments.check_names(ctx, ref, name, extras)
    ensure_identity(ctx, ref, ident)
    # The Services and Ingresses first, the workload last: whatever fails, no task was started
    # (a Deployment's pods keep their task records even when it is deleted at once).
    around = [*([] if k8s_service is None else [k8s_service]), *extras]
    try:
        store.create_all(ctx, around)
    except AlreadyExists:
        existing = scheduler.settle(ctx, ref, [name]).get(name)
        if existing is not None and existing.workload is not None:
            return _repeated_create(ctx, ref, existing, spec)
        # Objects left behind without their workload: replace them (another service's: refused).
        attachments.check_names(ctx, ref, name, around)
        store.create_all(ctx, around)
    try:
        ctx.backend.create(workload)
    except AlreadyExists:
        # A concurrent CreateService of this service won; the objects above are its own too.
        existing = scheduler.settle(ctx, ref, [name]).get(name)
        if existing is None or existing.workload is None:
            raise
        return _repeated_create(ctx, ref, existing, spec)
    except BaseException:
        for obj in reversed(around):
            store.delete_quietly(ctx, obj)
        raise
    tombstones.delete(ctx, ref, name)
    return _described(ctx, ref, name)


def _repeated_create(
    ctx: RequestContext, ref: ClusterRef, existing: Stored, spec: Params
) -> Params:
    if existing.status == store.DRAINING:
        raise InvalidParameterException(service_params.STILL_DRAINING)
    if not service_params.same_request(existing.spec, spec):
        raise InvalidParameterException(service_params.NOT_IDEMPOTENT)
    return {"service": view.describe(ctx, ref, existing, include_tags=False)}


# -- UpdateService ------------------------------------------------------------------------------


#: Settings that only reach the tasks through the pod template (placement is its affinity).
_TEMPLATE_KEYS = ("placementConstraints", "placementStrategy")


def _needs_rollout(old: Mapping[str, Any], new: Mapping[str, Any], force: bool) -> bool:
    keys = ("taskDefinition", *service_workload.REVISION_KEYS, *_TEMPLATE_KEYS)
    return force or any(old.get(k) != new.get(k) for k in keys)


@operation("UpdateService")
def update_service(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    stored = _active(ctx, ref, params["service"])
    if stored.external:
        return external_services.update(ctx, ref, stored, params)
    assert stored.workload is not None
    old = stored.spec
    spec, td = service_params.update_spec(ctx, ref, old, params)
    force = bool(params.get("forceNewDeployment"))
    needed = _needs_rollout(old, spec, force)
    if needed and td is None:
        td = rollout.task_definition(ctx, spec["taskDefinition"])
        if td is None:
            raise ClientException("TaskDefinition not found.")
    if td is not None:
        service_params.check_launch(ctx, ref, spec, td.task_definition)
    planned = rollout.plan(
        ctx, ref, stored, spec, td or rollout.stub(spec["taskDefinition"]), rollout=needed
    )
    template = None
    if needed:
        template = planned.workload["spec"]["template"]
        if force:
            restarted = k8s_time.format_micro(ctx.now())
            template["metadata"].setdefault("annotations", {})[store.RESTARTED_AT] = restarted
    rollout.write_identity(ctx, ref, planned)
    before = view.service_view(ctx, ref, stored).primary.key
    rollout.write_workload(ctx, ref, stored, planned, template)
    if needed:
        rollout.write_around(ctx, ref, stored, planned)
        updated = store.load_one(ctx, ref, stored.name)
        if updated is not None and updated.workload is not None:
            primary = view.service_view(ctx, ref, updated).primary
            if primary.key != before:
                scheduler.reset_outcome(ctx, primary)
    return _described(ctx, ref, stored.name)


# -- DeleteService ------------------------------------------------------------------------------


@operation("DeleteService")
def delete_service(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    stored = _lookup(ctx, ref, params["service"])
    if stored.external:
        return external_services.delete(ctx, ref, stored, params)
    if stored.workload is None:
        raise ServiceNotActiveException(NOT_ACTIVE)
    if stored.status == store.DRAINING:
        return {"service": view.describe(ctx, ref, stored, include_tags=False)}
    daemon = stored.daemon
    desired = int((stored.workload.get("spec") or {}).get("replicas") or 0)
    if desired > 0 and not daemon and not params.get("force"):
        raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
    if task_wiring.has_attachments(stored.spec):
        # Its DNS names and load balancers stop pointing at tasks that are about to stop.
        attachments.delete_all(ctx, ref, stored.name)

    def drain(current: Object) -> Object:
        if current["kind"] == "Deployment":
            current["spec"]["replicas"] = 0
        return store.with_status(current, store.DRAINING)

    meta = stored.workload["metadata"]
    store.modify(ctx, store.kind_of(stored.workload), meta["name"], ref.namespace, drain)
    draining = store.load_one(ctx, ref, stored.name)
    assert draining is not None
    response = {"service": view.describe(ctx, ref, draining, include_tags=False)}
    if daemon:
        # A DaemonSet cannot be scaled to 0: it goes at once (its pods stop as it does).
        scheduler.retire(ctx, ref, draining)
    else:
        scheduler.settle(ctx, ref, [stored.name])
    return response


# -- DescribeServices ---------------------------------------------------------------------------


@operation("DescribeServices")
def describe_services(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    identifiers: list[str] = params.get("services") or []
    if not identifiers:
        raise InvalidParameterException("Services cannot be empty.")
    if len(identifiers) > MAX_DESCRIBE:
        raise InvalidParameterException(
            f"The services list can contain at most {MAX_DESCRIBE} entries."
        )
    include_tags = "TAGS" in (params.get("include") or [])
    wanted = {i: service_params.service_identifier(ctx, ref, i) for i in identifiers}
    found = scheduler.settle(ctx, ref, {n for n in wanted.values() if n})
    services, failures = [], []
    for identifier, name in wanted.items():
        stored = found.get(name) if name else None
        if stored is None:
            failures.append({"arn": _failure_arn(ctx, ref, identifier), "reason": "MISSING"})
        else:
            services.append(view.describe(ctx, ref, stored, include_tags=include_tags))
    return {"services": services, "failures": failures}


def _failure_arn(ctx: RequestContext, ref: ClusterRef, identifier: str) -> str:
    if arns.is_arn(identifier):
        return identifier
    return arns.service(ctx.region, ctx.account_id, ref.name, identifier)


# -- tags ---------------------------------------------------------------------------------------


def _tag_target(ctx: RequestContext, arn: Arn) -> tuple[ClusterRef, Stored]:
    parts = arn.parts
    if arn.region != ctx.region or arn.account != ctx.account_id or len(parts) > 2:
        raise ServiceNotFoundException(NOT_FOUND)
    cluster = parts[0] if len(parts) == 2 else None
    ref = resolve_cluster(ctx, cluster)
    return ref, _lookup(ctx, ref, parts[-1])


def read_service_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    _, stored = _tag_target(ctx, arn)
    return view.tags_of(stored)


def write_service_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    ref, stored = _tag_target(ctx, arn)
    target = stored.workload if stored.workload is not None else stored.tombstone
    assert target is not None

    def change(current: Object) -> Object:
        notes = current["metadata"].setdefault("annotations", {})
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        tags = edit(tags if isinstance(tags, list) else [])
        notes[task_keys.TAGS] = task_keys.dump(tags)
        if task_keys.SERVICE_SPEC in notes:
            # The spec's tags are what an UpdateService re-renders the workload from.
            spec = task_keys.json_value(notes, task_keys.SERVICE_SPEC, {})
            spec["tags"] = tags
            notes[task_keys.SERVICE_SPEC] = task_keys.dump(spec)
        return current

    meta = target["metadata"]
    if store.modify(ctx, store.kind_of(target), meta["name"], ref.namespace, change) is None:
        raise ServiceNotFoundException(NOT_FOUND)


tagging.taggable("service", read_service_tags, write_service_tags)
