"""Services with the EXTERNAL or CODE_DEPLOY deployment controller (docs/services.md).

CreateService, UpdateService and DeleteService hand such services over to this module
(:mod:`kecs.operations.services` routes them); the task set operations
(:mod:`kecs.operations.task_sets`) write their task sets through it. The Kubernetes objects
come from the pure :mod:`kecs.mapping.task_sets`:

- CreateService writes the service's record (a ConfigMap: the service runs nothing itself).
  With CODE_DEPLOY it also starts the first task set, PRIMARY at 100 %, from the service's own
  task definition and launch settings, as ECS does before handing over to CodeDeploy.
- UpdateService changes only what ECS lets such a service change (the desired count,
  placement, health check grace period, tag settings; CODE_DEPLOY also the deployment
  configuration) and re-renders the task sets: each runs its share of the new desired count.
- DeleteService drains the record and every task set (scaled to 0); once no task runs the
  scheduler retires it (:mod:`kecs.operations.task_set_scheduler`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists
from kecs.errors import (
    InvalidParameterException,
    ServiceNotActiveException,
    ServiceNotFoundException,
)
from kecs.mapping import k8s_time, labels, task_keys, task_sets
from kecs.mapping.errors import MappingError
from kecs.operations import service_params
from kecs.operations import service_rollout as rollout
from kecs.operations import service_scheduler as scheduler
from kecs.operations import service_store as store
from kecs.operations import service_tombstones as tombstones
from kecs.operations import service_view as view
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_params import (
    CODE_DEPLOY,
    EXTERNAL,
    NOT_ACTIVE,
    NOT_FOUND,
    TaskDefinitionRef,
)
from kecs.operations.service_store import Stored
from kecs.operations.task_identity import ensure_identity

Params = dict[str, Any]
MUST_BE_EXTERNAL = "The deployment controller for this service must be EXTERNAL"
#: What UpdateService may change per controller (ECS's documented lists).
UPDATABLE = {
    EXTERNAL: frozenset(
        {
            "desiredCount",
            "placementConstraints",
            "placementStrategy",
            "healthCheckGracePeriodSeconds",
            "enableECSManagedTags",
            "propagateTags",
        }
    ),
    CODE_DEPLOY: frozenset(
        {
            "desiredCount",
            "deploymentConfiguration",
            "placementConstraints",
            "placementStrategy",
            "healthCheckGracePeriodSeconds",
            "enableECSManagedTags",
            "propagateTags",
        }
    ),
}
_HOW = {
    EXTERNAL: "Create a task set with the new configuration (CreateTaskSet) instead.",
    CODE_DEPLOY: "Create a new CodeDeploy deployment instead.",
}


def is_external(params: Mapping[str, Any]) -> bool:
    return service_params.controller_type(params) in (EXTERNAL, CODE_DEPLOY)


def described(ctx: RequestContext, ref: ClusterRef, name: str) -> Params:
    stored = scheduler.settle(ctx, ref, [name])[name]
    return {"service": view.describe(ctx, ref, stored, include_tags=False)}


def lookup(ctx: RequestContext, ref: ClusterRef, identifier: str) -> Stored:
    """The service ``identifier`` names, scheduler settled; ServiceNotFoundException if none."""
    name = service_params.service_identifier(ctx, ref, identifier)
    stored = scheduler.settle(ctx, ref, [name]).get(name) if name else None
    if stored is None:
        raise ServiceNotFoundException(NOT_FOUND)
    return stored


def external_service(ctx: RequestContext, ref: ClusterRef, identifier: str) -> Stored:
    """An ACTIVE service with the EXTERNAL deployment controller (whose task sets a caller
    may write), or ECS's error."""
    stored = lookup(ctx, ref, identifier)
    if stored.status != store.ACTIVE:
        raise ServiceNotActiveException(NOT_ACTIVE)
    if service_params.controller_type(stored.spec) != EXTERNAL:
        raise InvalidParameterException(MUST_BE_EXTERNAL)
    return stored


# -- task sets ------------------------------------------------------------------------------


def render(
    ctx: RequestContext,
    ref: ClusterRef,
    stored: Stored,
    task_set: Params,
    td: TaskDefinitionRef,
    *,
    status: str,
    tags: list[dict[str, str]],
    service_spec: Mapping[str, Any] | None = None,
) -> Object:
    """The Deployment of ``task_set`` (its task role's objects made to exist first)."""
    assert stored.workload is not None
    try:
        deployment, ident = task_sets.task_set_deployment(
            td.template,
            service_spec if service_spec is not None else stored.spec,
            task_set,
            owner=stored.workload,
            namespace=ref.namespace,
            cluster_name=ref.name,
            account=ctx.account_id,
            region=ctx.region,
            task_definition=td.task_definition,
            task_definition_tags=td.tags,
            status=status,
            updated_at=ctx.now(),
            tags=tags,
        )
    except MappingError as exc:
        raise InvalidParameterException(str(exc)) from None
    ensure_identity(ctx, ref, ident)
    return deployment


def new_task_set_id() -> str:
    return task_sets.new_id(uuid.uuid4().hex)


def add_task_set(
    ctx: RequestContext,
    ref: ClusterRef,
    stored: Stored,
    task_set: Params,
    td: TaskDefinitionRef,
    *,
    status: str = task_sets.ACTIVE,
    tags: list[dict[str, str]] | None = None,
) -> Object:
    """Create the Deployment of a new task set of ``stored``."""
    deployment = render(ctx, ref, stored, task_set, td, status=status, tags=list(tags or []))
    return ctx.backend.create(deployment)


def set_task_set(
    ctx: RequestContext,
    deployment: Object,
    *,
    task_set: Mapping[str, Any] | None = None,
    status: str | None = None,
    replicas: int | None = None,
) -> Object | None:
    """Rewrite a task set's record (and replicas) on its Deployment, stamping ``updatedAt``."""
    stamp = k8s_time.format_micro(ctx.now())

    def change(current: Object) -> Object:
        meta = current["metadata"]
        notes = meta.setdefault("annotations", {})
        if task_set is not None:
            notes[task_sets.SPEC] = task_keys.dump(dict(task_set))
        if status is not None:
            notes[task_sets.STATUS] = status
            meta.setdefault("labels", {})[labels.STATUS] = status
        if replicas is not None:
            current["spec"]["replicas"] = replicas
        notes[task_sets.UPDATED_AT] = stamp
        return current

    meta = deployment["metadata"]
    return store.modify(ctx, kinds.DEPLOYMENT, meta["name"], meta["namespace"], change)


def rerender(ctx: RequestContext, ref: ClusterRef, stored: Stored, spec: Mapping[str, Any]) -> None:
    """Bring every live task set in line with the service ``spec`` (its share of the desired
    count, placement, tag settings): Kubernetes rolls out a template that changed."""
    for deployment in stored.task_sets:
        status = task_sets.status_of(deployment)
        if status == task_sets.DRAINING:
            continue
        task_set = task_sets.task_set_of(deployment)
        td = rollout.task_definition(ctx, str(task_set.get("taskDefinition") or ""))
        if td is None:
            continue  # its revision was deleted: it keeps running what it has
        tags = task_keys.json_value(task_keys.annotations_of(deployment), task_keys.TAGS, [])
        wanted = render(ctx, ref, stored, task_set, td, status=status, tags=tags, service_spec=spec)

        def change(current: Object, wanted: Object = wanted) -> Object:
            current["spec"]["replicas"] = wanted["spec"]["replicas"]
            current["spec"]["template"] = wanted["spec"]["template"]
            current["spec"]["strategy"] = wanted["spec"]["strategy"]
            return current

        meta = deployment["metadata"]
        store.modify(ctx, kinds.DEPLOYMENT, meta["name"], meta["namespace"], change)


def sync_primary_service(
    ctx: RequestContext,
    ref: ClusterRef,
    stored: Stored,
    spec: Mapping[str, Any],
    set_id: str,
    td: TaskDefinitionRef,
) -> None:
    """Point the service's Kubernetes Service at the PRIMARY task set's tasks."""
    wanted = task_sets.primary_service(
        spec,
        set_id,
        namespace=ref.namespace,
        cluster_name=ref.name,
        account=ctx.account_id,
        region=ctx.region,
        task_definition=td.task_definition,
    )
    store.sync_k8s_service(ctx, stored.k8s_service, wanted)


def write_spec(ctx: RequestContext, ref: ClusterRef, stored: Stored, spec: Params) -> None:
    """Replace the service spec kept on the record (and the labels derived from it)."""
    assert stored.workload is not None
    wanted = task_sets.service_record(
        spec,
        namespace=ref.namespace,
        cluster_name=ref.name,
        account=ctx.account_id,
        region=ctx.region,
        status=stored.status,
    )

    def change(current: Object) -> Object:
        meta = current["metadata"]
        meta["labels"] = wanted["metadata"]["labels"]
        notes = meta.setdefault("annotations", {})
        notes[task_keys.SERVICE_SPEC] = wanted["metadata"]["annotations"][task_keys.SERVICE_SPEC]
        if task_keys.TASK_DEFINITION_ARN in wanted["metadata"]["annotations"]:
            arn = wanted["metadata"]["annotations"][task_keys.TASK_DEFINITION_ARN]
            notes[task_keys.TASK_DEFINITION_ARN] = arn
        return current

    meta = stored.workload["metadata"]
    store.modify(ctx, kinds.CONFIG_MAP, meta["name"], ref.namespace, change)


# -- CreateService / UpdateService / DeleteService ------------------------------------------


def create(ctx: RequestContext, ref: ClusterRef, params: Params) -> Params:
    spec, td = service_params.external_spec(ctx, ref, params)
    name = spec["serviceName"]
    existing = scheduler.settle(ctx, ref, [name]).get(name)
    if existing is None or existing.workload is None:
        record = task_sets.service_record(
            spec,
            namespace=ref.namespace,
            cluster_name=ref.name,
            account=ctx.account_id,
            region=ctx.region,
        )
        try:
            ctx.backend.create(record)
        except AlreadyExists:
            pass  # a concurrent create: answered as a repeated one below
        else:
            tombstones.delete(ctx, ref, name)
            if service_params.controller_type(spec) == CODE_DEPLOY:
                assert td is not None
                _first_task_set(ctx, ref, name, spec, td)
            return described(ctx, ref, name)
        existing = scheduler.settle(ctx, ref, [name]).get(name)
        if existing is None or existing.workload is None:
            raise InvalidParameterException(service_params.NOT_IDEMPOTENT)
    if existing.status == store.DRAINING:
        raise InvalidParameterException(service_params.STILL_DRAINING)
    if not service_params.same_request(existing.spec, spec):
        raise InvalidParameterException(service_params.NOT_IDEMPOTENT)
    return {"service": view.describe(ctx, ref, existing, include_tags=False)}


def _first_task_set(
    ctx: RequestContext, ref: ClusterRef, name: str, spec: Params, td: TaskDefinitionRef
) -> None:
    """CODE_DEPLOY: the PRIMARY task set ECS starts from the service's own settings."""
    stored = store.load_one(ctx, ref, name)
    assert stored is not None
    task_set: Params = {
        "id": new_task_set_id(),
        "taskDefinition": td.arn,
        "scale": {"value": 100.0, "unit": "PERCENT"},
        "createdAt": k8s_time.format_micro(ctx.now()),
        **{k: spec[k] for k in task_sets.SETTINGS if spec.get(k)},
    }
    add_task_set(ctx, ref, stored, task_set, td, status=task_sets.PRIMARY)
    sync_primary_service(ctx, ref, stored, spec, task_set["id"], td)


def update(ctx: RequestContext, ref: ClusterRef, stored: Stored, params: Params) -> Params:
    controller = service_params.controller_type(stored.spec)
    for key, value in params.items():
        if key in ("cluster", "service") or value is None or value is False:
            continue
        if key == "deploymentController" and service_params.controller_type(params) == controller:
            continue
        if key not in UPDATABLE[controller] and key != "deploymentController":
            raise InvalidParameterException(
                f"Unable to update {key} on services with a {controller} deployment controller. "
                f"{_HOW[controller]}"
            )
    spec, _ = service_params.update_spec(ctx, ref, stored.spec, params)
    write_spec(ctx, ref, stored, spec)
    rerender(ctx, ref, stored, spec)
    return described(ctx, ref, stored.name)


def delete(ctx: RequestContext, ref: ClusterRef, stored: Stored, params: Params) -> Params:
    if stored.status == store.DRAINING:
        return {"service": view.describe(ctx, ref, stored, include_tags=False)}
    desired = int(stored.spec.get("desiredCount") or 0)
    if desired > 0 and not params.get("force"):
        raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
    assert stored.workload is not None
    meta = stored.workload["metadata"]
    store.modify(
        ctx,
        kinds.CONFIG_MAP,
        meta["name"],
        ref.namespace,
        lambda current: store.with_status(current, store.DRAINING),
    )
    for deployment in stored.task_sets:
        set_task_set(ctx, deployment, status=task_sets.DRAINING, replicas=0)
    draining = store.load_one(ctx, ref, stored.name)
    assert draining is not None
    response = {"service": view.describe(ctx, ref, draining, include_tags=False)}
    scheduler.settle(ctx, ref, [stored.name])
    return response
