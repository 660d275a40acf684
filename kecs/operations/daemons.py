"""ECS daemons -> DaemonSets: Create / Describe / List / Update / DeleteDaemon (and tags).

A daemon runs one task on every container instance (Node) of its capacity providers
(:mod:`kecs.mapping.daemons`); storage and reads are in :mod:`kecs.operations.daemon_store`,
its deployments and revisions in :mod:`kecs.operations.daemon_deployments`.

- CreateDaemon: the cluster (``clusterArn``, ``default`` when omitted) must exist; the daemon
  task definition must be ACTIVE; every capacity provider must be an ACTIVE custom provider
  associated with (or scoped to) the cluster -- FARGATE and FARGATE_SPOT have no container
  instances to run a daemon on. Repeating a CreateDaemon returns the daemon; a different one of
  the same name is refused.
- UpdateDaemon re-renders the DaemonSet: a changed template is a new revision, rolled out by the
  DaemonSet controller (a new daemon deployment); a deployment still in progress is STOPPED.
- DeleteDaemon records the daemon's history in a tombstone (its deployment STOPPED), then
  deletes the DaemonSet: its tasks stop (their STOPPED records stay, as for every task).
- A daemon is named by its ARN (``daemon/<cluster>/<name>``) only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists
from kecs.errors import (
    DaemonNotActiveException,
    DaemonNotFoundException,
    InvalidParameterException,
)
from kecs.mapping import capacity, daemon_status, daemons, k8s_time, labels, task_keys
from kecs.mapping.errors import MappingError
from kecs.operations import capacity_providers, daemon_store, paging, service_params, tagging
from kecs.operations import daemon_task_definitions as definitions
from kecs.operations import service_store as store
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.daemon_store import StoredDaemon
from kecs.operations.registry import operation
from kecs.operations.task_identity import ensure_identity
from kecs.operations.taskdefs.store import ACTIVE, Revision

Params = dict[str, Any]
NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
NOT_FOUND = "The specified daemon does not exist."
NOT_ACTIVE = "The specified daemon is not ACTIVE: it is being deleted."
SETTINGS = ("deploymentConfiguration", "propagateTags", "enableECSManagedTags",
            "enableExecuteCommand", "critical")  # fmt: skip
MAX_RESULTS = 100


def _locate(ctx: RequestContext, arn: str) -> tuple[ClusterRef, str]:
    parsed = arns.parse_daemon(arn)
    if parsed is None or parsed.region != ctx.region or parsed.account != ctx.account_id:
        raise DaemonNotFoundException(NOT_FOUND)
    return resolve_cluster(ctx, parsed.cluster), parsed.name


def find(ctx: RequestContext, arn: str, *, active: bool = False) -> tuple[ClusterRef, StoredDaemon]:
    """The daemon ``arn`` names (its DaemonSet exists), or ECS's error."""
    ref, name = _locate(ctx, arn)
    stored = daemon_store.load(ctx, ref, [name]).get(name)
    if stored is None or stored.daemon_set is None:
        raise DaemonNotFoundException(NOT_FOUND)
    if active and stored.status != daemons.ACTIVE:
        raise DaemonNotActiveException(NOT_ACTIVE)
    return ref, stored


def _providers(ctx: RequestContext, ref: ClusterRef, values: list[str]) -> list[str]:
    if not values:
        raise InvalidParameterException("At least one capacity provider must be specified.")
    found: list[str] = []
    for value in values:
        name = arns.name_from(value, "capacity-provider")
        parsed = arns.parse(value)
        if parsed is not None and (parsed.region, parsed.account) != (ctx.region, ctx.account_id):
            raise InvalidParameterException(f"The capacity provider {value} was not found.")
        if name in capacity.FARGATE_PROVIDERS:
            raise InvalidParameterException(
                f"A daemon cannot use the {name} capacity provider: daemons run one task on "
                "each container instance of EC2 or Managed Instances capacity providers, and "
                "Fargate has none."
            )
        record = capacity_providers.read(ctx, name)
        if record is None or record[1].get("status") != capacity_providers.ACTIVE:
            raise InvalidParameterException(f"The capacity provider {name} was not found.")
        if name not in ref.spec.capacity_providers and record[1].get("cluster") != ref.name:
            raise InvalidParameterException(
                f"The capacity provider {name} is not associated with the cluster {ref.name}."
            )
        arn = arns.capacity_provider(ctx.region, ctx.account_id, name)
        if arn not in found:
            found.append(arn)
    return found


def _definition(ctx: RequestContext, value: str) -> Revision:
    found = definitions.settle_deletion(ctx, definitions.resolve(ctx, value))
    if found.task_definition.get("status") != ACTIVE:
        raise InvalidParameterException(
            f"The daemon task definition {found.task_definition['daemonTaskDefinitionArn']} "
            "is not ACTIVE."
        )
    return found


def _spec(
    ctx: RequestContext, ref: ClusterRef, params: Params, current: Mapping[str, Any] | None = None
) -> tuple[Params, Revision]:
    spec = dict(current or {})
    spec.setdefault("critical", True)
    for key in SETTINGS:
        if params.get(key) is not None:
            spec[key] = params[key]
    config = spec.get("deploymentConfiguration") or {}
    drain = config.get("drainPercent")
    if drain is not None and not 0 <= drain <= 100:
        raise InvalidParameterException("drainPercent must be between 0 and 100.")
    if (config.get("bakeTimeInMinutes") or 0) < 0:
        raise InvalidParameterException("bakeTimeInMinutes must not be negative.")
    found = _definition(ctx, params["daemonTaskDefinitionArn"])
    spec["daemonTaskDefinitionArn"] = found.task_definition["daemonTaskDefinitionArn"]
    spec["capacityProviderArns"] = _providers(ctx, ref, list(params["capacityProviderArns"]))
    return spec, found


def _render(
    ctx: RequestContext,
    ref: ClusterRef,
    name: str,
    spec: Params,
    found: Revision,
    *,
    tags: list[dict[str, str]],
    status: str = daemons.ACTIVE,
) -> Object:
    try:
        daemon_set, ident = daemons.daemon_set(
            found.obj.get("template") or {},
            spec,
            name=name,
            namespace=ref.namespace,
            cluster_name=ref.name,
            account=ctx.account_id,
            region=ctx.region,
            task_definition=daemons.as_task_definition(found.task_definition),
            status=status,
            updated_at=ctx.now(),
            tags=tags,
        )
    except MappingError as exc:
        raise InvalidParameterException(str(exc)) from None
    ensure_identity(ctx, ref, ident)
    return daemon_set


def _answer(ctx: RequestContext, ref: ClusterRef, name: str, *, updated: bool = True) -> Params:
    stored = daemon_store.load(ctx, ref, [name])[name]
    full = daemon_status.detail(daemon_store.view(ctx, ref, stored))
    keys: tuple[str, ...] = ("daemonArn", "status", "createdAt", "deploymentArn")
    if updated:
        keys += ("updatedAt",)
    return {k: full[k] for k in keys if k in full}


def _comparable(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "clientToken"}


# -- operations -----------------------------------------------------------------------------


@operation("CreateDaemon")
def create_daemon(ctx: RequestContext, params: Params) -> Params:
    name = params["daemonName"]
    if not NAME.fullmatch(name):
        raise InvalidParameterException(
            "Invalid daemon name. Up to 255 letters (uppercase and lowercase), numbers, "
            "underscores, and hyphens are allowed."
        )
    ref = resolve_cluster(ctx, params.get("clusterArn"))
    service_params.check_client_token(params.get("clientToken"))
    tags = list(params.get("tags") or [])
    tagging.validate_tags(tags)
    spec, found = _spec(ctx, ref, params)
    for _ in range(2):
        existing = daemon_store.load(ctx, ref, [name], detail=False).get(name)
        if existing is not None and existing.daemon_set is not None:
            if existing.status != daemons.ACTIVE:
                raise InvalidParameterException(
                    f"The daemon {name} is being deleted; create it again once it is gone."
                )
            same = _comparable(existing.spec) == _comparable(spec)
            if not same or daemons.tags_of(existing.daemon_set) != tags:
                raise InvalidParameterException("Creation of daemon was not idempotent.")
            return _answer(ctx, ref, name, updated=False)
        try:
            ctx.backend.create(_render(ctx, ref, name, spec, found, tags=tags))
        except AlreadyExists:
            continue  # created concurrently: answered as a repeated create
        daemon_store.delete_tombstone(ctx, ref, name)
        return _answer(ctx, ref, name, updated=False)
    raise InvalidParameterException("Creation of daemon was not idempotent.")


@operation("DescribeDaemon")
def describe_daemon(ctx: RequestContext, params: Params) -> Params:
    ref, stored = find(ctx, params["daemonArn"])
    return {"daemon": daemon_status.detail(daemon_store.view(ctx, ref, stored))}


@operation("ListDaemons")
def list_daemons(ctx: RequestContext, params: Params) -> Params:
    limit = paging.page_size(params, default=MAX_RESULTS)
    after = paging.resume_name(params)
    selector: dict[str, str] = labels.ownership(ctx.account_id, ctx.region, daemons.RESOURCE)
    namespace = None
    if params.get("clusterArn"):
        ref = resolve_cluster(ctx, params["clusterArn"])
        namespace = ref.namespace
    wanted = {
        arns.name_from(v, "capacity-provider") for v in params.get("capacityProviderArns") or ()
    }
    summaries: list[Params] = []

    def collect(obj: dict[str, Any]) -> bool:
        notes = task_keys.annotations_of(obj)
        name, cluster_name = notes.get(daemons.NAME), notes.get(task_keys.CLUSTER_NAME)
        if not name or not cluster_name:
            return False
        if wanted and not wanted & set(daemons.provider_names(daemons.spec_of(obj))):
            return False
        created = k8s_time.parse(obj["metadata"].get("creationTimestamp"))
        summary: Params = {
            "daemonArn": arns.daemon(ctx.region, ctx.account_id, cluster_name, name),
            "status": daemons.DELETE_IN_PROGRESS
            if obj["metadata"].get("deletionTimestamp")
            else notes.get(daemons.STATUS) or daemons.ACTIVE,
        }
        if created is not None:
            summary["createdAt"] = created
            summary["updatedAt"] = k8s_time.parse(notes.get(daemons.UPDATED_AT)) or created
        summaries.append(summary)
        return False

    ctx.backend.list_all(kinds.DAEMON_SET, namespace, selector=selector, where=collect)
    summaries.sort(key=lambda s: str(s["daemonArn"]))
    if after is not None:
        summaries = [s for s in summaries if s["daemonArn"] > after]
    result: Params = {"daemonSummariesList": summaries[:limit]}
    if len(summaries) > limit:
        result["nextToken"] = paging.encode_token(summaries[limit - 1]["daemonArn"])
    return result


@operation("UpdateDaemon")
def update_daemon(ctx: RequestContext, params: Params) -> Params:
    ref, stored = find(ctx, params["daemonArn"], active=True)
    assert stored.daemon_set is not None
    before = stored.spec
    spec, found = _spec(ctx, ref, params, current=before)
    tags = daemons.tags_of(stored.daemon_set)
    wanted = _render(ctx, ref, stored.name, spec, found, tags=tags)
    view = daemon_store.view(ctx, ref, stored)
    unfinished = view.primary_state != "COMPLETED"
    superseded = daemon_status.deployment_arn(view, view.primary).rsplit("/", 1)[1]

    def change(current: Object) -> Object:
        meta = current["metadata"]
        notes = meta.setdefault("annotations", {})
        stopped = task_keys.json_value(notes, daemons.STOPPED_DEPLOYMENTS, [])
        stopped = stopped if isinstance(stopped, list) else []
        template = current["spec"]["template"]
        if unfinished and template != wanted["spec"]["template"] and superseded not in stopped:
            stopped.append(superseded)
        current["spec"] = {**current["spec"], **wanted["spec"]}
        notes.update(wanted["metadata"]["annotations"])
        notes[daemons.STOPPED_DEPLOYMENTS] = task_keys.dump(stopped)
        meta["labels"] = wanted["metadata"]["labels"]
        return current

    meta = stored.daemon_set["metadata"]
    store.modify(ctx, kinds.DAEMON_SET, meta["name"], meta["namespace"], change)
    if before.get("daemonTaskDefinitionArn") != spec["daemonTaskDefinitionArn"]:
        definitions.release(ctx, str(before.get("daemonTaskDefinitionArn") or ""))
    return _answer(ctx, ref, stored.name)


@operation("DeleteDaemon")
def delete_daemon(ctx: RequestContext, params: Params) -> Params:
    ref, stored = find(ctx, params["daemonArn"], active=True)
    assert stored.daemon_set is not None
    meta = stored.daemon_set["metadata"]
    stamp = k8s_time.format_micro(ctx.now())

    def mark(current: Object) -> Object:
        current["metadata"].setdefault("labels", {})[labels.STATUS] = daemons.DELETE_IN_PROGRESS
        notes = current["metadata"].setdefault("annotations", {})
        notes[daemons.STATUS] = daemons.DELETE_IN_PROGRESS
        notes[daemons.UPDATED_AT] = stamp
        return current

    store.modify(ctx, kinds.DAEMON_SET, meta["name"], meta["namespace"], mark)
    response = _answer(ctx, ref, stored.name)
    deleting = daemon_store.load(ctx, ref, [stored.name])[stored.name]
    view = daemon_store.view(ctx, ref, deleting)
    daemon_store.write_tombstone(
        ctx,
        ref,
        stored.name,
        deployments=daemon_status.deployments(view),
        revisions=daemon_status.revisions(view),
        tags=daemons.tags_of(stored.daemon_set),
    )
    store.delete_quietly(ctx, deleting.daemon_set)
    definitions.release(ctx, str(stored.spec.get("daemonTaskDefinitionArn") or ""))
    return response


# -- tags -----------------------------------------------------------------------------------


def read_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    _, stored = find(ctx, str(arn))
    return daemons.tags_of(stored.daemon_set)


def write_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    _, stored = find(ctx, str(arn))
    assert stored.daemon_set is not None

    def change(current: Object) -> Object:
        notes = current["metadata"].setdefault("annotations", {})
        notes[task_keys.TAGS] = task_keys.dump(edit(daemons.tags_of(current)))
        return current

    meta = stored.daemon_set["metadata"]
    if store.modify(ctx, kinds.DAEMON_SET, meta["name"], meta["namespace"], change) is None:
        raise DaemonNotFoundException(NOT_FOUND)


tagging.taggable("daemon", read_tags, write_tags)
