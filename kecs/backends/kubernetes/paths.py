"""REST paths from kind metadata, and the list tokens kecs hands out on top of the server's."""

from __future__ import annotations

import base64
import json
from typing import Any, NamedTuple
from urllib.parse import quote

from kecs.backends.errors import Invalid
from kecs.backends.kinds import ResourceKind


def collection(kind: ResourceKind, namespace: str | None) -> str:
    """``/api/v1/namespaces/ns/pods``, ``/apis/apps/v1/deployments``, ``/api/v1/nodes``."""
    root = f"/apis/{kind.api_version}" if kind.group else f"/api/{kind.version}"
    if kind.namespaced and namespace is not None:
        return f"{root}/namespaces/{quote(namespace, safe='')}/{kind.plural}"
    return f"{root}/{kind.plural}"


def item(kind: ResourceKind, name: str, namespace: str | None) -> str:
    return f"{collection(kind, namespace)}/{quote(name, safe='')}"


class PageToken(NamedTuple):
    """Where a filtered list stopped: the server's token for the page it was reading (``None``
    for the first page), that page's size, and how many of its items were already consumed."""

    server: str | None
    size: int
    skip: int

    def encode(self) -> str:
        raw = json.dumps([self.server, self.size, self.skip], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> PageToken:
        try:
            server, size, skip = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, TypeError):
            raise Invalid(f"invalid continue token {token!r}") from None
        if not (
            (server is None or isinstance(server, str))
            and isinstance(size, int)
            and isinstance(skip, int)
            and size > 0
            and 0 <= skip <= size
        ):
            raise Invalid(f"invalid continue token {token!r}")
        return cls(server, size, skip)


def with_type(kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    """List items come without ``apiVersion``/``kind``; kecs's objects always carry them."""
    if "apiVersion" not in obj or "kind" not in obj:
        return {"apiVersion": kind.api_version, "kind": kind.kind, **obj}
    return obj
