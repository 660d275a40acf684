"""Scheduling requirements of one pod, and how they add up and land in a pod spec.

A :class:`PodPlacement` says where a pod may (and would rather) run; several are ANDed with
:func:`combine` and written into a pod spec with :func:`apply`, which keeps what the spec
already requires. Required node selector terms are ORed by Kubernetes, so ANDing two sets of
terms is their cross product (:func:`conjoin`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kecs.mapping.common import Note

Term = dict[str, Any]


@attrs.frozen
class PodPlacement:
    """Scheduling requirements for one pod; every part is ANDed."""

    #: Required node affinity: a pod must match one of these terms (``None``: any node).
    node_terms: tuple[Term, ...] | None = None
    node_selector: Mapping[str, str] = attrs.field(factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    preferred_node_terms: tuple[dict[str, Any], ...] = ()
    pod_affinity: tuple[dict[str, Any], ...] = ()
    pod_anti_affinity: tuple[dict[str, Any], ...] = ()
    preferred_pod_affinity: tuple[dict[str, Any], ...] = ()
    topology_spread: tuple[dict[str, Any], ...] = ()
    notes: tuple[Note, ...] = ()


def conjoin(a: Sequence[Term] | None, b: Sequence[Term] | None) -> tuple[Term, ...] | None:
    """Node selector terms matching what both ``a`` and ``b`` match (``None`` = anything)."""
    if a is None:
        return None if b is None else tuple(b)
    if b is None:
        return tuple(a)
    out = []
    for left, right in itertools.product(a, b):
        term: Term = {}
        for field in ("matchExpressions", "matchFields"):
            merged = [*(left.get(field) or ()), *(right.get(field) or ())]
            if merged:
                term[field] = merged
        out.append(term)
    return tuple(out)


def combine(*placements: PodPlacement) -> PodPlacement:
    """One placement requiring everything each of ``placements`` requires."""
    terms: tuple[Term, ...] | None = None
    selector: dict[str, str] = {}
    for placement in placements:
        terms = conjoin(terms, placement.node_terms)
        for key, value in placement.node_selector.items():
            if selector.get(key, value) != value:
                # Both must hold: keep the first as a selector, require the second as well.
                extra = {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}
                terms = conjoin(terms, [extra])
            else:
                selector[key] = value

    def joined(field: str) -> tuple[Any, ...]:
        seen: list[Any] = []
        for placement in placements:
            for item in getattr(placement, field):
                if item not in seen:
                    seen.append(item)
        return tuple(seen)

    return PodPlacement(
        node_terms=terms,
        node_selector=selector,
        tolerations=joined("tolerations"),
        preferred_node_terms=joined("preferred_node_terms"),
        pod_affinity=joined("pod_affinity"),
        pod_anti_affinity=joined("pod_anti_affinity"),
        preferred_pod_affinity=joined("preferred_pod_affinity"),
        topology_spread=joined("topology_spread"),
        notes=joined("notes"),
    )


def apply(spec: Mapping[str, Any], placement: PodPlacement) -> dict[str, Any]:
    """A copy of the pod ``spec`` that also requires ``placement``."""
    out = dict(spec)
    selector = dict(out.get("nodeSelector") or {})
    affinity = {k: dict(v) for k, v in (out.get("affinity") or {}).items()}
    node = affinity.get("nodeAffinity", {})
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms: tuple[Term, ...] | None = tuple(required.get("nodeSelectorTerms") or ()) or None
    terms = conjoin(terms, placement.node_terms)
    for key, value in placement.node_selector.items():
        if selector.get(key, value) != value:
            extra = {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}
            terms = conjoin(terms, [extra])
        else:
            selector[key] = value
    if selector:
        out["nodeSelector"] = selector
    if terms is not None:
        node["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": list(terms)}
    preferred = [*(node.get("preferredDuringSchedulingIgnoredDuringExecution") or ())]
    preferred += [p for p in placement.preferred_node_terms if p not in preferred]
    if preferred:
        node["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    if node:
        affinity["nodeAffinity"] = node
    for kind, required_terms, preferred_terms in (
        ("podAffinity", placement.pod_affinity, placement.preferred_pod_affinity),
        ("podAntiAffinity", placement.pod_anti_affinity, ()),
    ):
        section = affinity.get(kind, {})
        key = "requiredDuringSchedulingIgnoredDuringExecution"
        merged = [*(section.get(key) or ()), *required_terms]
        if merged:
            section[key] = merged
        key = "preferredDuringSchedulingIgnoredDuringExecution"
        merged = [*(section.get(key) or ()), *preferred_terms]
        if merged:
            section[key] = merged
        if section:
            affinity[kind] = section
    if affinity:
        out["affinity"] = affinity
    tolerations = [*(out.get("tolerations") or ())]
    tolerations += [t for t in placement.tolerations if t not in tolerations]
    if tolerations:
        out["tolerations"] = tolerations
    spread = [*(out.get("topologySpreadConstraints") or ()), *placement.topology_spread]
    if spread:
        out["topologySpreadConstraints"] = spread
    return out
