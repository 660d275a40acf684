"""Node filters shared by the scheduler, the autoscaler and the DaemonSet controller."""

from __future__ import annotations

from typing import Any

from kecs.backends.memory import labelsel
from kecs.backends.memory.controllers.nodes import NodeInfo

Object = dict[str, Any]

AFFINITY = "node(s) didn't match Pod's node affinity/selector"


def tolerates(tolerations: list[Object], taint: Object) -> bool:
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key")
        operator = toleration.get("operator", "Equal")
        if not key:
            if operator == "Exists":
                return True
            continue
        if key != taint.get("key"):
            continue
        if operator == "Exists" or toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def untolerated_taint(spec: Object, info: NodeInfo) -> Object | None:
    tolerations = spec.get("tolerations") or []
    for taint in info.taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return taint
    return None


def matches_node(spec: Object, info: NodeInfo) -> bool:
    """nodeSelector and required node affinity."""
    selector = spec.get("nodeSelector")
    if selector and any(info.labels.get(k) != v for k, v in selector.items()):
        return False
    terms = labelsel.required_node_affinity(spec)
    if terms is None:
        return True
    return any(labelsel.node_term_matches(t, info.labels, info.name) for t in terms)


def static_reason(spec: Object, info: NodeInfo) -> tuple[str, bool] | None:
    """The first non-resource filter that rejects the node: (reason, unresolvable)."""
    if info.unschedulable and not tolerates(
        spec.get("tolerations") or [],
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
    ):
        return "node(s) were unschedulable", True
    taint = untolerated_taint(spec, info)
    if taint is not None:
        value = taint.get("value")
        shown = f"{taint.get('key')}: {value}" if value else f"{taint.get('key')}: "
        return f"node(s) had untolerated taint {{{shown}}}", True
    if not matches_node(spec, info):
        return AFFINITY, True
    return None


def resource_reasons(requests: dict[str, int], info: NodeInfo) -> list[str]:
    reasons = []
    for name, need in requests.items():
        if info.requested.get(name, 0) + need > info.allocatable.get(name, 0):
            reasons.append("Too many pods" if name == "pods" else f"Insufficient {name}")
    return reasons
