"""The DaemonSet controller: one pod per eligible node, rolled out node by node.

A node is eligible when the template's ``nodeSelector`` and required node affinity match it
and its ``NoSchedule``/``NoExecute`` taints are tolerated (with the tolerations the controller
adds to every daemon pod). Pods are pinned with a ``metadata.name`` node affinity and bound
by the scheduler, as in Kubernetes. Template versions are ``ControllerRevision`` objects; pods
carry ``controller-revision-hash``. ``RollingUpdate`` replaces at most ``maxUnavailable``
available pods at a time (or, with ``maxSurge``, starts the new pod first on up to
``maxSurge`` nodes); ``OnDelete`` waits for pods to be deleted. Failed pods are replaced.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import BackendError
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer, controller_uid
from kecs.backends.memory.controllers import Manager, conditions
from kecs.backends.memory.controllers import deployment_util as du
from kecs.backends.memory.controllers.filters import matches_node, untolerated_taint
from kecs.backends.memory.controllers.nodes import NodeCache, NodeInfo
from kecs.backends.memory.jsoncopy import copy_json

Object = dict[str, Any]
Key = tuple[str, str]

NAME = "daemonset"
REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION = "pod-template-generation"
_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


def daemon_pod_spec(template_spec: Object, node: str | None = None) -> Object:
    """The template's pod spec with the daemon tolerations (and, for a node, its pinning)."""
    spec = copy_json(template_spec)
    tolerations = spec.setdefault("tolerations", [])
    wanted = list(_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    present = {(t.get("key"), t.get("effect")) for t in tolerations}
    for key, effect in wanted:
        if (key, effect) not in present:
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    if node is not None:
        pin = {"key": "metadata.name", "operator": "In", "values": [node]}
        affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        required = affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
        terms = required.get("nodeSelectorTerms") or [{}]
        required["nodeSelectorTerms"] = [{**term, "matchFields": [pin]} for term in terms]
    return spec


def should_run(spec: Object, info: NodeInfo) -> bool:
    return matches_node(spec, info) and untolerated_taint(spec, info) is None


def target_node(pod: Object) -> str | None:
    if pod["spec"].get("nodeName"):
        return str(pod["spec"]["nodeName"])
    affinity = ((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in affinity.get("nodeSelectorTerms") or ():
        for field in term.get("matchFields") or ():
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return None


class DaemonSets:
    def __init__(self, manager: Manager, server: ApiServer, nodes: NodeCache) -> None:
        self.manager = manager
        self.server = server
        self.nodes = nodes
        self.known: dict[str, Key] = {}
        manager.register(NAME, self.sync)
        manager.watch(kinds.DAEMON_SET, self._on_ds)
        manager.watch(kinds.POD, self._on_pod)
        manager.watch(kinds.NODE, self._on_node)

    def _on_ds(self, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            self.known.pop(old["metadata"]["uid"], None)
            return
        key = (new["metadata"]["namespace"], new["metadata"]["name"])
        self.known[new["metadata"]["uid"]] = key
        if (
            old is None
            or old["spec"] is not new["spec"]
            or old["metadata"].get("deletionTimestamp") != new["metadata"].get("deletionTimestamp")
        ):
            self.manager.enqueue(NAME, key)

    def _on_pod(self, old: Object | None, new: Object | None) -> None:
        if not self.known:  # no DaemonSet: no pod can be one's
            return
        obj = new if new is not None else old
        assert obj is not None
        owner = controller_uid(obj)
        if owner and owner in self.known:
            self.manager.enqueue(NAME, self.known[owner])

    def _on_node(self, old: Object | None, new: Object | None) -> None:
        for key in self.known.values():
            self.manager.enqueue(NAME, key)

    def sync(self, key: Key) -> None:
        ds = self.server.find(kinds.DAEMON_SET, *key)
        if ds is None:
            return
        current_hash = self._revision(ds)
        template_spec = ds["spec"]["template"].get("spec") or {}
        probe = daemon_pod_spec(template_spec)
        eligible = [
            name for name, info in sorted(self.nodes.infos.items()) if should_run(probe, info)
        ]
        by_node: dict[str, list[Object]] = {}
        for pod in self._pods(ds):
            if (pod.get("status") or {}).get("phase") == "Failed" and not pod["metadata"].get(
                "deletionTimestamp"
            ):
                self._delete(pod)
                continue
            node = target_node(pod)
            if node is not None and not pod["metadata"].get("deletionTimestamp"):
                by_node.setdefault(node, []).append(pod)
        deleting = bool(ds["metadata"].get("deletionTimestamp"))
        if not deleting:
            self._manage(ds, eligible, by_node, current_hash)
        self._status(ds, eligible, current_hash)

    def _pods(self, ds: Object) -> list[Object]:
        uid = ds["metadata"]["uid"]
        found = []
        for key in self.server.dependents.get(uid, ()):
            if key[0] is kinds.POD:
                pod = self.server.by_key(key)
                if pod is not None and controller_uid(pod) == uid:
                    found.append(pod)
        found.sort(key=lambda p: self.server.births.get(p["metadata"]["uid"], 0))
        return found

    def _manage(
        self, ds: Object, eligible: list[str], by_node: dict[str, list[Object]], current: str
    ) -> None:
        wanted = set(eligible)
        for node, pods in by_node.items():
            if node not in wanted or node not in self.nodes.infos:
                for pod in pods:
                    self._delete(pod)
        strategy = ds["spec"].get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        is_rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        desired = len(eligible)
        max_unavailable = du.scaled(rolling.get("maxUnavailable", 1), desired, True)
        max_surge = du.scaled(rolling.get("maxSurge", 0), desired, True) if is_rolling else 0
        unavailable = 0
        surging = 0
        replace: list[Object] = []
        surge_candidates: list[str] = []
        for node in eligible:
            pods = by_node.get(node, [])
            new = [p for p in pods if _hash(p) == current]
            old = [p for p in pods if _hash(p) != current]
            if not pods:
                self._create(ds, node, current)
                unavailable += 1
                continue
            if len(new) > 1:
                for extra in new[1:]:
                    self._delete(extra)
            if not is_rolling or not old:
                if not any(self._available(ds, p) for p in pods):
                    unavailable += 1
                continue
            if new:
                if self._available(ds, new[0]):
                    for pod in old:
                        self._delete(pod)
                else:
                    surging += 1
                    unavailable += 1
                continue
            if not self._available(ds, old[0]):
                for pod in old:
                    self._delete(pod)
                unavailable += 1
            elif max_surge:
                surge_candidates.append(node)
            else:
                replace.append(old[0])
        if max_surge:
            for node in surge_candidates[: max(max_surge - surging, 0)]:
                self._create(ds, node, current)
            return
        for pod in replace[: max(max_unavailable - unavailable, 0)]:
            self._delete(pod)

    def _available(self, ds: Object, pod: Object) -> bool:
        status = pod.get("status") or {}
        return status.get("phase") not in TERMINAL_PHASES and conditions.is_true(
            status.get("conditions"), "Ready"
        )

    def _create(self, ds: Object, node: str, current: str) -> None:
        meta = ds["metadata"]
        template = ds["spec"]["template"]
        template_meta = template.get("metadata") or {}
        labels = {
            **(template_meta.get("labels") or {}),
            REVISION_HASH: current,
            TEMPLATE_GENERATION: str(meta.get("generation", 1)),
        }
        pod_meta: Object = {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        for field in ("annotations", "finalizers"):
            if template_meta.get(field):
                pod_meta[field] = copy_json(template_meta[field])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta}
        pod["spec"] = daemon_pod_spec(template.get("spec") or {}, node)
        try:
            self.server.create(pod)
        except BackendError:
            return  # e.g. the namespace is terminating: nothing to create there

    def _delete(self, pod: Object) -> None:
        meta = pod["metadata"]
        if self.server.find(kinds.POD, meta["namespace"], meta["name"]) is not None:
            self.server.delete(kinds.POD, meta["namespace"], meta["name"])

    def _revision(self, ds: Object) -> str:
        meta = ds["metadata"]
        collisions = (ds.get("status") or {}).get("collisionCount")
        current = du.template_hash(ds["spec"]["template"], collisions)
        revisions = [
            rev
            for key in self.server.dependents.get(meta["uid"], ())
            if key[0] is kinds.CONTROLLER_REVISION and (rev := self.server.by_key(key)) is not None
        ]
        top = max((int(r.get("revision", 0)) for r in revisions), default=0)
        mine = next(
            (
                r
                for r in revisions
                if (r["metadata"].get("labels") or {}).get(REVISION_HASH) == current
            ),
            None,
        )
        if mine is None:
            labels = {**(ds["spec"]["selector"].get("matchLabels") or {}), REVISION_HASH: current}
            template = {**copy_json(ds["spec"]["template"]), "$patch": "replace"}
            with contextlib.suppress(BackendError):
                self.server.create(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ControllerRevision",
                        "metadata": {
                            "name": f"{meta['name']}-{current}",
                            "namespace": meta["namespace"],
                            "labels": labels,
                            "ownerReferences": [
                                {
                                    "apiVersion": "apps/v1",
                                    "kind": "DaemonSet",
                                    "name": meta["name"],
                                    "uid": meta["uid"],
                                    "controller": True,
                                    "blockOwnerDeletion": True,
                                }
                            ],
                        },
                        "data": {"spec": {"template": template}},
                        "revision": top + 1,
                    }
                )
        elif int(mine.get("revision", 0)) < top:
            self.server.write(kinds.CONTROLLER_REVISION, mine, revision=top + 1)
        self._prune(ds, revisions, current)
        return current

    def _prune(self, ds: Object, revisions: list[Object], current: str) -> None:
        limit = int(ds["spec"].get("revisionHistoryLimit", 10))
        live = {_hash(p) for p in self._pods(ds)} | {current}
        stale = [
            r
            for r in revisions
            if (r["metadata"].get("labels") or {}).get(REVISION_HASH) not in live
        ]
        stale.sort(key=lambda r: int(r.get("revision", 0)))
        for rev in stale[: max(len(stale) - limit, 0)]:
            self.server.delete(
                kinds.CONTROLLER_REVISION, rev["metadata"]["namespace"], rev["metadata"]["name"]
            )

    def _status(self, ds: Object, eligible: list[str], current: str) -> None:
        wanted = set(eligible)
        scheduled = misscheduled = ready = available = updated = 0
        by_node: dict[str, Object] = {}
        for pod in self._pods(ds):
            node = target_node(pod)
            if node is None or pod["metadata"].get("deletionTimestamp"):
                continue
            if node not in wanted:
                misscheduled += 1
                continue
            if node in by_node:
                continue
            by_node[node] = pod
            scheduled += 1
            if self._available(ds, pod):
                ready += 1
                available += 1
            if _hash(pod) == current:
                updated += 1
        status: Object = {
            "currentNumberScheduled": scheduled,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": len(eligible),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
        }
        for field, value in (
            ("updatedNumberScheduled", updated),
            ("numberAvailable", available),
            ("numberUnavailable", len(eligible) - available),
        ):
            if value:
                status[field] = value
        old = ds.get("status") or {}
        if old.get("collisionCount"):
            status["collisionCount"] = old["collisionCount"]
        if status != old:
            self.server.write(kinds.DAEMON_SET, ds, status=status)


def _hash(pod: Object) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(REVISION_HASH)
