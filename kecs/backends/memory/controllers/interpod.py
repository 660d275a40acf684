"""Rules that depend on other pods: inter-pod (anti-)affinity and topology spread.

Worked out once per scheduling attempt (one pass over the bound pods), and only for pods that
have such rules or when some bound pod has a required anti-affinity (which, as in Kubernetes,
also keeps matching pods away: the rule is symmetric). Supported:

- required pod affinity and anti-affinity (``labelSelector``, ``namespaces``,
  ``namespaceSelector``, any ``topologyKey``), with Kubernetes' exception that the first pod
  of a group may go anywhere when it matches its own affinity term;
- topology spread constraints: ``DoNotSchedule`` filters on ``maxSkew``, ``ScheduleAnyway``
  prefers the emptier domains; ``matchLabelKeys`` narrows the selector;
- preferred pod affinity and preferred node affinity, as score weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import labelsel
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer
from kecs.backends.memory.controllers.filters import matches_node
from kecs.backends.memory.controllers.nodes import NodeCache, NodeInfo

Object = dict[str, Any]
Domain = tuple[str, str]  # (topology key, value)

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
AFFINITY_MISMATCH = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_MISMATCH = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
SPREAD_MISMATCH = "node(s) didn't match pod topology spread constraints"
SPREAD_MISSING_LABEL = (
    "node(s) didn't match pod topology spread constraints (missing required label)"
)


def _section(spec: Object, kind: str) -> Object:
    found: Object = (spec.get("affinity") or {}).get(kind) or {}
    return found


def has_rules(spec: Object) -> bool:
    affinity = spec.get("affinity") or {}
    return bool(
        affinity.get("podAffinity")
        or affinity.get("podAntiAffinity")
        or spec.get("topologySpreadConstraints")
        or (affinity.get("nodeAffinity") or {}).get(PREFERRED)
    )


def has_required_anti_affinity(spec: Object) -> bool:
    return bool(_section(spec, "podAntiAffinity").get(REQUIRED))


class Context:
    """What one pod's inter-pod rules need to know about the cluster right now."""

    def __init__(
        self,
        server: ApiServer,
        nodes: NodeCache,
        pod: Object,
        anti_holders: Iterable[tuple[str, str]],
    ) -> None:
        self.server = server
        self.nodes = nodes
        self.pod = pod
        self.spec: Object = pod["spec"]
        self.namespace: str = pod["metadata"]["namespace"]
        self.labels: dict[str, str] = pod["metadata"].get("labels") or {}
        # The one pass over bound pods, only when the pod has rules of its own.
        self.bound = list(self._bound_pods()) if has_rules(self.spec) else []
        self.affinity = list(_section(self.spec, "podAffinity").get(REQUIRED) or ())
        self.anti = list(_section(self.spec, "podAntiAffinity").get(REQUIRED) or ())
        self.affinity_domains = [self._domains(t) for t in self.affinity]
        self.anti_domains = [self._domains(t) for t in self.anti]
        self.forbidden = self._existing_anti_affinity(anti_holders)
        self.spread = [self._spread(c) for c in self.spec.get("topologySpreadConstraints") or ()]
        self.preferred = [
            (
                int(w.get("weight", 1)),
                self._domains(w.get("podAffinityTerm") or {}),
                w["podAffinityTerm"],
            )
            for w in _section(self.spec, "podAffinity").get(PREFERRED) or ()
        ]

    def _bound_pods(self) -> Iterable[tuple[NodeInfo, Object]]:
        for node, keys in self.nodes.pods_by_node.items():
            info = self.nodes.infos.get(node)
            if info is None:
                continue
            for key in keys:
                other = self.server.find(kinds.POD, *key)
                if (
                    other is not None
                    and (other.get("status") or {}).get("phase") not in TERMINAL_PHASES
                ):
                    yield info, other

    def _namespaces(self, term: Object, owner_namespace: str) -> set[str] | None:
        """The namespaces a term looks in (``None``: all of them)."""
        listed = set(term.get("namespaces") or ())
        selector = term.get("namespaceSelector")
        if selector is None:
            return listed or {owner_namespace}
        if labelsel.is_empty(selector):
            return None
        for key, ns in self.server.table.iterate(kinds.NAMESPACE, None):
            if labelsel.matches(selector, ns["metadata"].get("labels")):
                listed.add(key[1])
        return listed

    def _matches(self, term: Object, owner_namespace: str, candidate: Object) -> bool:
        namespaces = self._namespaces(term, owner_namespace)
        if namespaces is not None and candidate["metadata"]["namespace"] not in namespaces:
            return False
        return labelsel.matches(term.get("labelSelector"), candidate["metadata"].get("labels"))

    def _domains(self, term: Object) -> dict[Domain, int]:
        key = term.get("topologyKey", "")
        found: dict[Domain, int] = {}
        for info, other in self.bound:
            value = info.labels.get(key)
            if value is not None and self._matches(term, self.namespace, other):
                found[(key, value)] = found.get((key, value), 0) + 1
        return found

    def _existing_anti_affinity(self, holders: Iterable[tuple[str, str]]) -> set[Domain]:
        forbidden: set[Domain] = set()
        for key in holders:
            other = self.server.find(kinds.POD, *key)
            node = other["spec"].get("nodeName") if other is not None else None
            info = self.nodes.infos.get(node) if node else None
            if other is None or info is None or other is self.pod:
                continue
            for term in _section(other["spec"], "podAntiAffinity").get(REQUIRED) or ():
                topology = term.get("topologyKey", "")
                value = info.labels.get(topology)
                if value is not None and self._matches(
                    term, other["metadata"]["namespace"], self.pod
                ):
                    forbidden.add((topology, value))
        return forbidden

    def _spread(self, constraint: Object) -> tuple[Object, dict[Domain, int], bool]:
        selector = dict(constraint.get("labelSelector") or {})
        keys = constraint.get("matchLabelKeys") or ()
        if keys:
            extra = {k: self.labels[k] for k in keys if k in self.labels}
            selector["matchLabels"] = {**(selector.get("matchLabels") or {}), **extra}
        term = {"labelSelector": selector, "topologyKey": constraint.get("topologyKey", "")}
        counts = self._domains(term)
        honour = constraint.get("nodeAffinityPolicy", "Honor") == "Honor"
        for info in self.nodes.infos.values():
            value = info.labels.get(term["topologyKey"])
            if value is not None and (not honour or matches_node(self.spec, info)):
                counts.setdefault((term["topologyKey"], value), 0)
        return constraint, counts, labelsel.matches(selector, self.labels)

    # -- filtering and scoring ---------------------------------------------------------------

    def reason(self, info: NodeInfo) -> tuple[str, bool] | None:
        """Why ``info`` cannot take the pod: (reason, unresolvable), or ``None``."""
        for constraint, counts, self_match in self.spread:
            if constraint.get("whenUnsatisfiable", "DoNotSchedule") != "DoNotSchedule":
                continue
            key = constraint.get("topologyKey", "")
            value = info.labels.get(key)
            if value is None:
                return SPREAD_MISSING_LABEL, True
            lowest = min(counts.values(), default=0)
            if counts.get((key, value), 0) + int(self_match) - lowest > int(
                constraint.get("maxSkew", 1)
            ):
                return SPREAD_MISMATCH, False
        for term, domains in zip(self.affinity, self.affinity_domains, strict=True):
            key = term.get("topologyKey", "")
            value = info.labels.get(key)
            if value is None:
                return AFFINITY_MISMATCH, True
            if (key, value) not in domains and not (
                not domains and self._matches(term, self.namespace, self.pod)
            ):
                return AFFINITY_MISMATCH, True
        for term, domains in zip(self.anti, self.anti_domains, strict=True):
            key = term.get("topologyKey", "")
            value = info.labels.get(key)
            if value is not None and (key, value) in domains:
                return ANTI_AFFINITY_MISMATCH, False
        for key, value in self.forbidden:
            if info.labels.get(key) == value:
                return EXISTING_ANTI_AFFINITY, False
        return None

    def penalty(self, info: NodeInfo) -> int:
        """Lower is better: pods already in the node's spread domains, minus preferences met."""
        total = 0
        for constraint, counts, _ in self.spread:
            if constraint.get("whenUnsatisfiable") == "ScheduleAnyway":
                key = constraint.get("topologyKey", "")
                total += counts.get((key, info.labels.get(key, "")), 0)
        for weight, domains, term in self.preferred:
            key = term.get("topologyKey", "")
            if (key, info.labels.get(key, "")) in domains:
                total -= weight
        for preference in _section(self.spec, "nodeAffinity").get(PREFERRED) or ():
            if labelsel.node_term_matches(
                preference.get("preference") or {}, info.labels, info.name
            ):
                total -= int(preference.get("weight", 1))
        return total
