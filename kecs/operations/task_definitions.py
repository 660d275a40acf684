"""Task definitions -> pod templates: Register / Describe / List / Deregister / Delete.

Storage is in :mod:`kecs.operations.taskdefs.store` (one PodTemplate per revision plus a
family record), validation in :mod:`~kecs.operations.taskdefs.validation`, the returned
structure in :mod:`~kecs.operations.taskdefs.build`; the ECS -> Kubernetes mapping itself
is the pure :func:`kecs.mapping.taskdef.to_pod_template`.

Identifiers: DescribeTaskDefinition accepts a full ARN, ``family:revision`` or a bare
``family`` (its latest ACTIVE revision); Deregister and Delete need a revision. A task
definition of another account or region is simply not found.

Tags: the TagResource / UntagResource / ListTagsForResource accessors registered at the
bottom answer an unknown revision (or an ARN without a revision) with the same
``ClientException: Unable to describe task definition.`` that DescribeTaskDefinition gives.
Deregistering an INACTIVE (or DELETE_IN_PROGRESS) revision returns it unchanged; deleting a
DELETE_IN_PROGRESS one returns it again. A registration that fails after its revision was
allocated leaves that number unused (never listed, never reused), as AWS never reuses one.
"""

from __future__ import annotations

import json
from typing import Any

from kecs.arns import Arn
from kecs.errors import ClientException, InvalidParameterException
from kecs.mapping.taskdef import to_pod_template
from kecs.operations import tagging
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.taskdefs import build, listing, references
from kecs.operations.taskdefs.references import Reference
from kecs.operations.taskdefs.store import (
    ACTIVE,
    DELETE_IN_PROGRESS,
    INACTIVE,
    Built,
    Revision,
    TaskDefinitionStore,
)
from kecs.operations.taskdefs.validation import validate

Params = dict[str, Any]

UNABLE_TO_DESCRIBE = "Unable to describe task definition."
MAX_DELETE = 10


def parse_reference(ctx: RequestContext, value: str) -> Reference | None:
    """``family``, ``family:revision`` or an ARN of this account and region; else ``None``."""
    return references.parse(ctx, value, "task-definition")


def resolve(
    ctx: RequestContext,
    store: TaskDefinitionStore,
    value: str,
    *,
    shared: bool = False,
    template: bool = True,
) -> Revision:
    """The stored revision ``value`` names, or AWS's ``Unable to describe`` error.

    ``shared``: read through :meth:`TaskDefinitionStore.read` (cheaper; the caller must not
    modify the result); ``template=False`` then skips reading the pod template.
    """
    ref = parse_reference(ctx, value)
    found = None
    if ref is not None:
        if ref.revision is None:
            found = store.latest(ref.family, shared=shared, template=template)
        elif shared:
            found = store.read(ref.family, ref.revision, template=template)
        else:
            found = store.get(ref.family, ref.revision)
    if found is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return found


#: The encoder of the stored tags and notes (made once, not per ``json.dumps``).
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def notes_json(notes: tuple[Any, ...]) -> str:
    # ``ANN_NOTES`` is a JSON list of readable strings ("path: message").
    return _COMPACT.encode([str(n) for n in notes])


@operation("RegisterTaskDefinition")
def register_task_definition(ctx: RequestContext, params: Params) -> Params:
    sizes = validate(params)
    tags = params.get("tags") or []

    def make(revision: int) -> Built:
        td = build.task_definition(
            params,
            sizes,
            region=ctx.region,
            account=ctx.account_id,
            revision=revision,
            registered_at=ctx.now().timestamp(),
        )
        mapped = to_pod_template(td, region=ctx.region)
        tags_json = _COMPACT.encode(tags)
        return Built(td, mapped.template, tags_json, notes_json(mapped.notes))

    td = TaskDefinitionStore(ctx).register(params["family"], make)
    response: Params = {"taskDefinition": td}
    if tags:
        response["tags"] = tags
    return response


@operation("DescribeTaskDefinition")
def describe_task_definition(ctx: RequestContext, params: Params) -> Params:
    store = TaskDefinitionStore(ctx)
    # The response is built from (not into) the shared revision, and needs no pod template.
    found = resolve(ctx, store, params["taskDefinition"], shared=True, template=False)
    response: Params = {"taskDefinition": found.task_definition}
    if "TAGS" in (params.get("include") or ()):
        response["tags"] = found.tags
    return response


@operation("ListTaskDefinitions")
def list_task_definitions(ctx: RequestContext, params: Params) -> Params:
    return listing.list_task_definitions(TaskDefinitionStore(ctx), params)


@operation("ListTaskDefinitionFamilies")
def list_task_definition_families(ctx: RequestContext, params: Params) -> Params:
    return listing.list_families(TaskDefinitionStore(ctx), params)


@operation("DeregisterTaskDefinition")
def deregister_task_definition(ctx: RequestContext, params: Params) -> Params:
    ref = parse_reference(ctx, params["taskDefinition"])
    if ref is not None and ref.revision is None:
        raise ClientException("Revision is missing.")
    if ref is None or ref.revision is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    # Deregistering an INACTIVE (or deleting) revision changes nothing and is not an error.
    found = TaskDefinitionStore(ctx).transition(
        ref.family, ref.revision, ACTIVE, INACTIVE, "deregisteredAt"
    )
    if found is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return {"taskDefinition": found.task_definition}


@operation("DeleteTaskDefinitions")
def delete_task_definitions(ctx: RequestContext, params: Params) -> Params:
    requested: list[str] = params["taskDefinitions"]
    if not requested:
        raise InvalidParameterException(
            "size of TaskDefinition references list must be greater than 0"
        )
    if len(requested) > MAX_DELETE:
        raise InvalidParameterException(
            f"Size of TaskDefinition references list cannot exceed {MAX_DELETE}"
        )
    store = TaskDefinitionStore(ctx)
    deleted: list[Params] = []
    failures: list[Params] = []
    for value in requested:
        ref = parse_reference(ctx, value)
        if ref is None or ref.revision is None:
            failures.append(
                _failure(
                    value,
                    "The specified task definition identifier is invalid. Specify a valid "
                    "name or ARN and try again.",
                )
            )
            continue
        found = store.transition(
            ref.family, ref.revision, INACTIVE, DELETE_IN_PROGRESS, "deleteRequestedAt"
        )
        if found is None:
            failures.append(
                _failure(
                    value,
                    "The specified task definition does not exist. Specify a valid account, "
                    "family, revision and try again.",
                )
            )
        elif found.task_definition["status"] == ACTIVE:
            failures.append(
                _failure(
                    found.task_definition["taskDefinitionArn"],
                    "The specified task definition is still in ACTIVE status. Please "
                    "deregister the target and try again.",
                )
            )
        else:
            deleted.append(found.task_definition)
    return {"taskDefinitions": deleted, "failures": failures}


def _failure(arn: str, reason: str) -> Params:
    return {"arn": arn, "reason": reason}


# -- tags (TagResource / UntagResource / ListTagsForResource) -------------------------------


def _tag_target(ctx: RequestContext, arn: Arn) -> tuple[TaskDefinitionStore, str, int]:
    ref = parse_reference(ctx, str(arn))
    if ref is None or ref.revision is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return TaskDefinitionStore(ctx), ref.family, ref.revision


def read_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    store, family, revision = _tag_target(ctx, arn)
    found = store.get(family, revision)
    if found is None:
        raise ClientException(UNABLE_TO_DESCRIBE)
    return found.tags


def write_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    store, family, revision = _tag_target(ctx, arn)
    if not store.edit_tags(family, revision, edit):
        raise ClientException(UNABLE_TO_DESCRIBE)


tagging.taggable("task-definition", read_tags, write_tags)
