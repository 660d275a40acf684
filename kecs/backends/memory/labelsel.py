"""Matching the object forms of Kubernetes selectors: ``LabelSelector`` and node selector terms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _expression(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = expr.get("key", "")
    op = expr.get("operator", "")
    values: list[str] = list(expr.get("values") or ())
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and len(values) == 1:
        try:
            have, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """Whether a ``LabelSelector`` (``matchLabels`` + ``matchExpressions``) selects ``labels``.

    An empty selector selects everything, as in the API; a missing one (``None``) nothing.
    """
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression(e, labels) for e in selector.get("matchExpressions") or ())


def is_empty(selector: Mapping[str, Any] | None) -> bool:
    return not selector or not (selector.get("matchLabels") or selector.get("matchExpressions"))


def node_term_matches(term: Mapping[str, Any], labels: Mapping[str, str], node_name: str) -> bool:
    """One ``NodeSelectorTerm``: its label expressions and ``metadata.name`` fields, ANDed."""
    expressions = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not expressions and not fields:
        return False  # an empty term matches no objects
    if not all(_expression(e, labels) for e in expressions):
        return False
    for field in fields:
        if field.get("key") != "metadata.name":
            return False
        if not _expression(field, {"metadata.name": node_name}):
            return False
    return True


def required_node_affinity(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The pod's required node selector terms (ORed), or ``None`` when it has none."""
    affinity = (pod_spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return None
    return list(required.get("nodeSelectorTerms") or ())
