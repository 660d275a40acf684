"""A REPLICA / DAEMON service's Kubernetes objects made to match one service spec.

The one path UpdateService (:mod:`.services`) and every rollback (the circuit breaker and
StopServiceDeployment, :func:`kecs.operations.service_scheduler.roll_back`) take, so a
rolled-back service has exactly the objects an UpdateService to the rolled-back-to task
definition and settings would have made:

- :func:`plan` renders everything the spec asks for (workload, the port mappings' ClusterIP
  Service, the task role's identity, discovery and load balancer objects) and checks the
  attachment names: ECS's errors are raised here, before anything is written;
- :func:`write_around` writes the objects beside the workload (identity, Services, Ingresses);
- :func:`write_workload` rewrites the workload: a new spec, kecs's own annotations and labels,
  and the template given (a new one rolls out a deployment).

Each writer is idempotent, so a caller that fails between them converges by calling again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from kecs.backends.base import Object
from kecs.errors import InvalidParameterException
from kecs.mapping import labels, service_workload, task_wiring
from kecs.mapping.errors import MappingError
from kecs.mapping.identity import TaskIdentity
from kecs.operations import service_attachments as attachments
from kecs.operations import service_store as store
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_params import TaskDefinitionRef
from kecs.operations.service_store import Stored
from kecs.operations.task_definitions import parse_reference
from kecs.operations.task_identity import ensure_identity
from kecs.operations.taskdefs.store import TaskDefinitionStore

Params = dict[str, Any]


def task_definition(ctx: RequestContext, arn: str) -> TaskDefinitionRef | None:
    """The stored revision ``arn`` names (ACTIVE or INACTIVE), ``None`` once deleted."""
    reference = parse_reference(ctx, arn)
    if reference is None or reference.revision is None:
        return None
    found = TaskDefinitionStore(ctx).get(reference.family, reference.revision)
    if found is None:
        return None
    td = found.task_definition
    return TaskDefinitionRef(arn, td, found.obj.get("template") or {}, found.tags)


def stub(arn: str) -> TaskDefinitionRef:
    """A stand-in for a task definition that is not read (the template is not re-rendered)."""
    return TaskDefinitionRef(arn, {"taskDefinitionArn": arn}, {}, [])


def objects(
    ctx: RequestContext,
    ref: ClusterRef,
    spec: Params,
    td: TaskDefinitionRef,
    *,
    status: str = store.ACTIVE,
) -> tuple[Object, Object | None, TaskIdentity]:
    """The workload, its ClusterIP Service and the task role's identity ``spec`` asks for."""
    where: dict[str, Any] = {
        "namespace": ref.namespace,
        "cluster_name": ref.name,
        "account": ctx.account_id,
        "region": ctx.region,
        "task_definition": td.task_definition,
    }
    workload = service_workload.workload(
        td.template, spec, task_definition_tags=td.tags, status=status, **where
    )
    try:
        workload["spec"]["template"], ident = task_wiring.service_template(
            workload["spec"]["template"],
            spec,
            td.task_definition,
            account=ctx.account_id,
            region=ctx.region,
            cluster_name=ref.name,
        )
    except MappingError as exc:
        raise InvalidParameterException(str(exc)) from None
    k8s_service = service_workload.service(spec, **where)
    return store.with_status(workload, status), k8s_service, ident


@frozen
class Plan:
    """What :func:`plan` rendered for one service spec."""

    workload: Object
    k8s_service: Object | None
    identity: TaskIdentity
    #: The discovery and load balancer objects wanted (only for a new deployment).
    extras: list[Object]
    #: Those the service has now (only read when it had or will have some).
    present: list[Object]
    #: Whether the objects beside the workload follow the spec (a new deployment).
    rollout: bool


def plan(
    ctx: RequestContext,
    ref: ClusterRef,
    stored: Stored,
    spec: Params,
    td: TaskDefinitionRef,
    *,
    rollout: bool,
    status: str = store.ACTIVE,
) -> Plan:
    """Render the objects for ``spec``; ECS's errors (nothing written yet) when invalid."""
    wanted, k8s_service, ident = objects(ctx, ref, spec, td, status=status)
    extras: list[Object] = []
    present: list[Object] = []
    if rollout:
        extras = attachments.build(ctx, ref, spec, td.task_definition)
        if extras or task_wiring.has_attachments(stored.spec):
            present = attachments.current(ctx, ref, stored.name)
        attachments.check_names(ctx, ref, stored.name, extras, known=present)
    return Plan(wanted, k8s_service, ident, extras, present, rollout)


def write_identity(ctx: RequestContext, ref: ClusterRef, planned: Plan) -> None:
    """The task role's objects, which the new template's pods need before they start."""
    if planned.rollout:
        ensure_identity(ctx, ref, planned.identity)


def write_around(ctx: RequestContext, ref: ClusterRef, stored: Stored, planned: Plan) -> None:
    """The ClusterIP Service, discovery and load balancer objects as ``planned``."""
    if not planned.rollout:
        return
    store.sync_k8s_service(ctx, stored.k8s_service, planned.k8s_service)
    if planned.extras or planned.present:
        attachments.sync(ctx, ref, stored.name, planned.extras, planned.present)


def write_workload(
    ctx: RequestContext,
    ref: ClusterRef,
    stored: Stored,
    planned: Plan,
    template: Mapping[str, Any] | None,
    *,
    keep_scale: bool = False,
) -> None:
    """Rewrite the workload as ``planned``, with ``template`` (``None``: the current one).

    ``keep_scale``: keep the current replicas and status (a rollback changes neither).
    """
    assert stored.workload is not None
    wanted = planned.workload

    def change(current: Object) -> Object:
        new_spec = dict(wanted["spec"])
        new_spec["template"] = current["spec"]["template"] if template is None else template
        if keep_scale and "replicas" in current["spec"]:
            new_spec["replicas"] = current["spec"]["replicas"]
        meta = current["metadata"]
        notes = meta.get("annotations") or {}
        kept = {k: v for k, v in notes.items() if not _own(k)}
        meta["annotations"] = {**kept, **wanted["metadata"]["annotations"]}
        meta["labels"] = dict(wanted["metadata"]["labels"])
        current["spec"] = new_spec
        if keep_scale:
            return store.with_status(current, stored.status)
        return current

    meta = stored.workload["metadata"]
    store.modify(ctx, store.kind_of(stored.workload), meta["name"], ref.namespace, change)


def _own(key: str) -> bool:
    return key.startswith(f"{labels.DOMAIN}/")
