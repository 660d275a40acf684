"""Builders and readers shared by the embedded cluster's tests."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend

Object = dict[str, Any]

#: The tests' fixed base clock (the backend adds what ``advance`` moved).
START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
NS = "default"


def fresh(**options: Any) -> MemoryBackend:
    options.setdefault("seed", 7)
    options.setdefault("clock", lambda: START)
    return MemoryBackend(**options)


def container(name: str = "app", image: str = "nginx:1.27", **extra: Any) -> Object:
    return {"name": name, "image": image, **extra}


def pod(
    name: str,
    *containers: Object,
    ns: str = NS,
    labels: dict[str, str] | None = None,
    finalizers: list[str] | None = None,
    **spec: Any,
) -> Object:
    meta: Object = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    if finalizers:
        meta["finalizers"] = finalizers
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def template(*containers: Object, labels: dict[str, str] | None = None, **spec: Any) -> Object:
    return {
        "metadata": {"labels": labels or {"app": "web"}},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def deployment(
    name: str = "web",
    replicas: int = 3,
    *,
    image: str = "nginx:1.27",
    ns: str = NS,
    strategy: Object | None = None,
    pod_template: Object | None = None,
    **spec: Any,
) -> Object:
    body = pod_template or template(container(image=image), labels={"app": name})
    obj: Object = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(body["metadata"]["labels"])},
            "template": body,
            **spec,
        },
    }
    if strategy is not None:
        obj["spec"]["strategy"] = strategy
    return obj


def rolling(max_surge: int | str, max_unavailable: int | str) -> Object:
    return {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
    }


def daemon_set(
    name: str = "agent", *, image: str = "fluent-bit:3", ns: str = NS, **spec: Any
) -> Object:
    body = template(container(image=image), labels={"app": name})
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": body, **spec},
    }


def set_image(backend: MemoryBackend, name: str, image: str, ns: str = NS) -> Object:
    d = backend.get(kinds.DEPLOYMENT, name, ns)
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return backend.update(d)


def pods(backend: MemoryBackend, ns: str = NS, **labels: str) -> list[Object]:
    return backend.list_all(kinds.POD, ns, selector=labels or None)


def live_pods(backend: MemoryBackend, ns: str = NS, **labels: str) -> list[Object]:
    return [p for p in pods(backend, ns, **labels) if not p["metadata"].get("deletionTimestamp")]


def replica_sets(backend: MemoryBackend, ns: str = NS) -> list[Object]:
    return backend.list_all(kinds.REPLICA_SET, ns)


def condition(obj: Object, kind: str) -> Object | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c["type"] == kind:
            found: Object = c
            return found
    return None


def container_status(obj: Object, name: str = "app") -> Object:
    status = obj["status"]
    for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        if c["name"] == name:
            found: Object = c
            return found
    raise KeyError(name)


def state(obj: Object, name: str = "app") -> tuple[str, Object]:
    ((kind, detail),) = container_status(obj, name)["state"].items()
    return kind, detail


def names(objects: list[Object]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]
