"""The backend port: the few verbs kecs needs on Kubernetes objects.

Objects are plain JSON-ready dicts, exactly what ``kubectl get -o json`` shows. A backend
returns objects the caller owns (mutating them never changes the backend's state).
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple

from kecs.backends.errors import Conflict
from kecs.backends.kinds import ResourceKind

Object = dict[str, Any]
#: A label selector: a Kubernetes selector string (``"a=b,c in (x,y),!d"``) or equality pairs.
Selector = str | Mapping[str, str] | None
#: A filter on objects beyond what label selectors can say (e.g. by ``metadata.uid``).
#: It must not mutate the object it is given.
Where = Callable[[dict[str, Any]], bool] | None


class ObjectList(NamedTuple):
    items: list[Object]
    #: Token for the next page, or ``None`` on the last page.
    continue_token: str | None = None


class Backend(abc.ABC):
    """A Kubernetes API (or a stand-in for one) as kecs uses it."""

    def now(self) -> datetime:
        """The backend's clock; the embedded backend's can be driven by tests."""
        return datetime.now(timezone.utc)

    @abc.abstractmethod
    def get(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Object:
        """The object, or :class:`~kecs.backends.errors.NotFound`."""

    @abc.abstractmethod
    def list(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        selector: Selector = None,
        limit: int | None = None,
        continue_token: str | None = None,
        where: Where = None,
    ) -> ObjectList:
        """Objects of ``kind`` (in ``namespace``, or in all namespaces when ``None``).

        ``where`` filters further. The embedded backend applies it before ``limit`` and before
        copying (cheap); a remote backend applies it to what the server returned and keeps
        fetching pages until it has ``limit`` items or reaches the end, so paging through
        a filtered list yields the same objects either way.
        """

    @abc.abstractmethod
    def create(self, obj: Object) -> Object:
        """Create ``obj``; :class:`AlreadyExists` when its name is taken."""

    @abc.abstractmethod
    def update(self, obj: Object) -> Object:
        """Replace ``obj``; :class:`Conflict` when its ``resourceVersion`` is stale."""

    @abc.abstractmethod
    def patch(
        self, kind: ResourceKind, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        """Apply a JSON merge patch (RFC 7386) to the object."""

    @abc.abstractmethod
    def delete(self, kind: ResourceKind, name: str, namespace: str | None = None) -> None:
        """Delete the object (dependents are garbage-collected); :class:`NotFound` if absent."""

    def modify(
        self,
        kind: ResourceKind,
        name: str,
        mutate: Callable[[Object], Object | None],
        namespace: str | None = None,
        *,
        attempts: int = 16,
    ) -> Object:
        """Read-modify-write under optimistic concurrency.

        ``mutate`` gets the current object and returns the object to write (it may change the
        one it got), or ``None`` to leave it as it is. On a conflict the object is read again
        and ``mutate`` re-applied, so concurrent writers never lose each other's changes.
        """
        for _ in range(attempts):
            current = self.get(kind, name, namespace)
            wanted = mutate(current)
            if wanted is None:
                return current
            try:
                return self.update(wanted)
            except Conflict:
                continue
        raise Conflict(f'{kind.plural} "{name}" kept changing; gave up after {attempts} attempts')

    def list_all(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        selector: Selector = None,
        where: Where = None,
    ) -> builtins.list[Object]:
        """Every matching object, following ``continue`` tokens."""
        items: builtins.list[Object] = []
        token: str | None = None
        while True:
            page = self.list(kind, namespace, selector=selector, continue_token=token, where=where)
            items.extend(page.items)
            token = page.continue_token
            if not token:
                return items
