"""What a ``taskDefinition`` (or ``daemonTaskDefinition``) parameter names.

``family``, ``family:revision`` or an ARN of this account and region whose resource type is
the one asked for (``task-definition``, ``daemon-task-definition``). A value of another
account, region or type names nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from kecs import arns
from kecs.operations.context import RequestContext


class Reference(NamedTuple):
    """A family and maybe a revision."""

    family: str
    revision: int | None


def parse(
    ctx: RequestContext, value: str, resource_type: str = "task-definition"
) -> Reference | None:
    """The family (and revision) ``value`` names, or ``None``."""
    text = value
    if arns.is_arn(value):
        arn = arns.parse(value)
        if (
            arn is None
            or arn.resource_type != resource_type
            or arn.region != ctx.region
            or arn.account != ctx.account_id
        ):
            return None
        text = arn.resource
    family, sep, revision = text.rpartition(":")
    if not sep:
        return Reference(text, None) if text else None
    if not (revision.isdigit() and revision.isascii()) or int(revision) < 1 or not family:
        return None
    return Reference(family, int(revision))
