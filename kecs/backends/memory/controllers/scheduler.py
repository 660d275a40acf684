"""The default scheduler: binds each pending pod to a node, or says why it cannot.

Filters, in kube-scheduler's order (the first that fails decides a node's reason):
NodeUnschedulable, TaintToleration (``NoSchedule``/``NoExecute``), NodeAffinity
(``nodeSelector`` + required node affinity, ``matchFields`` on ``metadata.name``) and
NodeResourcesFit (requests against allocatable minus what bound pods request, and the
``pods`` count). Among the nodes that fit, the pod goes where its owner has the fewest pods,
then to the least allocated node, then the one with the fewest pods (ties: by name), which
spreads a workload's replicas across nodes and zones.

When no node fits, the pod gets ``PodScheduled=False`` with reason ``Unschedulable`` and
kube-scheduler's message; unschedulable pods are retried (in one batch, once the queue is
idle) after nodes change or resources are freed. With the autoscaler on, a pod that fails
only for lack of resources and fits an empty default node gets a new node instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import labelsel
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer, controller_uid
from kecs.backends.memory.controllers import Manager, conditions
from kecs.backends.memory.controllers.nodes import NodeCache, NodeInfo, pod_requests

Object = dict[str, Any]
PodKey = tuple[str, str]

NAME = "scheduler"
_UNRESOLVABLE = "Preemption is not helpful for scheduling"
_NO_VICTIMS = "No preemption victims found for incoming pod"
_AFFINITY = "node(s) didn't match Pod's node affinity/selector"


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
        return _AFFINITY, True
    return None


def resource_reasons(requests: dict[str, int], info: NodeInfo) -> list[str]:
    reasons = []
    for name, need in requests.items():
        if info.requested.get(name, 0) + need > info.allocatable.get(name, 0):
            reasons.append("Too many pods" if name == "pods" else f"Insufficient {name}")
    return reasons


def _histogram(reasons: dict[str, int]) -> str:
    return ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))


def unschedulable_message(total: int, filters: dict[str, int], preemption: dict[str, int]) -> str:
    if total == 0:
        return "no nodes available to schedule pods"
    return (
        f"0/{total} nodes are available: {_histogram(filters)}. preemption: 0/{total} nodes are "
        f"available: {_histogram(preemption)}."
    )


class Scheduler:
    def __init__(
        self,
        manager: Manager,
        server: ApiServer,
        nodes: NodeCache,
        scale_up: Callable[[Object, dict[str, int]], bool] | None = None,
    ) -> None:
        self.manager = manager
        self.server = server
        self.nodes = nodes
        self.scale_up = scale_up
        self.unschedulable: dict[PodKey, None] = {}
        self._retry = False
        manager.register(NAME, self.sync)
        manager.watch(kinds.POD, self._on_pod)
        manager.watch(kinds.NODE, self._on_node)
        manager.on_idle(self._retry_unschedulable)

    def _on_pod(self, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            key = (old["metadata"]["namespace"], old["metadata"]["name"])
            self.unschedulable.pop(key, None)
            if old["spec"].get("nodeName"):
                self._retry = True
            return
        spec = new["spec"]
        if not spec.get("nodeName"):
            if old is None or old["spec"] is not spec:
                self.manager.enqueue(NAME, (new["metadata"]["namespace"], new["metadata"]["name"]))
        elif (
            old is not None
            and (new.get("status") or {}).get("phase") in TERMINAL_PHASES
            and (old.get("status") or {}).get("phase") not in TERMINAL_PHASES
        ):
            self._retry = True

    def _on_node(self, old: Object | None, new: Object | None) -> None:
        self._retry = True

    def _retry_unschedulable(self) -> None:
        if self._retry and self.unschedulable:
            for key in self.unschedulable:
                self.manager.enqueue(NAME, key)
        self._retry = False

    def sync(self, key: PodKey) -> None:
        pod = self.server.find(kinds.POD, *key)
        if (
            pod is None
            or pod["spec"].get("nodeName")
            or pod["metadata"].get("deletionTimestamp")
            or pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler"
        ):
            self.unschedulable.pop(key, None)
            return
        requests = pod_requests(pod["spec"])
        node, filters, preemption = self._pick(pod, requests)
        if node is None and self.scale_up is not None and self.scale_up(pod, requests):
            node, filters, preemption = self._pick(pod, requests)
        if node is not None:
            self.unschedulable.pop(key, None)
            self._bind(pod, node)
            return
        self.unschedulable[key] = None
        message = unschedulable_message(len(self.nodes.infos), filters, preemption)
        self._set_condition(pod, "False", "Unschedulable", message)

    def _pick(
        self, pod: Object, requests: dict[str, int]
    ) -> tuple[str | None, dict[str, int], dict[str, int]]:
        spec = pod["spec"]
        owner = controller_uid(pod)
        filters: dict[str, int] = {}
        preemption: dict[str, int] = {}
        best: tuple[int, float, int, str] | None = None
        for info in self.nodes.infos.values():
            rejected = static_reason(spec, info)
            if rejected is not None:
                reason, unresolvable = rejected
                reasons = [reason]
            else:
                reasons = resource_reasons(requests, info)
                unresolvable = False
            if reasons:
                for reason in reasons:
                    filters[reason] = filters.get(reason, 0) + 1
                answer = _UNRESOLVABLE if unresolvable else _NO_VICTIMS
                preemption[answer] = preemption.get(answer, 0) + 1
                continue
            score = (
                info.owners.get(owner, 0) if owner else 0,
                _allocated(requests, info),
                info.requested.get("pods", 0),
                info.name,
            )
            if best is None or score < best:
                best = score
        return (best[3] if best else None), filters, preemption

    def _bind(self, pod: Object, node: str) -> None:
        status = pod.get("status") or {}
        current = status.get("conditions")
        condition = conditions.pod_condition(
            conditions.find(current, "PodScheduled"),
            "PodScheduled",
            "True",
            self.server.timestamp(),
        )
        self.server.write(
            kinds.POD,
            pod,
            bump=False,
            spec={**pod["spec"], "nodeName": node},
            status={**status, "conditions": conditions.replaced(current, condition)},
        )

    def _set_condition(self, pod: Object, value: str, reason: str, message: str) -> None:
        status = pod.get("status") or {}
        current = status.get("conditions")
        previous = conditions.find(current, "PodScheduled")
        condition = conditions.pod_condition(
            previous, "PodScheduled", value, self.server.timestamp(), reason, message
        )
        if condition is not previous:
            self.server.write(
                kinds.POD,
                pod,
                status={**status, "conditions": conditions.replaced(current, condition)},
            )


def _allocated(requests: dict[str, int], info: NodeInfo) -> float:
    total = 0.0
    for name in ("cpu", "memory"):
        capacity = info.allocatable.get(name, 0)
        if capacity:
            total += (info.requested.get(name, 0) + requests.get(name, 0)) / capacity
    return total
