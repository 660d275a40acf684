"""Rendering a pod's status from its simulated runtime, as the kubelet reports it."""

from __future__ import annotations

from typing import Any

from kecs.backends.memory import images
from kecs.backends.memory.apiserver import format_timestamp
from kecs.backends.memory.controllers import conditions
from kecs.backends.memory.controllers.runtime import Container, PodRuntime

Object = dict[str, Any]

#: The conditions :func:`render` always lists (others the pod has are kept after them).
_LISTED = frozenset(
    {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}
)


def container_ready(c: Container) -> bool:
    if c.role == "init":
        return c.terminated and c.exit_code == 0
    return c.running and not (c.unready and "readinessProbe" in c.probes)


def container_status(c: Container) -> Object:
    full = images.normalize(c.image) if c.pulled else None
    if c.state == "running":
        assert c.started_at is not None
        state: Object = {"running": {"startedAt": format_timestamp(c.started_at)}}
    elif c.state == "terminated":
        state = {"terminated": c.terminated_record()}
    else:
        waiting: Object = {"reason": c.reason or "ContainerCreating"}
        if c.message:
            waiting["message"] = c.message
        state = {"waiting": waiting}
    status: Object = {
        "name": c.name,
        "state": state,
        "lastState": c.last or {},
        "ready": container_ready(c),
        "restartCount": c.restarts,
        "image": full or c.image,
        "imageID": images.image_id(full) if full else "",
    }
    if c.cid:
        status["containerID"] = c.cid
    status["started"] = c.running
    return status


def initialized(rt: PodRuntime) -> list[str]:
    """Names of init containers that have not completed (sidecars: not yet started)."""
    pending = []
    for c in rt.inits:
        done = c.ever_started if c.role == "sidecar" else (c.terminated and c.exit_code == 0)
        if not done:
            pending.append(c.name)
    return pending


def render(
    pod: Object,
    rt: PodRuntime,
    *,
    phase: str,
    host_ip: str,
    now: str,
    reason: str | None = None,
    message: str | None = None,
) -> Object:
    previous: Object = pod.get("status") or {}
    old = previous.get("conditions")
    spec = pod["spec"]

    def cond(kind: str, ok: bool, why: str | None = None, detail: str | None = None) -> Object:
        value = "True" if ok else "False"
        if ok:
            why = detail = None
        return conditions.pod_condition(conditions.find(old, kind), kind, value, now, why, detail)

    sandbox = rt.ip is not None and not rt.done
    incomplete = initialized(rt) if rt.inits else []
    unready = [c.name for c in rt.containers if c.role != "init" and not container_ready(c)]
    gates = spec.get("readinessGates")
    missing_gates = (
        [
            g
            for g in (gate.get("conditionType") for gate in gates)
            if not conditions.is_true(old, str(g))
        ]
        if gates
        else []
    )
    ready = not rt.done and not unready
    if phase == "Succeeded":
        ready_reason, ready_detail = "PodCompleted", None
    elif unready:
        ready_reason = "ContainersNotReady"
        ready_detail = f"containers with unready status: [{' '.join(unready)}]"
    else:
        ready_reason, ready_detail = "ContainersNotReady", "containers with unready status: []"
    pod_ready = cond("Ready", ready and not missing_gates, ready_reason, ready_detail)
    if ready and missing_gates:
        pod_ready = conditions.pod_condition(
            conditions.find(old, "Ready"),
            "Ready",
            "False",
            now,
            "ReadinessGatesNotReady",
            f'corresponding condition of pod readiness gate "{missing_gates[0]}" does not exist.',
        )
    scheduled = conditions.find(old, "PodScheduled") or cond("PodScheduled", True)
    listed = [
        cond("PodReadyToStartContainers", sandbox),
        cond(
            "Initialized",
            not incomplete,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]" if incomplete else None,
        ),
        pod_ready,
        cond("ContainersReady", ready, ready_reason, ready_detail),
        scheduled,
    ]
    if old:
        listed.extend(c for c in old if c.get("type") not in _LISTED)
    status: Object = {"phase": phase, "conditions": listed}
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    if host_ip:
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
    if rt.ip:
        status["podIP"] = rt.ip
        status["podIPs"] = [{"ip": rt.ip}]
    status["startTime"] = format_timestamp(rt.start_time)
    if rt.inits:
        status["initContainerStatuses"] = [container_status(c) for c in rt.inits]
    status["containerStatuses"] = [container_status(c) for c in rt.apps]
    if "qosClass" in previous:
        status["qosClass"] = previous["qosClass"]
    return status
