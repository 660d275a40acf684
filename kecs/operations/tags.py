"""TagResource / UntagResource / ListTagsForResource, for every taggable resource family.

The ARN's resource type picks the family's accessors (``kecs.operations.tagging``); AWS's
limits are checked here, once, for all of them.
"""

from __future__ import annotations

from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.errors import InvalidParameterException
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.tagging import (
    TagReader,
    Tags,
    TagWriter,
    accessors,
    merge_tags,
    validate_tags,
)

Params = dict[str, Any]


def _resource(value: str) -> tuple[Arn, TagReader, TagWriter]:
    arn = arns.parse(value)
    if arn is None:
        raise InvalidParameterException("The ARN provided is invalid.")
    found = accessors(arn.resource_type)
    if found is None:
        raise InvalidParameterException(
            f"The resource type {arn.resource_type!r} of the ARN provided does not support tags."
        )
    reader, writer = found
    return arn, reader, writer


@operation("TagResource")
def tag_resource(ctx: RequestContext, params: Params) -> Params:
    arn, _, writer = _resource(params["resourceArn"])
    new = params.get("tags") or []
    validate_tags(new)

    def add(current: Tags) -> Tags:
        validate_tags(new, existing=current)
        return merge_tags(current, new)

    writer(ctx, arn, add)
    return {}


@operation("UntagResource")
def untag_resource(ctx: RequestContext, params: Params) -> Params:
    arn, _, writer = _resource(params["resourceArn"])
    removed = set(params.get("tagKeys") or [])
    writer(ctx, arn, lambda current: [tag for tag in current if tag["key"] not in removed])
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(ctx: RequestContext, params: Params) -> Params:
    arn, reader, _ = _resource(params["resourceArn"])
    return {"tags": reader(ctx, arn)}
