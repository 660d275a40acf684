"""Daemon task definitions: Register / Describe / List / DeleteDaemonTaskDefinition (and tags).

Stored exactly like task definitions (:mod:`kecs.operations.taskdefs.store` with the
:data:`~kecs.operations.taskdefs.store.DAEMON_TASK_DEFINITIONS` kind: a PodTemplate per
revision, a family record in ``kecs-system``), checked by RegisterTaskDefinition's rules
(:mod:`kecs.operations.taskdefs.validation`; a daemon task definition's members are a subset of
a task definition's) and mapped to a pod template by the task definition mapping
(:func:`kecs.mapping.daemons.as_task_definition`).

Statuses: ACTIVE; DeleteDaemonTaskDefinition moves an ACTIVE revision to DELETE_IN_PROGRESS,
which becomes DELETED as soon as no daemon runs it any more (checked at once, and whenever the
revision is described or listed). A DELETED revision stays describable.
"""

from __future__ import annotations

import json
from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.backends import kinds
from kecs.errors import ClientException, InvalidParameterException
from kecs.mapping import daemons, labels
from kecs.mapping.taskdef import to_pod_template
from kecs.operations import daemon_store, paging, tagging
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.task_definitions import notes_json
from kecs.operations.taskdefs import references
from kecs.operations.taskdefs.store import (
    ACTIVE,
    DAEMON_TASK_DEFINITIONS,
    DELETE_IN_PROGRESS,
    DELETED,
    NAMESPACE,
    Built,
    Revision,
    TaskDefinitionStore,
)
from kecs.operations.taskdefs.validation import Sizes, validate

Params = dict[str, Any]
RESOURCE_TYPE = "daemon-task-definition"
UNABLE_TO_DESCRIBE = "Unable to describe daemon task definition."
#: Container members ECS always returns, with the value it fills in when absent.
_CONTAINER_DEFAULTS: dict[str, Any] = {
    "cpu": 0,
    "essential": True,
    "environment": [],
    "mountPoints": [],
    "systemControls": [],
}


def store(ctx: RequestContext) -> TaskDefinitionStore:
    return TaskDefinitionStore(ctx, DAEMON_TASK_DEFINITIONS)


def build(
    params: Params, sizes: Sizes, *, region: str, account: str, revision: int, at: float
) -> Params:
    """The ``DaemonTaskDefinition`` revision ``revision`` of the request ``params``."""
    family = params["family"]
    td: Params = {
        "daemonTaskDefinitionArn": arns.daemon_task_definition(region, account, family, revision),
        "family": family,
        "revision": revision,
        "containerDefinitions": [
            {**_CONTAINER_DEFAULTS, **c} for c in params["containerDefinitions"]
        ],
        "volumes": list(params.get("volumes") or []),
        "status": ACTIVE,
        "registeredAt": at,
        "registeredBy": f"arn:aws:iam::{account}:root",
    }
    for key in ("taskRoleArn", "executionRoleArn", "pidMode", "ipcMode"):
        if params.get(key):
            td[key] = params[key]
    if sizes.cpu is not None:
        td["cpu"] = str(sizes.cpu)
    if sizes.memory is not None:
        td["memory"] = str(sizes.memory)
    return td


def resolve(ctx: RequestContext, value: str) -> Revision:
    """The stored revision ``value`` (family, family:revision or ARN) names, or ECS's error."""
    ref = references.parse(ctx, value, RESOURCE_TYPE)
    found = None
    if ref is not None:
        found = (
            store(ctx).latest(ref.family)
            if ref.revision is None
            else store(ctx).get(ref.family, ref.revision)
        )
    if found is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return found


def settle_deletion(ctx: RequestContext, found: Revision) -> Revision:
    """A DELETE_IN_PROGRESS revision no daemon runs any more is DELETED."""
    td = found.task_definition
    if td.get("status") != DELETE_IN_PROGRESS:
        return found
    if daemon_store.using(ctx, td["daemonTaskDefinitionArn"]):
        return found
    done = store(ctx).transition(td["family"], td["revision"], DELETE_IN_PROGRESS, DELETED, None)
    return done if done is not None else found


def release(ctx: RequestContext, arn: str) -> None:
    """Finish the deletion of ``arn`` if it waited for a daemon that no longer runs it."""
    ref = references.parse(ctx, arn, RESOURCE_TYPE)
    if ref is None or ref.revision is None:
        return
    found = store(ctx).get(ref.family, ref.revision)
    if found is not None:
        settle_deletion(ctx, found)


# -- operations -----------------------------------------------------------------------------


@operation("RegisterDaemonTaskDefinition")
def register_daemon_task_definition(ctx: RequestContext, params: Params) -> Params:
    sizes = validate(params)
    tags = params.get("tags") or []

    def make(revision: int) -> Built:
        td = build(
            params,
            sizes,
            region=ctx.region,
            account=ctx.account_id,
            revision=revision,
            at=ctx.now().timestamp(),
        )
        mapped = to_pod_template(daemons.as_task_definition(td), region=ctx.region)
        tags_json = json.dumps(tags, separators=(",", ":"))
        return Built(td, mapped.template, tags_json, notes_json(mapped.notes))

    td = store(ctx).register(params["family"], make)
    return {"daemonTaskDefinitionArn": td["daemonTaskDefinitionArn"]}


@operation("DescribeDaemonTaskDefinition")
def describe_daemon_task_definition(ctx: RequestContext, params: Params) -> Params:
    found = settle_deletion(ctx, resolve(ctx, params["daemonTaskDefinition"]))
    return {"daemonTaskDefinition": found.task_definition}


@operation("DeleteDaemonTaskDefinition")
def delete_daemon_task_definition(ctx: RequestContext, params: Params) -> Params:
    ref = references.parse(ctx, params["daemonTaskDefinition"], RESOURCE_TYPE)
    if ref is None or ref.revision is None:
        raise ClientException(
            "Specify the daemon task definition to delete as family:revision or its full ARN."
        )
    found = store(ctx).get(ref.family, ref.revision)
    if found is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    if found.task_definition["status"] != ACTIVE:
        raise ClientException(
            "The daemon task definition must be in an ACTIVE state to be deleted; it is "
            f"{found.task_definition['status']}."
        )
    moved = store(ctx).transition(
        ref.family, ref.revision, ACTIVE, DELETE_IN_PROGRESS, "deleteRequestedAt"
    )
    if moved is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    settle_deletion(ctx, moved)
    return {"daemonTaskDefinitionArn": found.task_definition["daemonTaskDefinitionArn"]}


_STATUSES = {
    "ACTIVE": (ACTIVE,),
    "DELETE_IN_PROGRESS": (DELETE_IN_PROGRESS,),
    "ALL": (ACTIVE, DELETE_IN_PROGRESS, DELETED),
}


@operation("ListDaemonTaskDefinitions")
def list_daemon_task_definitions(ctx: RequestContext, params: Params) -> Params:
    limit = paging.page_size(params)
    status = params.get("status") or "ACTIVE"
    if status not in _STATUSES:
        raise InvalidParameterException(
            f"Invalid status '{status}'. Valid values are {', '.join(_STATUSES)}."
        )
    statuses = _STATUSES[status]
    descending = params.get("sort") == "DESC"
    prefix, exact = params.get("familyPrefix") or "", params.get("family")
    rows: list[Params] = []

    def collect(obj: dict[str, Any]) -> bool:
        raw = (obj["metadata"].get("annotations") or {}).get(labels.ANN_TASK_DEFINITION)
        td = json.loads(raw) if raw else None
        if not isinstance(td, dict) or not str(td.get("family", "")).startswith(prefix):
            return False
        if exact is None or td.get("family") == exact:
            rows.append(td)
        return False

    selector = labels.ownership(ctx.account_id, ctx.region, DAEMON_TASK_DEFINITIONS.resource)
    ctx.backend.list_all(kinds.POD_TEMPLATE, NAMESPACE, selector=selector, where=collect)
    rows = [
        settle_deletion(ctx, Revision({}, td)).task_definition
        if td.get("status") == DELETE_IN_PROGRESS
        else td
        for td in rows
    ]
    rows = [td for td in rows if td.get("status") in statuses]
    if params.get("revision") == "LAST_REGISTERED":
        last: dict[str, Params] = {}
        for td in rows:
            if td["family"] not in last or td["revision"] > last[td["family"]]["revision"]:
                last[td["family"]] = td
        rows = list(last.values())
    rows.sort(key=lambda td: (td["family"], td["revision"]), reverse=descending)
    if params.get("nextToken"):
        after = tuple(paging.decode_token(params["nextToken"], str, int))
        rows = [
            td
            for td in rows
            if (
                (td["family"], td["revision"]) < after
                if descending
                else (td["family"], td["revision"]) > after
            )
        ]
    page = rows[:limit]
    result: Params = {
        "daemonTaskDefinitions": [
            {
                "arn": td["daemonTaskDefinitionArn"],
                "status": td["status"],
                **{
                    k: td[k]
                    for k in ("registeredAt", "registeredBy", "deleteRequestedAt")
                    if k in td
                },
            }
            for td in page
        ]
    }
    if len(rows) > limit:
        result["nextToken"] = paging.encode_token(page[-1]["family"], page[-1]["revision"])
    return result


# -- tags -----------------------------------------------------------------------------------


def _tag_target(ctx: RequestContext, arn: Arn) -> tuple[str, int]:
    ref = references.parse(ctx, str(arn), RESOURCE_TYPE)
    if ref is None or ref.revision is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return ref.family, ref.revision


def read_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    family, revision = _tag_target(ctx, arn)
    found = store(ctx).get(family, revision)
    if found is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return found.tags


def write_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    family, revision = _tag_target(ctx, arn)
    if not store(ctx).edit_tags(family, revision, edit):
        raise ClientException(UNABLE_TO_DESCRIBE)


tagging.taggable(RESOURCE_TYPE, read_tags, write_tags)
