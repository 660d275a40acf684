"""Garbage collection, namespace termination and orphaned-pod cleanup.

- Garbage collector: when an owner disappears, each dependent (``ownerReferences``) that has
  no other live owner is deleted (background propagation, transitively, honouring
  finalizers: a dependent with finalizers stays with a ``deletionTimestamp``); a dependent
  that still has a live owner only loses the dangling reference.
- Namespace controller: a deleted namespace is ``Terminating``; everything in it is deleted,
  and the namespace goes once it is empty (objects held by finalizers keep it terminating).
- Pod GC: pods bound to a node that no longer exists are marked ``Failed`` with a
  ``DisruptionTarget`` condition (reason ``DeletionByPodGC``), their containers reported
  terminated (``ContainerStatusUnknown``, exit code 137), and force-deleted.
"""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer, owner_uids
from kecs.backends.memory.controllers import Manager, conditions
from kecs.backends.memory.controllers.nodes import NodeCache

Object = dict[str, Any]

GC = "garbage-collector"
FOREGROUND = "foregroundDeletion"
NAMESPACES = "namespace"
PODGC = "podgc"
NODE_GONE_REASON = "DeletionByPodGC"
NODE_GONE_MESSAGE = "PodGC: node no longer exists"
LOST_RUNNING = (
    "The container could not be located when the pod was deleted.  The container used to be Running"
)
LOST_WAITING = "The container could not be located when the pod was terminated"


class Garbage:
    def __init__(self, manager: Manager, server: ApiServer, nodes: NodeCache) -> None:
        self.manager = manager
        self.server = server
        self.nodes = nodes
        #: why the pods of a removed node go: node name -> (reason, message)
        self.node_reasons: dict[str, tuple[str, str]] = {}
        manager.register(GC, self.collect)
        manager.register(NAMESPACES, self.finalize_namespace)
        manager.register(PODGC, self.orphaned_pod)
        manager.watch_all(self._on_any)

    def _on_any(self, kind: ResourceKind, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            meta = old["metadata"]
            if meta["uid"] in self.server.dependents:
                self.manager.enqueue(GC, meta["uid"])
            for uid in owner_uids(old):
                owner = self.server.by_uid_object(uid)
                if owner is not None and FOREGROUND in (owner["metadata"].get("finalizers") or ()):
                    self.manager.enqueue(GC, uid)
            if kind.namespaced:
                ns = self.server.find(kinds.NAMESPACE, None, meta["namespace"])
                if ns is not None and ns["metadata"].get("deletionTimestamp"):
                    self.manager.enqueue(NAMESPACES, meta["namespace"])
            if kind is kinds.NODE:
                for key in sorted(self.nodes.pods_by_node.get(meta["name"], ())):
                    self.manager.enqueue(PODGC, key)
            return
        # Only a namespace being deleted, or a new object whose owner is missing, starts work
        # here: an update of anything else, or a new object without owners, is nothing to us.
        if kind is not kinds.NAMESPACE and (
            old is not None or not new["metadata"].get("ownerReferences")
        ):
            return
        meta = new["metadata"]
        if old is None:
            for uid in owner_uids(new):
                if uid not in self.server.by_uid:
                    self.manager.enqueue(GC, uid)
        newly_deleted = old is None or not old["metadata"].get("deletionTimestamp")
        if kind is kinds.NAMESPACE and meta.get("deletionTimestamp") and newly_deleted:
            self.manager.enqueue(NAMESPACES, meta["name"])

    def orphan(self, owner: str) -> None:
        """Delete with ``propagationPolicy: Orphan``: dependents lose the reference and stay."""
        for key in sorted(self.server.dependents.get(owner, ()), key=_order):
            obj = self.server.by_key(key)
            if obj is not None:
                meta = obj["metadata"]
                refs = [r for r in meta.get("ownerReferences") or () if r.get("uid") != owner]
                new_meta = {**meta, "ownerReferences": refs}
                if not refs:
                    del new_meta["ownerReferences"]
                self.server.write(key[0], obj, metadata=new_meta)

    def foreground(self, kind: ResourceKind, obj: Object) -> None:
        """Delete with ``propagationPolicy: Foreground``: the owner waits for its dependents."""
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or ())
        if FOREGROUND not in finalizers and not meta.get("deletionTimestamp"):
            self.server.write(kind, obj, metadata={**meta, "finalizers": [*finalizers, FOREGROUND]})
        self.manager.enqueue(GC, meta["uid"])

    def _collect_foreground(self, owner: Object) -> None:
        meta = owner["metadata"]
        if not meta.get("deletionTimestamp") or FOREGROUND not in (meta.get("finalizers") or ()):
            return
        keys = sorted(self.server.dependents.get(meta["uid"], ()), key=_order)
        for key in keys:
            dependent = self.server.by_key(key)
            if dependent is not None and not dependent["metadata"].get("deletionTimestamp"):
                self.foreground(key[0], dependent)
                self.server.delete(key[0], key[1], key[2])
        if not self.server.dependents.get(meta["uid"]):
            owner = self.server.by_uid_object(meta["uid"]) or owner
            kept = [f for f in owner["metadata"].get("finalizers") or () if f != FOREGROUND]
            key = self.server.by_uid[meta["uid"]]
            self.server.write(key[0], owner, metadata={**owner["metadata"], "finalizers": kept})

    def collect(self, owner: str) -> None:
        existing = self.server.by_uid_object(owner)
        if existing is not None:
            self._collect_foreground(existing)
            return
        for key in sorted(self.server.dependents.get(owner, ()), key=_order):
            obj = self.server.by_key(key)
            if obj is None:
                continue
            meta = obj["metadata"]
            refs = meta.get("ownerReferences") or []
            alive = [r for r in refs if r.get("uid") in self.server.by_uid]
            if alive:
                self.server.write(key[0], obj, metadata={**meta, "ownerReferences": alive})
            elif not meta.get("deletionTimestamp"):
                self.server.delete(key[0], key[1], key[2])
        left = self.server.dependents.get(owner)
        if left is not None and not left:
            del self.server.dependents[owner]

    def finalize_namespace(self, name: str) -> None:
        ns = self.server.find(kinds.NAMESPACE, None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        for kind, obj in self.server.table.in_namespace(name):
            meta = obj["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            try:
                self.server.delete(kind, name, meta["name"])
            except NotFound:
                continue
        if self.server.table.namespace_is_empty(name):
            self.server.remove(kinds.NAMESPACE, "", name)

    def orphaned_pod(self, key: tuple[str, str]) -> None:
        pod = self.server.find(kinds.POD, *key)
        if pod is None:
            return
        node = pod["spec"].get("nodeName")
        if not node or node in self.nodes.infos:
            return
        reason, message = self.node_reasons.get(node, (NODE_GONE_REASON, NODE_GONE_MESSAGE))
        status = dict(pod.get("status") or {})
        now = self.server.timestamp()
        if status.get("phase") not in TERMINAL_PHASES:
            status["phase"] = "Failed"
        current = status.get("conditions")
        target = conditions.pod_condition(
            conditions.find(current, "DisruptionTarget"),
            "DisruptionTarget",
            "True",
            now,
            reason,
            message,
        )
        status["conditions"] = conditions.replaced(current, target)
        for field in ("initContainerStatuses", "containerStatuses"):
            if field in status:
                status[field] = [_lost(c, now) for c in status[field]]
        if status != pod.get("status"):
            self.server.write(kinds.POD, pod, status=status)
        self.server.delete(kinds.POD, *key, grace=0)


def _order(key: tuple[ResourceKind, str, str]) -> tuple[str, str, str]:
    return key[0].kind, key[1], key[2]


def _lost(container: Object, now: str) -> Object:
    state = container.get("state") or {}
    if "terminated" in state:
        return container
    started = (state.get("running") or {}).get("startedAt")
    terminated: Object = {
        "exitCode": 137,
        "reason": "ContainerStatusUnknown",
        "message": LOST_RUNNING if started else LOST_WAITING,
        "finishedAt": now,
    }
    if started:
        terminated["startedAt"] = started
    if container.get("containerID"):
        terminated["containerID"] = container["containerID"]
    return {**container, "state": {"terminated": terminated}, "ready": False, "started": False}
