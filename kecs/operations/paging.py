"""Paging for every List* operation: ``maxResults`` and an opaque ``nextToken``.

A token is the position after which the next page starts (a name, an ARN, a backend
``continue`` token, or a tuple of them), as URL-safe base64 of a JSON list. A token that does
not decode to the position an operation expects is ``InvalidParameterException``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from kecs.errors import InvalidParameterException

INVALID_TOKEN = "The nextToken is not valid."


def page_size(params: Mapping[str, Any], *, maximum: int = 100, default: int | None = None) -> int:
    """``maxResults`` checked against ``maximum``; ``default`` (else ``maximum``) when absent."""
    value = params.get("maxResults")
    if value is None:
        return maximum if default is None else default
    if not 1 <= value <= maximum:
        raise InvalidParameterException(
            f"maxResults must be between 1 and {maximum}, but was {value}."
        )
    return int(value)


def encode_token(*position: str | int) -> str:
    raw = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, *shape: type) -> list[Any]:
    """The position in ``token``, whose parts must have the types ``shape`` names."""
    try:
        padded = token + "=" * (-len(token) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        position = None
    if (
        not isinstance(position, list)
        or len(position) != len(shape)
        or not all(type(v) is t for v, t in zip(position, shape, strict=True))
    ):
        raise InvalidParameterException(INVALID_TOKEN)
    return position


def resume_after(params: Mapping[str, Any], *shape: type) -> list[Any] | None:
    """The position of the request's ``nextToken``, or ``None`` on the first page."""
    token = params.get("nextToken")
    return decode_token(token, *shape) if token else None


def resume_name(params: Mapping[str, Any]) -> str | None:
    """:func:`resume_after` for the common position, one name or ARN."""
    position = resume_after(params, str)
    return position[0] if position else None
