"""The backend port: the few verbs kecs needs on Kubernetes objects.

Objects are plain JSON-ready dicts, exactly what ``kubectl get -o json`` shows. A backend
returns objects the caller owns (mutating them never changes the backend's state).

Beside the verbs every backend implements (``get``, ``list``, ``create``, ``update``,
``patch``, ``delete``), three reads have a default built on them that a backend may answer
more cheaply: ``get_metadata`` / ``list_metadata`` (only ``metadata``, as a
``PartialObjectMetadata``, what ``Accept: application/json;as=PartialObjectMetadata;
g=meta.k8s.io;v=v1`` asks a real API server for) and ``find`` (objects by name or uid, in one
request on a remote server; by index in the embedded one).

Those three, and ``create``, also take ``shared=True``: the caller promises to only read
what it gets (never change it), so a backend may hand out its own objects instead of copies.
A remote backend's objects are fresh anyway; the embedded backend then skips copying, which
is safe because it never changes a stored object in place (a write stores a new one), so
what a reader holds stays as it was read.

``create`` also takes ``handed_over=True``: the caller gives ``obj`` up (it never reads or
changes that dict, or anything in it, again), so the embedded backend may store it as it is
instead of a copy. A remote backend serialises it anyway and ignores the promise.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple

from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, Conflict, Invalid, NotFound
from kecs.backends.kinds import ResourceKind
from kecs.backends.selectors import SelectorError, compile_selector

Object = dict[str, Any]
#: A label selector: a Kubernetes selector string (``"a=b,c in (x,y),!d"``) or equality pairs.
Selector = str | Mapping[str, str] | None
#: A filter on objects beyond what label selectors can say (e.g. by ``metadata.uid``).
#: It must not mutate the object it is given.
Where = Callable[[dict[str, Any]], bool] | None


#: Up to how many names :meth:`Backend.find` reads one by one (a get each) by default: one,
#: so a batch read stays one request whatever its size.
FIND_BY_GET = 1
#: ``apiVersion`` and ``kind`` of what the metadata-only reads return.
PARTIAL_METADATA_API_VERSION = "meta.k8s.io/v1"
PARTIAL_METADATA_KIND = "PartialObjectMetadata"


def partial_metadata(obj: Mapping[str, Any]) -> Object:
    """``obj`` as a ``PartialObjectMetadata`` (its ``metadata`` shared, not copied)."""
    return {
        "apiVersion": PARTIAL_METADATA_API_VERSION,
        "kind": PARTIAL_METADATA_KIND,
        "metadata": obj.get("metadata") or {},
    }


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
    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        """Create ``obj``; :class:`AlreadyExists` when its name is taken. Returns the object
        as created; ``shared``: the caller only reads that; ``handed_over``: the caller
        gives ``obj`` up (see the module docs for both)."""

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

    def create_or_replace(self, obj: Object, *, attempts: int = 16) -> None:
        """Make ``obj`` the stored object, whether or not one of its name exists.

        A create first; when the name is taken, an update against the version just read,
        again from the top if someone else wrote (or deleted) it in between.
        """
        kind = kinds.of(obj)
        meta = obj["metadata"]
        for _ in range(attempts):
            try:
                self.create(obj)
                return
            except AlreadyExists:
                pass
            try:
                current = self.get(kind, meta["name"], meta.get("namespace"))
            except NotFound:
                continue
            replacement = {
                **obj,
                "metadata": {**meta, "resourceVersion": current["metadata"]["resourceVersion"]},
            }
            try:
                self.update(replacement)
                return
            except (Conflict, NotFound):
                continue
        raise Conflict(
            f'{kind.plural} "{meta["name"]}" kept changing; gave up after {attempts} attempts'
        )

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

    def get_metadata(
        self, kind: ResourceKind, name: str, namespace: str | None = None, *, shared: bool = False
    ) -> Object:
        """The object's ``metadata`` alone, as a ``PartialObjectMetadata``
        (``{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": ...}``);
        :class:`~kecs.backends.errors.NotFound` as :meth:`get`. For readers that need only
        labels, annotations, uid or resourceVersion: a backend may answer it without reading
        (or copying) the rest of the object. ``shared``: see the module docs."""
        return partial_metadata(self.get(kind, name, namespace))

    def list_metadata(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        selector: Selector = None,
        limit: int | None = None,
        continue_token: str | None = None,
        where: Where = None,
        shared: bool = False,
    ) -> ObjectList:
        """:meth:`list` with ``PartialObjectMetadata`` items (same objects, same paging).

        ``where`` still sees each whole object, so the items are those :meth:`list` would
        return. ``shared``: see the module docs.
        """
        page = self.list(
            kind,
            namespace,
            selector=selector,
            limit=limit,
            continue_token=continue_token,
            where=where,
        )
        return ObjectList([partial_metadata(o) for o in page.items], page.continue_token)

    def find(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        names: Collection[str] | None = None,
        uids: Collection[str] | None = None,
        selector: Selector = None,
        metadata_only: bool = False,
        shared: bool = False,
    ) -> builtins.list[Object]:
        """The objects (in ``namespace``, or all namespaces when ``None``) whose name is in
        ``names`` (when given) and whose ``metadata.uid`` is in ``uids`` (when given) and
        that match ``selector``, in :meth:`list` order; those that do not exist are simply
        absent. ``metadata_only``: ``PartialObjectMetadata`` items. ``shared``: see the
        module docs.

        By default: a single name in one namespace is read with :meth:`get`; anything else
        with one :meth:`list_all` and a ``where`` filter (one paged request on a remote API
        server, which has no field selector for uids). The embedded backend looks
        the objects up by name or through its uid index, so the cost follows how many are
        asked for, not how many exist.
        """
        wanted_names = None if names is None else set(names)
        wanted_uids = None if uids is None else set(uids)

        def chosen(obj: dict[str, Any]) -> bool:
            meta = obj.get("metadata") or {}
            return (wanted_names is None or meta.get("name") in wanted_names) and (
                wanted_uids is None or meta.get("uid") in wanted_uids
            )

        if wanted_names is not None and not wanted_names:
            return []
        if wanted_uids is not None and not wanted_uids:
            return []
        if (
            wanted_names is not None
            and len(wanted_names) <= FIND_BY_GET
            and (namespace is not None or not kind.namespaced)
        ):
            found = self._get_each(kind, namespace, sorted(wanted_names), selector)
            found = [o for o in found if chosen(o)]
        else:
            found = self.list_all(kind, namespace, selector=selector, where=chosen)
        return [partial_metadata(o) for o in found] if metadata_only else found

    def _get_each(
        self, kind: ResourceKind, namespace: str | None, names: Iterable[str], selector: Selector
    ) -> builtins.list[Object]:
        try:
            matches = compile_selector(selector)
        except SelectorError as exc:
            raise Invalid(str(exc)) from None
        found = []
        for name in names:
            try:
                obj = self.get(kind, name, namespace)
            except NotFound:
                continue
            if matches((obj.get("metadata") or {}).get("labels") or {}):
                found.append(obj)
        return found

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
