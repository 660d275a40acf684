"""The scheduler's nodes in score order, so a pod is placed in O(log n) rather than O(n).

For a pod without inter-pod rules the scheduler wants, among the nodes that pass the static
filters (:func:`~.filters.static_reason`) and have room (:func:`~.filters.resource_reasons`),
the one with the smallest score: pods of the same owner on it, then how allocated it would be,
then its pod count, then its name. That depends on the pod only through its static scheduling
fields (tolerations, node selector, required node affinity), its requests and its owner: the
pods of one kind, as RunTask or a ReplicaSet makes them, share one :class:`Candidates`.

A :class:`Candidates` is a min-heap of ``(score, node)`` entries, kept lazily: whenever a
node's score inputs change (:attr:`NodeCache.changed`) a fresh entry is pushed, and entries
that no longer match the node's current score are dropped when they reach the top. Every
node therefore always has an entry with its current score, older entries have other scores,
and the first current entry at the top whose node fits is exactly the node a pass over every
node would pick. A node without room leaves the heap until it changes again (only a change
can give it room). The ``Candidates`` of the most recent pod kinds are kept (:class:`Index`).
"""

from __future__ import annotations

import heapq
import marshal
from collections.abc import Hashable
from typing import Any

from kecs.backends.memory import labelsel
from kecs.backends.memory.controllers.filters import resource_reasons, static_reason
from kecs.backends.memory.controllers.nodes import NodeCache, NodeInfo

Object = dict[str, Any]
Score = tuple[int, float, int, str]

#: How many pod kinds keep a heap.
MAX_KINDS = 16


def allocated(requests: dict[str, int], info: NodeInfo) -> float:
    """How allocated ``info`` would be with ``requests`` on it (cpu and memory fractions)."""
    total = 0.0
    for name in ("cpu", "memory"):
        capacity = info.allocatable.get(name, 0)
        if capacity:
            total += (info.requested.get(name, 0) + requests.get(name, 0)) / capacity
    return total


def score(requests: dict[str, int], owner: str | None, info: NodeInfo) -> Score:
    """The scheduler's ordering of fitting nodes (smallest first) for a pod without
    inter-pod rules."""
    return (
        info.owners.get(owner, 0) if owner else 0,
        allocated(requests, info),
        info.requested.get("pods", 0),
        info.name,
    )


def pod_kind(spec: Object, requests: dict[str, int], owner: str | None) -> Hashable:
    """What makes two pods see the same candidate order (equal kinds: equal answers)."""
    static = (
        spec.get("tolerations"),
        spec.get("nodeSelector"),
        labelsel.required_node_affinity(spec),
    )
    try:
        # Equal bytes mean equal fields (marshal is several times faster than repr).
        text: bytes | str = marshal.dumps(static, 2)
    except ValueError:  # something JSON never holds
        text = repr(static)
    return (text, tuple(sorted(requests.items())), owner)


class Candidates:
    """The statically eligible nodes for one pod kind, by score (see the module docs)."""

    def __init__(
        self, spec: Object, requests: dict[str, int], owner: str | None, nodes: NodeCache
    ) -> None:
        self.spec = spec
        self.requests = requests
        self.owner = owner
        self.nodes = nodes
        #: node -> the NodeInfo version its static eligibility was decided for, and the verdict
        self._eligible: dict[str, tuple[int, bool]] = {}
        self.heap: list[Score] = []
        self.rebuild()

    def rebuild(self) -> None:
        self.heap = []
        for info in self.nodes.infos.values():
            if self._is_eligible(info):
                self.heap.append(score(self.requests, self.owner, info))
        heapq.heapify(self.heap)

    def _is_eligible(self, info: NodeInfo) -> bool:
        known = self._eligible.get(info.name)
        if known is not None and known[0] == info.version:
            return known[1]
        verdict = static_reason(self.spec, info) is None
        self._eligible[info.name] = (info.version, verdict)
        return verdict

    def offer(self, info: NodeInfo) -> None:
        """``info`` changed: give it an entry with its current score (if it is eligible)."""
        if self._is_eligible(info):
            heapq.heappush(self.heap, score(self.requests, self.owner, info))
            if len(self.heap) > 2 * len(self.nodes.infos) + 64:
                self.rebuild()  # too many outdated entries

    def best(self) -> str | None:
        """The node a pass over every node would pick, or ``None`` when none fits."""
        heap, infos = self.heap, self.nodes.infos
        while heap:
            top = heap[0]
            info = infos.get(top[3])
            if (
                info is None
                or score(self.requests, self.owner, info) != top
                or not self._is_eligible(info)
                or resource_reasons(self.requests, info)
            ):
                heapq.heappop(heap)
                continue
            return info.name
        return None


class Index:
    """The :class:`Candidates` of the pod kinds scheduled most recently."""

    def __init__(self, nodes: NodeCache) -> None:
        self.nodes = nodes
        self._kinds: dict[Hashable, Candidates] = {}
        #: the spec parts and requests the last :func:`pod_kind` was worked out from, and it
        self._last: tuple[Any, Any, Any, Any, str | None, Hashable] | None = None
        nodes.changed.append(self._changed)

    def _changed(self, info: NodeInfo) -> None:
        for candidates in self._kinds.values():
            candidates.offer(info)

    def kind(self, spec: Object, requests: dict[str, int], owner: str | None) -> Hashable:
        """:func:`pod_kind`, remembered for the last parts read: stored objects are never
        changed in place and the pods of a workload or task definition share their spec parts
        (and :meth:`NodeCache.requests` its answer), so the same objects mean the same kind."""
        parts = (spec.get("tolerations"), spec.get("nodeSelector"), spec.get("affinity"))
        last = self._last
        if (
            last is not None
            and last[0] is parts[0]
            and last[1] is parts[1]
            and last[2] is parts[2]
            and last[3] is requests
            and last[4] == owner
        ):
            return last[5]
        key = pod_kind(spec, requests, owner)
        self._last = (*parts, requests, owner, key)
        return key

    def best(self, spec: Object, requests: dict[str, int], owner: str | None) -> str | None:
        key = self.kind(spec, requests, owner)
        candidates = self._kinds.pop(key, None)
        if candidates is None:
            if len(self._kinds) >= MAX_KINDS:
                del self._kinds[next(iter(self._kinds))]
            candidates = Candidates(spec, requests, owner, self.nodes)
        self._kinds[key] = candidates  # most recently used last
        return candidates.best()
