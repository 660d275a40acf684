"""Tags on ECS resources, whatever family owns them.

Each resource family registers how to read and write the tags of its ARNs; the
TagResource / UntagResource / ListTagsForResource handlers (``kecs.operations.tags``)
validate AWS's limits and dispatch here by the ARN's resource type.
"""

from __future__ import annotations

from collections.abc import Callable

from kecs.arns import Arn
from kecs.operations.context import RequestContext

Tags = list[dict[str, str]]
TagReader = Callable[[RequestContext, Arn], Tags]
TagWriter = Callable[[RequestContext, Arn, Tags], None]

_taggables: dict[str, tuple[TagReader, TagWriter]] = {}


def taggable(resource_type: str, reader: TagReader, writer: TagWriter) -> None:
    """Register how to read and replace the tags of ARNs of ``resource_type``.

    ``reader`` raises the family's not-found ECS error for unknown resources; ``writer``
    replaces the full tag list (validation already done).
    """
    _taggables[resource_type] = (reader, writer)


def accessors(resource_type: str) -> tuple[TagReader, TagWriter] | None:
    return _taggables.get(resource_type)
