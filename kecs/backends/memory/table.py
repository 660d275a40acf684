"""Where the embedded API server keeps objects: per kind and namespace, names kept sorted.

Listing walks names in order (what ``limit``/``continue`` paging needs) without sorting on
every request; a ``continue`` token resumes by bisection, so paging through N unchanged
objects costs O(N) in total rather than O(N) per page.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from kecs.backends.kinds import ResourceKind

Object = dict[str, Any]
#: (kind, namespace or "" for cluster-scoped kinds, name)
Key = tuple[ResourceKind, str, str]


class Bucket:
    """The objects of one kind in one namespace.

    Names are kept in a list that is sorted lazily: a write appends (or only counts a
    removal) in O(1), and the next listing sorts once — Timsort merges the sorted prefix with
    the new tail in about O(n) — so neither many writes nor many pages cost O(n) each.
    """

    __slots__ = ("_dirty", "_names", "objects")

    def __init__(self) -> None:
        self.objects: dict[str, Object] = {}
        self._names: list[str] = []
        self._dirty = False

    def __len__(self) -> int:
        return len(self.objects)

    def get(self, name: str) -> Object | None:
        return self.objects.get(name)

    def put(self, name: str, obj: Object) -> None:
        if name not in self.objects:
            names = self._names
            if names and names[-1] >= name:
                self._dirty = True
            names.append(name)
        self.objects[name] = obj

    def pop(self, name: str) -> Object | None:
        obj = self.objects.pop(name, None)
        if obj is not None:
            self._dirty = True
        return obj

    @property
    def names(self) -> list[str]:
        if self._dirty or len(self._names) != len(self.objects):
            objects = self.objects
            names = [n for n in self._names if n in objects]
            names.sort()
            # a name removed and put back appears twice; keep one
            self._names = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
            self._dirty = False
        return self._names

    def iter_after(self, after: str | None = None) -> Iterator[tuple[str, Object]]:
        names, objects = self.names, self.objects
        start = 0 if after is None else bisect.bisect_right(names, after)
        for index in range(start, len(names)):
            name = names[index]
            yield name, objects[name]


class Table:
    """Every stored object: kind -> namespace -> :class:`Bucket`."""

    def __init__(self) -> None:
        self._kinds: dict[ResourceKind, dict[str, Bucket]] = {}

    def bucket(self, kind: ResourceKind, namespace: str) -> Bucket:
        by_ns = self._kinds.setdefault(kind, {})
        bucket = by_ns.get(namespace)
        if bucket is None:
            bucket = by_ns[namespace] = Bucket()
        return bucket

    def get(self, kind: ResourceKind, namespace: str, name: str) -> Object | None:
        by_ns = self._kinds.get(kind)
        bucket = None if by_ns is None else by_ns.get(namespace)
        return None if bucket is None else bucket.objects.get(name)

    def objects(self, kind: ResourceKind, namespace: str) -> dict[str, Object] | None:
        """The objects of ``kind`` in ``namespace`` by name (the table's own dict: read only)."""
        by_ns = self._kinds.get(kind)
        bucket = None if by_ns is None else by_ns.get(namespace)
        return None if bucket is None else bucket.objects

    def iterate(
        self, kind: ResourceKind, namespace: str | None, after: tuple[str, str] | None = None
    ) -> Iterator[tuple[tuple[str, str], Object]]:
        """Objects in (namespace, name) order, strictly after ``after`` when given."""
        by_ns = self._kinds.get(kind, {})
        if namespace is not None and kind.namespaced:
            bucket = by_ns.get(namespace)
            if bucket is None:
                return
            if after is not None and after[0] > namespace:
                return
            start = after[1] if after is not None and after[0] == namespace else None
            for name, obj in bucket.iter_after(start):
                yield (namespace, name), obj
            return
        for ns in sorted(by_ns):
            if after is not None and ns < after[0]:
                continue
            start = after[1] if after is not None and ns == after[0] else None
            for name, obj in by_ns[ns].iter_after(start):
                yield (ns, name), obj

    def namespaces(self, kind: ResourceKind) -> list[str]:
        """The namespaces holding objects of ``kind`` ("" for a cluster-scoped kind), sorted."""
        return sorted(ns for ns, bucket in self._kinds.get(kind, {}).items() if len(bucket))

    def in_namespace(self, namespace: str) -> Iterator[tuple[ResourceKind, Object]]:
        """Every namespaced object in ``namespace`` (a snapshot, safe to delete while iterating)."""
        found: list[tuple[ResourceKind, Object]] = []
        for kind, by_ns in self._kinds.items():
            bucket = by_ns.get(namespace)
            if kind.namespaced and bucket is not None:
                found.extend((kind, obj) for obj in bucket.objects.values())
        return iter(found)

    def namespace_is_empty(self, namespace: str) -> bool:
        return not any(
            len(by_ns.get(namespace) or ())
            for kind, by_ns in self._kinds.items()
            if kind.namespaced
        )

    def count(self, kind: ResourceKind, namespace: str | None = None) -> int:
        by_ns = self._kinds.get(kind, {})
        if namespace is not None:
            return len(by_ns.get(namespace) or ())
        return sum(len(b) for b in by_ns.values())
