"""An in-memory Kubernetes API server for the objects kecs uses.

It keeps what a real API server guarantees and kecs relies on: ``uid``, ``resourceVersion``
with optimistic concurrency (a stale update conflicts), ``generation`` bumped on spec changes,
``creationTimestamp``, label selectors with ``limit``/``continue`` paging, name validation,
owner-reference garbage collection and namespace deletion cascading to its contents.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from kecs import k8s_grammar
from kecs.backends import kinds
from kecs.backends.base import Backend, Object, ObjectList, Selector, Where
from kecs.backends.errors import AlreadyExists, Conflict, Invalid, NotFound
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory.jsoncopy import copy_json, merge_patch
from kecs.backends.selectors import SelectorError, compile_selector

Clock = Callable[[], datetime]

#: Namespaces a fresh cluster has.
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

#: Kinds whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = {kinds.NAMESPACE, kinds.SERVICE}

_DEFAULT_PAGE = 500


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 with second precision, as Kubernetes writes ``metav1.Time``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class MemoryBackend(Backend):
    """One embedded Kubernetes world. Each instance is separate; all methods are thread-safe."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or _utcnow
        self._lock = threading.RLock()
        # kind -> namespace ("" for cluster-scoped) -> name -> object
        self._objects: dict[ResourceKind, dict[str, dict[str, Object]]] = {}
        self._version = 0
        for name in INITIAL_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # -- clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    # -- the port --------------------------------------------------------------------------

    def get(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Object:
        with self._lock:
            return copy_json(self._find(kind, name, namespace))

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
        try:
            matches = compile_selector(selector)
        except SelectorError as exc:
            raise Invalid(str(exc)) from None
        after = _decode_token(continue_token) if continue_token else None
        page_size = limit if limit and limit > 0 else None
        items: list[Object] = []
        last: tuple[str, str] = ("", "")
        with self._lock:
            for key, obj in self._iter_sorted(kind, namespace):
                if after is not None and key <= after:
                    continue
                if not matches(obj["metadata"].get("labels") or {}):
                    continue
                if where is not None and not where(obj):
                    continue
                if page_size is not None and len(items) == page_size:
                    return ObjectList(items, _encode_token(last))
                items.append(copy_json(obj))
                last = key
        return ObjectList(items, None)

    def create(self, obj: Object) -> Object:
        kind = kinds.of(obj)
        stored = copy_json(obj)
        meta = stored.setdefault("metadata", {})
        namespace = self._namespace_of(kind, meta.get("namespace"))
        if kind.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
            meta["name"] = name
        self._validate(kind, stored)
        with self._lock:
            if kind.namespaced:
                ns = self._objects.get(kinds.NAMESPACE, {}).get("", {}).get(namespace)
                if ns is None:
                    raise NotFound(f'namespaces "{namespace}" not found')
                if ns["metadata"].get("deletionTimestamp"):
                    raise Conflict(f'namespace "{namespace}" is being terminated')
            bucket = self._objects.setdefault(kind, {}).setdefault(namespace, {})
            if name in bucket:
                raise AlreadyExists(f'{kind.plural} "{name}" already exists')
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = format_timestamp(self._clock())
            meta["resourceVersion"] = self._next_version()
            if "spec" in stored and kind is not kinds.NAMESPACE:
                meta["generation"] = 1
            if kind is kinds.NAMESPACE:
                stored.setdefault("spec", {"finalizers": ["kubernetes"]})
                stored["status"] = {"phase": "Active"}
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            bucket[name] = stored
            return copy_json(stored)

    def update(self, obj: Object) -> Object:
        kind = kinds.of(obj)
        meta = obj.get("metadata") or {}
        namespace = self._namespace_of(kind, meta.get("namespace"))
        self._validate(kind, obj)
        with self._lock:
            current = self._find(kind, meta.get("name", ""), namespace)
            wanted_version = meta.get("resourceVersion")
            if wanted_version and wanted_version != current["metadata"]["resourceVersion"]:
                raise Conflict(
                    f'Operation cannot be fulfilled on {kind.plural} "{meta["name"]}": '
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again"
                )
            return self._replace(kind, namespace, current, copy_json(obj))

    def patch(
        self, kind: ResourceKind, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        namespace = self._namespace_of(kind, namespace)
        with self._lock:
            current = self._find(kind, name, namespace)
            # As on an API server, a resourceVersion in the patch is a precondition.
            wanted_version = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted_version and wanted_version != current["metadata"]["resourceVersion"]:
                raise Conflict(
                    f'Operation cannot be fulfilled on {kind.plural} "{name}": '
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again"
                )
            patched = merge_patch(copy_json(current), patch)
            patched.setdefault("metadata", {})
            patched["metadata"]["name"] = name
            self._validate(kind, patched)
            return self._replace(kind, namespace, current, patched)

    def delete(self, kind: ResourceKind, name: str, namespace: str | None = None) -> None:
        namespace = self._namespace_of(kind, namespace)
        with self._lock:
            obj = self._find(kind, name, namespace)
            self._remove(kind, namespace, obj)

    # -- internals -------------------------------------------------------------------------

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    @staticmethod
    def _namespace_of(kind: ResourceKind, namespace: str | None) -> str:
        if not kind.namespaced:
            return ""
        return namespace or "default"

    def _find(self, kind: ResourceKind, name: str, namespace: str | None) -> Object:
        ns = self._namespace_of(kind, namespace)
        obj = self._objects.get(kind, {}).get(ns, {}).get(name)
        if obj is None:
            raise NotFound(f'{kind.plural} "{name}" not found')
        return obj

    def _iter_sorted(
        self, kind: ResourceKind, namespace: str | None
    ) -> Iterator[tuple[tuple[str, str], Object]]:
        by_ns = self._objects.get(kind, {})
        if namespace is not None and kind.namespaced:
            names = by_ns.get(namespace, {})
            for name in sorted(names):
                yield (namespace, name), names[name]
            return
        for ns in sorted(by_ns):
            names = by_ns[ns]
            for name in sorted(names):
                yield (ns, name), names[name]

    def _replace(self, kind: ResourceKind, namespace: str, current: Object, new: Object) -> Object:
        meta = new.setdefault("metadata", {})
        old_meta = current["metadata"]
        # Fields the server owns survive whatever the client sent.
        for field in ("uid", "creationTimestamp", "namespace", "deletionTimestamp"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if kind is kinds.NAMESPACE:
            new["status"] = current.get("status", {})
        if "generation" in old_meta:
            changed = new.get("spec") != current.get("spec")
            meta["generation"] = old_meta["generation"] + (1 if changed else 0)
        meta["resourceVersion"] = self._next_version()
        self._objects[kind][namespace][meta["name"]] = new
        return copy_json(new)

    def _remove(self, kind: ResourceKind, namespace: str, obj: Object) -> None:
        name = obj["metadata"]["name"]
        del self._objects[kind][namespace][name]
        if kind is kinds.NAMESPACE:
            for other, by_ns in self._objects.items():
                if other.namespaced:
                    by_ns.pop(name, None)
        self._collect_garbage(obj["metadata"]["uid"])

    def _collect_garbage(self, owner_uid: str) -> None:
        """Delete, transitively, the dependents of ``owner_uid`` that have no owner left."""
        dependents = [
            (kind, ns, obj)
            for kind, by_ns in self._objects.items()
            for ns, by_name in by_ns.items()
            for obj in by_name.values()
            if any(
                ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences", ())
            )
        ]
        for kind, ns, obj in dependents:
            others = {ref.get("uid") for ref in obj["metadata"]["ownerReferences"]} - {owner_uid}
            if others and self._any_exists(others):
                continue
            if obj["metadata"]["name"] in self._objects[kind].get(ns, {}):
                self._remove(kind, ns, obj)

    def _any_exists(self, uids: set[Any]) -> bool:
        return any(
            obj["metadata"]["uid"] in uids
            for by_ns in self._objects.values()
            for by_name in by_ns.values()
            for obj in by_name.values()
        )

    @staticmethod
    def _validate(kind: ResourceKind, obj: Object) -> None:
        meta = obj.get("metadata") or {}
        name = meta.get("name") or ""
        legal = (
            k8s_grammar.is_dns1123_label(name)
            if kind in _LABEL_NAMED
            else k8s_grammar.is_dns1123_subdomain(name)
        )
        if not legal:
            raise Invalid(f'{kind.kind} "{name}" is invalid: metadata.name: Invalid value')
        for key, value in (meta.get("labels") or {}).items():
            if not k8s_grammar.is_qualified_name(key) or not k8s_grammar.is_label_value(value):
                raise Invalid(f'{kind.kind} "{name}" is invalid: metadata.labels: {key}={value}')
        annotations = meta.get("annotations") or {}
        size = sum(len(k) + len(v.encode()) for k, v in annotations.items())
        if size > k8s_grammar.ANNOTATIONS_MAX_BYTES:
            raise Invalid(f'{kind.kind} "{name}" is invalid: metadata.annotations: Too long')


def _encode_token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode("\0".join(key).encode()).decode()


def _decode_token(token: str) -> tuple[str, str]:
    try:
        ns, _, name = base64.urlsafe_b64decode(token.encode()).decode().partition("\0")
    except (ValueError, UnicodeDecodeError):
        raise Invalid(f"invalid continue token {token!r}") from None
    return ns, name
