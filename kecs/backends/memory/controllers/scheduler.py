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
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer, controller_uid, is_terminal
from kecs.backends.memory.controllers import Manager, conditions
from kecs.backends.memory.controllers.candidates import Index, allocated
from kecs.backends.memory.controllers.filters import resource_reasons, static_reason
from kecs.backends.memory.controllers.interpod import (
    Context,
    has_required_anti_affinity,
    has_rules,
)
from kecs.backends.memory.controllers.nodes import NodeCache

Object = dict[str, Any]
PodKey = tuple[str, str]

NAME = "scheduler"
_UNRESOLVABLE = "Preemption is not helpful for scheduling"
_NO_VICTIMS = "No preemption victims found for incoming pod"


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
        scale_up: Callable[[Object, dict[str, int], Context | None], bool] | None = None,
    ) -> None:
        self.manager = manager
        self.server = server
        self.nodes = nodes
        self.scale_up = scale_up
        self.unschedulable: dict[PodKey, None] = {}
        #: bound pods with a required pod anti-affinity (it keeps matching pods away too)
        self.anti_holders: dict[PodKey, None] = {}
        self.candidates = Index(nodes)
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
            self.anti_holders.pop(key, None)
            if old["spec"].get("nodeName"):
                self._retry = True
            return
        spec = new["spec"]
        phase = (new.get("status") or {}).get("phase")
        if (
            old is not None
            and old["spec"] is spec
            and is_terminal(old) == (phase in TERMINAL_PHASES)
        ):
            # A status report (the kubelet's): neither the binding nor whether the pod has
            # ended (all that decides below) changed, so there is nothing to note.
            return
        key = (new["metadata"]["namespace"], new["metadata"]["name"])
        holds = (
            bool(spec.get("nodeName"))
            and phase not in TERMINAL_PHASES
            and has_required_anti_affinity(spec)
        )
        if holds:
            self.anti_holders[key] = None
        elif self.anti_holders.pop(key, 0) is None:
            self._retry = True
        if not spec.get("nodeName"):
            if old is None or old["spec"] is not spec:
                self.manager.enqueue(NAME, (new["metadata"]["namespace"], new["metadata"]["name"]))
        elif (
            old is not None
            and phase in TERMINAL_PHASES
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
        requests = self.nodes.requests(pod["spec"])
        context = None
        if self.anti_holders or has_rules(pod["spec"]):
            context = Context(self.server, self.nodes, pod, list(self.anti_holders))
        # Why no node fits is only needed if the autoscaler does not add one either.
        explain = self.scale_up is None
        node, filters, preemption = self._choose(pod, requests, context, explain=explain)
        if node is None and self.scale_up is not None:
            if self.scale_up(pod, requests, context):
                if context is not None:
                    context = Context(self.server, self.nodes, pod, list(self.anti_holders))
                node, filters, preemption = self._choose(pod, requests, context)
            elif context is None:  # the autoscaler changed nothing: explain now
                node, filters, preemption = self._pick(pod, requests, context)
        if node is not None:
            self.unschedulable.pop(key, None)
            self._bind(pod, node)
            return
        self.unschedulable[key] = None
        message = unschedulable_message(len(self.nodes.infos), filters, preemption)
        self._set_condition(pod, "False", "Unschedulable", message)

    def _choose(
        self,
        pod: Object,
        requests: dict[str, int],
        context: Context | None,
        *,
        explain: bool = True,
    ) -> tuple[str | None, dict[str, int], dict[str, int]]:
        """The node for ``pod`` and, when there is none (and ``explain``), the filters' and
        preemption's histograms of why (for the message). Without inter-pod rules the
        candidate index answers in O(log n); with them, or to explain a failure, every node is
        looked at."""
        if context is None:
            node = self.candidates.best(pod["spec"], requests, controller_uid(pod))
            if node is not None or not explain:
                return node, {}, {}
        return self._pick(pod, requests, context)

    def _pick(
        self, pod: Object, requests: dict[str, int], context: Context | None
    ) -> tuple[str | None, dict[str, int], dict[str, int]]:
        spec = pod["spec"]
        owner = controller_uid(pod)
        filters: dict[str, int] = {}
        preemption: dict[str, int] = {}
        best: tuple[int, int, float, int, str] | None = None
        for info in self.nodes.infos.values():
            rejected = static_reason(spec, info)
            if rejected is not None:
                reason, unresolvable = rejected
                reasons = [reason]
            else:
                reasons = resource_reasons(requests, info)
                unresolvable = False
                if not reasons and context is not None:
                    rejected = context.reason(info)
                    if rejected is not None:
                        reasons, unresolvable = [rejected[0]], rejected[1]
            if reasons:
                for reason in reasons:
                    filters[reason] = filters.get(reason, 0) + 1
                answer = _UNRESOLVABLE if unresolvable else _NO_VICTIMS
                preemption[answer] = preemption.get(answer, 0) + 1
                continue
            score = (
                context.penalty(info) if context is not None else 0,
                info.owners.get(owner, 0) if owner else 0,
                allocated(requests, info),
                info.requested.get("pods", 0),
                info.name,
            )
            if best is None or score < best:
                best = score
        return (best[4] if best else None), filters, preemption

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
