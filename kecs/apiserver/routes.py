"""Parsing a Kubernetes REST path into what it addresses."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote

from kecs.apiserver import discovery
from kecs.backends.kinds import ResourceKind


class Route(NamedTuple):
    kind: ResourceKind
    #: ``None``: cluster-scoped, or a namespaced kind listed across all namespaces.
    namespace: str | None
    #: ``None`` for the collection.
    name: str | None
    subresource: str | None = None


class UnknownPath(Exception):
    pass


def parse(path: str) -> Route:
    """``/api/v1/namespaces/ns/pods/web/status`` -> Route(POD, "ns", "web", "status")."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if len(parts) >= 2 and parts[0] == "api":
        api_version, rest = parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        raise UnknownPath(path)

    def kind_of(plural: str) -> ResourceKind:
        kind = discovery.BY_PATH.get((api_version, plural))
        if kind is None:
            raise UnknownPath(path)
        return kind

    namespace_subresource = len(rest) == 3 and (api_version, rest[2]) not in discovery.BY_PATH
    if len(rest) >= 3 and rest[0] == "namespaces" and not namespace_subresource:
        namespace, plural, tail = rest[1], rest[2], rest[3:]
        kind = kind_of(plural)
        if not kind.namespaced or len(tail) > 2 or not namespace:
            raise UnknownPath(path)
        name = tail[0] if tail else None
        return Route(kind, namespace, name, tail[1] if len(tail) == 2 else None)
    if 1 <= len(rest) <= 3:
        kind = kind_of(rest[0])
        name = rest[1] if len(rest) > 1 else None
        if name is not None and kind.namespaced:
            raise UnknownPath(path)
        return Route(kind, None, name, rest[2] if len(rest) == 3 else None)
    raise UnknownPath(path)
