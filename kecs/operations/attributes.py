"""PutAttributes / DeleteAttributes / ListAttributes on container instances (Node labels).

Custom attributes are Node labels ``kecs.dev/attr.<name>`` with the exact values in the
annotation ``kecs.dev/attributes`` (:mod:`kecs.mapping.attributes`). AWS's rules: names of 1-128
letters, digits, ``-``, ``_``, ``/``, ``\\``, ``.``; values of 1-128 of those plus ``@``,
``:`` and spaces (not at either end); at most 10 attributes per call and 10 custom
attributes per container instance (``AttributeLimitExceededException``); the only target type
is ``container-instance``, required when ``targetId`` is a short id. Names starting with
``ecs.`` are ECS's own (read from the Node's well-known labels) and cannot be put or deleted.
ListAttributes lists built-in and custom attributes of every container instance of the
cluster, filtered by name (and value), paged by (instance ARN, name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from kecs import arns
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import Conflict, NotFound
from kecs.errors import (
    AttributeLimitExceededException,
    InvalidParameterException,
    ServerException,
    TargetNotFoundException,
)
from kecs.mapping import attributes as mapping
from kecs.mapping import container_instance
from kecs.operations import container_instance_lookup as lookup
from kecs.operations import paging
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation

Params = dict[str, Any]

TARGET_TYPE = "container-instance"
MAX_PER_CALL = 10
MAX_PER_RESOURCE = 10
MAX_RESULTS = 100
_ATTEMPTS = 16
_NAME = re.compile(r"[A-Za-z0-9_\-/\\.]{1,128}")
_VALUE = re.compile(r"[A-Za-z0-9_\-/\\.@: ]{1,128}")


def check_attribute(attribute: Params, *, with_value: bool = True) -> None:
    """AWS's rules for one attribute's name and value."""
    name = str(attribute.get("name") or "")
    if not _NAME.fullmatch(name):
        raise InvalidParameterException(
            "Attribute names must contain between 1 and 128 characters: letters (uppercase and "
            "lowercase), numbers, hyphens, underscores, forward slashes, back slashes, or "
            f"periods. Invalid name: {name!r}."
        )
    if name.startswith(mapping.RESERVED_PREFIX):
        raise InvalidParameterException(
            f"Attribute names starting with '{mapping.RESERVED_PREFIX}' are reserved for "
            f"Amazon ECS. Invalid name: {name!r}."
        )
    value = attribute.get("value")
    if value is None or not with_value:
        return
    if not _VALUE.fullmatch(value) or value != value.strip(" "):
        raise InvalidParameterException(
            "Attribute values must contain between 1 and 128 characters: letters (uppercase and "
            "lowercase), numbers, hyphens, underscores, periods, at signs, forward slashes, back "
            f"slashes, colons, or spaces, not starting or ending with a space. Invalid value for "
            f"{name!r}."
        )


def _target(ctx: RequestContext, cluster: ClusterRef, attribute: Params) -> str:
    target_id = attribute.get("targetId")
    target_type = attribute.get("targetType")
    if not target_id:
        raise InvalidParameterException("Attribute targetId cannot be empty.")
    if target_type not in (None, TARGET_TYPE):
        raise InvalidParameterException(f"Invalid targetType {target_type!r}: {TARGET_TYPE}.")
    if not arns.is_arn(target_id) and target_type is None:
        raise InvalidParameterException(
            "targetType is required when targetId is not a full Amazon Resource Name (ARN)."
        )
    return str(target_id)


def _by_target(
    ctx: RequestContext, cluster: ClusterRef, items: Sequence[Params]
) -> dict[str, tuple[Object, list[Params]]]:
    if not items:
        raise InvalidParameterException("Attributes cannot be empty.")
    if len(items) > MAX_PER_CALL:
        raise InvalidParameterException(
            f"You can specify up to {MAX_PER_CALL} attributes in a single call."
        )
    targets = [_target(ctx, cluster, a) for a in items]
    found = lookup.find_nodes(ctx, cluster, set(targets))
    grouped: dict[str, tuple[Object, list[Params]]] = {}
    for target, attribute in zip(targets, items, strict=True):
        node = found.get(target)
        if node is None or not container_instance.serves(
            node, ctx.account_id, ctx.region, cluster.name
        ):
            raise TargetNotFoundException(f"Could not find {target}.")
        entry = grouped.setdefault(node["metadata"]["name"], (node, []))
        entry[1].append(attribute)
    return grouped


def _echo(ctx: RequestContext, cluster: ClusterRef, node: Object, attribute: Params) -> Params:
    out = {
        "name": attribute["name"],
        "targetType": TARGET_TYPE,
        "targetId": lookup.instance_arn(ctx, cluster, node),
    }
    if attribute.get("value") is not None:
        out["value"] = attribute["value"]
    return out


def _edit(ctx: RequestContext, name: str, build: Callable[[Object], Params]) -> None:
    """Patch the Node with ``build(current Node)``, guarded by its resourceVersion, so
    concurrent attribute writers never lose each other's exact values."""
    for _ in range(_ATTEMPTS):
        try:
            current = ctx.backend.get(kinds.NODE, name)
            patch = build(current)
            patch["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            ctx.backend.patch(kinds.NODE, name, patch)
            return
        except NotFound:
            raise TargetNotFoundException(f"Could not find {name}.") from None
        except Conflict:
            continue
    raise ServerException("The container instance is being changed concurrently; try again.")


@operation("PutAttributes")
def put_attributes(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    items: list[Params] = params.get("attributes") or []
    for attribute in items:
        check_attribute(attribute)
    out = []
    for name, (node, given) in _by_target(ctx, cluster, items).items():
        put = {a["name"]: a.get("value") for a in given}

        def build(current: Object, put: dict[str, str | None] = put) -> Params:
            if len({**mapping.custom_attributes(current), **put}) > MAX_PER_RESOURCE:
                raise AttributeLimitExceededException(
                    f"You can apply up to {MAX_PER_RESOURCE} custom attributes for each resource."
                )
            return mapping.attributes_patch(current, put=put)

        _edit(ctx, name, build)
        out += [_echo(ctx, cluster, node, a) for a in given]
    return {"attributes": out}


@operation("DeleteAttributes")
def delete_attributes(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    items: list[Params] = params.get("attributes") or []
    for attribute in items:
        check_attribute(attribute, with_value=False)
    out = []
    for name, (node, given) in _by_target(ctx, cluster, items).items():
        gone = [a["name"] for a in given]

        def build(current: Object, gone: list[str] = gone) -> Params:
            return mapping.attributes_patch(current, delete=gone)

        _edit(ctx, name, build)
        out += [_echo(ctx, cluster, node, a) for a in given]
    return {"attributes": out}


@operation("ListAttributes")
def list_attributes(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    if params["targetType"] != TARGET_TYPE:
        raise InvalidParameterException(f"Invalid targetType: {TARGET_TYPE} is the only one.")
    name, value = params.get("attributeName"), params.get("attributeValue")
    if value is not None and not name:
        raise InvalidParameterException("attributeName must be specified with attributeValue.")
    page_size = paging.page_size(params, maximum=MAX_RESULTS)
    rows: list[tuple[tuple[str, str], Params]] = []
    for node in lookup.cluster_nodes(ctx, cluster):
        if not container_instance.serves(node, ctx.account_id, ctx.region, cluster.name):
            continue
        arn = lookup.instance_arn(ctx, cluster, node)
        for attribute in mapping.node_attributes(node):
            if name and attribute["name"] != name:
                continue
            if value is not None and attribute.get("value") != value:
                continue
            row = {**attribute, "targetType": TARGET_TYPE, "targetId": arn}
            rows.append(((arn, attribute["name"]), row))
    rows.sort(key=lambda r: r[0])
    resume = paging.resume_after(params, str, str)
    if resume is not None:
        after = (resume[0], resume[1])
        rows = [r for r in rows if r[0] > after]
    result: Params = {"attributes": [row for _, row in rows[:page_size]]}
    if len(rows) > page_size:
        result["nextToken"] = paging.encode_token(*rows[page_size - 1][0])
    return result
