"""Tags on ECS resources, whatever family owns them.

Each resource family registers how to read and write the tags of its ARNs; the
TagResource / UntagResource / ListTagsForResource handlers (``kecs.operations.tags``)
validate AWS's limits and dispatch here by the ARN's resource type.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kecs.arns import Arn
from kecs.errors import InvalidParameterException
from kecs.operations.context import RequestContext

Tags = list[dict[str, str]]
TagEdit = Callable[[Tags], Tags]
TagReader = Callable[[RequestContext, Arn], Tags]
#: Applies an edit to the resource's current tags as one read-modify-write (re-applied on a
#: write conflict, so concurrent TagResource calls never lose each other's tags).
TagWriter = Callable[[RequestContext, Arn, TagEdit], None]

_taggables: dict[str, tuple[TagReader, TagWriter]] = {}


def taggable(resource_type: str, reader: TagReader, writer: TagWriter) -> None:
    """Register how to read and replace the tags of ARNs of ``resource_type``.

    ``reader`` raises the family's not-found ECS error for unknown resources; ``writer``
    applies a :data:`TagEdit` to the current tags atomically (the edit may raise an
    ``ECSError``, which must propagate with nothing written).
    """
    _taggables[resource_type] = (reader, writer)


def accessors(resource_type: str) -> tuple[TagReader, TagWriter] | None:
    return _taggables.get(resource_type)


MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
_ALLOWED = re.compile(r"[\w\s+\-=.:/@]*", re.UNICODE)


def validate_tags(tags: Tags, *, existing: Tags | None = None) -> None:
    """AWS's tag rules; ``InvalidParameterException`` naming the first broken one.

    ``existing`` is the resource's current tag list, for the 50-tags-per-resource limit.
    """
    keys: set[str] = set()
    for tag in tags:
        key, value = tag.get("key"), tag.get("value", "")
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidParameterException(
                f"Tag key must be between 1 and {MAX_KEY_LENGTH} characters."
            )
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidParameterException(
                f"Tag value must be at most {MAX_VALUE_LENGTH} characters."
            )
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(
                "Tag keys with the 'aws:' prefix are reserved for AWS use."
            )
        if not _ALLOWED.fullmatch(key) or not _ALLOWED.fullmatch(value):
            raise InvalidParameterException(
                f"Tag {key!r} may only use letters, digits, spaces and + - = . _ : / @."
            )
        keys.add(key)
    merged = {t["key"] for t in existing or ()} | keys
    if len(merged) > MAX_TAGS:
        raise InvalidParameterException(
            f"A resource can have at most {MAX_TAGS} tags; this request would leave {len(merged)}."
        )


def merge_tags(existing: Tags, new: Tags) -> Tags:
    """``existing`` with ``new`` applied: new keys added, existing keys overwritten, order kept."""
    merged = {t["key"]: t.get("value", "") for t in existing}
    for tag in new:
        merged[tag["key"]] = tag.get("value", "")
    return [{"key": k, "value": v} for k, v in merged.items()]
