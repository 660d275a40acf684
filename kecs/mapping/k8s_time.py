"""Kubernetes timestamps (RFC 3339, ``2024-05-01T12:00:00Z``) <-> tz-aware ``datetime``.

Kubernetes writes ``Time`` with second precision and ``MicroTime`` with microseconds; both end
in ``Z``. Python 3.10's ``fromisoformat`` does not accept ``Z``, hence this module.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any


def parse(value: Any) -> datetime | None:
    """A tz-aware UTC ``datetime`` for an RFC 3339 string, or ``None`` when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    return _parse_text(value)


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> datetime | None:
    # Cached: the same few timestamps are read from many pods (a ``datetime`` is immutable).
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format(moment: datetime) -> str:
    """``moment`` as Kubernetes writes a ``Time`` (UTC, second precision, ``Z``)."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro(moment: datetime) -> str:
    """``moment`` as Kubernetes writes a ``MicroTime`` (microseconds, ``Z``)."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
