"""Server-side printing: the ``Table`` kubectl asks for (``Accept: ...;as=Table;g=meta.k8s.io``),
with the columns ``kubectl get`` shows on a real cluster for the kinds kecs makes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kecs.backends import kinds
from kecs.backends.kinds import ResourceKind

Object = dict[str, Any]
Column = tuple[str, str, int, Callable[[Object, datetime], Any]]  # name, type, priority, cell


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration`` (what the AGE column shows)."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{hours // 24 // 365}y"


def _age(obj: Object, now: datetime) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return human_duration((now - created).total_seconds())


def _name(obj: Object, now: datetime) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _get(obj: Object, *path: str, default: Any = None) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, dict):
            return default
        value = value.get(key)
    return default if value is None else value


def _pod_status(pod: Object) -> str:
    """The STATUS column of ``kubectl get pods`` (printers.go ``printPod``, simplified)."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for container in reversed(status.get("initContainerStatuses") or []):
        state = container.get("state") or {}
        if "terminated" in state and state["terminated"].get("exitCode", 0) != 0:
            return "Init:" + (state["terminated"].get("reason") or "Error")
        if "waiting" in state and state["waiting"].get("reason") not in (None, "PodInitializing"):
            return "Init:" + str(state["waiting"]["reason"])
    running = False
    for container in reversed(status.get("containerStatuses") or []):
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            signal = terminated.get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif container.get("ready") and "running" in state:
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    if _get(pod, "metadata", "deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_ready(pod: Object, now: datetime) -> str:
    statuses = _get(pod, "status", "containerStatuses", default=[])
    total = len(_get(pod, "spec", "containers", default=[]))
    return f"{sum(1 for c in statuses if c.get('ready'))}/{total}"


def _restarts(pod: Object, now: datetime) -> int:
    return sum(
        int(c.get("restartCount", 0)) for c in _get(pod, "status", "containerStatuses", default=[])
    )


def _ports(svc: Object, now: datetime) -> str:
    ports = _get(svc, "spec", "ports", default=[])
    out = []
    for port in ports:
        text = f"{port.get('port')}"
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        out.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _external_ip(svc: Object, now: datetime) -> str:
    ingress = _get(svc, "status", "loadBalancer", "ingress", default=[])
    addresses = [i.get("ip") or i.get("hostname") for i in ingress]
    addresses += _get(svc, "spec", "externalIPs", default=[])
    if addresses:
        return ",".join(a for a in addresses if a)
    return "<pending>" if _get(svc, "spec", "type") == "LoadBalancer" else "<none>"


def _containers(template_spec_path: tuple[str, ...]) -> Callable[[Object, datetime], str]:
    def cell(obj: Object, now: datetime) -> str:
        spec = _get(obj, *template_spec_path, default={})
        return ",".join(c.get("name", "") for c in spec.get("containers") or [])

    return cell


def _images(template_spec_path: tuple[str, ...]) -> Callable[[Object, datetime], str]:
    def cell(obj: Object, now: datetime) -> str:
        spec = _get(obj, *template_spec_path, default={})
        return ",".join(c.get("image", "") for c in spec.get("containers") or [])

    return cell


def _selector(obj: Object, now: datetime) -> str:
    selector = _get(obj, "spec", "selector", default={})
    labels = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if isinstance(v, str)) or "<none>"


def _node_status(node: Object, now: datetime) -> str:
    for condition in _get(node, "status", "conditions", default=[]):
        if condition.get("type") == "Ready":
            ready = "Ready" if condition.get("status") == "True" else "NotReady"
            return ready + (",SchedulingDisabled" if _get(node, "spec", "unschedulable") else "")
    return "Unknown"


def _cell(*path: str, default: Any = 0) -> Callable[[Object, datetime], Any]:
    return lambda obj, now: _get(obj, *path, default=default)


_NAME: Column = ("Name", "string", 0, _name)
_AGE: Column = ("Age", "string", 0, _age)
_POD_TEMPLATE = ("spec", "template", "spec")

COLUMNS: dict[ResourceKind, list[Column]] = {
    kinds.POD: [
        _NAME,
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, lambda o, now: _pod_status(o)),
        ("Restarts", "integer", 0, _restarts),
        _AGE,
        ("IP", "string", 1, _cell("status", "podIP", default="<none>")),
        ("Node", "string", 1, _cell("spec", "nodeName", default="<none>")),
    ],
    kinds.DEPLOYMENT: [
        _NAME,
        (
            "Ready",
            "string",
            0,
            lambda o, now: (
                f"{_get(o, 'status', 'readyReplicas', default=0)}/"
                f"{_get(o, 'spec', 'replicas', default=1)}"
            ),
        ),
        ("Up-to-date", "integer", 0, _cell("status", "updatedReplicas")),
        ("Available", "integer", 0, _cell("status", "availableReplicas")),
        _AGE,
        ("Containers", "string", 1, _containers(_POD_TEMPLATE)),
        ("Images", "string", 1, _images(_POD_TEMPLATE)),
        ("Selector", "string", 1, _selector),
    ],
    kinds.REPLICA_SET: [
        _NAME,
        ("Desired", "integer", 0, _cell("spec", "replicas")),
        ("Current", "integer", 0, _cell("status", "replicas")),
        ("Ready", "integer", 0, _cell("status", "readyReplicas")),
        _AGE,
        ("Containers", "string", 1, _containers(_POD_TEMPLATE)),
        ("Images", "string", 1, _images(_POD_TEMPLATE)),
    ],
    kinds.DAEMON_SET: [
        _NAME,
        ("Desired", "integer", 0, _cell("status", "desiredNumberScheduled")),
        ("Current", "integer", 0, _cell("status", "currentNumberScheduled")),
        ("Ready", "integer", 0, _cell("status", "numberReady")),
        ("Up-to-date", "integer", 0, _cell("status", "updatedNumberScheduled")),
        ("Available", "integer", 0, _cell("status", "numberAvailable")),
        _AGE,
    ],
    kinds.SERVICE: [
        _NAME,
        ("Type", "string", 0, _cell("spec", "type", default="ClusterIP")),
        ("Cluster-IP", "string", 0, _cell("spec", "clusterIP", default="<none>")),
        ("External-IP", "string", 0, _external_ip),
        ("Port(s)", "string", 0, _ports),
        _AGE,
        ("Selector", "string", 1, _selector),
    ],
    kinds.NAMESPACE: [_NAME, ("Status", "string", 0, _cell("status", "phase", default="")), _AGE],
    kinds.NODE: [_NAME, ("Status", "string", 0, _node_status), _AGE],
    kinds.CONFIG_MAP: [
        _NAME,
        (
            "Data",
            "integer",
            0,
            lambda o, now: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
        ),
        _AGE,
    ],
    kinds.SECRET: [
        _NAME,
        ("Type", "string", 0, _cell("type", default="Opaque")),
        ("Data", "integer", 0, lambda o, now: len(o.get("data") or {})),
        _AGE,
    ],
    kinds.POD_TEMPLATE: [
        ("Template", "string", 0, _name),
        ("Containers", "string", 0, _containers(("template", "spec"))),
        ("Images", "string", 0, _images(("template", "spec"))),
        _AGE,
    ],
    kinds.EVENT: [
        (
            "Last Seen",
            "string",
            0,
            lambda o, now: _age(
                {
                    "metadata": {
                        "creationTimestamp": o.get("lastTimestamp")
                        or _get(o, "metadata", "creationTimestamp")
                    }
                },
                now,
            ),
        ),
        ("Type", "string", 0, _cell("type", default="")),
        ("Reason", "string", 0, _cell("reason", default="")),
        (
            "Object",
            "string",
            0,
            lambda o, now: (
                f"{str(_get(o, 'involvedObject', 'kind', default='')).lower()}/"
                f"{_get(o, 'involvedObject', 'name', default='')}"
            ),
        ),
        ("Message", "string", 0, _cell("message", default="")),
    ],
}


def table(
    kind: ResourceKind,
    objects: list[Object],
    now: datetime,
    include: str,
    list_meta: dict[str, Any],
) -> Object:
    """A ``meta.k8s.io/v1`` Table of ``objects``; ``include`` is the ``includeObject`` mode."""
    columns = COLUMNS.get(kind, [_NAME, _AGE])
    definitions = [
        {
            "name": name,
            "type": type_,
            "format": "name" if name in ("Name", "Template") else "",
            "description": "",
            "priority": priority,
        }
        for name, type_, priority, _ in columns
    ]
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [cell(obj, now) for _, _, _, cell in columns]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }
