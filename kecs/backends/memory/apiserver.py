"""The embedded API server's semantics, without locking or copying.

Objects held here are never mutated in place: every write stores a new dict (sharing the
parts it did not change with the previous version), so controllers may read stored objects
directly and structural sharing keeps writes cheap. For the same reason pods share equal spec
parts, and equal pod specs are defaulted and validated once (:mod:`.pod_specs`). Whoever
hands an object to
:meth:`create` or :meth:`update` gives up ownership of it.

Semantics kept from a real API server: ``uid``, ``resourceVersion`` and optimistic
concurrency, ``generation`` bumped on spec changes, ``creationTimestamp``, defaulting,
``status`` as a subresource for the kinds that have one, ``metadata.finalizers`` with
``deletionTimestamp``/``deletionGracePeriodSeconds``, graceful pod deletion, and namespaces
that terminate before they disappear. Every change is reported to :attr:`listeners`
(``kind, old, new``; ``new`` is ``None`` on removal), which is how the controllers hear of it.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from kecs import uuid_text
from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, Conflict, Invalid, NotFound
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory import defaults, validation
from kecs.backends.memory.jsoncopy import copy_json
from kecs.backends.memory.pod_specs import PodSpecs
from kecs.backends.memory.services import ServiceAllocator
from kecs.backends.memory.table import Key, Object, Table

Listener = Callable[[ResourceKind, Object | None, Object | None], None]

#: Kinds whose ``status`` only the status subresource changes.
STATUS_SUBRESOURCE = frozenset(
    {
        kinds.POD,
        kinds.DEPLOYMENT,
        kinds.REPLICA_SET,
        kinds.DAEMON_SET,
        kinds.NODE,
        kinds.NAMESPACE,
        kinds.SERVICE,
        kinds.RESOURCE_QUOTA,
    }
)
#: Kinds whose status a create cannot set (the server starts it afresh).
_FRESH_STATUS = frozenset({kinds.DEPLOYMENT, kinds.REPLICA_SET, kinds.DAEMON_SET})
_SERVER_FIELDS = (
    "uid",
    "creationTimestamp",
    "namespace",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)
#: What a create ignores when a client sets it (``namespace`` is the request's, kept).
_CLIENT_CLEARED = _SERVER_FIELDS[:2] + _SERVER_FIELDS[3:]
#: ``utilrand``'s alphabet for generated names (no vowels, no confusable characters).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATE_BASE = 58
TERMINAL_PHASES = ("Succeeded", "Failed")


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 with second precision, as Kubernetes writes ``metav1.Time``."""
    global _last_formatted
    last = _last_formatted
    if last[0] is moment:  # one moment is often written several times (start, started at)
        return last[1]
    # Formatted per whole second (the clock moves on every call, the text once a second).
    text = _format_second(math.floor(moment.timestamp()))
    _last_formatted = (moment, text)  # one tuple, replaced whole: safe across threads
    return text


#: The moment :func:`format_timestamp` last formatted and its text (datetimes are immutable).
_last_formatted: tuple[datetime | None, str] = (None, "")


@functools.lru_cache(maxsize=4096)
def _format_second(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def namespace_of(kind: ResourceKind, namespace: str | None) -> str:
    if not kind.namespaced:
        return ""
    return namespace or "default"


def is_terminal(pod: Object) -> bool:
    """Whether the pod has ended (``Succeeded`` or ``Failed``)."""
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def owner_uids(obj: Object) -> list[str]:
    refs = obj["metadata"].get("ownerReferences")
    if not refs:
        return []
    return [r["uid"] for r in refs if r.get("uid")]


def controller_uid(obj: Object) -> str | None:
    refs = obj["metadata"].get("ownerReferences")
    if not refs:
        return None
    for ref in refs:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def conflict_message(kind: ResourceKind, name: str) -> str:
    return (
        f'Operation cannot be fulfilled on {kind.plural} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


class ApiServer:
    """``plain=True``: objects are kept as written (no defaulting, ``status`` writable through
    the main resource, pods deleted at once) for a backend without a cluster behind it."""

    def __init__(
        self, now: Callable[[], datetime], rng: random.Random, *, plain: bool = False
    ) -> None:
        self.now = now
        self.rng = rng
        self.plain = plain
        self.table = Table()
        self.by_uid: dict[str, Key] = {}
        #: owner uid -> keys of objects naming it in ``ownerReferences``
        self.dependents: dict[str, set[Key]] = {}
        #: insertion order of every uid ever created (a tie-break finer than timestamps)
        self.births: dict[str, int] = {}
        self.listeners: list[Listener] = []
        self.services = ServiceAllocator()
        self._version = 0
        self._born = 0
        self._stamp_for: datetime | None = None
        self._stamp = ""
        self.pod_specs = PodSpecs()

    # -- reads -----------------------------------------------------------------------------

    def find(self, kind: ResourceKind, namespace: str | None, name: str) -> Object | None:
        return self.table.get(kind, namespace_of(kind, namespace), name)

    def must(self, kind: ResourceKind, namespace: str | None, name: str) -> Object:
        obj = self.find(kind, namespace, name)
        if obj is None:
            raise NotFound(f'{kind.plural} "{name}" not found')
        return obj

    def by_key(self, key: Key) -> Object | None:
        return self.table.get(*key)

    def by_uid_object(self, uid: str) -> Object | None:
        key = self.by_uid.get(uid)
        return None if key is None else self.table.get(*key)

    def timestamp(self) -> str:
        now = self.now()
        if now != self._stamp_for:
            self._stamp_for, self._stamp = now, format_timestamp(now)
        return self._stamp

    # -- writes ----------------------------------------------------------------------------

    def create(self, obj: Object, *, spec_lent: bool = False) -> Object:
        """Store ``obj`` (defaulted in place). ``spec_lent``: its spec is the caller's, only
        read (a remembered spec replaces it) or else copied before it is defaulted."""
        kind = kinds.of(obj)
        meta = obj.setdefault("metadata", {})
        namespace = namespace_of(kind, meta.get("namespace"))
        if kind.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        bucket = self.table.bucket(kind, namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(meta["generateName"], bucket.objects)
        validation.validate_meta(kind, obj)
        spec_key = remembered = None
        if kind is kinds.POD and not self.plain:
            spec_key, remembered = self.pod_specs.recall(obj)
        if remembered is None:
            if spec_lent:
                obj["spec"] = copy_json(obj["spec"])
            if not self.plain:
                defaults.apply(kind, obj)
            validation.validate_create(kind, obj)
        if kind.namespaced:
            ns = self.table.get(kinds.NAMESPACE, "", namespace)
            if ns is None:
                raise NotFound(f'namespaces "{namespace}" not found')
            if ns["metadata"].get("deletionTimestamp"):
                raise Conflict(
                    f"unable to create new content in namespace {namespace} because it is "
                    "being terminated"
                )
        name = meta["name"]
        if name in bucket.objects:
            raise AlreadyExists(f'{kind.plural} "{name}" already exists')
        for field in _CLIENT_CLEARED:
            meta.pop(field, None)
        meta["uid"] = uuid_text.uuid4(self.rng.getrandbits(128))
        meta["creationTimestamp"] = self.timestamp()
        meta["resourceVersion"] = self._next_version()
        if "spec" in obj and kind is not kinds.NAMESPACE:
            meta["generation"] = 1
        if remembered is not None:
            obj["status"] = {"phase": "Pending", "qosClass": remembered[1]}
        else:
            self._initial_status(kind, obj)
            if kind is kinds.POD and not self.plain:
                self.pod_specs.share_parts(obj)
                if spec_key is not None:
                    self.pod_specs.remember(spec_key, obj)
        bucket.put(name, obj)
        key = (kind, namespace, name)
        self.by_uid[meta["uid"]] = key
        self._born += 1
        self.births[meta["uid"]] = self._born
        for uid in owner_uids(obj):
            self.dependents.setdefault(uid, set()).add(key)
        self._notify(kind, None, obj)
        return obj

    def update(self, obj: Object, *, status: bool = False) -> Object:
        """A client's update: of the main resource, or (``status=True``) of its status only."""
        kind = kinds.of(obj)
        meta = obj.get("metadata") or {}
        current = self.must(kind, meta.get("namespace"), meta.get("name", ""))
        wanted = meta.get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict(conflict_message(kind, current["metadata"]["name"]))
        if status:
            new = {**current, "metadata": dict(current["metadata"])}
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return self.commit(kind, current, new)
        obj["metadata"] = meta = dict(meta)
        validation.validate_meta(kind, obj)
        old_meta = current["metadata"]
        for field in _SERVER_FIELDS:
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if kind in STATUS_SUBRESOURCE and (not self.plain or kind is kinds.NAMESPACE):
            if "status" in current:
                obj["status"] = current["status"]
            else:
                obj.pop("status", None)
        if kind is kinds.SERVICE and not self.plain:
            self.services.on_update(current, obj)
        if not self.plain:
            defaults.apply(kind, obj)
        validation.validate_update(kind, current, obj)
        if old_meta.get("deletionTimestamp"):
            added = [
                f
                for f in meta.get("finalizers") or ()
                if f not in (old_meta.get("finalizers") or ())
            ]
            if added:
                listed = ", ".join(f'"{f}"' for f in added)
                raise Invalid(
                    f'{kind.kind} "{meta["name"]}" is invalid: metadata.finalizers: Forbidden: '
                    "no new finalizers can be added if the object is being deleted, found new "
                    f"finalizers []string{{{listed}}}"
                )
        return self.commit(kind, current, obj)

    def commit(self, kind: ResourceKind, old: Object, new: Object, *, bump: bool = True) -> Object:
        """Store ``new`` as the next version of ``old`` (server-side write, no validation).

        ``new["metadata"]`` must be a dict of its own (not ``old``'s). An object being
        deleted whose grace period is over and whose last finalizer went away is removed.
        """
        meta = new["metadata"]
        old_meta = old["metadata"]
        if "generation" in old_meta:
            spec, old_spec = new.get("spec"), old.get("spec")
            changed = bump and spec is not old_spec and spec != old_spec
            meta["generation"] = old_meta["generation"] + (1 if changed else 0)
        self._version += 1
        meta["resourceVersion"] = str(self._version)
        namespace = (old_meta.get("namespace") or "default") if kind.namespaced else ""
        name = old_meta["name"]
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not meta.get("deletionGracePeriodSeconds")
            and kind is not kinds.NAMESPACE
        ):
            self.remove(kind, namespace, name)
            return new
        self.table.bucket(kind, namespace).put(name, new)
        refs, old_refs = meta.get("ownerReferences"), old_meta.get("ownerReferences")
        if refs is not old_refs and refs != old_refs:
            key = (kind, namespace, name)
            for uid in owner_uids(old):
                self._unindex_dependent(uid, key)
            for uid in owner_uids(new):
                self.dependents.setdefault(uid, set()).add(key)
        self._notify(kind, old, new)
        return new

    def write(self, kind: ResourceKind, old: Object, *, bump: bool = True, **parts: Any) -> Object:
        """Commit ``old`` with top-level parts replaced (``spec=...``, ``status=...``).

        ``bump=False`` keeps ``generation`` (a pod's binding is not a spec change by a user).
        """
        new = {**old, **parts}
        if "metadata" not in parts:
            new["metadata"] = dict(old["metadata"])
        return self.commit(kind, old, new, bump=bump)

    def delete(
        self, kind: ResourceKind, namespace: str | None, name: str, *, grace: int | None = None
    ) -> Object | None:
        """Delete as the API does.

        The object stays (and is returned) while it terminates or has finalizers; ``None``
        means it is gone.
        """
        obj = self.must(kind, namespace, name)
        meta = obj["metadata"]
        now = self.now()
        if kind is kinds.NAMESPACE:
            if meta.get("deletionTimestamp"):
                return obj
            new_meta = {**meta, "deletionTimestamp": format_timestamp(now)}
            status = {**obj.get("status", {}), "phase": "Terminating"}
            return self.commit(kind, obj, {**obj, "metadata": new_meta, "status": status})
        if meta.get("deletionTimestamp"):
            current = meta.get("deletionGracePeriodSeconds") or 0
            if grace is None or grace >= current:
                return obj
            new_meta = {**meta, "deletionGracePeriodSeconds": grace}
            shortened = format_timestamp(now + timedelta(seconds=grace))
            new_meta["deletionTimestamp"] = min(meta["deletionTimestamp"], shortened)
            stored = self.commit(kind, obj, {**obj, "metadata": new_meta})
            return None if self.find(kind, namespace, name) is None else stored
        if kind is kinds.POD and not self.plain:
            spec, phase = obj.get("spec") or {}, (obj.get("status") or {}).get("phase")
            if grace is None:
                grace = int(spec.get("terminationGracePeriodSeconds", 30))
            if not spec.get("nodeName") or phase in TERMINAL_PHASES:
                grace = 0
        else:
            grace = 0
        grace = max(grace, 0)
        if grace == 0 and not meta.get("finalizers"):
            self.remove(kind, namespace_of(kind, namespace), name)
            return None
        new_meta = {
            **meta,
            "deletionTimestamp": format_timestamp(now + timedelta(seconds=grace)),
            "deletionGracePeriodSeconds": grace,
        }
        if "generation" in meta:
            new_meta["generation"] = meta["generation"] + 1
        new = {**obj, "metadata": new_meta}
        new_meta["resourceVersion"] = self._next_version()
        self.table.bucket(kind, namespace_of(kind, namespace)).put(name, new)
        self._notify(kind, obj, new)
        return new

    def remove(self, kind: ResourceKind, namespace: str, name: str) -> None:
        """Take the object out for good (what follows the last finalizer's removal)."""
        obj = self.table.bucket(kind, namespace).pop(name)
        if obj is None:
            return
        key = (kind, namespace, name)
        uid = obj["metadata"]["uid"]
        self.by_uid.pop(uid, None)
        self.births.pop(uid, None)
        for owner in owner_uids(obj):
            self._unindex_dependent(owner, key)
        self._notify(kind, obj, None)

    # -- internals -------------------------------------------------------------------------

    def _notify(self, kind: ResourceKind, old: Object | None, new: Object | None) -> None:
        for listener in self.listeners:
            listener(kind, old, new)

    def _unindex_dependent(self, owner: str, key: Key) -> None:
        keys = self.dependents.get(owner)
        if keys is not None:
            keys.discard(key)
            if not keys and owner not in self.by_uid:
                del self.dependents[owner]

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def _generate_name(self, base: str, taken: dict[str, Object]) -> str:
        base = base[:_MAX_GENERATE_BASE]
        for _ in range(16):
            name = base + "".join(self.rng.choice(NAME_ALPHABET) for _ in range(5))
            if name not in taken:
                return name
        return name  # the create then fails with AlreadyExists, as on a real server

    def _initial_status(self, kind: ResourceKind, obj: Object) -> None:
        if kind is kinds.NAMESPACE:
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj[
                "metadata"
            ]["name"]
        elif self.plain:
            return
        elif kind is kinds.POD:
            obj["status"] = {"phase": "Pending", "qosClass": defaults.qos_class(obj["spec"])}
        elif kind in _FRESH_STATUS:
            obj["status"] = {}
        elif kind is kinds.SERVICE:
            self.services.on_create(obj)
