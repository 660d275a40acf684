"""The embedded backend: an in-memory Kubernetes API server with its controllers.

It keeps what a real API server guarantees and kecs relies on (``uid``, ``resourceVersion``
with optimistic concurrency, ``generation``, ``creationTimestamp``, defaulting, label
selectors with ``limit``/``continue`` paging, name validation, ``status`` as a subresource,
finalizers and ``deletionTimestamp``, graceful pod deletion, owner-reference garbage
collection, namespaces that terminate) and runs a small cluster behind it: nodes, a
scheduler, kubelets, and the ReplicaSet, Deployment and DaemonSet controllers. See
``docs/embedded-cluster.md``.

Controllers run synchronously: every write returns only once the cluster is quiescent, so a
client never has to wait or poll. Time is the clock given (the wall clock by default) plus
whatever :meth:`MemoryBackend.advance` added; timed work (slow starts, back-offs, deadlines)
runs when a call finds it due.
"""

from __future__ import annotations

import base64
import builtins
import random
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Backend, Object, ObjectList, Selector, Where, partial_metadata
from kecs.backends.errors import Conflict, Invalid
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory.apiserver import (
    ApiServer,
    conflict_message,
    format_timestamp,
    namespace_of,
)
from kecs.backends.memory.cluster import Cluster
from kecs.backends.memory.controllers.autoscaler import next_node_index
from kecs.backends.memory.controllers.nodes import NodeSpec, node_object
from kecs.backends.memory.jsoncopy import copy_json, merge_patch
from kecs.backends.memory.simulator import Simulator
from kecs.backends.selectors import Requirement, SelectorError, compile_selector

__all__ = ["INITIAL_NAMESPACES", "Clock", "MemoryBackend", "NodeSpec", "format_timestamp"]

Clock = Callable[[], datetime]

#: Namespaces a fresh cluster has.
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
#: Propagation policies of a delete (``DeleteOptions.propagationPolicy``).
PROPAGATION = ("Background", "Foreground", "Orphan")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class MemoryBackend(Backend):
    """One embedded Kubernetes world. Each instance is separate; all methods are thread-safe.

    ``nodes``: how many default nodes (``kecs-node-1..n``, m5.xlarge-like: 4 CPUs, 16Gi,
    110 pods, zones ``<region>a/b/c``), or a list of :class:`NodeSpec`. ``autoscale``: add a
    node (like the first one) whenever a pod fits no node but would fit a new one.
    ``seed``: makes uids and generated names reproducible. ``clock``: the base clock.

    ``cluster=False`` gives a plain API server with nothing behind it: no nodes, no
    controllers (garbage collection and namespace termination still happen), no defaulting,
    and ``status`` kept as written by create/update/patch, for tests that fabricate
    Kubernetes states by hand.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        nodes: int | Sequence[NodeSpec] = 3,
        region: str = "us-east-1",
        autoscale: bool = True,
        seed: int | None = None,
        cluster: bool = True,
    ) -> None:
        self._clock = clock or _utcnow
        self._offset = timedelta(0)
        self._lock = threading.RLock()
        self.region = region
        self._server = ApiServer(self.now, random.Random(seed), plain=not cluster)
        specs = [NodeSpec() for _ in range(nodes)] if isinstance(nodes, int) else list(nodes)
        if not cluster:
            specs = []
        self._cluster = Cluster(
            self._server,
            region=region,
            node_specs=specs,
            autoscale=autoscale and cluster,
            controllers=cluster,
        )
        with self._lock:
            for name in INITIAL_NAMESPACES:
                self._server.create(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                )
            for spec in specs:
                index = next_node_index(self._server)
                self._server.create(node_object(spec, index, region, self._server.timestamp()))
            self._cluster.settle()
        self.simulator = Simulator(self)

    # -- clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the simulated clock forward and run whatever became due; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
            self._cluster.settle()
            return self.now()

    def settle(self) -> None:
        """Run whatever is due now (every call does this first; useful with a wall clock)."""
        with self._lock:
            self._cluster.settle()

    # -- the port --------------------------------------------------------------------------

    def get(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Object:
        with self._lock:
            self._cluster.settle()
            return copy_json(self._server.must(kind, namespace, name))

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
        return self._list(kind, namespace, selector, limit, continue_token, where, copy_json)

    def get_metadata(
        self, kind: ResourceKind, name: str, namespace: str | None = None, *, shared: bool = False
    ) -> Object:
        with self._lock:
            self._cluster.settle()
            obj = self._server.must(kind, namespace, name)
            return partial_metadata(obj) if shared else _metadata_copy(obj)

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
        copy = partial_metadata if shared else _metadata_copy
        return self._list(kind, namespace, selector, limit, continue_token, where, copy)

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
        if names is None and uids is None:
            return super().find(kind, namespace, selector=selector, metadata_only=metadata_only)
        scope = namespace if kind.namespaced else None
        if uids is None and selector is None and (scope is not None or not kind.namespaced):
            assert names is not None
            return self._find_names(kind, scope or "", names, metadata_only, shared)
        matches = _compiled(selector)
        server = self._server
        copy = _copier(metadata_only, shared)
        with self._lock:
            self._cluster.settle()
            found: dict[tuple[str, str], Object] = {}
            if uids is not None:
                for uid in uids:
                    key = server.by_uid.get(uid)
                    if key is None or key[0] is not kind or (scope is not None and key[1] != scope):
                        continue
                    obj = server.by_key(key)
                    if obj is not None and (names is None or key[2] in names):
                        found[key[1], key[2]] = obj
            else:
                assert names is not None
                table = server.table
                spaces = [scope or ""] if scope is not None or not kind.namespaced else None
                for ns in spaces if spaces is not None else table.namespaces(kind):
                    for name in names:
                        obj = table.get(kind, ns, name)
                        if obj is not None:
                            found[ns, name] = obj
            return [
                copy(obj)
                for _, obj in sorted(found.items())
                if matches(obj["metadata"].get("labels") or {})
            ]

    def _find_names(
        self,
        kind: ResourceKind,
        namespace: str,
        names: Collection[str],
        metadata_only: bool,
        shared: bool,
    ) -> builtins.list[Object]:
        """:meth:`find` by names in one namespace (or of a cluster-scoped kind), without a
        selector: the common case (RunTask's reads), answered by dict lookups alone."""
        with self._lock:
            self._cluster.settle()
            objects = self._server.table.objects(kind, namespace)
            if not objects:
                return []
            # find's order is by name; one name (the usual case) needs no sorting
            wanted = names if len(names) == 1 else sorted(set(names))
            found = [obj for name in wanted if (obj := objects.get(name)) is not None]
            if shared and not metadata_only:
                return found
            copy = _copier(metadata_only, shared)
            return [copy(obj) for obj in found]

    def _list(
        self,
        kind: ResourceKind,
        namespace: str | None,
        selector: Selector,
        limit: int | None,
        continue_token: str | None,
        where: Where,
        copy: Callable[[Object], Object],
    ) -> ObjectList:
        matches = _compiled(selector)
        after = _decode_token(continue_token) if continue_token else None
        page_size = limit if limit and limit > 0 else None
        items: builtins.list[Object] = []
        last: tuple[str, str] = ("", "")
        with self._lock:
            self._cluster.settle()
            scope = namespace if kind.namespaced else None
            for key, obj in self._server.table.iterate(kind, scope, after):
                if not matches(obj["metadata"].get("labels") or {}):
                    continue
                if where is not None and not where(obj):
                    continue
                if page_size is not None and len(items) == page_size:
                    return ObjectList(items, _encode_token(last))
                items.append(copy(obj))
                last = key
        return ObjectList(items, None)

    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        with self._lock:
            self._cluster.settle()
            # The API server stores (and defaults in place) what it is given.
            if handed_over:
                stored = self._server.create(obj)
            elif obj.get("kind") == "Pod" and isinstance(obj.get("spec"), dict):
                # The spec is lent, not copied: the server copies it only when it is not
                # one it remembers (a remembered spec is replaced, the given one only read).
                lent = {
                    key: value if key == "spec" else copy_json(value) for key, value in obj.items()
                }
                stored = self._server.create(lent, spec_lent=True)
            else:
                stored = self._server.create(copy_json(obj))
            self._cluster.settle()
            return stored if shared else copy_json(stored)

    def update(self, obj: Object) -> Object:
        with self._lock:
            self._cluster.settle()
            stored = self._server.update(copy_json(obj))
            self._cluster.settle()
            return copy_json(stored)

    def update_status(self, obj: Object) -> Object:
        """Replace only ``status`` (the ``/status`` subresource); not part of the port."""
        with self._lock:
            self._cluster.settle()
            stored = self._server.update(copy_json(obj), status=True)
            self._cluster.settle()
            return copy_json(stored)

    def patch(
        self, kind: ResourceKind, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        return self._patch(kind, name, patch, namespace, status=False)

    def patch_status(
        self, kind: ResourceKind, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        """Merge-patch only ``status`` (the ``/status`` subresource); not part of the port."""
        return self._patch(kind, name, {"status": patch.get("status")}, namespace, status=True)

    def _patch(
        self,
        kind: ResourceKind,
        name: str,
        patch: Mapping[str, Any],
        namespace: str | None,
        *,
        status: bool,
    ) -> Object:
        with self._lock:
            self._cluster.settle()
            current = self._server.must(kind, namespace, name)
            wanted = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise Conflict(conflict_message(kind, name))
            patched = merge_patch(copy_json(current), patch)
            meta = patched.setdefault("metadata", {})
            meta["name"] = name
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            if kind.namespaced:
                meta["namespace"] = namespace_of(kind, namespace)
            patched["apiVersion"], patched["kind"] = kind.api_version, kind.kind
            stored = self._server.update(patched, status=status)
            self._cluster.settle()
            return copy_json(stored)

    def delete(
        self,
        kind: ResourceKind,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str = "Background",
    ) -> None:
        """Delete as the API does. Extra (memory-only) options: ``grace_period_seconds``
        (pods: 0 deletes at once, like ``--force``) and ``propagation_policy``."""
        if propagation_policy not in PROPAGATION:
            raise Invalid(f"propagationPolicy: Unsupported value: {propagation_policy!r}")
        with self._lock:
            self._cluster.settle()
            obj = self._server.must(kind, namespace, name)
            if propagation_policy == "Orphan":
                self._cluster.garbage.orphan(obj["metadata"]["uid"])
            elif propagation_policy == "Foreground" and kind is not kinds.NAMESPACE:
                self._cluster.garbage.foreground(kind, obj)
            self._server.delete(kind, namespace, name, grace=grace_period_seconds)
            self._cluster.settle()

    # -- nodes -----------------------------------------------------------------------------

    def add_node(self, spec: NodeSpec | None = None) -> Object:
        """Register a node (``kecs-node-<n>`` unless ``spec.name`` says otherwise)."""
        with self._lock:
            self._cluster.settle()
            index = next_node_index(self._server)
            node = node_object(spec or NodeSpec(), index, self.region, self._server.timestamp())
            stored = self._server.create(node)
            self._cluster.settle()
            return copy_json(stored)


def _compiled(selector: Selector) -> Requirement:
    try:
        return compile_selector(selector)
    except SelectorError as exc:
        raise Invalid(str(exc)) from None


def _unchanged(obj: Object) -> Object:
    return obj


def _copier(metadata_only: bool, shared: bool) -> Callable[[Object], Object]:
    """How :meth:`MemoryBackend.find` hands out a stored object."""
    if metadata_only:
        return partial_metadata if shared else _metadata_copy
    return _unchanged if shared else copy_json


def _metadata_copy(obj: Object) -> Object:
    return partial_metadata({"metadata": copy_json(obj["metadata"])})


def _encode_token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode("\0".join(key).encode()).decode()


def _decode_token(token: str) -> tuple[str, str]:
    try:
        ns, _, name = base64.urlsafe_b64decode(token.encode()).decode().partition("\0")
    except (ValueError, UnicodeDecodeError):
        raise Invalid(f"invalid continue token {token!r}") from None
    return ns, name
